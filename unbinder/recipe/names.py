"""Names in recipes: the shapes of ids, regions and dates, and the hint for a name not known.

Written once for the pydantic models (`model.py`) and the fast catalog reader (`catalog.py`), which
must not import pydantic; so this module imports nothing heavier than `re`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A platform (recipe) id: also the file name, so no dots, slashes or capitals.
ID_PATTERN = r"^[a-z0-9][a-z0-9\-]{0,39}$"
ID_RE = re.compile(ID_PATTERN)
# A source id under `sources:`: lower_snake or kebab case.
SOURCE_ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,39}$"
SOURCE_ID_RE = re.compile(SOURCE_ID_PATTERN)
REGION_RE = re.compile(r"[A-Z]{2}|GLOBAL")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest option, or the empty string."""
    import difflib

    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
