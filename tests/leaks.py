"""Search files for a phone number in every common written form (promise 2)."""

from __future__ import annotations

from collections.abc import Iterable
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
