"""The recovery code: printed once at creation, it opens the trail when the passphrase is lost."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from unbinder.cli import cli
from unbinder.errors import ExitCode
from unbinder.trail import Trail
from unbinder.trail.keyfile import normalize_recovery

CODE = re.compile(r"^\s+([A-Z2-7]{4}(?:-[A-Z2-7]{4}){7})$", re.MULTILINE)


def _run(*args: str, env: dict[str, str], input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["trail", *args], env=env, input=input)


def _init(trail_dir: Path) -> str:
    result = _run("init", env={}, input="the first passphrase\nthe first passphrase\n")
    assert result.exit_code == 0, result.output
    assert "The passphrase cannot be\nrecovered" in result.output
    found = CODE.search(result.output)
    assert found is not None, result.output
    return found.group(1)


def test_the_recovery_code_opens_the_trail_after_the_passphrase_is_lost(trail_dir: Path) -> None:
    code = _init(trail_dir)
    slots = json.loads((trail_dir / "key.json").read_text())["slots"]
    assert [s.get("label", "passphrase") for s in slots] == ["passphrase", "recovery"]
    assert code not in (trail_dir / "key.json").read_text()
    # Typed back carelessly: lower case, spaces instead of dashes.
    careless = code.lower().replace("-", " ")
    with Trail.open(trail_dir, careless):
        pass
    assert _run("show", env={"UNBINDER_PASSPHRASE": "not it"}).exit_code == ExitCode.AUTH
    changed = _run(
        "passwd", env={"UNBINDER_PASSPHRASE": careless, "UNBINDER_NEW_PASSPHRASE": "a new one!"}
    )
    assert changed.exit_code == 0, changed.output
    assert _run("show", env={"UNBINDER_PASSPHRASE": "a new one!"}).exit_code == 0
    assert _run("show", env={"UNBINDER_PASSPHRASE": "the first passphrase"}).exit_code == 6
    # The recovery code still works, and still has its own slot.
    assert _run("show", env={"UNBINDER_PASSPHRASE": code}).exit_code == 0
    slots = json.loads((trail_dir / "key.json").read_text())["slots"]
    assert [s.get("label", "passphrase") for s in slots] == ["passphrase", "recovery"]


def test_a_relabelled_recovery_slot_opens_nothing(trail_dir: Path) -> None:
    code = _init(trail_dir)
    key = trail_dir / "key.json"
    doc = json.loads(key.read_text())
    del doc["slots"][1]["label"]  # pass the recovery slot off as a passphrase one
    key.write_text(json.dumps(doc))
    assert _run("show", env={"UNBINDER_PASSPHRASE": code}).exit_code == ExitCode.AUTH


def test_the_first_audit_also_prints_a_recovery_code(trail_dir: Path) -> None:
    args = ["audit", "+86", "138", "0013", "8000", "--fixtures", "--yes", "--platform", "demo-chat"]
    result = CliRunner().invoke(cli, args, env={"UNBINDER_PASSPHRASE": "first audit phrase"})
    assert result.exit_code == 0, result.output
    found = CODE.search(result.stderr)
    assert found is not None, result.stderr
    with Trail.open(trail_dir, found.group(1)):
        pass


def test_normalizing_reads_lookalike_digits_as_letters() -> None:
    assert normalize_recovery("abcd 0i18-") == "ABCD-OIIB"


def test_report_without_a_trail_asks_for_no_passphrase(trail_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["report"], env={}, input="")
    assert result.exit_code == 2
    assert "passphrase" not in result.output.lower()
    assert "there is no trail" in result.output
