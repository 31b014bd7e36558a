"""Where unbinder keeps its files: one per-user data directory, private to the user.

`UNBINDER_HOME` overrides the platformdirs location (tests and the demo point it at a temp dir).
Directories are created 0700 and files 0600, whatever the umask.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from unbinder.errors import StorageError

DIR_MODE = 0o700
FILE_MODE = 0o600
_PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Paths:
    """Every location unbinder writes to, derived from one home directory."""

    home: Path

    @classmethod
    def from_env(cls) -> Paths:
        override = os.environ.get("UNBINDER_HOME")
        if override:
            return cls(Path(override).expanduser())
        import platformdirs

        return cls(Path(platformdirs.user_data_dir("unbinder", appauthor=False)))

    @property
    def trail_dir(self) -> Path:
        return self.home / "trail"

    @property
    def sessions_dir(self) -> Path:
        return self.home / "sessions"

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def debug_log(self) -> Path:
        return self.log_dir / "debug.log"

    def ensure(self, *dirs: Path) -> None:
        """Create the home (and the given sub-directories) with mode 0700."""
        for d in (self.home, *dirs):
            private_dir(d)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make it 0700. Raise StorageError if that is impossible."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
            path.chmod(DIR_MODE)
    except OSError as exc:
        raise StorageError(
            f"cannot create the private directory {path}: {exc.strerror or exc}.",
            hint="Check its permissions or set UNBINDER_HOME to a writable directory.",
        ) from exc
    return path


def describe_permissions(path: Path) -> str | None:
    """Return a problem with `path`'s permissions (or None when it is private and writable)."""
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return f"{path} is readable by other users (mode {mode:o}); run: chmod 700 {path}"
    if not os.access(path, os.W_OK):
        return f"{path} is not writable; fix its permissions or set UNBINDER_HOME"
    return None


def project_root() -> Path | None:
    """The source checkout this package runs from, if any (recipes/ and fixtures/ live there)."""
    root = _PACKAGE_DIR.parent
    return root if (root / "recipes").is_dir() else None


def recipes_dir() -> Path:
    """The shipped recipes: `UNBINDER_RECIPES`, else the checkout's recipes/ folder."""
    override = os.environ.get("UNBINDER_RECIPES")
    if override:
        return Path(override).expanduser()
    root = project_root()
    if root is None:
        return _PACKAGE_DIR / "recipes"
    return root / "recipes"


def fixtures_dir() -> Path:
    """The offline replicas: `UNBINDER_FIXTURES`, else the checkout's fixtures/ folder."""
    override = os.environ.get("UNBINDER_FIXTURES")
    if override:
        return Path(override).expanduser()
    root = project_root()
    if root is None:
        return _PACKAGE_DIR / "fixtures"
    return root / "fixtures"
