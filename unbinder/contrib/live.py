"""Check a recipe against the live site, and with the user's yes record that it works.

`unbinder recipes test ID --live --phone N` runs the recipe's check flow on the real platform
(no replica; the domain guard lets only the recipe's domains through). What the outcome says
about the recipe becomes a proposal: a verdict backed by evidence means `working` (`degraded`
when a selector had to fall back), a step that could not be done means `broken`; a captcha, a
rate limit or an unknown page says nothing about the recipe and proposes nothing. Only after an
explicit yes are the recipe's `status:` and `last_verified:` lines rewritten, and nothing else
in the file: comments and layout stay as the author wrote them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from unbinder.engine.outcome import Outcome
from unbinder.errors import BadInput, RecipeError
from unbinder.i18n.translate import _
from unbinder.recipe.load import LoadedRecipe, recipe_problems
from unbinder.vocab import VERDICTS

if TYPE_CHECKING:
    from unbinder.browser.launch import BrowserSession
    from unbinder.browser.replica import Replica
    from unbinder.engine.human import Human
    from unbinder.phone import PhoneNumber


@dataclass(frozen=True)
class Proposal:
    """What a live outcome says the recipe's status is."""

    status: str  # working, degraded, broken
    last_verified: str | None  # the date to record, or None to leave the line alone
    why: str


@dataclass(frozen=True)
class LiveReport:
    """The end of a live check: what was proposed, and whether the file changed."""

    outcome: Outcome
    proposal: Proposal | None
    applied: bool
    current_status: str
    current_last_verified: str | None


def propose(outcome: Outcome, today: dt.date) -> Proposal | None:
    """The status a live outcome supports, or None when it says nothing about the recipe."""
    if outcome.status in VERDICTS and outcome.evidence is not None:
        if outcome.degraded:
            return Proposal(
                "degraded",
                today.isoformat(),
                "a verdict with evidence, but a selector fell back to a later alternative",
            )
        return Proposal("working", today.isoformat(), "a verdict with evidence")
    if outcome.status == "error" and outcome.failure is not None:
        return Proposal("broken", None, f"a step could not be done: {outcome.failure.describe()}")
    return None


def unreachable(outcome: Outcome) -> str | None:
    """Why the platform could not be reached at all (no internet, DNS), or None."""
    if outcome.status not in ("unknown", "error"):
        return None
    failure = outcome.failure
    text = " ".join(filter(None, [outcome.reason, failure.error if failure else None]))
    found = re.search(r"net::ERR_[A-Z_]+", text)
    if found and found.group(0) != "net::ERR_BLOCKED_BY_CLIENT":
        return found.group(0)
    if failure is not None and failure.step.startswith("goto") and "imeout" in text:
        return "the first page did not load in time"
    return None


def describe(outcome: Outcome) -> list[str]:
    """The evidence and everything else worth seeing about an outcome, one line each."""
    lines = []
    if outcome.evidence is not None:
        ev = outcome.evidence
        lines.append(f"evidence: {ev.rule}")
        lines.append(f"  matched: {ev.matched}" + (f" ({ev.selector})" if ev.selector else ""))
        lines.append(f"  at: {ev.url}")
    if outcome.failure is not None:
        lines.append(f"failed at {outcome.failure.describe()}")
    if outcome.reason:
        lines.append(f"reason: {outcome.reason}")
    lines += [f"warning: {w}" for w in outcome.warnings]
    lines += [b.describe() for b in outcome.blocked]
    return lines


def check_flow_allowed(loaded: LoadedRecipe, allow_side_effects: bool) -> None:
    """A live check runs the check flow only, and its side effects only when the user opts in."""
    flow = loaded.recipe.flows.check
    if flow is None:
        raise BadInput(
            _("{path} has no check flow to run live.").format(path=loaded.path),
            hint=_("Only the check flow runs with --live; the others need a login."),
        )
    if flow.side_effects.any() and not allow_side_effects:
        raise BadInput(
            _("the check flow of {id} declares side effects ({value}).").format(
                id=loaded.id, value=", ".join(flow.side_effects.names())
            ),
            hint=_("Pass --allow-side-effects to run it anyway."),
        )


async def run_live(
    session: BrowserSession,
    loaded: LoadedRecipe,
    phone: PhoneNumber,
    *,
    replica: Replica | None = None,
    human: Human | None = None,
    allow_side_effects: bool = False,
) -> Outcome:
    """Run the check flow on the live site (or on `replica`, which tests inject)."""
    from unbinder.engine import run_flow

    check_flow_allowed(loaded, allow_side_effects)
    return await run_flow(
        session, loaded, "check", phone, human=human, replica=replica, screenshots=False
    )


