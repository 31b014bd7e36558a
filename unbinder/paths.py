"""Where unbinder keeps its files, and where it finds the recipes and replicas it ships with.

The data directory is one per-user folder from platformdirs, private to the user:
`~/.local/share/unbinder` (Linux), `~/Library/Application Support/unbinder` (macOS),
`%LOCALAPPDATA%\\unbinder` (Windows). `UNBINDER_HOME` overrides it (tests and the demo point it at a
temp dir). On Linux and macOS directories are created 0700 and files 0600, whatever the umask.
Windows has no such modes: the folder inside the user's profile is private through the profile's
own access list (the user, SYSTEM and administrators), so nothing is enforced there.

Shipped recipes and replicas: in a source checkout they are its top-level `recipes/` and
`fixtures/`; in an installed wheel, `unbinder/_shipped/recipes` and `unbinder/_shipped/fixtures`
(copied there by the build, setup.py), read through importlib.resources. `UNBINDER_RECIPES` adds a
folder of the person's own recipes beside the shipped ones: a recipe there whose id is also
shipped replaces the shipped one (`recipe_sources().overridden` lists them; `doctor` and
`recipes list` say so).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from unbinder.errors import StorageError

DIR_MODE = 0o700
FILE_MODE = 0o600
SHIPPED = "_shipped"  # the folder inside the installed package (setup.py fills it)
_PACKAGE_DIR = Path(__file__).resolve().parent


def has_file_modes() -> bool:
    """Whether this system enforces Unix permission bits (not Windows: see the module docstring)."""
    return os.name != "nt"


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
        if has_file_modes() and stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
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
    if has_file_modes() and mode & 0o077:
        return f"{path} is readable by other users (mode {mode:o}); run: chmod 700 {path}"
    if not os.access(path, os.W_OK):
        return f"{path} is not writable; fix its permissions or set UNBINDER_HOME"
    return None


# --------------------------------------------------------------------------- shipped data


def project_root() -> Path | None:
    """The source checkout this package runs from, if any (recipes/ and fixtures/ live there)."""
    root = _PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "setup.py").is_file():
        return root
    return None


def shipped_dir() -> Path:
    """The folder holding the shipped `recipes/` and `fixtures/`.

    The installed package's `_shipped/` (a wheel), else the source checkout's top level. Tests
    replace it with `UNBINDER_SHIPPED` (an empty folder: no shipped recipes at all).
    """
    override = os.environ.get("UNBINDER_SHIPPED")
    if override:
        return Path(override).expanduser()
    packaged = resources.files("unbinder") / SHIPPED
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    root = project_root()
    if root is not None:
        return root
    return packaged if isinstance(packaged, Path) else _PACKAGE_DIR / SHIPPED


def shipped_recipes_dir() -> Path:
    return shipped_dir() / "recipes"


def user_recipes_dir() -> Path | None:
    """The person's own recipes folder (`UNBINDER_RECIPES`), if set."""
    override = os.environ.get("UNBINDER_RECIPES")
    return Path(override).expanduser() if override else None


def recipes_dir() -> Path:
    """The one folder commands write recipes into and lint by default: `UNBINDER_RECIPES` when
    set, else the shipped recipes. Reading every recipe goes through `recipe_files()`."""
    return user_recipes_dir() or shipped_recipes_dir()


def fixtures_dir() -> Path:
    """The offline replicas: `UNBINDER_FIXTURES` (instead of the shipped ones), else shipped."""
    override = os.environ.get("UNBINDER_FIXTURES")
    if override:
        return Path(override).expanduser()
    return shipped_dir() / "fixtures"


def folder_recipes(directory: Path) -> list[Path]:
    """The recipe files of one folder (`*.yaml`, not `_*`), sorted by name."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.yaml") if not p.name.startswith("_"))


@dataclass(frozen=True)
class RecipeSources:
    """Every recipe file unbinder reads: the shipped ones, and the person's own beside them."""

    shipped: Path
    user: Path | None
    files: tuple[Path, ...]  # one per id, sorted by id; the person's file where both have it
    overridden: tuple[tuple[Path, Path], ...]  # (the person's file, the shipped one it replaces)

    @property
    def shipped_count(self) -> int:
        return sum(1 for p in self.files if p.parent == self.shipped) + len(self.overridden)


def recipe_sources() -> RecipeSources:
    """The shipped recipes plus `UNBINDER_RECIPES`'s; for an id in both, the person's wins."""
    shipped = shipped_recipes_dir()
    user = user_recipes_dir()
    by_id = {p.stem: p for p in folder_recipes(shipped)}
    overridden: list[tuple[Path, Path]] = []
    if user is not None and not _same_dir(user, shipped):
        for path in folder_recipes(user):
            if path.stem in by_id:
                overridden.append((path, by_id[path.stem]))
            by_id[path.stem] = path
    files = tuple(by_id[i] for i in sorted(by_id))
    return RecipeSources(shipped, user, files, tuple(overridden))


def recipe_files(directory: Path | None = None) -> list[Path]:
    """The recipe files of `directory`, or (None) every recipe unbinder reads, sorted by id."""
    if directory is not None:
        return folder_recipes(directory)
    return list(recipe_sources().files)


def recipe_path(platform_id: str, directory: Path | None = None) -> Path:
    """Where the recipe with this id is (or would be): the person's folder first, then shipped."""
    name = f"{platform_id}.yaml"
    if directory is not None:
        return directory / name
    user = user_recipes_dir()
    if user is not None and (user / name).is_file():
        return user / name
    return shipped_recipes_dir() / name


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
