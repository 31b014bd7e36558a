"""Where unbinder keeps its files, where it finds what it ships with, and how its commands run.

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
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from unbinder.errors import StorageError
from unbinder.i18n.translate import _

DIR_MODE = 0o700
FILE_MODE = 0o600
# Set to 1 to use a data folder that another user owns or may write to, with a warning instead
# of a refusal (a shared machine's deliberate setup; that user can still replace the trail).
UNSAFE_HOME_ENV = "UNBINDER_ALLOW_UNSAFE_HOME"
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
    """Create `path` (and parents) and make it 0700. Raise StorageError if that is impossible,
    or if it already exists and another user owns it or may write to it (`check_private`)."""
    try:
        existed = path.is_dir()
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        if existed:
            check_private(path)
        if has_file_modes() and stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
            path.chmod(DIR_MODE)
    except OSError as exc:
        raise StorageError(
            _("cannot create the private directory {path}: {value}.").format(
                path=path, value=exc.strerror or exc
            ),
            hint=_("Check its permissions or set UNBINDER_HOME to a writable directory."),
        ) from exc
    return path


def unsafe_owner(path: Path) -> str | None:
    """Why another user could replace what `path` (a folder) holds, or None.

    Making such a folder 0700 would not help: its owner can change it back, and whoever may
    write to it may already have swapped the trail for another copy. Windows: nothing to check
    (the profile's access list keeps the folder private; see the module docstring).
    """
    if not has_file_modes() or not hasattr(os, "geteuid"):
        return None
    try:
        info = path.stat()
    except OSError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid != os.geteuid():
        return (
            f"{path} belongs to another user (uid {info.st_uid}), who could replace the trail in it"
        )
    if mode & 0o022:
        return (
            f"{path} may be written by other users (mode {mode:o}), who could replace the "
            "trail in it"
        )
    return None


def check_private(path: Path) -> None:
    """Refuse a data folder that another user owns or may write to (StorageError, with the
    fix); with UNBINDER_ALLOW_UNSAFE_HOME=1 the person said they know: a warning instead."""
    problem = unsafe_owner(path)
    if problem is None:
        return
    if os.environ.get(UNSAFE_HOME_ENV) == "1":
        import logging

        logging.getLogger("unbinder").warning(
            "warning: %s; using it since %s=1.", problem, UNSAFE_HOME_ENV
        )
        return
    raise StorageError(
        f"{problem}.",
        hint=(
            _(
                "Use a folder of your own: set UNBINDER_HOME to one only you can write "
                "(or fix this one: chown $USER {path} && chmod 700 {path}, then run "
                "`unbinder trail verify`); {UNSAFE_HOME_ENV}=1 uses it anyway, with a "
                "warning."
            ).format(path=path, UNSAFE_HOME_ENV=UNSAFE_HOME_ENV)
        ),
    )


def describe_permissions(path: Path) -> str | None:
    """Return a problem with `path`'s permissions (or None when it is private and writable)."""
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    unsafe = unsafe_owner(path)
    if unsafe:
        return f"{unsafe}; set UNBINDER_HOME to a folder only you can write"
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


# --------------------------------------------------------------------------- this installation
# How this copy was installed, and so how the person types its commands. Hints print commands
# that work as printed from where the person stands: `make demo` runs from the checkout's
# `.venv`, whose `bin/` is usually not on PATH (`.venv/bin/unbinder`); pipx and `uv tool` put
# `unbinder` on PATH but not the `playwright` of its environment (its full path is printed).
# Everything takes `environ`, `cwd` and `scripts` so tests can describe any of these. The modules
# these need are imported when asked (paths.py is imported by every command).


def install_kind(prefix: str | None = None) -> str:
    """How this copy was installed: "checkout" (run from the source tree), "pipx", "uv tool",
    "virtualenv" or "system"."""
    if project_root() is not None:
        return "checkout"
    parts = [p.lower() for p in Path(prefix or sys.prefix).parts]
    if "pipx" in parts and "venvs" in parts:
        return "pipx"
    if "uv" in parts and "tools" in parts:
        return "uv tool"
    if (prefix or sys.prefix) != sys.base_prefix:
        return "virtualenv"
    return "system"


def repair_hint() -> str:
    """How to put back what the package ships (its recipes, say), for this kind of install."""
    how = install_kind()
    if how == "checkout":
        return "restore the checkout's recipes/ and fixtures/: git restore recipes fixtures"
    if how == "pipx":
        return "reinstall unbinder: pipx reinstall unbinder"
    if how == "uv tool":
        return "reinstall unbinder: uv tool install --reinstall unbinder"
    return f"reinstall unbinder: {_quote(sys.executable)} -m pip install --force-reinstall unbinder"


def command(
    name: str = "unbinder",
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    scripts: Path | None = None,
) -> str:
    """How to run the console script `name` of this environment, as the person types it.

    The bare name when PATH finds this very script; else its path (relative to `cwd` when it
    is below it, `~/...` when below the home folder); else `python -m name`.
    """
    import shutil

    environ = os.environ if environ is None else environ
    script = _script(name, scripts)
    if script is None:
        return f"{_quote(sys.executable)} -m {name}"
    found = shutil.which(name, path=environ.get("PATH", ""))
    if found and _same_file(Path(found), script):
        return name
    return _quote(_shown(script, cwd or Path.cwd(), environ))


def playwright_install(
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    scripts: Path | None = None,
) -> str:
    """The command that downloads Playwright's Chromium into this environment's Playwright."""
    return f"{command('playwright', environ=environ, cwd=cwd, scripts=scripts)} install chromium"


def activate_command(*, cwd: Path | None = None, scripts: Path | None = None) -> str | None:
    """How to activate this virtual environment (so `unbinder` is on PATH), if it is one."""
    import sysconfig

    if install_kind() not in ("checkout", "virtualenv"):
        return None
    folder = scripts or Path(sysconfig.get_path("scripts"))
    if os.name == "nt":
        script = folder / "Activate.ps1"
        return _shown(script, cwd or Path.cwd(), os.environ) if script.is_file() else None
    script = folder / "activate"
    if not script.is_file():
        return None
    return f"source {_quote(_shown(script, cwd or Path.cwd(), os.environ))}"


def _script(name: str, scripts: Path | None) -> Path | None:
    import sysconfig

    folder = scripts or Path(sysconfig.get_path("scripts"))
    for candidate in (folder / name, folder / f"{name}.exe"):
        if candidate.is_file():
            return candidate
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _shown(path: Path, cwd: Path, environ: Mapping[str, str]) -> str:
    absolute = Path(os.path.abspath(path))
    if absolute.is_relative_to(cwd.absolute()):
        relative = str(absolute.relative_to(cwd.absolute()))
        # A bare name would be looked up on PATH: `./unbinder`, `.\Scripts\unbinder.exe`.
        return f".{os.sep}{relative}" if os.name == "nt" or os.sep not in relative else relative
    home = environ.get("HOME") or environ.get("USERPROFILE")
    if home and os.name != "nt" and absolute.is_relative_to(home):
        return "~/" + str(absolute.relative_to(home))
    return str(absolute)


def _quote(text: str) -> str:
    import shlex

    if os.name == "nt":
        return f'& "{text}"' if " " in text else text
    quoted = shlex.quote(text)
    # Keep a leading ~/ outside the quotes, or the shell would not expand it.
    if text.startswith("~/") and quoted != text:
        return "~/" + shlex.quote(text[2:])
    return quoted