def check_live(
    loaded: LoadedRecipe,
    phone: PhoneNumber,
    *,
    headed: bool = False,
    human: Human | None = None,
    allow_side_effects: bool = False,
    replica: Replica | None = None,
) -> Outcome:
    """`run_live` in its own browser (visible with `headed`, for captchas and the like)."""
    from unbinder.browser.launch import BrowserSession

    check_flow_allowed(loaded, allow_side_effects)

    async def go() -> Outcome:
        async with BrowserSession(headless=not headed) as session:
            return await run_live(
                session,
                loaded,
                phone,
                replica=replica,
                human=human,
                allow_side_effects=allow_side_effects,
            )

    return asyncio.run(go())


def settle(
    loaded: LoadedRecipe,
    outcome: Outcome,
    *,
    confirm: Callable[[Proposal], bool],
    today: dt.date | None = None,
) -> LiveReport:
    """Propose a status from `outcome`; write it only when `confirm` says yes."""
    recipe = loaded.recipe
    proposal = propose(outcome, today or dt.date.today())
    applied = False
    unchanged = proposal is not None and (
        proposal.status == recipe.status
        and (proposal.last_verified is None or proposal.last_verified == recipe.last_verified)
    )
    if proposal is not None and not unchanged and confirm(proposal):
        apply_proposal(loaded.path, proposal)
        applied = True
    return LiveReport(outcome, proposal, applied, recipe.status, recipe.last_verified)


# --------------------------------------------------------------------------- editing the file


def apply_proposal(path: Path, proposal: Proposal) -> None:
    """Rewrite the recipe's status (and last_verified) lines in place, atomically."""
    text = path.read_text(encoding="utf-8")
    updated = update_status_lines(text, proposal.status, proposal.last_verified)
    loaded = recipe_problems(updated, path)
    if isinstance(loaded, list):  # the edit must leave a valid recipe, or nothing is written
        raise RecipeError(
            _("updating {path} would break it: {value}").format(path=path, value=loaded[0])
        )
    if loaded.recipe.status != proposal.status or (
        proposal.last_verified is not None and loaded.recipe.last_verified != proposal.last_verified
    ):
        raise RecipeError(
            _("could not update the status lines of {path}; edit them by hand.").format(path=path)
        )
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(updated)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_status_lines(text: str, status: str, last_verified: str | None) -> str:
    """`text` with only the top-level `status:` and `last_verified:` values replaced.

    Comments after a value keep their column where they can. A missing `last_verified:` line is
    added right after `status:`.
    """
    text = _set_value(text, "status", status)
    if last_verified is None:
        return text
    value = f'"{last_verified}"'
    if _line_of(text, "last_verified") is None:
        line = _line_of(text, "status")
        if line is None:  # pragma: no cover - _set_value added it
            raise RecipeError(_("the recipe has no status line"))
        lines = text.splitlines(keepends=True)
        newline = "\r\n" if lines[line].endswith("\r\n") else "\n"
        lines.insert(line + 1, f"last_verified: {value}{newline}")
        return "".join(lines)
    return _set_value(text, "last_verified", value)


_TOP_LEVEL = r"^{key}:(?P<gap>[ \t]*)(?P<value>[^#\r\n]*?)(?P<tail>[ \t]*#[^\r\n]*)?(?=\r?$)"


def _line_of(text: str, key: str) -> int | None:
    for index, line in enumerate(text.splitlines()):
        if re.match(rf"{key}:(\s|$)", line):
            return index
    return None


def _set_value(text: str, key: str, value: str) -> str:
    pattern = re.compile(_TOP_LEVEL.format(key=re.escape(key)), re.M)
    found = list(pattern.finditer(text))
    if len(found) > 1:
        raise RecipeError(
            _("`{key}:` appears more than once at the top of the recipe.").format(key=key)
        )
    if not found:
        if key != "status":
            raise RecipeError(_("the recipe has no `{key}:` line").format(key=key))
        after = _line_of(text, "domains") or _line_of(text, "homepage") or _line_of(text, "id")
        if after is None:
            raise RecipeError(_("the recipe has no `id:` line to put `status:` after"))
        lines = text.splitlines(keepends=True)
        lines.insert(after + 1, f"status: {value}\n")
        return "".join(lines)
    match = found[0]
    old = match.group("value")
    if not old.strip() or old.strip()[0] in "|>[{&*!":
        raise RecipeError(
            _("`{key}:` does not hold a plain one-line value; edit it by hand.").format(key=key)
        )
    tail = match.group("tail") or ""
    if tail:
        # Keep the comment's column: pad a shorter value, shrink the gap for a longer one.
        spaces = len(tail) - len(tail.lstrip(" \t"))
        room = len(old) + spaces - len(value)
        tail = " " * max(1, room) + tail.lstrip(" \t")
    gap = match.group("gap") or " "
    return text[: match.start()] + f"{key}:{gap}{value}{tail}" + text[match.end() :]
