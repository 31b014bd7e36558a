"""The command line: help on every command, version, doctor, and one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from unbinder import __version__
from unbinder.cli import cli


def _all_commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _all_commands(command, f"{prefix}{name} ")


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.parametrize(("name", "command"), list(_all_commands(cli)))
def test_every_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    assert command.help, f"`unbinder {name}` has no help text"
    assert "Example" in command.help, f"`unbinder {name}` help has no Example"
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_doctor_all_good_exits_zero() -> None:
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "browser launch" in result.output
    assert "All good." in result.output


def test_doctor_reports_a_missing_browser_with_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNBINDER_BROWSER", str(tmp_path / "nope"))
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if line.startswith("FAIL browser"))
    assert "UNBINDER_BROWSER" in line
    assert "->" in line  # the fix is on the same line


def test_doctor_flags_a_data_dir_readable_by_others(
    home: Path,
) -> None:
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1
    assert "chmod 700" in result.output


def test_unexpected_failure_is_one_line_and_a_debug_log(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> list[object]:
        raise RuntimeError("secret detail +8613800138000")

    from unbinder import redact
    from unbinder.phone import parse_phone

    redact.register(parse_phone("+86 138 0013 8000"))
    monkeypatch.setattr("unbinder.jobs.doctor.run_checks", boom)
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "unexpected failure (RuntimeError)" in result.output
    log = (home / "logs" / "debug.log").read_text()
    assert "Traceback" in log
    assert "13800138000" not in log  # the traceback is redacted before it is written
    assert "+86 138****8000" in log
