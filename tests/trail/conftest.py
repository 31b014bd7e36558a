"""Fixtures for the trail tests (helpers live in trail_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from unbinder.phone import PhoneNumber, parse_phone


@pytest.fixture
def phone() -> PhoneNumber:
    return parse_phone("+86 138 0013 8000")


@pytest.fixture
def trail_dir(home: Path) -> Path:
    return home / "trail"
