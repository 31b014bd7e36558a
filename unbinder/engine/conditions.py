"""Conditions: evaluate one now (`holds`) or wait until it holds (`wait_until`).

Waiting is driven by events, not fixed sleeps: visible/text conditions wait inside the browser
(Playwright's `wait_for`), URL/response/status conditions wake on the page's own events, and only
composite conditions (any/all/not) re-check, on those same events or at a short interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unbinder.engine.locate import Locate, frame_hint, plain_locator, text_locator, wait_state
from unbinder.recipe import patterns
from unbinder.recipe.model import Alternative, Condition, ResponseMatch, VarMatch
from unbinder.redact import redact

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page, Response

COMPOSITE_POLL = 0.1  # seconds: fallback re-check for any/all/not
MAX_JSON_BYTES = 2 * 1024 * 1024


class ConditionTimeout(asyncio.TimeoutError):
    """A condition did not hold in time; `hint` may say why (it is inside an iframe)."""

    def __init__(self, hint: str = "") -> None:
        super().__init__(hint)
        self.hint = hint


def _leaves(cond: Condition) -> list[Condition]:
    """The plain conditions inside `cond` that look for something (not under `not`)."""
    if cond.any is not None or cond.all is not None:
        return [leaf for sub in (cond.any or cond.all or []) for leaf in _leaves(sub)]
    return [] if cond.not_ is not None else [cond]


@dataclass(frozen=True)
class Match:
    """A condition that holds, and what was seen."""

    what: str
    selector: str | None = None


@dataclass
class ResponseRecord:
    url: str
    method: str
    status: int
    main_document: bool
    body: Any = None  # parsed JSON when a recipe pattern asked for it


def url_matches(pattern: str, url: str) -> bool:
    """Recipe URL patterns: `re:` + regex, else a glob where `**` and `*` match anything.

    Matched by RE2 (recipe/patterns.py): linear in the URL, so no pattern can hold the loop."""
    return patterns.url_matches(pattern, url)


def json_at(data: Any, path: str | None) -> tuple[bool, Any]:
    """(found, value) at a dotted path such as `data.items.0.exists`."""
    if path is None or path in ("", "$"):
        return True, data
    value = data
    for part in path.removeprefix("$.").split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def _value_matches(spec: ResponseMatch | VarMatch, found: bool, value: Any) -> bool:
    if spec.exists is not None:
        return found == spec.exists
    if not found:
        return False
    if spec.equals is not None:
        return bool(value == spec.equals or str(value) == str(spec.equals))
    one_of = getattr(spec, "one_of", None)
    if one_of is not None:
        return value in one_of or str(value) in [str(v) for v in one_of]
    if spec.matches is not None:
        return patterns.search(spec.matches, str(value)) is not None
    return True


class PageWatch:
    """Listens to a page: responses (with JSON bodies recipes ask for) and navigations."""

    def __init__(
        self, json_patterns: list[str], allowed: Callable[[str], bool] = lambda host: True
    ) -> None:
        self.responses: list[ResponseRecord] = []
        self._allowed = allowed
        self.version = 0
        self._changed = asyncio.Event()
        self._json_patterns = json_patterns
        self._pending: set[asyncio.Task[None]] = set()
        self._pages: list[Page] = []

    def attach(self, page: Page) -> None:
        if page in self._pages:
            return
        self._pages.append(page)
        page.on("response", self._on_response)
        page.on("framenavigated", lambda frame: self._poke())
        page.on("load", lambda _: self._poke())

    def _poke(self) -> None:
        # A fresh event per change, so that every waiter (not just the first) wakes up.
        self.version += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def _on_response(self, response: Response) -> None:
        request = response.request
        try:
            main = request.is_navigation_request() and request.frame.parent_frame is None
        except Exception:
            main = False
        from urllib.parse import urlsplit

        if not self._allowed((urlsplit(response.url).hostname or "").lower()):
            return  # the guard's own refusals are not the platform's answers
        record = ResponseRecord(response.url, request.method, response.status, main)
        if any(url_matches(p, response.url) for p in self._json_patterns):
            task = asyncio.ensure_future(self._read_json(response, record))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        else:
            self.responses.append(record)
            self._poke()

    async def _read_json(self, response: Response, record: ResponseRecord) -> None:
        try:
            body = await response.body()
            if len(body) <= MAX_JSON_BYTES:
                import json

                record.body = json.loads(body.decode("utf-8", "replace"))
        except Exception:
            record.body = None
        self.responses.append(record)
        self._poke()

    def main_status(self) -> int | None:
        """HTTP status of the last main-document response."""
        for record in reversed(self.responses):
            if record.main_document:
                return record.status
        return None

    async def wait_change(self, since: int, timeout: float) -> None:
        """Return when the page changed after version `since`, or after `timeout` seconds."""
        if self.version != since:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def settle(self) -> None:
        """Wait for response bodies still being read."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)


