"""Keyed words, while the last callers move to English msgids (`translate.py`).

`en.yaml` names some English texts by key (`say("audit_title", lang, ...)`); the text is then
translated like any other message, through the gettext catalogs (`make i18n` extracts en.yaml's
texts). New code says its English in place: `_("Audit of {number}")`, not a key.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from unbinder.i18n import translate


@functools.cache
def english() -> dict[str, str]:
    """Every keyed English text of en.yaml."""
    import yaml

    text = resources.files(__package__).joinpath("en.yaml").read_text(encoding="utf-8")
    return {str(k): str(v).strip() for k, v in yaml.safe_load(text).items()}


def words(lang: str) -> dict[str, str]:
    """Every keyed text, in `lang`."""
    return {key: translate.say(text, lang) for key, text in english().items()}


def say(key: str, lang: str, **values: Any) -> str:
    """The text `key` in `lang`, its `{placeholders}` filled in."""
    return translate.say(english()[key], lang, **values)


def has(key: str, lang: str) -> bool:
    return key in english()
