"""Keep the phone number out of every text that reaches disk or the terminal by accident.

A run registers the numbers it handles; `redact()` replaces any written form of them by the
masked form. Debug logs, tracebacks and evidence strings pass through it before being written.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from unbinder.phone import PhoneNumber

_lock = threading.Lock()
_patterns: list[tuple[re.Pattern[str], str]] = []


def register(phone: PhoneNumber) -> None:
    """From now on, `redact()` masks every common form of `phone`."""
    with _lock:
        for form in phone.forms():
            # Separators may vary between how we wrote a form and how a page shows it.
            parts = [re.escape(ch) for ch in re.sub(r"[\s\-]", "", form)]
            pattern = re.compile(r"(?<!\d)" + r"[\s\-]?".join(parts) + r"(?!\d)")
            _patterns.append((pattern, phone.masked))
        _patterns.sort(key=lambda p: len(p[0].pattern), reverse=True)


def clear() -> None:
    """Forget every registered number (tests)."""
    with _lock:
        _patterns.clear()


def redact(text: str) -> str:
    """`text` with every registered number replaced by its masked form."""
    with _lock:
        patterns = list(_patterns)
    for pattern, masked in patterns:
        text = pattern.sub(masked, text)
    return text


def redact_deep(value: Any) -> Any:
    """`value` (JSON-like) with every string in it, keys included, passed through redact()."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {
            redact_deep(k) if isinstance(k, str) else k: redact_deep(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_deep(v) for v in value]
    return value
