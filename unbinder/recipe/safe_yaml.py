"""Safe YAML for recipes: plain data only, with a line number for every key.

Recipes are data, never code. This loader refuses every tag beyond plain scalars, mappings and
sequences (so `!!python/object` can never run), refuses anchors and aliases (no billion-laughs
bombs), bounds the nesting depth, and maps each key path to its line so errors can say
`file:line`. It lives apart from the models (`model.py`, `load.py`) so that fast readers (the
catalog behind `unbinder recipes list`) get the same safety without paying for pydantic.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from unbinder.i18n.translate import _

MAX_BYTES = 256 * 1024
MAX_DEPTH = 40
# What a recipe's text may not hold: C0 controls but tab and newline, DEL, C1 controls (ESC and
# CSI start terminal escape sequences), and the bidirectional overrides and isolates that make
# text read otherwise than it is ("Trojan Source"). YAML escapes ("\e", "\x1b") can write them.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

Lines = dict[tuple[Any, ...], int]


class YamlProblem(Exception):
    """A problem at a line of the file (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class FileProblem(Exception):
    """A recipe or replica file that cannot be read as one (the message names no path)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_text(path: Path, limit: int = MAX_BYTES) -> str:
    """The text of a recipe-like file: a regular file only, its size checked before reading.

    A FIFO opens without waiting for a writer (O_NONBLOCK) and is refused, like a device (a
    link to /dev/zero), a socket or a folder; nothing larger than `limit` bytes is read.
    FileNotFoundError passes through; other failures are FileProblem.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise FileProblem(
            _("cannot read the file: {reason}").format(reason=exc.strerror or exc)
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(
                _(
                    "is not a regular file (a FIFO, device, socket or folder); recipes and "
                    "replicas are plain files"
                )
            )
        if info.st_size > limit:
            raise FileProblem(_("is larger than {size} KiB").format(size=limit // 1024))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise FileProblem(
            _("cannot read the file: {reason}").format(reason=exc.strerror or exc)
        ) from None
    finally:
        os.close(fd)
    if size > limit:
        raise FileProblem(_("is larger than {size} KiB").format(size=limit // 1024))
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise FileProblem(_("is not UTF-8 text")) from None


def printable(text: str) -> str:
    """`text` without control characters (CONTROL_CHARS): safe to print to a terminal."""
    return CONTROL_CHARS.sub("", text)


def compose(text: str) -> tuple[Any, Lines]:
    """Safe-load YAML into plain data plus a map from key paths to line numbers."""
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise YamlProblem(1, "the file is empty")
        lines: Lines = {}
        _map_lines(node, (), lines, set(), 0)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or "invalid YAML"
        if "could not determine a constructor" in problem or "python/" in (problem or ""):
            tag = re.search(r"tag '([^']+)'", problem)
            raise YamlProblem(
                line,
                f"YAML tag {tag.group(1) if tag else ''} is not allowed: recipes are plain data "
                "and can never run code",
            ) from None
        raise YamlProblem(line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return data, lines


_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",  # last_verified: 2025-06-01, as people write dates
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


def _map_lines(node: Any, path: tuple[Any, ...], lines: Lines, seen: set[int], depth: int) -> None:
    if id(node) in seen:
        raise YamlProblem(
            node.start_mark.line + 1,
            "YAML anchors and aliases (&name, *name) are not allowed in recipes; "
            "write the value out",
        )
    seen.add(id(node))
    if depth > MAX_DEPTH:
        raise YamlProblem(node.start_mark.line + 1, f"nesting deeper than {MAX_DEPTH} levels")
    if node.tag not in _PLAIN_TAGS:
        raise YamlProblem(
            node.start_mark.line + 1,
            f"YAML tag {node.tag} is not allowed: recipes are plain data and can never run code",
        )
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode) and isinstance(node.value, str):
        found = CONTROL_CHARS.search(node.value)
        if found:
            raise YamlProblem(
                node.start_mark.line + 1,
                f"control character U+{ord(found.group(0)):04X} in a text: recipes hold plain "
                "text (a terminal would run escape sequences, and bidirectional controls make "
                "text read otherwise than it is)",
            )
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            if isinstance(key, str) and CONTROL_CHARS.search(key):
                raise YamlProblem(
                    key_node.start_mark.line + 1,
                    "control character in a key: recipes hold plain text",
                )
            lines[path + (key,)] = key_node.start_mark.line + 1
            _map_lines(value_node, path + (key,), lines, seen, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, path + (index,), lines, seen, depth + 1)


def nearest_line(lines: Lines, loc: Iterable[Any]) -> int:
    """The line of the nearest key on the path `loc` that the file has (1-based; else 1)."""
    key = tuple(loc)
    while key and key not in lines:
        key = key[:-1]
    return lines.get(key, 1)
