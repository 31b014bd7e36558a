"""Keyed words, while the last callers move to English msgids (`translate.py`).

`keyed.py` names some English texts by key (`say("audit_title", lang, ...)`); the text is then
translated like any other message, through the gettext catalogs. New code says its English in
place: `_("Audit of {number}")`, not a key.
"""

from __future__ import annotations

from typing import Any

from unbinder.i18n import translate
from unbinder.i18n.keyed import KEYED


def english() -> dict[str, str]:
    """Every keyed English text."""
    return KEYED


def words(lang: str) -> dict[str, str]:
    """Every keyed text, in `lang`."""
    return {key: translate.say(text, lang) for key, text in KEYED.items()}


def say(key: str, lang: str, **values: Any) -> str:
    """The text `key` in `lang`, its `{placeholders}` filled in."""
    return translate.say(KEYED[key], lang, **values)


def has(key: str, lang: str) -> bool:
    return key in KEYED
