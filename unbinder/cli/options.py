"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def lang_option(function: F) -> F:
    """`--lang en|zh-CN`; without it, the language of the environment (LC_ALL, LANG...)."""
    return click.option(
        "--lang",
        type=click.Choice(["en", "zh-CN"]),
        default=None,
        help="Language of the output (default: from LC_ALL / LANG; zh* gives zh-CN).",
    )(function)
