"""The words a person reads, through gettext: English in the code, one catalog per language.

The code says its words in English (`_("Evidence report")`); `make i18n` extracts them with Babel
into `unbinder/i18n/unbinder.pot`, updates `locale/<ll_CC>/LC_MESSAGES/unbinder.po` and compiles
the `.mo` beside it, which is what runs: only the standard library's `gettext` is used here, so
Babel is a tool of the checkout, never imported at run time. A language is a folder under
`locale/`; English is the code itself. Identifiers (ids, commands, JSON fields) are never
translated; only what is said around them.

Two ways to ask, both extracted by Babel (`babel.cfg`, keywords `_`, `N_`, `say`, `nsay`):
- `_(message)`: in the language of this run of the command line (`use`, set once from `--lang`
  or the locale before a command runs; English until then);
- `say(message, lang, **values)`: in `lang`, for what is written in a chosen language whatever the
  terminal's (the report, the checklist), its `{placeholders}` filled in.
`N_(message)` only marks a message for extraction where the text is chosen later (tables of words).
"""

from __future__ import annotations

import functools
import gettext as _gettext
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

DOMAIN = "unbinder"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANG = "en"

_active: list[str | None] = [None]  # None: not chosen yet (English)


def catalog_langs() -> tuple[str, ...]:
    """The languages with a compiled catalog (`zh_CN` -> `zh-CN`), besides English."""
    found = LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")
    return tuple(sorted(p.parent.parent.name.replace("_", "-") for p in found))


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The catalog of `lang`; English (and a language without one) says the code's own words."""
    if lang == SOURCE_LANG:
        return _gettext.NullTranslations()
    folder = lang.replace("-", "_")
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[folder], fallback=True)


def use(lang: str | None) -> None:
    """Speak `lang` from now on in this process (the command line's `--lang`, or the locale);
    None: English, no language chosen."""
    _active[0] = lang


def chosen_lang() -> str | None:
    """The language `use` set, or None when nothing chose one yet."""
    return _active[0]


def active_lang() -> str:
    return _active[0] or SOURCE_LANG


def _(message: str) -> str:
    """`message` in the active language."""
    return translations(active_lang()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form that fits `count`, in the active language."""
    return translations(active_lang()).ngettext(singular, plural, count)


def id_words(value: str, words: Mapping[str, str]) -> str:
    """An id shown as such in English (scripts and tests read it); in another language, the
    translation of its words in `words` (N_-marked English), when it has any."""
    if active_lang() == SOURCE_LANG or value not in words:
        return value
    return _(words[value])


def listed(items: Iterable[str], lang: str | None = None) -> str:
    """`items` said one after another, with the separator of `lang` (default: the active one):
    a comma in English, 、 in Chinese."""
    return translations(lang or active_lang()).gettext(N_(", ")).join(items)


def N_(message: str) -> str:
    """Mark `message` for extraction; it is translated where it is shown."""
    return message


def say(message: str, lang: str, **values: Any) -> str:
    """`message` in `lang`, its `{placeholders}` filled in."""
    text = translations(lang).gettext(message)
    return text.format(**values) if values else text


def nsay(singular: str, plural: str, count: int, lang: str, **values: Any) -> str:
    """The form of `singular`/`plural` that fits `count`, in `lang`, placeholders filled in."""
    return translations(lang).ngettext(singular, plural, count).format(count=count, **values)
