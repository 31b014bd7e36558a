"""Kill -9 while appending: every acknowledged record survives, at most one partial record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from trail_helpers import PASSPHRASE, build_trail

from unbinder.trail import Trail, crashcheck


@pytest.mark.slow
def test_200_kills_lose_no_acknowledged_record(tmp_path: Path) -> None:
    # The harness forks, so it runs in a process of its own (single-threaded).
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "unbinder.trail.crashcheck",
            "--kills",
            "200",
            "--seed",
            "7",
            "--dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "UNBINDER_TEST_FAST_KDF": "1"},
        check=False,
    )
    report = json.loads(completed.stdout)
    assert report["failures"] == []
    assert report["kills"] == 200
    assert report["rounds_appending"] >= 80  # about half the kills land amid appends
    assert report["lost"] == 0
    assert report["corrupted"] == 0
    assert report["too_many_extra"] == 0
    assert report["multi_torn"] == 0
    assert completed.returncode == 0


def test_the_crash_check_reports_a_lost_acknowledged_record(trail_dir: Path) -> None:
    build_trail(trail_dir, 10).close()
    master = Trail.unlock(trail_dir, PASSPHRASE)
    log = trail_dir / "trail.log"
    log.write_bytes(log.read_bytes()[:-200])  # the last acknowledged record is gone
    report = crashcheck.CrashReport(kills=1)
    crashcheck.check_round(trail_dir, master, list(range(10)), report)
    assert report.lost >= 1
    assert not report.ok
    assert "missing" in report.failures[0]


def test_the_crash_check_reports_records_nobody_acknowledged(trail_dir: Path) -> None:
    build_trail(trail_dir, 10).close()
    report = crashcheck.CrashReport(kills=1)
    crashcheck.check_round(trail_dir, Trail.unlock(trail_dir, PASSPHRASE), [1, 2, 3], report)
    assert report.too_many_extra == 1
    assert not report.ok
