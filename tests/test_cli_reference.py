"""docs/cli.md is generated from `--help` and kept in sync; every command's help has an example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from unbinder.cli.app import _COMMANDS
from unbinder.cli.reference import iter_commands, render
from unbinder.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {ctx.command_path: command for ctx, command in iter_commands()}
HELP = {ctx.command_path: command.get_help(ctx) for ctx, command in iter_commands()}


def test_docs_cli_md_is_what_make_docs_generates() -> None:
    checked_in = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert checked_in == render(), "docs/cli.md is out of date: run `make docs` and commit it"


def test_the_reference_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = render()
    monkeypatch.setenv("COLUMNS", "40")
    assert render() == wide


def test_every_command_and_subcommand_is_walked() -> None:
    top = {path.split()[1] for path in COMMANDS if path.count(" ") == 1}
    assert top == set(_COMMANDS)
    assert {"unbinder trail verify", "unbinder recipes lint", "unbinder sessions wipe"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("path", sorted(HELP))
def test_every_command_has_help_with_an_example(path: str) -> None:
    command = COMMANDS[path]
    assert command.help, f"`{path}` has no help text (its docstring)"
    assert "Example:" in HELP[path], f"`{path} --help` has no `Example:`"


def test_exit_codes_have_no_aliases_and_each_a_meaning() -> None:
    # __members__ keeps aliases, iteration drops them: equal only when every value is distinct.
    assert len(ExitCode.__members__) == len({int(code) for code in ExitCode})
    for code in ExitCode:
        assert code.meaning.strip(), code.name
        assert f"| {int(code)} | `{code.name}` |" in render()


@pytest.mark.parametrize("path", sorted(p for p, text in HELP.items() if "Exit codes" in text))
def test_exit_codes_in_help_are_the_shared_ones(path: str) -> None:
    paragraph = HELP[path].split("Exit codes", 1)[1].split("\n\n", 1)[0]
    listed = {int(n) for n in re.findall(r"[:,]\s+(\d+)\s", paragraph)}
    assert listed, paragraph
    assert listed <= {int(code) for code in ExitCode}, paragraph


def test_readme_lists_every_exit_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme.split("Exit codes are", 1)[1].split("\n\n", 1)[0]
    for code in ExitCode:
        assert f"`{int(code)}`" in paragraph, code.name
