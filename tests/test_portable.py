"""The package imports where POSIX-only modules do not exist (Windows), and its trail works there.

Windows cannot run here. What can be shown on Linux: every module of `unbinder` imports in a
child process where unbinder's own code is refused the modules Windows lacks (the import hooks
look at who imports: the standard library and other packages keep their own platform checks),
and a trail is created, appended to and verified there with the Windows lock
backend over a stand-in for msvcrt (tests/trail/lock_helpers.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import unbinder

PACKAGE = Path(unbinder.__file__).resolve().parent
HELPERS = Path(__file__).resolve().parent / "trail"
POSIX_ONLY = (
    "fcntl",
    "termios",
    "tty",
    "pty",
    "pwd",
    "grp",
    "resource",
    "syslog",
    "crypt",
    "spwd",
    "nis",
    "readline",
    "posix",
    "_posixsubprocess",
)

BLOCKER = r"""
import builtins, importlib, json, sys

POSIX_ONLY = set(json.loads(sys.argv[1]))
real_import, real_import_module = builtins.__import__, importlib.import_module


def refuse(name, importer):
    # Only unbinder's own code is refused: the standard library and other packages check the
    # platform themselves before they import such a module.
    if name.partition(".")[0] in POSIX_ONLY and importer.startswith("unbinder"):
        raise ModuleNotFoundError(f"No module named {name!r} (blocked: POSIX only)", name=name)


def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0:  # every import statement, even of a module already loaded
        refuse(name, (globals or {}).get("__name__", ""))
    return real_import(name, globals, locals, fromlist, level)


def guarded_import_module(name, package=None):
    refuse(name, sys._getframe(1).f_globals.get("__name__", ""))
    return real_import_module(name, package)


builtins.__import__ = guarded_import
importlib.import_module = guarded_import_module
"""

IMPORT_ALL = r"""
refused = []
try:  # the blocker itself must work, or this test proves nothing
    exec(compile("import fcntl", "probe.py", "exec"), {"__name__": "unbinder.probe"})
except ModuleNotFoundError:
    refused.append("probe")
failures = {}
for name in json.loads(sys.argv[2]):
    try:
        importlib.import_module(name)
    except Exception as exc:
        failures[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"probe_refused": refused == ["probe"], "failures": failures}))
"""

TRAIL_ON_WINDOWS_LOCKS = r"""
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from lock_helpers import install_fake_msvcrt

fake = install_fake_msvcrt()
from unbinder.trail import Trail

directory = Path(sys.argv[3])
with Trail.create(directory, "portable") as trail:
    with trail.start_run("audit", None) as run:
        run.finding("p", {"status": "bound"})
        run.blob(b"evidence", platform="p")
with Trail.open(directory, "portable") as trail:
    report = trail.verify()
print(json.dumps({"status": report.status, "records": report.records, "locks": len(fake.offsets)}))
"""


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def _child(script: str, *args: str) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-c", BLOCKER + script, json.dumps(POSIX_ONLY), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "UNBINDER_TEST_FAST_KDF": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_every_module_imports_without_posix_only_modules() -> None:
    modules = _modules()
    assert "unbinder.trail.trail" in modules and "unbinder.browser.launch" in modules
    result = _child(IMPORT_ALL, json.dumps(modules))
    assert result["probe_refused"] is True
    assert result["failures"] == {}


def test_a_trail_works_without_fcntl_on_windows_locks(tmp_path: Path) -> None:
    result = _child(TRAIL_ON_WINDOWS_LOCKS, str(HELPERS), str(tmp_path / "trail"))
    assert result["status"] == "ok"
    assert result["records"] == 5  # created, run start, finding, blob, seal
    assert isinstance(result["locks"], int) and result["locks"] > 0
