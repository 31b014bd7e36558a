"""Shared fixtures: a private data dir per test, and pytest-playwright pointed at our browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unbinder import redact
from unbinder.browser import find_browser, launch_args


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own UNBINDER_HOME so nothing touches the user's data."""
    home = tmp_path / "unbinder-home"
    monkeypatch.setenv("UNBINDER_HOME", str(home))
    monkeypatch.delenv("UNBINDER_PASSPHRASE", raising=False)
    monkeypatch.delenv("UNBINDER_ANCHOR", raising=False)
    # Cheap trail key derivation; tests of the real profile remove this (tests/trail/).
    monkeypatch.setenv("UNBINDER_TEST_FAST_KDF", "1")
    yield home
    redact.clear()


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temp dir with a short path: Chromium keeps sockets in TMPDIR, and socket paths are short."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="ub-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright launches the same Chromium the tool finds, with the same flags."""
    return {"executable_path": str(find_browser().path), "args": launch_args(headless=True)}
