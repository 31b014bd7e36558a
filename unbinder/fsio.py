"""Durable file operations: write-temp-fsync-rename, directory fsync, private modes, reads at an
offset.

A rename is only durable once the directory holding it is fsynced, and a file's contents only
once the file is; every write the trail acknowledges goes through one of these helpers.

Windows: files are opened in binary mode (`O_BINARY`, else newlines would be translated); a
directory cannot be opened there, so there is no directory fsync: NTFS journals the rename
itself. The mode 0600 only sets "not read-only" there (see paths.py for what keeps the data
folder private).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from unbinder.errors import StorageError
from unbinder.i18n.translate import _
from unbinder.paths import FILE_MODE

_BINARY = getattr(os, "O_BINARY", 0)


def has_dir_fsync() -> bool:
    """Whether a directory can be opened and fsynced here (not on Windows)."""
    return os.name != "nt"


def fsync_dir(directory: Path) -> None:
    """Make the renames and creations in `directory` durable, where the system allows it."""
    if not has_dir_fsync():
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_synced(path: Path, data: bytes) -> None:
    """Create `path` (0600, must not exist) holding `data`, on disk before this returns."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, FILE_MODE)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new(path: Path, data: bytes) -> None:
    """Create `path` (0600, must not exist) holding `data`, fsynced with its directory."""
    _create_synced(path, data)
    fsync_dir(path.parent)


def replace_atomically(path: Path, data: bytes, *, action: str = "write") -> None:
    """Replace `path` by `data` so that a crash at any moment leaves the old or the new file.

    Temp file in the same directory (mode 0600), fsync, rename over the target, fsync the
    directory. A failure is a StorageError that says "cannot {action} {path}".
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        _create_synced(tmp, data)
        _rename(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(
            _("cannot {action} {path}: {value}.").format(
                action=action, path=path, value=exc.strerror or exc
            ),
            hint=_("Check free space and permissions of the data directory."),
        ) from exc


def _rename(src: Path, dst: Path) -> None:
    # A separate function so a test can inject a crash between the fsynced temp file and the
    # rename (the moment that must leave the old file intact).
    os.replace(src, dst)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte (a regular file may take a large write in pieces)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_at(fd: int, size: int, offset: int) -> bytes:
    """Up to `size` bytes of `fd` from `offset` (`os.pread`, or seek and read where it is missing).

    Without pread (Windows) the descriptor's offset moves: callers sharing `fd` between threads
    hold a lock around it (Trail does).
    """
    pread = getattr(os, "pread", None)
    if pread is not None:
        data: bytes = pread(fd, size, offset)
        return data
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)