@dataclass
class Conditions:
    """Evaluates recipe conditions against the current page of a flow."""

    locate: Locate
    page: Callable[[], Page]
    watch: PageWatch
    variables: dict[str, str] = field(default_factory=dict)

    # -------------------------------------------------------------- now

    async def holds(self, cond: Condition) -> Match | None:
        kind = cond.kind
        if kind == "visible":
            found = await self.locate.now(cond.visible or "")
            return Match(f"{cond.visible} is visible", found.describe()) if found else None
        if kind == "hidden":
            found = await self.locate.now(cond.hidden or "")
            return None if found else Match(f"{cond.hidden} is not visible")
        if kind in ("text", "regex"):
            text = await self._visible_text(cond)
            return Match(f"text {redact(text)!r}") if text is not None else None
        if kind == "url":
            url = self.page().url
            return Match(f"URL {redact(url)}") if url_matches(cond.url or "", url) else None
        if kind == "response":
            assert cond.response is not None
            return self._response_match(cond.response)
        if kind == "status":
            status = self.watch.main_status()
            wanted = cond.status if isinstance(cond.status, list) else [cond.status]
            return Match(f"HTTP status {status}") if status in wanted else None
        if kind == "var":
            assert cond.var is not None
            present = cond.var.name in self.variables
            value = self.variables.get(cond.var.name)
            if _value_matches(cond.var, present, value):
                return Match(f"variable {cond.var.name} = {redact(str(value))!r}")
            return None
        if kind == "any":
            for sub in cond.any or []:
                match = await self.holds(sub)
                if match:
                    return match
            return None
        if kind == "all":
            matches = []
            for sub in cond.all or []:
                match = await self.holds(sub)
                if match is None:
                    return None
                matches.append(match)
            return Match(
                " and ".join(m.what for m in matches), matches[0].selector if matches else None
            )
        assert cond.not_ is not None
        inner = await self.holds(cond.not_)
        return None if inner else Match("negated condition holds")

    def union(self, conds: list[Condition]) -> list[Locator]:
        """One locator per frame matching whatever any of these visible/text conditions match."""
        groups: dict[str | None, Locator] = {}

        def add(frame: str | None, locator: Locator) -> None:
            groups[frame] = groups[frame].or_(locator) if frame in groups else locator

        page = self.page()
        for cond in conds:
            if cond.visible is not None:
                for alt in self.locate.alternatives(cond.visible):
                    root = page.frame_locator(alt.frame) if alt.frame else page
                    add(alt.frame, plain_locator(root, alt))
            else:
                root = page.frame_locator(cond.frame) if cond.frame else page
                add(cond.frame, text_locator(root, cond.text, cond.regex))
        return [locator.filter(visible=True).first for locator in groups.values()]

    def _text_locator(self, cond: Condition) -> Locator:
        page = self.page()
        root = page.frame_locator(cond.frame) if cond.frame else page
        return text_locator(root, cond.text, cond.regex).filter(visible=True).first

    async def _visible_text(self, cond: Condition) -> str | None:
        from playwright.async_api import Error as PlaywrightError

        locator = self._text_locator(cond)
        try:
            if await locator.count() == 0:
                return None
            text = await locator.inner_text(timeout=2000)
        except PlaywrightError:
            return None
        return " ".join(text.split())[:200]

    def _response_match(self, spec: ResponseMatch) -> Match | None:
        for record in reversed(self.watch.responses):
            if not url_matches(spec.url, record.url):
                continue
            if spec.status is not None:
                wanted = spec.status if isinstance(spec.status, list) else [spec.status]
                if record.status not in wanted:
                    continue
            if (
                spec.json_path is None
                and spec.equals is None
                and spec.one_of is None
                and spec.matches is None
                and spec.exists is None
            ):
                return Match(f"response {record.method} {_short(record.url)} HTTP {record.status}")
            found, value = (
                json_at(record.body, spec.json_path) if record.body is not None else (False, None)
            )
            if _value_matches(spec, found, value):
                return Match(
                    f"response {record.method} {_short(record.url)}: "
                    f"{spec.json_path or 'body'} = {redact(_compact(value))}"
                )
        return None

    # -------------------------------------------------------------- waiting

    async def wait_until(self, cond: Condition, timeout: float) -> Match:
        """Wait until `cond` holds; raise ConditionTimeout (an asyncio.TimeoutError, with a
        `hint` when what it waits for is inside an iframe) after `timeout` seconds."""
        try:
            return await asyncio.wait_for(self._wait(cond), timeout)
        except asyncio.TimeoutError:
            raise ConditionTimeout(await self.frame_hint([cond])) from None

    async def frame_hint(self, conds: list[Condition]) -> str:
        """Why these conditions may have missed: what they look for is inside an iframe they do
        not name (`frame:`). "" when it is not, or nothing can be said."""
        alts: list[Alternative] = []
        texts: list[tuple[str | list[str] | None, str | None]] = []
        for cond in conds:
            for sub in _leaves(cond):
                if sub.kind in ("text", "regex") and sub.frame is None:
                    texts.append((sub.text, sub.regex))
                elif sub.kind == "visible" and sub.visible in self.locate.names():
                    alts += self.locate.alternatives(sub.visible or "")
        if not alts and not texts:
            return ""
        return await frame_hint(self.page(), alts, texts)

    async def _wait(self, cond: Condition) -> Match:
        from playwright.async_api import Error as PlaywrightError

        kind = cond.kind
        if kind == "visible":
            resolved = await self.locate.resolve(cond.visible or "", timeout=3600)
            return Match(f"{cond.visible} is visible", resolved.describe())
        if kind in ("text", "regex"):
            while True:
                try:
                    await wait_state(self._text_locator(cond), "visible", 3600)
                except PlaywrightError:
                    await asyncio.sleep(COMPOSITE_POLL)  # navigation replaced the document
                match = await self.holds(cond)
                if match:
                    return match
        if kind == "hidden":
            while True:
                match = await self.holds(cond)
                if match:
                    return match
                locators = self.locate.locators(cond.hidden or "")
                try:
                    await asyncio.gather(*(wait_state(loc, "hidden", 3600) for loc in locators))
                except PlaywrightError:
                    await asyncio.sleep(COMPOSITE_POLL)
        # URL, response, status, variables and composites: re-check whenever the page changes.
        deadline_poll = COMPOSITE_POLL if kind in ("any", "all", "not_", "var") else 1.0
        while True:
            version = self.watch.version
            match = await self.holds(cond)
            if match:
                return match
            await self.watch.wait_change(version, deadline_poll)


def _short(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return redact(f"{parts.netloc}{parts.path}")


def _compact(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def now() -> float:
    return time.monotonic()
