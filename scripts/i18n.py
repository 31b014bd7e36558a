"""Extract every word a person reads into unbinder/i18n/unbinder.pot (`make i18n`, step one).

Babel reads unbinder/ as babel.cfg says, and click's own package (its "Usage:", "Options:",
"Error: ..." words, which unbinder gives its catalog: unbinder/cli/help.py). Click's messages are
referenced as `click/<file>:<line>`, so the template does not depend on where the venv is.
`pybabel update` and `pybabel compile` then do the rest (Makefile). tests/test_i18n.py calls
`extract()` to check that every message has its translation.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "unbinder" / "i18n" / "unbinder.pot"
KEYWORDS = {
    "_": None,
    "N_": None,
    "say": None,
    "nsay": (1, 2),
    "ngettext": (1, 2),
}


def extract() -> Catalog:
    """The template catalog: every message of unbinder's code, templates and data, and click's."""
    import click
    from unbinder.i18n.keyed import KEYED

    catalog = Catalog(
        project="unbinder",
        version="",
        fuzzy=False,
        creation_date=datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc),
        msgid_bugs_address="",
        copyright_holder="the unbinder authors",
    )
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    click_dir = Path(click.__file__).parent
    sources = [
        (ROOT, method_map, options_map, ""),
        (click_dir, [("**.py", "python")], {}, "click/"),
    ]
    for folder, methods, options, prefix in sources:
        found = extract_from_dir(
            str(folder), methods, options, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        )
        for filename, lineno, message, comments, context in found:
            if message in KEYED:
                continue  # a key of i18n/keyed.py (words.say), not words: its text is its own
            where = (prefix + filename.replace("\\", "/"), lineno)
            catalog.add(message, None, [where], auto_comments=comments, context=context)
    return catalog


def main() -> int:
    with POT.open("wb") as out:
        write_po(out, extract(), width=100, sort_by_file=True, omit_header=False)
    print(f"wrote {POT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
