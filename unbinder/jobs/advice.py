"""What to do next about one platform, given what is known of it: written once, for the audit's
table and JSON, the report and the checklist, in the person's language (`i18n/`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from unbinder.i18n.words import has, say

if TYPE_CHECKING:
    from unbinder.recipe.load import LoadedRecipe
    from unbinder.vocab import AuditStatus, PlatformState


def next_step(
    state: PlatformState | AuditStatus, platform: str, loaded: LoadedRecipe | None, lang: str
) -> str:
    """One line: what the person should do next about `platform` (its recipe, when known)."""
    if state == "not_bound":
        return say("next_nothing", lang)
    if state == "changed":
        return say("next_done_changed", lang)
    if state == "unbound":
        return say("next_done_unbound", lang)
    flows = loaded.recipe.flows if loaded is not None else None
    manual = flows.manual.steps.get(lang) if flows and flows.manual else []
    steps = " > ".join(s.rstrip(".。") for s in manual[:2]) or f"unbinder recipes show {platform}"
    if state == "bound":
        if flows is None or flows.change is not None or flows.unbind is not None:
            return say("next_unbind", lang, id=platform)
        return say("next_by_hand", lang, id=platform, steps=steps)
    if state == "manual":
        return say("next_manual", lang, id=platform, steps=steps)
    key = f"next_{state}"
    return say(key if has(key, lang) else "next_unknown", lang, id=platform)
