"""The words a person reads, one catalog per language: `unbinder/i18n/<lang>.yaml`.

Every language file has the same keys and the same `{placeholders}` (a test checks it), so a new
language is a new file. Identifiers (outcome words, commands, ids) stay as they are in any
language; these catalogs hold only what is said around them.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from unbinder.i18n.lang import LANGS


@functools.cache
def words(lang: str) -> dict[str, str]:
    """Every word of `lang` (en when the language has no catalog)."""
    import yaml

    name = f"{lang if lang in LANGS else 'en'}.yaml"
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return {str(k): str(v) for k, v in yaml.safe_load(text).items()}


def say(key: str, lang: str, **values: Any) -> str:
    """The text `key` in `lang`, its `{placeholders}` filled in."""
    return words(lang)[key].format(**values)


def has(key: str, lang: str) -> bool:
    return key in words(lang)
