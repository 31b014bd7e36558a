"""Babel extractors for the words that are not `_()` calls (`babel.cfg`; `make i18n`).

- `extract_cli`: a command-line module's `_()` calls, plus its click help: the docstring of
  every `@...command`/`@...group` function and the `help=`/`short_help=`/`epilog=` texts
  (`cli/help.py` translates them when the help is shown);
- `extract_yaml_text`: the English text of a data file (`data/*.yaml`): every string but the
  ids, urls and regions.

Run by Babel only (never at run time): Babel is imported inside, when extracting.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Collection, Iterator
from typing import IO, Any

Extracted = tuple[int, "str | None", "str | tuple[str, ...]", list[str]]

HELP_KEYWORDS = ("help", "short_help", "epilog")
CLICK_DECORATORS = ("command", "group")
# The keys of a data file whose strings are not words.
NOT_WORDS = frozenset({"id", "url", "regions"})


def extract_cli(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str], options: Any
) -> Iterator[Extracted]:
    from babel.messages.extract import extract_python

    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type,misc]
    fileobj.seek(0)
    yield from help_texts(fileobj.read().decode("utf-8"))


def help_texts(source: str) -> Iterator[Extracted]:
    """(line, None, text, []) for each help text of the click commands in `source`, as click
    shows it (`inspect.cleandoc`)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and any(_is_click(d) for d in node.decorator_list):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.lineno, None, doc.partition("\f")[0].rstrip(), []
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = keyword.value
                if (
                    keyword.arg in HELP_KEYWORDS
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and value.value.strip()
                ):
                    yield value.lineno, None, inspect.cleandoc(value.value), []


def _is_click(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name in CLICK_DECORATORS


def extract_yaml_text(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str], options: Any
) -> Iterator[Extracted]:
    """Every string of a data file, stripped as the code reads it, except ids, urls, regions."""
    import yaml

    yield from _strings(yaml.compose(fileobj.read().decode("utf-8")), words=True)


def _strings(node: Any, *, words: bool) -> Iterator[Extracted]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            # `regions: [CN]` (the plan) lists codes; `regions: REGIONS` (a label) is a word.
            data = key.value in NOT_WORDS and not (
                key.value == "regions" and isinstance(value, yaml.ScalarNode)
            )
            yield from _strings(value, words=words and not data)
    elif isinstance(node, yaml.SequenceNode):
        for value in node.value:
            yield from _strings(value, words=words)
    elif isinstance(node, yaml.ScalarNode) and words and node.tag.endswith(":str"):
        text = str(node.value).strip()
        if text and text != "-":
            yield node.start_mark.line + 1, None, text, []
