"""Recipe patterns (regular expressions and URL globs), matched in time linear in the text.

A recipe's patterns are matched in this process, on the event loop (URL and response-URL
conditions, `matches`, `extract.regex`). Python's `re` backtracks: one pattern such as `(a+)+$`
against a long URL would hold the loop for hours, beyond the reach of the flow timeout and of
Ctrl-C. Every recipe pattern is therefore compiled by RE2 (`google-re2`), whose matching time
is linear in the text and which refuses what it cannot run that way (lookarounds,
backreferences); the models refuse such a pattern at load, with the reason. URL globs are
translated to RE2 as well. Patterns that run in the page (`regex` of a selector or a text
condition) must compile here too, and in Python's `re`, which hands them to Playwright.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Protocol

MAX_PATTERN_CHARS = 1000
MAX_PATTERN_MEMORY = 8 << 20  # bytes RE2 may use for one compiled pattern


class Compiled(Protocol):
    def search(self, text: str) -> Any: ...

    def fullmatch(self, text: str) -> Any: ...


class PatternError(ValueError):
    """A recipe pattern that cannot be used, and why."""


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Compiled:
    """RE2's compiled form of a recipe regex; PatternError says why it cannot be run."""
    import re2  # type: ignore[import-untyped]

    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(
            f"regular expression longer than {MAX_PATTERN_CHARS} characters: keep patterns short"
        )
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PATTERN_MEMORY
    try:
        return re2.compile(pattern, options)  # type: ignore[no-any-return]
    except re2.error as exc:
        raw = exc.args[0] if exc.args else str(exc)
        reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        hint = ""
        if "perl operator" in reason or "escape sequence: \\" in reason:
            hint = (
                " (lookarounds such as (?=...) and backreferences such as \\1 cannot run in "
                "linear time; rewrite the pattern without them)"
            )
        raise PatternError(
            f"invalid regular expression {pattern!r}: {reason}{hint}; recipe patterns use RE2 "
            "syntax (github.com/google/re2/wiki/Syntax), which always matches in linear time"
        ) from None


def check_regex(pattern: str, *, in_page: bool = False) -> str:
    """`pattern` if a recipe may use it, else PatternError. `in_page`: the pattern is also
    handed to the browser through Python's `re` (a selector's or a text condition's regex)."""
    compile_pattern(pattern)
    if in_page:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise PatternError(f"invalid regular expression {pattern!r}: {exc}") from None
    return pattern


def search(pattern: str, text: str) -> Any:
    """The first match of a recipe regex in `text` (an RE2 match object), or None."""
    return compile_pattern(pattern).search(text)


def matches_empty(pattern: str) -> bool:
    """Does the regex match the empty string (and so any text at all)?"""
    return compile_pattern(pattern).search("") is not None


@functools.lru_cache(maxsize=512)
def _glob(pattern: str) -> Compiled:
    """A URL glob (`**` and `*` match anything, `?` one character, `[...]` a class) in RE2."""
    import re2

    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            while i < len(pattern) and pattern[i] == "*":
                i += 1
            out.append(".*")
            continue
        if char == "?":
            out.append(".")
        elif char == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re2.escape(char))
        i += 1
    return compile_pattern("(?s)" + "".join(out))


def check_url_pattern(pattern: str) -> str:
    """`pattern` if it is a usable URL pattern (`re:` + regex, or a glob), else PatternError."""
    if pattern.startswith("re:"):
        compile_pattern(pattern[3:])
    else:
        _glob(pattern)
    return pattern


def url_matches(pattern: str, url: str) -> bool:
    """Recipe URL patterns: `re:` + regex (searched), else a glob (matching the whole URL)."""
    if pattern.startswith("re:"):
        return search(pattern[3:], url) is not None
    return _glob(pattern).fullmatch(url) is not None


__all__ = [
    "PatternError",
    "check_regex",
    "check_url_pattern",
    "compile_pattern",
    "matches_empty",
    "search",
    "url_matches",
]
