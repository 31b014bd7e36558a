"""What a user installs works on its own: sdist and wheel built from this checkout, installed in a
fresh virtual environment outside it, run from another folder.

How the environment is made, and why: `python -m build --no-isolation` builds the sdist, then
the wheel from that sdist (so both are checked), with the build tools of the dev venv (no
download). The fresh venv is made by the base interpreter (`venv --without-pip`) and the wheel
goes in with pip `--no-deps --no-index`: the package under test is only the wheel's. Its
dependencies (Playwright, cryptography...) are not downloaded again: one `.pth` line adds the
dev venv's site-packages *after* the fresh venv's own, and a path added that way has its own
`.pth` files ignored, so the checkout's editable install stays out (the test checks that
`unbinder` imports from the fresh venv). A real `pipx install` downloads the dependencies; what
it does with the package itself is what is done here.

Everything runs with its own HOME, data directory and TMPDIR, and PATH without the dev venv,
like a person who has just installed it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from unbinder.browser.launch import Host, _playwright_cache
from unbinder.paths import project_root

ROOT = project_root()
pytestmark = pytest.mark.skipif(ROOT is None, reason="builds from the source checkout")
PHONE = ["+86", "138", "0013", "8000"]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "CHANGES.md")


@dataclass(frozen=True)
class Installed:
    base: Path
    venv: Path
    unbinder: Path  # the console script pip wrote
    shipped: Path  # site-packages/unbinder/_shipped
    env: dict[str, str]
    cwd: Path  # a folder that is neither the checkout nor the venv

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.unbinder), *args],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _copy_sources(root: Path, to: Path) -> None:
    """The files a build reads, from the working tree (so uncommitted work is what is built)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "recorded", ".*")
    to.mkdir()
    for name in SOURCES:
        shutil.copy2(root / name, to / name)
    for folder in ("unbinder", "recipes", "fixtures"):
        shutil.copytree(root / folder, to / folder, ignore=ignore)


