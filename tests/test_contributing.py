"""CONTRIBUTING.md works as written: its commands and worked example, run as a newcomer would."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from unbinder.cli import cli
from unbinder.paths import project_root

ROOT = project_root() or Path(__file__).resolve().parent.parent
GUIDE = ROOT / "CONTRIBUTING.md"
FILE_BLOCK = re.compile(r"```\w+ file=(\S+)\n(.*?)```", re.S)


def _files() -> dict[str, str]:
    return dict(FILE_BLOCK.findall(GUIDE.read_text(encoding="utf-8")))


def _command(prefix: str) -> list[str]:
    """The first command of the guide starting with `unbinder <prefix>`, as arguments."""
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"unbinder {prefix}"):
            return shlex.split(line.split("#")[0])[1:]
    raise AssertionError(f"CONTRIBUTING.md has no `unbinder {prefix}` command")


def test_the_worked_example_is_complete() -> None:
    assert set(_files()) == {
        "recipes/parcelly.yaml",
        "fixtures/parcelly/replica.yaml",
        "fixtures/parcelly/forgot.html",
    }


def test_following_the_guide_gives_a_green_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNBINDER_RECIPES", str(tmp_path / "recipes"))
    monkeypatch.setenv("UNBINDER_FIXTURES", str(tmp_path / "fixtures"))
    runner = CliRunner()
    # Step 1, as printed.
    scaffolded = runner.invoke(cli, _command("recipes new"))
    assert scaffolded.exit_code == 0, scaffolded.output
    # Steps 3-5: the worked example's files replace the scaffold's.
    for relative, text in _files().items():
        (tmp_path / relative).write_text(text, encoding="utf-8")
    lint = runner.invoke(cli, ["recipes", "lint"])
    assert lint.exit_code == 0, lint.output
    assert "0 error(s), 0 warning(s)." in lint.output
    tested = runner.invoke(cli, _command("recipes test parcelly"))
    assert tested.exit_code == 0, tested.output
    assert "5 passed, 0 failed." in tested.output


def test_the_guide_is_linked_and_its_commands_exist() -> None:
    for doc in ("README.md", "docs/recipes.md"):
        assert "CONTRIBUTING.md" in (ROOT / doc).read_text(encoding="utf-8"), doc
    for prefix in ("recipes new", "recipes record", "recipes test parcelly --live", "recipes lint"):
        args = _command(prefix)
        result = CliRunner().invoke(cli, [*args[:2], "--help"])
        assert result.exit_code == 0, prefix
        for option in (a.split("=")[0] for a in args if a.startswith("--")):
            assert option in result.output, (prefix, option)
