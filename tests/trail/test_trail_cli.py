"""`unbinder trail ...` through click's CliRunner: output, files and exit codes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from trail_helpers import PASSPHRASE, frames

from unbinder.cli import cli
from unbinder.phone import PhoneNumber
from unbinder.trail import Trail
from unbinder.trail.trail import AnchorChoice

ENV = {"UNBINDER_PASSPHRASE": PASSPHRASE}


def _run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["trail", *args], env=ENV if env is None else env, input=input)


def _audit(
    trail_dir: Path, phone: PhoneNumber, *, seal: bool = True, anchor: AnchorChoice = "default"
) -> int:
    with Trail.create(trail_dir, PASSPHRASE, anchor=anchor) as trail:
        run = trail.start_run("audit", phone, recipes={"demo-shop": "sha256:ab"})
        run.finding("demo-shop", {"status": "bound", "kind": "text"})
        run.action("demo-shop", "changed the number", by="user")
        run.blob(b"png", name="after.png")
        if seal:
            run.seal()
        return run.id


def test_init_asks_twice_and_creates_the_trail(trail_dir: Path) -> None:
    result = _run("init", env={}, input="a long passphrase\na long passphrase\n")
    assert result.exit_code == 0, result.output
    assert "Repeat it to confirm" in result.output
    assert "a long passphrase" not in result.output  # never echoed
    assert f"Created an encrypted trail in {trail_dir}" in result.output
    Trail.open(trail_dir, "a long passphrase").close()


def test_init_asks_again_when_the_two_entries_differ(trail_dir: Path) -> None:
    typed = "first try 123\nfirst try 124\nsecond try 1\nsecond try 1\n"
    result = _run("init", env={}, input=typed)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    Trail.open(trail_dir, "second try 1").close()


def test_init_warns_about_a_short_passphrase(trail_dir: Path) -> None:
    result = _run("init", env={"UNBINDER_PASSPHRASE": "short"})
    assert result.exit_code == 0
    assert "shorter than 8 characters" in result.output


def test_init_twice_is_bad_input(trail_dir: Path) -> None:
    assert _run("init").exit_code == 0
    result = _run("init")
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_show_lists_runs_with_masked_numbers(trail_dir: Path, phone: PhoneNumber) -> None:
    run_id = _audit(trail_dir, phone)
    result = _run("show")
    assert result.exit_code == 0, result.output
    assert "6 records, 1 runs" in result.output
    row = next(line for line in result.output.splitlines() if line.strip().startswith(str(run_id)))
    assert "+86 138****8000" in row
    assert "yes" in row
    assert phone.national_digits not in result.output


def test_show_run_lists_its_records(trail_dir: Path, phone: PhoneNumber) -> None:
    run_id = _audit(trail_dir, phone)
    result = _run("show", "--run", str(run_id))
    assert result.exit_code == 0, result.output
    assert f"Run {run_id}: audit of +86 138****8000" in result.output
    assert "sealed (complete)" in result.output
    kinds = [line.split()[2] for line in result.output.splitlines()[1:]]
    assert kinds == ["run-start", "finding", "action", "blob", "run-seal"]
    assert "changed the number (by user)" in result.output


def test_show_an_unknown_run_is_bad_input(trail_dir: Path, phone: PhoneNumber) -> None:
    _audit(trail_dir, phone)
    result = _run("show", "--run", "999")
    assert result.exit_code == 2
    assert "no run 999" in result.output


@pytest.mark.parametrize("with_passphrase", [True, False])
def test_commands_without_a_trail_say_how_to_make_one(
    trail_dir: Path, with_passphrase: bool
) -> None:
    # Without a trail there is nothing to unlock: say so before asking for a passphrase.
    env = {**ENV, "UNBINDER_NEW_PASSPHRASE": "x"} if with_passphrase else {}
    for command in ("show", "verify", "export", "passwd"):
        result = _run(command, env=env, input="")
        assert result.exit_code == 2, command
        assert result.output == (
            f"Error: there is no trail in {trail_dir} yet. Create one with `unbinder trail "
            "init` (the first audit also creates it).\n"
        )


def test_verify_ok_exits_0(trail_dir: Path, phone: PhoneNumber) -> None:
    _audit(trail_dir, phone)
    result = _run("verify")
    assert result.exit_code == 0, result.output
    assert "records: 6" in result.output
    assert "runs:    1 (1 sealed, 0 unsealed)" in result.output
    assert "blobs:   1 referenced, 1 present, 1 authentic" in result.output
    assert "OK: the trail is intact." in result.output


def test_verify_with_an_unsealed_run_exits_1(trail_dir: Path, phone: PhoneNumber) -> None:
    run_id = _audit(trail_dir, phone, seal=False)
    result = _run("verify")
    assert result.exit_code == 1, result.output
    assert f"run {run_id} (audit) was not sealed" in result.output


def test_verify_with_a_torn_tail_exits_1_and_changes_nothing(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    _audit(trail_dir, phone, anchor=None)  # a crash: the torn record was never anchored
    log = trail_dir / "trail.log"
    log.write_bytes(log.read_bytes()[:-10])
    before = log.read_bytes()
    result = _run("verify")
    assert result.exit_code == 1, result.output
    assert "torn tail at record 5" in result.output
    assert log.read_bytes() == before


def test_verify_tampering_exits_5_and_names_the_record(trail_dir: Path, phone: PhoneNumber) -> None:
    _audit(trail_dir, phone)
    target = frames(trail_dir)[3]
    log = trail_dir / "trail.log"
    data = bytearray(log.read_bytes())
    data[target.offset + 40] ^= 0x10
    log.write_bytes(bytes(data))
    result = _run("verify")
    assert result.exit_code == 5, result.output  # as for every command that meets tampering
    assert "Problem: record 3:" in result.output
    assert "TAMPERED" in result.output


def test_verify_wrong_passphrase_exits_6(trail_dir: Path, phone: PhoneNumber) -> None:
    _audit(trail_dir, phone)
    result = _run("verify", env={"UNBINDER_PASSPHRASE": "nope"})
    assert result.exit_code == 6
    assert result.output.startswith("Error: wrong passphrase")
    assert len(result.output.strip().splitlines()) == 1


def test_verify_with_an_anchor_file_catches_a_cut(
    trail_dir: Path, phone: PhoneNumber, tmp_path: Path
) -> None:
    _audit(trail_dir, phone)
    anchor = tmp_path / "usb" / "unbinder.anchor"
    first = _run("verify", "--anchor", str(anchor))
    assert first.exit_code == 0, first.output
    assert "no head stored yet; now holds record 5" in first.output
    assert _run("verify", "--anchor", str(anchor)).output.count("matches record 5") == 1
    log = trail_dir / "trail.log"
    log.write_bytes(log.read_bytes()[: frames(trail_dir)[-1].offset])
    by_default = _run("verify")  # the default anchor (the config folder's) catches it too
    assert by_default.exit_code == 5, by_default.output
    assert "1 record was cut off the end" in by_default.output
    result = _run("verify", "--anchor", str(anchor))
    assert result.exit_code == 5
    assert "1 record was cut off the end" in result.output


def test_a_tampered_trail_stops_show_with_exit_5(trail_dir: Path, phone: PhoneNumber) -> None:
    _audit(trail_dir, phone)
    log = trail_dir / "trail.log"
    data = bytearray(log.read_bytes())
    data[frames(trail_dir)[2].offset + 30] ^= 1
    log.write_bytes(bytes(data))
    result = _run("show")
    assert result.exit_code == 5
    assert "record 2" in result.output
    assert "unbinder trail verify" in result.output


def test_export_json_is_a_versioned_envelope_with_masked_numbers(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    run_id = _audit(trail_dir, phone)
    result = _run("export", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["schema"] == "unbinder.trail/1"
    assert doc["verification"]["status"] == "ok"
    assert doc["trail"]["head"]["seq"] == 5
    assert [r["type"] for r in doc["records"]] == [
        "created",
        "run-start",
        "finding",
        "action",
        "blob",
        "run-seal",
    ]
    assert doc["runs"][0]["id"] == run_id
    assert doc["runs"][0]["phone"]["masked"] == "+86 138****8000"
    assert doc["number"]["shown"] is False
    assert phone.national_digits not in result.output


def test_export_to_a_file_is_private(trail_dir: Path, phone: PhoneNumber, tmp_path: Path) -> None:
    _audit(trail_dir, phone)
    out = tmp_path / "export.json"
    result = _run("export", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["schema"] == "unbinder.trail/1"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_export_show_number_reveals_it_only_where_the_reference_matches(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    _audit(trail_dir, phone)
    result = _run("export", "--show-number", input="+86 138 0013 8000\n")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output[result.output.index("{") :])
    assert doc["runs"][0]["phone"]["number"] == phone.e164
    assert doc["number"]["shown"] is True
    other = _run("export", "--show-number", input="+86 139 0013 9000\n")
    assert other.exit_code == 0
    assert "matches no run" in other.output
    assert "+8613900139000" not in other.output


def test_export_html_is_the_evidence_report_of_every_run(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    _audit(trail_dir, phone)
    result = _run("export", "--format", "html")
    assert result.exit_code == 0, result.output
    assert 'data-schema="unbinder.report/1"' in result.output
    assert "Content-Security-Policy" in result.output
    assert "Every run in the trail (1)" in result.output
    # The helper's blob is not a real PNG: the report says so instead of failing.
    assert "not an image this report can show" in result.output
    assert phone.national_digits not in result.output


def test_passwd_changes_the_passphrase_and_not_the_log(trail_dir: Path, phone: PhoneNumber) -> None:
    _audit(trail_dir, phone)
    log_before = (trail_dir / "trail.log").read_bytes()
    result = _run("passwd", env={**ENV, "UNBINDER_NEW_PASSPHRASE": "the new passphrase"})
    assert result.exit_code == 0, result.output
    assert "Passphrase changed" in result.output
    assert (trail_dir / "trail.log").read_bytes() == log_before
    assert _run("verify", env={"UNBINDER_PASSPHRASE": "the new passphrase"}).exit_code == 0
    assert _run("verify").exit_code == 6


def test_passwd_prompts_for_both_passphrases(trail_dir: Path, phone: PhoneNumber) -> None:
    _audit(trail_dir, phone)
    typed = f"{PASSPHRASE}\nnew passphrase 1\nnew passphrase 1\n"
    result = _run("passwd", env={}, input=typed)
    assert result.exit_code == 0, result.output
    assert "Current trail passphrase" in result.output
    Trail.open(trail_dir, "new passphrase 1").close()


def test_unbinder_anchor_makes_every_command_check_the_anchor(
    trail_dir: Path, phone: PhoneNumber, tmp_path: Path
) -> None:
    _audit(trail_dir, phone)
    env = {**ENV, "UNBINDER_ANCHOR": str(tmp_path / "head.anchor")}
    assert _run("verify", env=env).exit_code == 0  # writes the anchor
    assert _run("show", env=env).exit_code == 0
    log = trail_dir / "trail.log"
    log.write_bytes(log.read_bytes()[: frames(trail_dir)[-1].offset])
    result = _run("show", env=env)
    assert result.exit_code == 5
    assert "cut off the end" in result.output
