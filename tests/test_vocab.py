"""Each vocabulary is defined once (unbinder/vocab.py), and mypy rejects a word outside it."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

from unbinder import vocab

PACKAGE = Path(vocab.__file__).parent
# Words only a vocabulary has: a tuple, list or set literal holding two of them is a second copy.
MARKERS = {"not_bound", "needs_human", "rate_limited", "not_done", "unbound", "unverified"}


def _word_lists(path: Path) -> list[tuple[int, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            plain = all(isinstance(w, str) and w.isidentifier() for w in words)
            if plain and len(words) == len(node.elts) and len(MARKERS.intersection(words)) >= 2:
                found.append((node.lineno, [str(w) for w in words]))
    return found


def test_every_word_list_lives_in_vocab() -> None:
    copies = {
        f"{path.relative_to(PACKAGE.parent)}:{line}": words
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != Path(vocab.__file__)
        for line, words in _word_lists(path)
    }
    assert copies == {}, "import these from unbinder.vocab instead"


def test_the_derived_tuples_follow_their_types() -> None:
    assert vocab.VERDICTS == ("bound", "not_bound")
    assert set(vocab.CHECK_STATUSES) < set(vocab.AUDIT_STATUSES)
    assert set(vocab.FLOW_STATUSES) == set(vocab.CHECK_STATUSES) | set(vocab.CHANGE_STATUSES)
    assert set(vocab.AUTOMATIC) | set(vocab.NEEDS_PERSON) <= set(vocab.CHECK_STATUSES)
    assert set(vocab.DONE_STATES) <= set(vocab.CONCLUSIVE_STATES) <= set(vocab.PLATFORM_STATES)
    assert vocab.check_status("done") == "error"
    assert vocab.check_status("bound") == "bound"


@pytest.mark.parametrize(
    ("snippet", "rejected"),
    [
        ("from unbinder.vocab import CheckStatus\ns: CheckStatus = 'nt_bound'\n", True),
        ("from unbinder.vocab import UnbindResult\ns: UnbindResult = 'unbound'\n", False),
        (
            "from unbinder.engine.outcome import Outcome\n"
            "Outcome(platform='x', flow='check', status='bogus')\n",
            True,
        ),
    ],
)
def test_mypy_strict_rejects_an_unknown_status(
    tmp_path: Path, snippet: str, rejected: bool
) -> None:
    source = tmp_path / "snippet.py"
    source.write_text(textwrap.dedent(snippet), encoding="utf-8")
    out, err, status = mypy_api.run(
        ["--strict", "--no-incremental", "--follow-imports=silent", str(source)]
    )
    assert (status != 0) == rejected, out + err
    if rejected:
        assert "incompatible type" in out or "Incompatible types" in out, out