def _ok(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    assert ROOT is not None
    base = tmp_path_factory.mktemp("install")
    _copy_sources(ROOT, base / "src")
    dist = base / "dist"
    _ok(
        subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), "src"],
            cwd=base,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    )
    (wheel,) = dist.glob("unbinder-*.whl")
    venv = base / "venv"
    python = getattr(sys, "_base_executable", sys.executable)
    _ok(
        subprocess.run(
            [python, "-m", "venv", "--without-pip", str(venv)],
            capture_output=True,
            text=True,
            check=False,
        )
    )
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    venv_python = next(p for p in (bindir / "python", bindir / "python.exe") if p.exists())
    _ok(
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(venv_python), "install", "--quiet"]
            + ["--no-deps", "--no-index", str(wheel)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    )
    site = Path(
        _ok(
            subprocess.run(
                [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                capture_output=True,
                text=True,
                check=False,
            )
        ).strip()
    )
    (site / "_dev_venv_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    for folder in ("home", "tmp", "elsewhere"):  # the data directory: unbinder makes it
        (base / folder).mkdir()
    env = {
        "PATH": os.pathsep.join(["/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(base / "home"),
        "UNBINDER_HOME": str(base / "data"),
        "TMPDIR": str(base / "tmp"),
        "LANG": "C.UTF-8",
        # The browser a person would have: the system's, or Playwright's download of this user.
        "PLAYWRIGHT_BROWSERS_PATH": str(_playwright_cache(Host.current())),
        "UNBINDER_TEST_FAST_KDF": "1",
        "COLUMNS": "200",
    }
    for passed in ("UNBINDER_NO_SANDBOX", "DISPLAY"):
        if passed in os.environ:
            env[passed] = os.environ[passed]
    return Installed(
        base, venv, bindir / "unbinder", site / "unbinder" / "_shipped", env, base / "elsewhere"
    )


def _shipped_ids() -> set[str]:
    assert ROOT is not None
    return {p.stem for p in (ROOT / "recipes").glob("*.yaml") if not p.name.startswith("_")}


def test_the_installed_package_is_the_wheel_alone(installed: Installed) -> None:
    where = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", "import unbinder; print(unbinder.__file__)"],
        cwd=installed.cwd,
        env=installed.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert Path(_ok(where).strip()).is_relative_to(installed.venv)
    assert (installed.shipped / "recipes" / "schema.json").is_file()
    assert (installed.shipped / "fixtures" / "demo.yaml").is_file()
    assert not (installed.shipped / "fixtures" / "faults").exists()  # test-only


def test_installed_recipes_list_shows_every_shipped_platform(installed: Installed) -> None:
    listed = json.loads(_ok(installed.run("recipes", "list", "--demo", "--json")))
    assert {r["id"] for r in listed["recipes"]} == _shipped_ids()
    table = _ok(installed.run("recipes", "list"))
    assert "No platforms match" not in table
    assert re.search(r"\d+ platform\(s\)", table)


def test_installed_copy_speaks_chinese(installed: Installed) -> None:
    # The wheel carries the compiled catalogs (package-data), and needs no Babel to read them.
    mo = installed.shipped.parent / "i18n" / "locale" / "zh_CN" / "LC_MESSAGES" / "unbinder.mo"
    assert mo.is_file()
    out = _ok(installed.run("--lang", "zh-CN", "plan", *PHONE))
    assert "停用 +86 138****8000 前的清单" in out
    assert _ok(installed.run("--lang", "zh-CN", "--help")).startswith("用法：")


def test_installed_plan_has_a_checklist(installed: Installed) -> None:
    out = _ok(installed.run("plan", *PHONE))
    assert "+86 138****8000" in out
    assert "No platforms match" not in out
    assert "Alipay" in out or "支付宝" in out


def test_installed_doctor_is_green(installed: Installed) -> None:
    out = _ok(installed.run("doctor", timeout=180))
    assert "All good." in out
    assert "FAIL" not in out
    assert f"recipes: {len(_shipped_ids())} load, 0 fail validation" in out
    assert "installed as: virtualenv" in out


def test_installed_demo_runs_and_its_suggestions_work_as_printed(installed: Installed) -> None:
    out = _ok(installed.run("demo", timeout=300))
    assert "Trail verified: OK" in out
    passphrase = re.search(r"trail passphrase \(throwaway\): (\S+)", out)
    assert passphrase is not None
    # unbinder is not on this PATH (as after pipx without ensurepath): the full path is printed.
    suggested = [line.strip() for line in out.splitlines() if "trail verify" in line]
    assert len(suggested) == 1
    assert str(installed.unbinder) in suggested[0]
    verify = subprocess.run(
        ["/bin/sh", "-c", suggested[0]],
        cwd=installed.cwd,
        env={**installed.env, "UNBINDER_PASSPHRASE": passphrase.group(1)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "OK: the trail is intact." in _ok(verify)


def test_installed_user_recipes_join_the_shipped_ones(installed: Installed, tmp_path: Path) -> None:
    mine = tmp_path / "my-recipes"
    mine.mkdir()
    shipped = (installed.shipped / "recipes" / "example-cn.yaml").read_text(encoding="utf-8")
    (mine / "example-cn.yaml").write_text(
        shipped.replace("en: Example CN,", "en: Example CN (mine),"), encoding="utf-8"
    )
    (mine / "example-mine.yaml").write_text(
        shipped.replace("id: example-cn", "id: example-mine"), encoding="utf-8"
    )
    listed = installed.run(
        "recipes", "list", "--demo", "--json", env={"UNBINDER_RECIPES": str(mine)}
    )
    ids = {r["id"]: r for r in json.loads(_ok(listed))["recipes"]}
    assert set(ids) == _shipped_ids() | {"example-mine"}  # beside the shipped ones
    assert ids["example-cn"]["name"]["en"] == "Example CN (mine)"  # the person's wins
    assert f"example-cn: your recipe {mine / 'example-cn.yaml'} is used instead" in listed.stderr


def test_installed_doctor_fails_with_a_fix_when_no_recipe_is_there(installed: Installed) -> None:
    kept = installed.base / "recipes-away"
    shutil.move(installed.shipped / "recipes", kept)
    try:
        doctor = installed.run("doctor", timeout=180)
    finally:
        shutil.move(kept, installed.shipped / "recipes")
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    line = next(x for x in doctor.stdout.splitlines() if x.startswith("FAIL recipes"))
    assert "no recipe loads" in line
    assert "reinstall unbinder" in line
    assert "All good." not in doctor.stdout
