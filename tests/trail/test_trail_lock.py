"""The trail's lock (unbinder/trail/lock.py) keeps its promise on each system's backend.

Linux and macOS lock with flock; Windows with msvcrt. Windows cannot run here, so its backend
runs over `FakeMsvcrt` (lock_helpers.py), which gives msvcrt.locking its Windows meaning on
top of a real lock between processes: the Windows logic (where the lock lies, the retry while
another holder has it, unlocking the same range) is exercised, not Windows itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from lock_helpers import FakeMsvcrt
from trail_helpers import PASSPHRASE

from unbinder import fsio
from unbinder.trail import Trail, lock
from unbinder.trail.records import RecordType

HERE = Path(__file__).resolve().parent
WRITERS, EACH = 3, 60


def use_windows_lock(monkeypatch: pytest.MonkeyPatch) -> FakeMsvcrt:
    """Lock with Windows' backend over a FakeMsvcrt until the test ends."""
    fake = FakeMsvcrt()
    monkeypatch.setitem(sys.modules, "msvcrt", fake.module())
    monkeypatch.setitem(lock._backends, os.name, lock.MsvcrtBackend())
    return fake


@pytest.fixture(params=["flock", "msvcrt"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test once with this system's lock and once with Windows' (over FakeMsvcrt)."""
    if request.param == "msvcrt":
        use_windows_lock(monkeypatch)
    else:
        monkeypatch.setitem(lock._backends, os.name, lock.FlockBackend())
    return str(request.param)


def _together(go: Path, *args: str, count: int) -> list[str]:
    """Start `count` helper processes (lock_helpers.py ARGS), let them go at once, their outputs."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    children = [
        subprocess.Popen(
            [sys.executable, str(HERE / "lock_helpers.py"), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(count)
    ]
    go.touch()
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        outputs.append(out)
    return outputs


def test_read_and_write_under_the_lock_in_several_processes_lose_no_update(
    tmp_path: Path, backend: str
) -> None:
    counter = tmp_path / "counter"
    counter.write_bytes(b"0".rjust(20))
    go = tmp_path / "go"
    _together(go, "counter", backend, str(counter), "150", str(go), count=4)
    assert int(counter.read_bytes()) == 4 * 150


def test_trail_writers_in_several_processes_at_once_lose_nothing(
    trail_dir: Path, backend: str
) -> None:
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        master = trail._master
    args = [str(trail_dir), master.trail_id.hex(), master.secret.hex(), str(EACH)]
    go = trail_dir.parent / "go"
    outputs = _together(go, "trail", backend, *args, str(go), count=WRITERS)
    reports = [json.loads(out) for out in outputs]
    acknowledged = sorted(s for r in reports for s in r["seqs"])
    assert len(set(acknowledged)) == WRITERS * EACH  # no number handed out twice
    with Trail.open(trail_dir, PASSPHRASE) as trail:
        records = list(trail.records())
        report = trail.verify()
    assert report.status == "ok", report.problems
    assert [r.seq for r in records] == list(range(len(records)))
    findings = {r.seq: r for r in records if r.type == RecordType.FINDING}
    assert sorted(findings) == acknowledged  # every acknowledged record is there, in place
    for r in reports:  # and each writer's records are its own, in its order
        assert [findings[s].payload["outcome"]["i"] for s in r["seqs"]] == list(range(EACH))
        assert {findings[s].run for s in r["seqs"]} == {r["run"]}
    assert sorted(report.sealed_runs) == sorted(r["run"] for r in reports)


def test_a_second_holder_waits_until_the_first_lets_go(tmp_path: Path, backend: str) -> None:
    path = tmp_path / "trail.log"
    path.write_bytes(b"x" * 100)
    first, second = os.open(path, os.O_RDWR), os.open(path, os.O_RDONLY)
    events: list[str] = []
    holding = threading.Event()

    def reader() -> None:
        holding.wait()
        with lock.shared(second):
            events.append("second has it")

    thread = threading.Thread(target=reader)
    try:
        with lock.exclusive(first):
            thread.start()
            holding.set()
            thread.join(timeout=0.3)  # it must still be waiting
            events.append("first lets go")
        thread.join(timeout=30)
    finally:
        os.close(first)
        os.close(second)
    assert events == ["first lets go", "second has it"]


def test_windows_locks_one_byte_past_the_end_of_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = use_windows_lock(monkeypatch)
    path = tmp_path / "trail.log"
    path.write_bytes(b"data")
    fd = os.open(path, os.O_RDWR | os.O_APPEND)  # as the trail opens its log
    try:
        with lock.exclusive(fd):
            os.write(fd, b"more")  # the holder appends and reads its data as usual
        with lock.shared(fd):
            assert fsio.read_at(fd, 8, 0) == b"datamore"
    finally:
        os.close(fd)
    assert fake.offsets == [lock.WINDOWS_LOCK_OFFSET] * 2
    assert fake.held == {}  # each lock was let go, at the offset it was taken at


def test_the_trail_works_on_windows_locks(trail_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = use_windows_lock(monkeypatch)
    with Trail.create(trail_dir, PASSPHRASE) as first, Trail.open(trail_dir, PASSPHRASE) as second:
        run_a, run_b = first.start_run("audit", None), second.start_run("unbind", None)
        assert [run_a.finding("a", {}), run_b.finding("b", {}), run_a.finding("a", {})] == [3, 4, 5]
        run_b.seal()
        run_a.seal()
        assert first.verify().status == "ok"
    assert fake.offsets and set(fake.offsets) == {lock.WINDOWS_LOCK_OFFSET}
    assert fake.held == {}


def test_reading_at_an_offset_without_pread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    fd = os.open(path, os.O_RDONLY)
    try:
        monkeypatch.delattr(os, "pread")
        assert fsio.read_at(fd, 3, 4) == b"456"
        assert fsio.read_at(fd, 100, 8) == b"89"
    finally:
        os.close(fd)
