"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from unbinder.phone import PhoneNumber

F = TypeVar("F", bound=Callable[..., Any])


def lang_option(function: F) -> F:
    """`--lang en|zh-CN|...`; without it, the language of the environment (LC_ALL, LANG...)."""
    from unbinder.cli.language import lang_callback
    from unbinder.i18n.lang import LANGS

    return click.option(
        "--lang",
        type=click.Choice(LANGS),
        default=None,
        is_eager=True,
        expose_value=True,
        callback=lang_callback,
        help="Language of the output (default: from LC_ALL / LANG; zh* gives zh-CN).",
    )(function)


def parse_number(text: str, region: str | None, *, lang: str | None = None) -> PhoneNumber:
    """A number as typed; without `+CC` and `--region`, the locale's country, said in one line."""
    from unbinder.i18n.lang import locale_region, resolve_lang
    from unbinder.i18n.words import say
    from unbinder.phone import parse_phone

    bare = not text.strip().startswith(("+", "00", "\uff0b"))
    if region is None and bare:
        guessed = locale_region()
        if guessed is not None:
            number = parse_phone(text, guessed)
            click.echo(say("region_from_locale", resolve_lang(lang), region=guessed), err=True)
            return number
    return parse_phone(text, region)


def text_width(default: int = 96) -> int:
    """The columns to fill: the terminal's (or COLUMNS), else `default` for a pipe or a file."""
    import shutil
    import sys

    columns = columns_env()
    if columns is not None:
        return max(40, columns)
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size().columns)
    return default


def columns_env() -> int | None:
    """The width `COLUMNS` says, or None when it says none."""
    import os

    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() else None
