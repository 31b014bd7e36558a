"""How much of a recipe rests on public sources: computed here once, for the models and the catalog.

Nobody here can reach the real platforms, so a verdict (`bound`, `not_bound`) is only as good as
the public page or file that shows what its rule looks for. A recipe is `sourced` when every
verdict rule cites such a source (a recipe without verdict rules, such as an app-only one, when
its manual steps do), `partly` when some do, `assumed` when none does. The models (`model.py`)
and the fast catalog reader (`catalog.py`, no pydantic) count the rules; this module decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from unbinder.vocab import CONFIDENCES, Confidence

__all__ = ["CONFIDENCES", "Confidence", "Sourcing", "cited_ids", "confidence"]


def confidence(
    verdict_rules: int, sourced_rules: int, *, manual_sourced: bool = False
) -> Confidence:
    """`sourced`, `partly` or `assumed`, from how many verdict rules cite a source.

    Without verdict rules (a manual-only recipe), the manual steps' source decides.
    """
    if verdict_rules == 0:
        return "sourced" if manual_sourced else "assumed"
    if sourced_rules >= verdict_rules:
        return "sourced"
    return "partly" if sourced_rules > 0 else "assumed"


@dataclass(frozen=True)
class Sourcing:
    """A recipe's (or a catalog's) verdict rules, and how many of them cite a public source."""

    verdict_rules: int = 0
    sourced_rules: int = 0
    manual_sourced: bool = False  # the manual steps cite a source

    @property
    def confidence(self) -> Confidence:
        return confidence(
            self.verdict_rules, self.sourced_rules, manual_sourced=self.manual_sourced
        )

    @property
    def share(self) -> float | None:
        """Sourced verdict rules / verdict rules; None when there are no verdict rules."""
        return self.sourced_rules / self.verdict_rules if self.verdict_rules else None

    @classmethod
    def total(cls, items: Iterable[Sourcing]) -> Sourcing:
        """The verdict rules of many recipes together (for the share over a catalog)."""
        verdicts = sourced = 0
        for item in items:
            verdicts += item.verdict_rules
            sourced += item.sourced_rules
        return cls(verdicts, sourced)


def cited_ids(value: Any) -> tuple[str, ...]:
    """The source ids a `source:` value names: one id, or a list of them (else none)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return ()
