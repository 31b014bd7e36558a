"""What to do next about one platform, given what is known of it: written once, for the audit's
table and JSON, the report and the checklist, in the person's language (`i18n/`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from unbinder.i18n.words import has, say
from unbinder.recipe.catalog import command

if TYPE_CHECKING:
    from unbinder.recipe.load import LoadedRecipe
    from unbinder.vocab import AuditStatus, StatusState


@dataclass(frozen=True)
class Advice:
    """What to do next: a sentence in the person's language and the command it names, if any.

    Commands are the same in every language (OLD, NEW and PHONE stand for the numbers); a
    terminal prints them whole below its table and puts a reference in the sentence instead.
    """

    key: str
    lang: str
    command: str | None = None
    values: dict[str, str] = field(default_factory=dict)

    def text(self, command: str | None = None) -> str:
        """The sentence, with the command written in, or `command` (a reference) in its place."""
        shown = command if command is not None else (self.command or "")
        return say(self.key, self.lang, command=shown, **self.values)

    def __str__(self) -> str:
        return self.text()


def advise(
    state: StatusState | AuditStatus, platform: str, loaded: LoadedRecipe | None, lang: str
) -> Advice:
    """What the person should do next about `platform` (its recipe, when known)."""
    if state == "not_bound":
        return Advice("next_nothing", lang)
    if state == "changed":
        return Advice("next_done_changed", lang)
    if state == "unbound":
        return Advice("next_done_unbound", lang)
    flows = loaded.recipe.flows if loaded is not None else None
    manual = flows.manual.steps.get(lang) if flows and flows.manual else []
    steps = " > ".join(s.rstrip(".。") for s in manual[:2]) or command("show", platform)
    mark = command("mark", platform, "OLD")
    if state == "bound":
        if flows is None or flows.change is not None or flows.unbind is not None:
            return Advice("next_unbind", lang, command("change", platform, "OLD"))
        return Advice("next_by_hand", lang, mark, {"steps": steps})
    if state == "manual":
        return Advice("next_manual", lang, mark, {"steps": steps})
    commands = {
        "needs_human": command("headed", platform),
        "skipped": command("side_effects", platform),
        "not_done": command("change", platform, "OLD"),
        "not_checked": command("check", platform),
    }
    if state in ("rate_limited", "throttled"):  # nothing to run now: wait
        return Advice(f"next_{state}", lang)
    key = f"next_{state}"
    if not has(key, lang):
        key = "next_unknown"
    return Advice(key, lang, commands.get(state, command("show", platform)))


def next_step(
    state: StatusState | AuditStatus, platform: str, loaded: LoadedRecipe | None, lang: str
) -> str:
    """One line: what the person should do next about `platform`, commands written in."""
    return advise(state, platform, loaded, lang).text()
