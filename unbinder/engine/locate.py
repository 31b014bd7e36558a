"""Turn a recipe's named selectors (ordered alternatives) into Playwright locators.

Every step type resolves its target through `Locator.resolve`: all alternatives are awaited at
once, and the earliest alternative in the recipe's order that is visible wins. Winning with any
but the first marks the run degraded, with a warning that names the selector.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unbinder.recipe.model import Alternative

if TYPE_CHECKING:
    from playwright.async_api import FrameLocator, Locator, Page


# Playwright polls a waiting locator with a backoff that grows to 500 ms, unless the wait's
# timeout is short (then it stays at 100 ms). Waiting in short slices keeps a page change
# noticed within ~100 ms, which is most of an audit's latency (measured: bench/audit_bench.py).
WAIT_SLICE = 2.0


async def wait_state(
    locator: Locator, state: str, timeout: float, *, slice_: float = WAIT_SLICE
) -> None:
    """`locator.wait_for(state)` within `timeout` seconds, in slices (see WAIT_SLICE)."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise PlaywrightTimeout(f"waited {timeout:g}s for {state}")
        try:
            await locator.wait_for(state=state, timeout=min(remaining, slice_) * 1000)  # type: ignore[arg-type]
            return
        except PlaywrightTimeout:
            continue


class SelectorTimeout(Exception):
    """No alternative of a selector became visible in time."""

    def __init__(self, name: str, tried: list[str], timeout: float, hint: str = "") -> None:
        super().__init__(
            f"no alternative of selector {name!r} became visible within {timeout:g}s{hint}"
        )
        self.name = name
        self.tried = tried


class UndefinedSelector(SelectorTimeout):
    """A name that the recipe's `selectors` do not define (load refuses such a recipe; a
    test's human script or a tool could still name one)."""

    def __init__(self, name: str, known: list[str]) -> None:
        from unbinder.recipe.names import did_you_mean

        Exception.__init__(
            self,
            f"selector {name!r} is not defined in the recipe's `selectors`"
            + (did_you_mean(name, known) or "; add it there"),
        )
        self.name = name
        self.tried = []


class Interrupted(Exception):
    """A blocker (captcha, rate limit...) appeared while waiting."""


@dataclass(frozen=True)
class Resolved:
    """A selector resolved to one alternative's locator."""

    name: str
    index: int
    alternative: Alternative
    locator: Locator

    def describe(self) -> str:
        return f"{self.name}, alternative {self.index + 1} ({self.alternative.describe()})"


def text_locator(
    root: Page | FrameLocator, text: str | list[str] | None, regex: str | None
) -> Locator:
    """A locator for visible text: a string, any of a list, or a regular expression."""
    if regex is not None:
        return root.get_by_text(re.compile(regex))
    texts = [text] if isinstance(text, str) else list(text or [])
    locator = root.get_by_text(texts[0])
    for other in texts[1:]:
        locator = locator.or_(root.get_by_text(other))
    return locator


def alternative_locator(page: Page, alt: Alternative) -> Locator:
    """The Playwright locator for one alternative, visible elements only."""
    root: Page | FrameLocator = page.frame_locator(alt.frame) if alt.frame else page
    locator = plain_locator(root, alt).filter(visible=True)
    return locator.nth(alt.nth) if alt.nth is not None else locator.first


def plain_locator(root: Page | FrameLocator, alt: Alternative) -> Locator:
    """The Playwright locator for one alternative within `root` (no visibility filter)."""
    kind = alt.kind
    if kind == "role":
        locator = root.get_by_role(alt.role, name=alt.name, exact=alt.exact)  # type: ignore[arg-type]
    elif kind == "label":
        locator = root.get_by_label(alt.label or "", exact=alt.exact)
    elif kind == "placeholder":
        locator = root.get_by_placeholder(alt.placeholder or "", exact=alt.exact)
    elif kind in ("text", "regex"):
        locator = text_locator(root, alt.text, alt.regex)
    elif kind == "testid":
        locator = root.get_by_test_id(alt.testid or "")
    elif kind == "css":
        locator = root.locator(alt.css or "")
    else:
        locator = root.locator(f"xpath={alt.xpath}")
    return locator


