"""How this copy of unbinder was installed, and so how the person types its commands.

Hints print commands that work as printed from where the person stands: `make demo` runs from
the checkout's `.venv`, whose `bin/` is usually not on PATH (`.venv/bin/unbinder`); pipx and
`uv tool` put `unbinder` on PATH but not the `playwright` of its environment (its full path is
printed). Everything takes `environ` and `cwd` so tests can describe any of these.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path

from unbinder.paths import project_root


def kind(prefix: str | None = None) -> str:
    """ "checkout" (run from the source tree), "pipx", "uv tool", "virtualenv" or "system"."""
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
    how = kind()
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
    if kind() not in ("checkout", "virtualenv"):
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
    if os.name == "nt":
        return f'& "{text}"' if " " in text else text
    quoted = shlex.quote(text)
    # Keep a leading ~/ outside the quotes, or the shell would not expand it.
    if text.startswith("~/") and quoted != text:
        return "~/" + shlex.quote(text[2:])
    return quoted
