"""An audit is recorded in the encrypted trail, and leaves no plaintext number on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from leaks import scan

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


def test_wrong_passphrase_is_exit_3_and_nothing_runs(home: Path) -> None:
    runner = CliRunner(env={"UNBINDER_PASSPHRASE": "right"})
    base = ["audit", "+86", "138", "0013", "8000", "--fixtures", "--yes", "--platform", "demo-chat"]
    assert runner.invoke(cli, base).exit_code == 0
    log = (Paths.from_env().trail_dir / "trail.log").read_bytes()
    wrong = CliRunner(env={"UNBINDER_PASSPHRASE": "wrong"}).invoke(cli, base)
    assert wrong.exit_code == 3
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
    """Run a real audit in a child process whose home, data dir and temp dir we then search."""
    home, data, tmp = short_tmp / "user", short_tmp / "data", short_tmp / "tmp"
    for d in (home, data, tmp):
        d.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "UNBINDER_HOME": str(data),
        "TMPDIR": str(tmp),
        "UNBINDER_PASSPHRASE": "a passphrase",
        "UNBINDER_TEST_FAST_KDF": "1",
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    env.pop("PLAYWRIGHT_BROWSERS_PATH", None)
    cmd = [
        sys.executable,
        "-m",
        "unbinder",
        "audit",
        "+86",
        "138-0013-8000",
        "--fixtures",
        "--yes",
        "--json",
    ]
    cmd += [a for p in PLATFORMS + ["demo-food", "demo-travel"] for a in ("--platform", p)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert (data / "trail").is_dir()
    phone = parse_phone("+86 138 0013 8000")
    assert scan([data, tmp, home], [phone]) == []
    assert "13800138000" not in done.stdout + done.stderr
