"""Search files for a phone number in every common written form (promise 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from unbinder.phone import PhoneNumber


def needles(phones: Iterable[PhoneNumber]) -> list[tuple[str, bytes]]:
    """(form, bytes) for every form of every number, in UTF-8 and UTF-16 (both byte orders)."""
    found: list[tuple[str, bytes]] = []
    for phone in phones:
        for form in phone.forms():
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                found.append((f"{form} ({encoding})", form.encode(encoding)))
    return found


def scan(roots: Iterable[Path], phones: Iterable[PhoneNumber]) -> list[str]:
    """Every `path: form` where a file under `roots` holds one of the numbers."""
    patterns = needles(phones)
    hits: list[str] = []
    for root in roots:
        if not root.exists():
            continue
        for path in [root] if root.is_file() else root.rglob("*"):
            if not path.is_file() or path.is_symlink():
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            hits += [f"{path}: {form}" for form, needle in patterns if needle in data]
    return hits


@dataclass(frozen=True)
class Sandbox:
    """A child process's own world: HOME, data directory (UNBINDER_HOME) and TMPDIR.

    Everything the product writes lands in one of them (Chromium's profile and sockets in
    TMPDIR, caches under HOME), so scanning `roots` after the child exits finds any leak.
    Keep `root` short: Chromium keeps sockets in TMPDIR and socket paths are short.
    """

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "user"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def roots(self) -> list[Path]:
        return [self.home, self.data, self.tmp]

    def env(self, **extra: str) -> dict[str, str]:
        for directory in (self.home, self.tmp):  # the data directory is the product's to make
            directory.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "HOME": str(self.home),
            "UNBINDER_HOME": str(self.data),
            "TMPDIR": str(self.tmp),
            "UNBINDER_TEST_FAST_KDF": "1",
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            # The default trail anchor: inside the child's own world, never the OS keyring.
            "UNBINDER_ANCHOR_DIR": str(self.home / ".config" / "unbinder" / "anchors"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "COLUMNS": "200",
            "LANG": "C.UTF-8",
        }
        for name in ("UNBINDER_PASSPHRASE", "UNBINDER_ANCHOR", "LC_ALL", "LC_MESSAGES"):
            env.pop(name, None)
        env.pop("PLAYWRIGHT_BROWSERS_PATH", None)
        return {**env, **extra}

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        """`python -m unbinder ARGS` in the sandbox."""
        return subprocess.run(
            [sys.executable, "-m", "unbinder", *args],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