class Locate:
    """Resolves selector names of one recipe on the flow's current page."""

    def __init__(self, selectors: dict[str, list[Alternative]], page: Callable[[], Page]) -> None:
        self._selectors = selectors
        self._page = page
        self.used: dict[str, int] = {}  # selector name -> winning alternative (last use)

    def alternatives(self, name: str) -> list[Alternative]:
        try:
            return self._selectors[name]
        except KeyError:
            raise UndefinedSelector(name, list(self._selectors)) from None

    def names(self) -> list[str]:
        return list(self._selectors)

    def locators(self, name: str) -> list[Locator]:
        page = self._page()
        return [alternative_locator(page, alt) for alt in self.alternatives(name)]

    async def now(self, name: str) -> Resolved | None:
        """The first alternative visible right now, without waiting."""
        alts = self.alternatives(name)
        locators = self.locators(name)
        for index, locator in enumerate(locators):
            if await _count(locator):
                # The page may have shown the element while we looked at the earlier
                # alternatives one by one: look again before calling the run degraded.
                for earlier in range(index):
                    if await _count(locators[earlier]):
                        return self._won(name, earlier, alts[earlier], locators[earlier])
                return self._won(name, index, alts[index], locator)
        return None

    async def resolve(
        self, name: str, timeout: float, interrupt: asyncio.Event | None = None
    ) -> Resolved:
        """Wait until an alternative is visible; the earliest visible in recipe order wins."""
        alts = self.alternatives(name)
        locators = self.locators(name)
        found = await self.now(name)
        if found is not None:
            return found
        waits = {
            asyncio.create_task(wait_state(loc, "visible", timeout)): i
            for i, loc in enumerate(locators)
        }
        stopper = asyncio.create_task(interrupt.wait()) if interrupt is not None else None
        pending: set[asyncio.Task[object]] = set(waits) | ({stopper} if stopper else set())
        winner: int | None = None
        try:
            while pending and winner is None:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task is stopper:
                        raise Interrupted
                    if task.exception() is None:
                        index = waits[task]  # type: ignore[index]
                        winner = index if winner is None else min(winner, index)
                if stopper is not None and pending == {stopper}:
                    break
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in waits:
                if task.done() and not task.cancelled():
                    task.exception()  # mark retrieved: losers time out or error quietly
        if winner is None:
            hint = await frame_hint(self._page(), alts)
            raise SelectorTimeout(name, [a.describe() for a in alts], timeout, hint)
        # An earlier alternative may match the same element a moment later (its wait had not
        # polled yet): look again briefly before calling the recipe degraded.
        for pause in (0.0, 0.05, 0.1, 0.2) if winner else ():
            await asyncio.sleep(pause)
            earlier = [i for i in range(winner) if await _count(locators[i])]
            if earlier:
                winner = earlier[0]
                break
        return self._won(name, winner, alts[winner], locators[winner])

    def _won(self, name: str, index: int, alt: Alternative, locator: Locator) -> Resolved:
        self.used[name] = max(self.used.get(name, 0), index)
        return Resolved(name, index, alt, locator)

    def degraded(self) -> list[str]:
        """Warnings for every selector that needed a fallback alternative."""
        warnings = []
        for name, index in sorted(self.used.items()):
            if index > 0:
                alts = self._selectors[name]
                warnings.append(
                    f"selector {name!r}: the primary alternative ({alts[0].describe()}) did not "
                    f"match; alternative {index + 1} ({alts[index].describe()}) did. "
                    "The platform may have changed its page: update the recipe."
                )
        return warnings


async def frame_hint(
    page: Page,
    alts: list[Alternative],
    texts: Sequence[tuple[str | list[str] | None, str | None]] = (),
) -> str:
    """` (it is inside the iframe '#x': ...)` when what was looked for in the page (selector
    alternatives without `frame`, or texts) is visible inside one of its frames; else ""."""
    from playwright.async_api import Error as PlaywrightError

    looks = [a for a in alts if a.frame is None]
    if not looks and not texts:
        return ""

    async def probe() -> str:
        for frame in page.frames[1:]:
            for alt in looks:
                if await _count(plain_locator(frame, alt).filter(visible=True)):  # type: ignore[arg-type]
                    where = await _frame_selector(frame)
                    return (
                        f" (it is inside the iframe {where!r}: add `frame: {where!r}` to the "
                        "selector's alternative)"
                    )
            for text, regex in texts:
                locator = text_locator(frame, text, regex)  # type: ignore[arg-type]
                if await _count(locator.filter(visible=True)):
                    where = await _frame_selector(frame)
                    return (
                        f" (the text is inside the iframe {where!r}: add `frame: {where!r}` to "
                        "the condition)"
                    )
        return ""

    try:
        return await asyncio.wait_for(probe(), 3)
    except (PlaywrightError, asyncio.TimeoutError):
        return ""


async def _frame_selector(frame: Any) -> str:
    """A CSS selector for the <iframe> element of `frame`: its id, name or address."""
    element = await frame.frame_element()
    for attribute, shape in (("id", "#{}"), ("name", 'iframe[name="{}"]')):
        value = await element.get_attribute(attribute)
        if value and re.fullmatch(r"[A-Za-z][\w\-]*", value):
            return shape.format(value)
    src = await element.get_attribute("src") or ""
    path = src.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return f'iframe[src*="{path}"]' if path else "iframe"


async def _count(locator: Locator) -> int:
    from playwright.async_api import Error as PlaywrightError

    try:
        return await locator.count()
    except PlaywrightError:
        return 0
