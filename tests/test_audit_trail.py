"""An audit is recorded in the encrypted trail, and leaves no plaintext number on disk."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from leaks import Sandbox, scan

from unbinder.cli import cli
from unbinder.paths import Paths
from unbinder.phone import parse_phone
from unbinder.trail import RecordType, Trail

PLATFORMS = ["example-cn", "example-intl", "demo-social", "demo-chat"]


def test_audit_appends_a_sealed_run_with_findings_and_screenshots(home: Path) -> None:
    args = ["audit", "+86", "138", "0013", "8000", "--fixtures", "--yes"]
    args += [a for p in PLATFORMS for a in ("--platform", p)]
    result = CliRunner(env={"UNBINDER_PASSPHRASE": "correct horse"}).invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Creating the encrypted trail" in result.output
    with Trail.open(Paths.from_env().trail_dir, "correct horse") as trail:
        runs = trail.runs()
        assert len(runs) == 1
        assert runs[0].kind == "audit"
        assert runs[0].sealed
        records = [r for r in trail.records() if r.run == runs[0].id]
        findings = {
            r.payload["platform"]: r.payload for r in records if r.type == RecordType.FINDING
        }
        assert set(findings) == set(PLATFORMS)
        assert findings["example-cn"]["outcome"]["outcome"] == "bound"
        assert findings["demo-chat"]["outcome"]["outcome"] == "manual"
        shots = findings["example-cn"]["outcome"]["screenshots"]
        assert [s["name"] for s in shots] == ["outcome"]
        png = trail.read_blob(shots[0]["blob"])
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        start = next(r for r in trail.records() if r.seq == runs[0].id)
        assert start.type == RecordType.RUN_START
        assert "13800138000" not in str(start.payload)
        assert trail.verify().status == "ok"


def test_wrong_passphrase_is_exit_6_and_nothing_runs(home: Path) -> None:
    runner = CliRunner(env={"UNBINDER_PASSPHRASE": "right"})
    base = ["audit", "+86", "138", "0013", "8000", "--fixtures", "--yes", "--platform", "demo-chat"]
    assert runner.invoke(cli, base).exit_code == 0
    log = (Paths.from_env().trail_dir / "trail.log").read_bytes()
    wrong = CliRunner(env={"UNBINDER_PASSPHRASE": "wrong"}).invoke(cli, base)
    assert wrong.exit_code == 6
    assert wrong.output == (
        "Error: wrong passphrase for this trail (or its key file is damaged). "
        "Type it again; check UNBINDER_PASSPHRASE if it is set.\n"
    )
    # Nothing ran, nothing was written, and what was there is intact.
    assert (Paths.from_env().trail_dir / "trail.log").read_bytes() == log
    with Trail.open(Paths.from_env().trail_dir, "right") as trail:
        assert trail.verify().status == "ok"
        assert [(r.kind, r.sealed, r.findings) for r in trail.runs()] == [("audit", True, 1)]


def test_no_plaintext_number_anywhere_after_an_audit(short_tmp: Path) -> None:
    """Run a real audit, then read the trail every way, in a child process whose home, data
    directory and temp directory we then search for every written form of the number."""
    box = Sandbox(short_tmp)
    env = {"UNBINDER_PASSPHRASE": "a passphrase"}
    platforms = [
        a for p in [*PLATFORMS, "demo-food", "demo-travel", "demo-video"] for a in ("--platform", p)
    ]
    audit = box.run(
        "audit", "+86", "138-0013-8000", "--fixtures", "--yes", "--json",
        "--allow-side-effects", *platforms, **env,
    )  # fmt: skip
    assert audit.returncode == 0, audit.stderr
    assert (box.data / "trail").is_dir()
    export = box.tmp / "export.json"
    report = box.tmp / "report.html"
    for args in (
        ("trail", "show", "--run", "1"),
        ("trail", "verify"),
        ("trail", "export", "--out", str(export)),
        ("report", "--out", str(report)),
    ):
        done = box.run(*args, **env)
        assert done.returncode == 0, (args, done.stderr)
        assert "13800138000" not in done.stdout + done.stderr
    assert export.is_file() and report.is_file()
    phone = parse_phone("+86 138 0013 8000")
    assert scan(box.roots, [phone]) == []
    assert "13800138000" not in audit.stdout + audit.stderr
