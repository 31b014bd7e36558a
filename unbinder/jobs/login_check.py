"""`audit --login`: check by logging in, where no page says anything without a login.

For a platform whose anonymous check is missing, was skipped for its side effects, or came back
needing a person, the recipe's `verify` flow runs in a visible browser: the person logs in (the
recipe's prompt), the flow reads the number the account shows, and that masked number decides.
`bound` when it can be the audited number (`phone.masked_matches`, the comparison the
confirmation before an irreversible step uses), `not_bound` when the account shows another
number or none, anything else as the flow said it. The result is a check like any other, marked
`via: login`, with the same evidence (the masked number and a screenshot).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from unbinder.engine.outcome import Evidence
from unbinder.phone import PhoneNumber, masked_matches
from unbinder.vocab import LOGIN_WORTHY, AuditStatus, check_status

if TYPE_CHECKING:
    from unbinder.browser.launch import BrowserSession
    from unbinder.browser.replica import Replica
    from unbinder.engine.human import Human
    from unbinder.engine.outcome import Outcome
    from unbinder.jobs.audit import PlatformResult
    from unbinder.jobs.sessions import SessionStore
    from unbinder.recipe.load import LoadedRecipe


def wants_login(item: PlatformResult) -> bool:
    """Could a login tell more than the anonymous check did?"""
    return item.status in LOGIN_WORTHY and item.recipe.recipe.flows.verify is not None


def login_verdict(outcome: Outcome, phone: PhoneNumber) -> tuple[AuditStatus, Outcome]:
    """What the account page said about `phone`, with the evidence that says it."""
    shown = outcome.variables.get("bound_number")
    if outcome.status == "bound" and shown:
        if masked_matches(shown, phone):
            return "bound", outcome
        evidence = Evidence(
            rule="the account shows another number",
            matched=f"{shown}, which cannot be {phone.masked}",
            url=outcome.evidence.url if outcome.evidence else "",
        )
        return "not_bound", replace(outcome, status="not_bound", evidence=evidence)
    if outcome.status == "bound":
        # A number is bound, but the flow read none to compare: that proves nothing either way.
        reason = "the account shows a number, but the recipe read none to compare"
        return "unknown", replace(outcome, status="unknown", reason=reason)
    return check_status(outcome.status), outcome


async def check_by_login(
    session: BrowserSession,
    loaded: LoadedRecipe,
    phone: PhoneNumber,
    *,
    human: Human | None,
    replica: Replica | None = None,
    sessions: SessionStore | None = None,
    keep_session: bool = False,
    screenshots: bool = True,
    lang: str = "en",
) -> PlatformResult:
    """Run `loaded`'s verify flow with the person's login and say what it shows of `phone`."""
    from unbinder.engine import context_locale, run_flow
    from unbinder.jobs.audit import PlatformResult

    kept = sessions.load(loaded.id) if sessions is not None else None
    context = await session.open_context(
        loaded.recipe.domains,
        serve=replica.serve if replica is not None else None,
        locale=context_locale(loaded),
        storage_state=kept,
    )
    try:
        outcome = await run_flow(
            session,
            loaded,
            "verify",
            phone,
            human=human,
            replica=replica,
            screenshots=screenshots,
            lang=lang,
            context=context,
        )
        if sessions is not None and keep_session:
            sessions.save(loaded.id, dict(await context.context.storage_state()))
    finally:
        await context.close()
    status, outcome = login_verdict(outcome, phone)
    return PlatformResult(loaded, status, outcome, attempts=1, via="login")
