"""Locks on the trail's log, the same promise on Linux, macOS and Windows.

`exclusive(fd)` and `shared(fd)` hold a lock on the open file `fd` for the length of a `with`.
They exclude other processes and other descriptors of the same file in this process; threads
sharing one descriptor need a lock of their own as well (Trail keeps one). A lock dies with its
process, so a writer killed mid-append never leaves the trail locked.

- Linux, macOS: `flock` on the log itself, shared for readers, exclusive for writers.
- Windows: `msvcrt.locking` on one byte far past the end of the log (so no read or write of the
  log's data ever touches a locked range; Windows locks are mandatory). Windows has no shared
  byte-range lock through msvcrt, so readers take the same exclusive lock: they wait for each
  other as well as for writers, which costs only time. `msvcrt.locking` does not wait by itself
  beyond ten seconds, so the lock is retried until it is granted, as `flock` waits. Taking the
  lock leaves the descriptor's offset there: write through `O_APPEND` and read with
  `fsio.read_at`, as the trail does.

No POSIX-only module is imported until a lock is taken: `fcntl` or `msvcrt`, whichever the
system has, is imported then. `backend()` takes the system's name so tests can drive the Windows
logic on Linux with a stand-in for `msvcrt` (tests/trail/test_trail_lock.py).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import time
from collections.abc import Iterator
from typing import Any, Protocol

# 1 TiB: past the end of any real log (records are small, evidence lives in blobs/), and a
# position every file system can seek to (Windows allows locking past the end of a file).
WINDOWS_LOCK_OFFSET = 1 << 40
_RETRY_FIRST, _RETRY_MAX = 0.001, 0.05  # seconds between attempts on Windows


class Backend(Protocol):
    def lock(self, fd: int, *, exclusive: bool) -> None: ...

    def unlock(self, fd: int) -> None: ...


class FlockBackend:
    """`flock(2)`: Linux, macOS and every other POSIX system."""

    def __init__(self) -> None:
        self._fcntl: Any = importlib.import_module("fcntl")

    def lock(self, fd: int, *, exclusive: bool) -> None:
        self._fcntl.flock(fd, self._fcntl.LOCK_EX if exclusive else self._fcntl.LOCK_SH)

    def unlock(self, fd: int) -> None:
        self._fcntl.flock(fd, self._fcntl.LOCK_UN)


class MsvcrtBackend:
    """`msvcrt.locking` on one byte at WINDOWS_LOCK_OFFSET: Windows (shared is exclusive)."""

    def __init__(self) -> None:
        self._msvcrt: Any = importlib.import_module("msvcrt")

    def lock(self, fd: int, *, exclusive: bool) -> None:
        del exclusive  # no shared lock through msvcrt: every holder is exclusive
        pause = _RETRY_FIRST
        while True:
            os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            try:
                self._msvcrt.locking(fd, self._msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                # Held by another process (or another descriptor here): wait and try again.
                time.sleep(pause)
                pause = min(pause * 2, _RETRY_MAX)

    def unlock(self, fd: int) -> None:
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        self._msvcrt.locking(fd, self._msvcrt.LK_UNLCK, 1)


_backends: dict[str, Backend] = {}


def backend(system: str | None = None) -> Backend:
    """The lock implementation for `system` (`os.name`: "nt" or "posix"; default: this one)."""
    name = system or os.name
    if name not in _backends:
        _backends[name] = MsvcrtBackend() if name == "nt" else FlockBackend()
    return _backends[name]


@contextlib.contextmanager
def exclusive(fd: int) -> Iterator[None]:
    """Hold the writers' lock on `fd` (waits for every other holder)."""
    with _held(fd, exclusive=True):
        yield


@contextlib.contextmanager
def shared(fd: int) -> Iterator[None]:
    """Hold the readers' lock on `fd` (waits for writers; exclusive on Windows)."""
    with _held(fd, exclusive=False):
        yield


@contextlib.contextmanager
def _held(fd: int, *, exclusive: bool) -> Iterator[None]:
    impl = backend()
    impl.lock(fd, exclusive=exclusive)
    try:
        yield
    finally:
        impl.unlock(fd)
