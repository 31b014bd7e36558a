"""The flow engine: run a recipe's flow in a guarded browser context and return an Outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from unbinder.engine.outcome import Evidence, Outcome, Screenshot, StepFailure
from unbinder.engine.runner import FlowInput, FlowRun
from unbinder.vocab import FlowName

if TYPE_CHECKING:
    from playwright.async_api import Page

    from unbinder.browser.launch import BrowserSession, GuardedContext
    from unbinder.browser.replica import Replica
    from unbinder.engine.human import Human
    from unbinder.phone import PhoneNumber
    from unbinder.recipe.load import LoadedRecipe

__all__ = [
    "Evidence",
    "FlowInput",
    "FlowRun",
    "Outcome",
    "Screenshot",
    "StepFailure",
    "open_guarded",
    "run_flow",
]


async def open_guarded(
    session: BrowserSession, loaded: LoadedRecipe, replica: Replica | None
) -> GuardedContext:
    """A fresh context for this recipe: its domains only, its replica in fixture mode."""
    return await session.open_context(
        loaded.recipe.domains,
        serve=replica.serve if replica is not None else None,
        locale=context_locale(loaded),
    )


def context_locale(loaded: LoadedRecipe) -> str:
    """Chinese platforms are visited with a Chinese browser locale, others in English."""
    return "zh-CN" if "CN" in loaded.recipe.regions else "en-US"


async def run_flow(
    session: BrowserSession,
    loaded: LoadedRecipe,
    flow: FlowName,
    phone: PhoneNumber,
    *,
    new_phone: PhoneNumber | None = None,
    human: Human | None = None,
    replica: Replica | None = None,
    dry_run: bool = False,
    screenshots: bool = True,
    lang: str = "en",
    context: GuardedContext | None = None,
    page: Page | None = None,
    dry_run_sends: bool = False,
) -> Outcome:
    """Run one flow in a fresh guarded context (or the given one, and page, left open).

    A dry run stops before the first step that sends an SMS or email (`dry_run_sends`: before
    the first irreversible one)."""
    from playwright.async_api import Error as PlaywrightError

    own = context is None
    if context is None:
        context = await open_guarded(session, loaded, replica)
    try:
        page = page or await context.context.new_page()
        run = FlowRun(
            FlowInput(
                loaded,
                flow,
                phone,
                new_phone,
                human,
                dry_run,
                screenshots,
                lang,
                dry_run_sends=dry_run_sends,
            ),
            page,
            context.guard,
            replica.unserved if replica is not None else None,
        )
        return await run.run()
    except PlaywrightError as exc:
        # The context died under us (crash, closed by the page): one platform's failure only.
        from unbinder.engine.outcome import StepFailure as _Failure

        text = str(exc).strip().splitlines()
        return Outcome(
            platform=loaded.id,
            flow=flow,
            status="error",
            failure=_Failure("-", "browser context", None, text[0] if text else type(exc).__name__),
            blocked=tuple(context.guard.blocked),
        )
    finally:
        if own:
            await context.close()
