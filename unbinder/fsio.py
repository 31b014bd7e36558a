"""Durable file operations: write-temp-fsync-rename, directory fsync, private modes.

A rename is only durable once the directory holding it is fsynced, and a file's contents only
once the file is; every write the trail acknowledges goes through one of these helpers.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from unbinder.errors import StorageError
from unbinder.paths import FILE_MODE


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new(path: Path, data: bytes) -> None:
    """Create `path` (0600, must not exist) holding `data`, fsynced with its directory."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
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
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        _rename(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(
            f"cannot {action} {path}: {exc.strerror or exc}.",
            hint="Check free space and permissions of the data directory.",
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
