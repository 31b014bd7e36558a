"""`unbinder demo` end to end, in a child process (the session's `demo_run`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from leaks import scan

from unbinder.errors import RecipeError
from unbinder.jobs.demo import load_plan
from unbinder.phone import parse_phone
from unbinder.trail import RecordType, Trail

if TYPE_CHECKING:
    # Only a type: importing `conftest` at run time picks whichever conftest.py pytest loaded
    # last (tests/trail/ has one too).
    from conftest import DemoRun


def test_demo_shows_the_whole_job_and_leaves_no_number(demo_run: DemoRun) -> None:
    out = demo_run.stdout
    assert demo_run.returncode == 0, demo_run.stderr + out
    assert "Traceback" not in demo_run.stderr
    # What it made, where it said, in the system's temp dir (the child's TMPDIR).
    assert demo_run.home.parent == demo_run.tmp
    assert demo_run.passphrase.startswith("demo-")
    assert demo_run.report.is_file()
    assert demo_run.report.parent == demo_run.home
    assert not demo_run.unused_home.exists()  # the person's own data directory is untouched
    # The audit table, the change, the trail verification, the report, what to try next.
    assert "Audit of +86 138****8000" in out
    assert "BOUND" in out and "not bound" in out and "manual" in out
    assert "7 platforms:" in out
    assert "example-cn: changed (change +86 138****8000 -> +86 139****9000)" in out
    assert "the platform shows: 139****9000" in out
    assert "Trail verified: OK" in out
    assert f"Evidence report: {demo_run.report}" in out
    assert "Try next" in out
    assert "unbinder trail verify" in out
    # Promise 2: no written form of either demo number anywhere the demo could write: its
    # data directory, the child's HOME and its whole TMPDIR (Chromium's profiles included).
    phone = parse_phone("+86 138 0013 8000")
    new = parse_phone("+86 139 0013 9000")
    assert demo_run.home.is_relative_to(demo_run.tmp)
    assert scan(demo_run.roots, [phone, new]) == []
    assert phone.national_digits not in out + demo_run.stderr


def test_demo_trail_holds_the_audits_and_the_change(demo_run: DemoRun) -> None:
    assert demo_run.returncode == 0, demo_run.stderr
    with Trail.open(demo_run.home / "trail", demo_run.passphrase) as trail:
        runs = trail.runs()
        records = list(trail.records())
        assert trail.verify().status == "ok"
    assert [r.kind for r in runs] == ["audit", "unbind", "audit"]
    assert all(r.sealed and r.status == "complete" for r in runs)
    assert runs[1].new_masked == "+86 139****9000"
    (result,) = [r for r in records if r.type == RecordType.RESULT]
    assert result.payload["result"]["status"] == "changed"
    # The re-check ran on the same replica, so it sees the change: the old number is free.
    last = [r for r in records if r.type == RecordType.FINDING and r.run == runs[2].id]
    assert [(f.payload["platform"], f.payload["outcome"]["outcome"]) for f in last] == [
        ("example-cn", "not_bound")
    ]


def test_demo_data_is_loaded_and_checked(tmp_path: Path) -> None:
    plan = load_plan()
    assert plan.phone and plan.unbind is not None
    assert plan.unbind.platform in plan.platforms
    broken = tmp_path / "demo.yaml"
    broken.write_text("phone: x\nplatforms: []\n")
    with pytest.raises(RecipeError, match=r"demo\.yaml"):
        load_plan(broken)
