"""Helpers for the lock tests: a stand-in for Windows' msvcrt, and a writer process.

`FakeMsvcrt` gives `msvcrt.locking` its Windows meaning on Linux, as far as the trail relies on
it: an exclusive lock per descriptor (a second descriptor, in this process or another, is
refused at once with OSError, as LK_NBLCK is), held until unlocked or until the process dies,
never taken twice by one descriptor, and unlocked only at the offset it was taken at. It is
built on flock over a second open of the same file, so it excludes other processes for real.

`python lock_helpers.py trail BACKEND DIR TRAIL_ID SECRET COUNT GO` is one trail writer: it
waits for the file GO, then appends COUNT findings in one run and prints their sequence numbers
as JSON. `python lock_helpers.py counter BACKEND FILE COUNT GO` adds one to the number in FILE,
COUNT times, each a read and a write under `lock.exclusive` (without the lock, updates are lost).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import time
import types
from pathlib import Path

LK_UNLCK, LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK = 0, 1, 2, 3, 4


class FakeMsvcrt:
    def __init__(self) -> None:
        self.held: dict[int, tuple[int, int]] = {}  # fd -> (offset, second descriptor)
        self.offsets: list[int] = []  # every offset a lock was taken at

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        offset = os.lseek(fd, 0, os.SEEK_CUR)
        if mode == LK_UNLCK:
            if fd not in self.held or self.held[fd][0] != offset:
                raise PermissionError(errno.EACCES, "unlocking a range that is not locked")
            os.close(self.held.pop(fd)[1])  # closing the second open drops its flock
            return
        if mode != LK_NBLCK or nbytes != 1:
            raise AssertionError(f"unexpected locking mode {mode} for {nbytes} bytes")
        if fd in self.held:
            raise PermissionError(errno.EACCES, "this descriptor already holds the lock")
        if offset < os.fstat(fd).st_size:
            raise AssertionError("the lock must lie past the end of the log")
        second = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY)
        try:
            fcntl.flock(second, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(second)
            raise PermissionError(errno.EACCES, "Permission denied") from None
        self.held[fd] = (offset, second)
        self.offsets.append(offset)

    def module(self) -> types.ModuleType:
        """A module that stands in for msvcrt (its lock constants and `locking`)."""
        module = types.ModuleType("msvcrt")
        module.__dict__.update(
            LK_UNLCK=LK_UNLCK, LK_LOCK=LK_LOCK, LK_NBLCK=LK_NBLCK, locking=self.locking
        )
        return module


def install_fake_msvcrt() -> FakeMsvcrt:
    """For the rest of this process, the trail locks with Windows' logic over a FakeMsvcrt."""
    from unbinder.trail import lock

    fake = FakeMsvcrt()
    sys.modules["msvcrt"] = fake.module()
    lock._backends[os.name] = lock.MsvcrtBackend()
    return fake


def counter(backend: str, path: Path, count: int, go: Path) -> None:
    if backend == "msvcrt":
        install_fake_msvcrt()
    from unbinder.fsio import read_at
    from unbinder.trail import lock

    fd = os.open(path, os.O_RDWR)
    try:
        while not go.exists():
            time.sleep(0.001)
        for _ in range(count):
            with lock.exclusive(fd):
                value = int(read_at(fd, 20, 0).decode() or 0)
                time.sleep(0)  # let another process in, if the lock would let it
                os.pwrite(fd, str(value + 1).rjust(20).encode(), 0)
    finally:
        os.close(fd)


def writer(backend: str, directory: Path, trail_id: str, secret: str, count: int, go: Path) -> None:
    if backend == "msvcrt":
        install_fake_msvcrt()
    from unbinder.trail import Trail
    from unbinder.trail.keys import MasterKey

    master = MasterKey(bytes.fromhex(trail_id), bytes.fromhex(secret))
    with Trail.open_unlocked(directory, master) as trail:
        while not go.exists():
            time.sleep(0.001)
        run = trail.start_run("audit", None)
        seqs = [run.finding("p", {"writer": os.getpid(), "i": i}) for i in range(count)]
        run.seal()
    print(json.dumps({"run": run.id, "seqs": seqs}))


if __name__ == "__main__":
    if sys.argv[1] == "counter":
        name, where, n, go_file = sys.argv[2:6]
        counter(name, Path(where), int(n), Path(go_file))
    else:
        name, where, tid, key, n, go_file = sys.argv[2:8]
        writer(name, Path(where), tid, key, int(n), Path(go_file))
