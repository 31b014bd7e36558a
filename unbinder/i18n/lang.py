"""The language of what unbinder prints, from the option or the environment.

The languages are English (the code's own words) and every catalog under `i18n/locale/`
(`zh_CN` there is `zh-CN` here).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from unbinder.i18n.translate import SOURCE_LANG, catalog_langs

LANGS = (SOURCE_LANG, *catalog_langs())


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """The language of the locale (LC_ALL, then LC_MESSAGES, then LANG, as POSIX reads them):
    its own catalog (`zh_CN.UTF-8` -> zh-CN), else one of its language (`zh_TW` -> zh-CN), else
    `en`."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            wanted = value.split(".")[0].split("@")[0].replace("_", "-").lower()
            exact = [lang for lang in LANGS if lang.lower() == wanted]
            same = [lang for lang in LANGS if lang.split("-")[0].lower() == wanted[:2]]
            return (exact or same or [SOURCE_LANG])[0]
    return SOURCE_LANG


def locale_region(environ: Mapping[str, str] | None = None) -> str | None:
    """The country of the locale (`zh_CN.UTF-8` -> CN, `en_US` -> US), or None (C, POSIX...).

    Windows sets none of these variables; there Python's own locale is asked.
    """
    import re

    env = os.environ if environ is None else environ
    value = next((env[n] for n in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(n)), None)
    if value is None and environ is None and sys.platform == "win32":
        import locale

        value = locale.getlocale()[0]  # on POSIX it maps C.UTF-8 to en_US: not the person's
    match = re.match(r"[A-Za-z]{2,3}[_-]([A-Za-z]{2})\b", value or "")
    return match.group(1).upper() if match else None


def resolve_lang(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The `--lang` option when given, else the language this run chose (`unbinder --lang`),
    else the environment's."""
    from unbinder.i18n.translate import chosen_lang

    if option in LANGS:
        return str(option)
    chosen = chosen_lang() if environ is None else None
    return chosen or default_lang(environ)


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal columns."""
    return text + " " * max(0, width - display_width(text))
