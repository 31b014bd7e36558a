"""Wrapping text to a terminal's width, in any of our languages, never inside a command.

`textwrap` counts characters and breaks only at spaces: Chinese takes two columns a character
and has no spaces, so it would overflow or not break at all. Here a line is filled by display
width; Chinese breaks between characters (not before closing punctuation), other text at
spaces; a command (`unbinder ...`) and an address stay whole on one line, even when that line
is longer than the width (the terminal then folds it, but nothing is cut).
"""

from __future__ import annotations

import re

from unbinder.i18n.lang import display_width

# What must not be broken: a command with its arguments (words of ASCII letters, digits and
# the punctuation of options and placeholders), an address, or a run of non-space Latin text.
_ATOM = re.compile(
    r"unbinder(?: (?:--?[A-Za-z][\w-]*(?:=\S+)?|[A-Za-z0-9_.+@{}/:-]+))*"
    r"|https?://[^\s，。；）」”]+"
    r"|[^\s\u2e80-\uffef]+"
    r"|[\u2e80-\uffef][，。、；：？！）」”』》〉]*"
    r"|\s+"
)


def wrap(text: str, width: int, indent: str = "", first: str | None = None) -> list[str]:
    """`text` as lines of at most `width` columns (a longer atom alone on its line), the first
    starting with `first` (default: `indent`), the others with `indent`."""
    lead = indent if first is None else first
    lines: list[str] = []
    line, used = lead, display_width(lead)
    started = False  # the line holds text beyond its lead
    for match in _ATOM.finditer(" ".join(text.split())):
        atom = match.group(0)
        if atom.isspace():
            if started:
                line, used = line + " ", used + 1
            continue
        size = display_width(atom)
        if started and used + size > width:
            lines.append(line.rstrip())
            line, used = indent, display_width(indent)
        line, used = line + atom, used + size
        started = True
    lines.append(line.rstrip())
    return lines


def fill(fields: list[str], width: int, indent: str = "", first: str | None = None) -> list[str]:
    """`fields` joined by ` · `, broken only between fields where they fit (a field wider than
    a line is wrapped on its own)."""
    lines: list[str] = []
    line, placed = (indent if first is None else first), False
    for field in fields:
        joined = line + (" · " if placed else "") + field
        if display_width(joined) <= width or not placed:
            line, placed = joined, True
        else:
            lines.append(line)
            line = indent + field
        if display_width(line) > width:  # a field alone wider than the line: wrapped
            lead = indent if lines or first is None else first
            *done, line = wrap(line.removeprefix(lead), width, indent, first=lead)
            lines += done
    lines.append(line)
    return lines
