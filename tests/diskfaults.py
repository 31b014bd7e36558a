"""A full disk and a read-only data directory, as real as this machine allows.

Where we may mount (root with CAP_SYS_ADMIN, as on CI), the data directory lives on a real tiny
tmpfs: filled to the last byte, or remounted read-only, so the kernel itself says ENOSPC or
EROFS. Elsewhere the same errors are injected in this process at the system calls our code
uses (os.open, os.write, os.mkdir, os.rename/replace), for files under the data directory only.
chmod would not do: we run as root on CI, and the tool re-asserts 0700 on its own directories.
Either way the test drives the CLI in-process and asserts the same things.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

FILLER_CHUNK = 64 * 1024


@functools.cache
def can_mount() -> bool:
    """Can this process mount a tmpfs (and unmount it)? UNBINDER_TEST_DISK=injected says no."""
    if os.environ.get("UNBINDER_TEST_DISK") == "injected":
        return False
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(tempfile.mkdtemp(prefix="ub-mnt-"))
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], capture_output=True, check=True)
        return True
    finally:
        probe.rmdir()


def _under(root: Path, path: Any) -> bool:
    try:
        return Path(os.fsdecode(path)).resolve().is_relative_to(root)
    except (TypeError, ValueError, OSError):
        return False


class Disk:
    """A data directory on a small disk that can be filled up or made read-only."""

    def __init__(self, root: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root.resolve()  # the data directory (UNBINDER_HOME)
        self.mode = mode  # "tmpfs" or "injected"
        self._patch = monkeypatch
        self._budget: int | None = None  # bytes still writable (injected mode)
        self._tracked: dict[int, bool] = {}  # fd -> opened under root

    # -- a full disk ------------------------------------------------------------------------

    def fill(self, leave: int = 0) -> None:
        """Leave about `leave` bytes free (0: none at all)."""
        if self.mode == "tmpfs":
            self._fill_tmpfs(leave)
        else:
            self._budget = leave
            self._inject_writes()

    def _fill_tmpfs(self, leave: int) -> None:
        # Set `leave` bytes aside, fill the rest to the last byte, then free what was set aside.
        small = self.root.parent / "filler-small"
        small.write_bytes(b"\0" * leave)
        fd = os.open(self.root.parent / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            chunk = FILLER_CHUNK
            while chunk:
                try:
                    os.write(fd, b"\0" * chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    chunk //= 2
        finally:
            os.close(fd)
        small.unlink()

    def _inject_writes(self) -> None:
        real_open, real_write, real_close = os.open, os.write, os.close
        tracked = self._tracked

        def fake_open(path: Any, flags: int, mode: int = 0o777, *a: Any, **k: Any) -> int:
            fd = real_open(path, flags, mode, *a, **k)
            tracked[fd] = _under(self.root, path)
            return fd

        def fake_write(fd: int, data: Any) -> int:
            if tracked.get(fd) and self._budget is not None:
                size = len(memoryview(data))
                if size > self._budget:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                self._budget -= size
            return real_write(fd, data)

        def fake_close(fd: int) -> None:
            tracked.pop(fd, None)
            real_close(fd)

        self._patch.setattr(os, "open", fake_open)
        self._patch.setattr(os, "write", fake_write)
        self._patch.setattr(os, "close", fake_close)

    # -- a read-only data directory ----------------------------------------------------------

    def make_read_only(self) -> None:
        if self.mode == "tmpfs":
            subprocess.run(
                ["mount", "-o", "remount,ro", str(self.root.parent)],
                capture_output=True,
                check=True,
            )
            return
        real_open, real_mkdir = os.open, os.mkdir
        real_rename, real_replace, real_unlink = os.rename, os.replace, os.unlink
        root = self.root

        def refuse() -> OSError:
            return OSError(errno.EROFS, os.strerror(errno.EROFS))

        def fake_open(path: Any, flags: int, mode: int = 0o777, *a: Any, **k: Any) -> int:
            writes = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND)
            if writes and _under(root, path):
                raise refuse()
            return real_open(path, flags, mode, *a, **k)

        def fake_mkdir(path: Any, mode: int = 0o777, *a: Any, **k: Any) -> None:
            if _under(root, path):
                if os.path.lexists(path):
                    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
                raise refuse()
            real_mkdir(path, mode, *a, **k)

        def guarded(real: Callable[..., Any]) -> Callable[..., Any]:
            def fake(src: Any, *rest: Any, **k: Any) -> Any:
                if _under(root, src) or (rest and _under(root, rest[0])):
                    raise refuse()
                return real(src, *rest, **k)

            return fake

        self._patch.setattr(os, "open", fake_open)
        self._patch.setattr(os, "mkdir", fake_mkdir)
        self._patch.setattr(os, "rename", guarded(real_rename))
        self._patch.setattr(os, "replace", guarded(real_replace))
        self._patch.setattr(os, "unlink", guarded(real_unlink))

    def make_writable(self) -> None:
        """Undo make_read_only / fill (to check what the earlier runs left)."""
        self._patch.undo()
        self._budget = None
        if self.mode == "tmpfs":
            subprocess.run(
                ["mount", "-o", "remount,rw", str(self.root.parent)],
                capture_output=True,
                check=True,
            )
            for name in ("filler", "filler-small"):
                (self.root.parent / name).unlink(missing_ok=True)


@contextmanager
def small_disk(size_kib: int = 1024) -> Iterator[Disk]:
    """A data directory on a small disk (a real tmpfs when we may mount, else injected faults)."""
    base = Path(tempfile.mkdtemp(prefix="ub-disk-"))
    mounted = can_mount()
    if mounted:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(base)],
            capture_output=True,
            check=True,
        )
    patch = pytest.MonkeyPatch()
    try:
        yield Disk(base / "home", "tmpfs" if mounted else "injected", patch)
    finally:
        patch.undo()
        if mounted:
            subprocess.run(["umount", "-l", str(base)], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)
