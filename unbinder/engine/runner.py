"""Run one flow of one recipe on one page: the steps, then the detect race.

Precedence (promise 3): a rule for a captcha, risk control, rate limit or bot wall wins over a
verdict; an HTTP 403/429/5xx page is never a verdict; no match before the deadline is `unknown`.
A step that cannot be done ends the flow as `error` naming the step and selector, unless a blocker
explains it.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from unbinder.engine.conditions import Conditions, Match, PageWatch, json_at, url_matches
from unbinder.engine.human import ConfirmRequest, Handoff, Human, NoScript
from unbinder.engine.locate import Interrupted, Locate, SelectorTimeout, wait_state
from unbinder.engine.outcome import Evidence, Outcome, Screenshot, StepFailure, network_failure
from unbinder.phone import PhoneNumber
from unbinder.recipe.load import LoadedRecipe
from unbinder.recipe.model import Condition, Flow, Localized, ResponseMatch, Rule, Step
from unbinder.redact import redact
from unbinder.vocab import VERDICTS, FlowName, FlowStatus, HumanKind, OutcomeKind

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

    from unbinder.browser.guard import DomainGuard

DEFAULT_STEP_TIMEOUT = 10.0
QUICK_CHECK = 2.0  # seconds for an instant look at the page
VISUAL_KINDS = ("visible", "text", "regex")
MONITOR_SLICE = 60.0  # seconds per wait of the blocker watcher (Playwright then polls every 0.5 s)
BLOCKER_TIMEOUT = 900.0  # seconds a person gets to clear a captcha or security check
PLACEHOLDER = re.compile(r"\{([a-z_]+)\.([a-zA-Z0-9_]+)\}")


class _End(Exception):
    """Ends the flow early with an outcome."""

    def __init__(
        self,
        status: FlowStatus,
        *,
        kind: OutcomeKind | None = None,
        evidence: Evidence | None = None,
        failure: StepFailure | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.kind = kind
        self.evidence = evidence
        self.failure = failure
        self.reason = reason


class StepError(Exception):
    """A step could not be done (the message says why)."""

    def __init__(self, message: str, selector: str | None = None) -> None:
        super().__init__(message)
        self.selector = selector


@dataclass
class FlowInput:
    """What a flow run needs besides the page."""

    loaded: LoadedRecipe
    flow_name: FlowName
    phone: PhoneNumber
    new_phone: PhoneNumber | None = None
    human: Human | None = None
    dry_run: bool = False
    screenshots: bool = True  # an evidence screenshot at the end (and `screenshot` steps)
    lang: str = "en"


@dataclass
class FlowRun:
    """One run of one flow; create, then `await run()` once."""

    inp: FlowInput
    page: Page
    guard: DomainGuard | None = None
    unserved: list[str] | None = None  # the replica's list of requests it had no route for
    variables: dict[str, str] = field(default_factory=dict)
    _human_vars: dict[str, str] = field(default_factory=dict)
    _shots: list[Screenshot] = field(default_factory=list)
    _timings: list[tuple[str, float]] = field(default_factory=list)
    _phone_fields: list[Locator] = field(default_factory=list)
    _confirmed: bool = False
    _in_human: bool = False
    _blocker: tuple[Rule, Match] | None = None

    def __post_init__(self) -> None:
        recipe = self.inp.loaded.recipe
        flow = recipe.flows.automated().get(self.inp.flow_name)
        if flow is None:
            raise ValueError(f"recipe {recipe.id} has no {self.inp.flow_name} flow")
        self.flow: Flow = flow
        self.locate = Locate(recipe.selectors, lambda: self.page)
        self.watch = PageWatch(_json_patterns(flow), recipe.allows_host)
        self.watch.attach(self.page)
        self.cond = Conditions(self.locate, lambda: self.page, self.watch, self.variables)
        self.blockers = [r for r in flow.detect if r.is_blocker]
        self._interrupt = asyncio.Event()
        self._monitors: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ entry

    async def run(self) -> Outcome:
        started = time.monotonic()
        from unbinder.engine.outcome import Outcome as _Outcome

        status: FlowStatus = "unknown"
        kind: OutcomeKind | None = None
        evidence: Evidence | None = None
        failure: StepFailure | None = None
        reason: str | None = None
        try:
            try:
                await asyncio.wait_for(self._run(), self.flow.timeout)
            except asyncio.TimeoutError:
                raise _End(
                    "unknown", reason=f"the flow did not finish within {self.flow.timeout:g}s"
                ) from None
        except _End as end:
            status, kind, evidence, failure, reason = (
                end.status,
                end.kind,
                end.evidence,
                end.failure,
                end.reason,
            )
        finally:
            self._stop_monitors()
        if self.inp.screenshots:
            await self._screenshot("outcome")
        await self.watch.settle()
        warnings = self.locate.degraded()
        if self.unserved:
            warnings += [
                f"replica has no route for {redact(u)}" for u in dict.fromkeys(self.unserved)
            ]
        return _Outcome(
            platform=self.inp.loaded.id,
            flow=self.inp.flow_name,
            status=status,
            kind=kind,
            evidence=evidence,
            degraded=bool(self.locate.degraded()),
            warnings=tuple(warnings),
            blocked=tuple(self.guard.blocked) if self.guard else (),
            variables={k: redact(v) for k, v in self.variables.items()},
            screenshots=tuple(self._shots),
            failure=failure,
            steps_ms=tuple(self._timings),
            total_ms=(time.monotonic() - started) * 1000,
            reason=reason,
        )

    async def _run(self) -> None:
        self._start_monitors()
        await self._steps(self.flow.steps, "")
        if not self.flow.detect:
            raise _End("done", reason="every step ran")
        self._stop_monitors()
        await self._detect()

    # ------------------------------------------------------------------ steps

    async def _steps(self, steps: list[Step], prefix: str, outer: Match | None = None) -> None:
        for index, step in enumerate(steps, start=1):
            path = f"{prefix}{index}"
            began = time.monotonic()
            try:
                await self._step_with_blockers(step, path, outer)
            finally:
                if not self._in_human:
                    self._timings.append(
                        (f"{path} {step.describe()}", (time.monotonic() - began) * 1000)
                    )

    async def _step_with_blockers(self, step: Step, path: str, outer: Match | None) -> None:
        from playwright.async_api import Error as PlaywrightError

        while True:
            try:
                await self._step(step, path, outer)
                return
            except Interrupted:
                await self._handle_blocker()  # returns only once a person solved it: retry
            except (StepError, SelectorTimeout, PlaywrightError, asyncio.TimeoutError) as exc:
                if step.optional:
                    return
                if await self._blocker_now():
                    await self._handle_blocker()
                    continue
                self._check_http_status(verdict=None)
                self._fail(step, path, exc)

    async def _blocker_now(self) -> bool:
        """Does a blocker explain what just went wrong? (remembers it for _handle_blocker)"""
        for rule in self.blockers:
            match = await self._holds_quickly(rule.when)
            if match:
                self._blocker = (rule, match)
                return True
        return False

    async def _holds_quickly(self, cond: Condition) -> Match | None:
        """`holds`, bounded: a page stuck mid-navigation answers no query at all."""
        try:
            return await asyncio.wait_for(self.cond.holds(cond), QUICK_CHECK)
        except asyncio.TimeoutError:
            return None

    def _fail(self, step: Step, path: str, exc: BaseException) -> None:
        """A step failed and nothing explains it: the recipe no longer fits the page."""
        selector = getattr(exc, "selector", None) or getattr(exc, "name", None)
        message = _error_text(exc)
        if "ERR_BLOCKED_BY_CLIENT" in message or "ERR_TUNNEL_CONNECTION_FAILED" in message:
            message = "blocked by the domain guard (a host outside the recipe's domains)"
        if _closed(exc):
            message = "the page or browser context closed unexpectedly"
        failure = StepFailure(path, step.describe(), selector, message)
        if step.goto is not None and (
            "Timeout" in message or isinstance(exc, asyncio.TimeoutError) or "net::ERR_" in message
        ):
            # A page that never loads (a hang, a redirect loop, a network error) says nothing
            # about the account, and nothing about the recipe either. The guard's refusals were
            # renamed above: a recipe that leaves its domains is an error.
            kind: OutcomeKind | None = "network" if network_failure(message) else None
            raise _End(
                "unknown", kind=kind, reason=f"the page did not load: {message}", failure=failure
            )
        raise _End("error", failure=failure)

    async def _step(self, step: Step, path: str, outer: Match | None) -> None:
        timeout = step.timeout or DEFAULT_STEP_TIMEOUT
        action = step.action
        args = step.args
        if action == "goto":
            url = self._fill_in(args if isinstance(args, str) else args.url)
            if isinstance(args, str):
                await self.page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
            else:
                await self.page.goto(url, wait_until=args.wait_until, timeout=timeout * 1000)
        elif action == "fill":
            target = await self._resolve(args.target, timeout)
            value = self._fill_in(args.value)
            await target.locator.fill(value, timeout=timeout * 1000)
            if self._mentions_phone(args.value):
                self._phone_fields.append(target.locator)
        elif action == "click":
            await self._click(step, path, timeout)
        elif action == "press":
            if args.target:
                target = await self._resolve(args.target, timeout)
                await target.locator.press(args.key, timeout=timeout * 1000)
            else:
                await self.page.keyboard.press(args.key)
        elif action == "select":
            target = await self._resolve(args.target, timeout)
            await target.locator.select_option(self._fill_in(args.value), timeout=timeout * 1000)
        elif action == "check":
            name = args if isinstance(args, str) else args.target
            target = await self._resolve(name, timeout)
            await target.locator.check(timeout=timeout * 1000)
        elif action == "wait_for":
            await self._wait(args, timeout)
        elif action == "wait_for_url":
            await self._wait(Condition(url=self._fill_in(args)), timeout)
        elif action == "wait_for_response":
            spec = ResponseMatch(url=args.url, status=args.status, json=args.json_path)
            await self._wait(Condition(response=spec), timeout)
            if args.into:
                self._store(args.into, self._response_value(spec))
        elif action == "extract":
            await self._extract(args, timeout)
        elif action == "if":
            match = await self._holds_quickly(args.condition)
            if match:
                await self._steps(args.then, f"{path}.then.", match)
            else:
                # The absence of something is no evidence: else-branches carry none.
                await self._steps(args.else_, f"{path}.else.", None)
        elif action == "retry":
            await self._retry(args, path, outer)
        elif action == "human":
            await self._human(args.kind, args.prompt, args.until, args.timeout)
        elif action == "confirm":
            await self._confirm(args.action, step)
        elif action == "screenshot":
            name = args if isinstance(args, str) else args.name
            full = False if isinstance(args, str) else args.full_page
            await self._screenshot(name, full_page=full)
        elif action == "expect":
            try:
                await self.cond.wait_until(args.condition, timeout)
            except asyncio.TimeoutError:
                raise StepError(args.message or "the expected condition did not hold") from None
        elif action == "outcome":
            evidence = None
            if outer is not None:
                evidence = Evidence(
                    rule=args.note or step.describe(),
                    matched=outer.what,
                    url=redact(self.page.url),
                    selector=outer.selector,
                )
            if args.status in VERDICTS and evidence is None:
                # Promise 3: a verdict needs a condition that proved it.
                raise _End("unknown", reason=f"`outcome: {args.status}` reached without evidence")
            raise _End(args.status, kind=args.kind, evidence=evidence, reason=args.note)
        else:  # pragma: no cover - the model admits no other action
            raise StepError(f"unknown step {action}")

    async def _resolve(self, name: str, timeout: float) -> Any:
        try:
            return await self.locate.resolve(
                name, timeout, self._interrupt if self.blockers else None
            )
        except SelectorTimeout as exc:
            raise StepError(str(exc), selector=name) from None

    async def _click(self, step: Step, path: str, timeout: float) -> None:
        args = step.click
        name = args if isinstance(args, str) else args.target  # type: ignore[union-attr]
        destructive = not isinstance(args, str) and args is not None and args.destructive
        popup = not isinstance(args, str) and args is not None and args.popup
        force = not isinstance(args, str) and args is not None and args.force
        target = await self._resolve(name, timeout)
        if destructive:
            if self.inp.dry_run:
                raise _End("not_done", reason=f"dry run: stopped before `{step.describe()}`")
            if not self._confirmed:
                raise StepError("a destructive step ran without a confirmation before it")
            self._confirmed = False  # one yes covers one irreversible click
        if popup:
            allowed = self.inp.loaded.recipe.allows_host

            def ours(page: Page) -> bool:
                # An ad may open its own window on the same click: go on in the one inside the
                # recipe's domains (a window the guard blocked shows chrome-error://).
                host = urlsplit(page.url).hostname
                return host is None or allowed(host)

            async with self.page.context.expect_page(
                predicate=ours, timeout=timeout * 1000
            ) as info:
                await target.locator.click(timeout=timeout * 1000, force=force)
            self.page = await info.value
            self.watch.attach(self.page)
            await self.page.wait_for_load_state("domcontentloaded", timeout=timeout * 1000)
        else:
            await target.locator.click(timeout=timeout * 1000, force=force)

    async def _wait(self, cond: Condition, timeout: float) -> Match:
        waiter = asyncio.ensure_future(self.cond.wait_until(cond, timeout))
        stopper = asyncio.ensure_future(self._interrupt.wait()) if self.blockers else None
        tasks: set[asyncio.Future[Any]] = {waiter} | ({stopper} if stopper else set())
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if waiter in done:
            try:
                return waiter.result()
            except asyncio.TimeoutError:
                raise StepError(f"waited {timeout:g}s for a condition that did not hold") from None
        raise Interrupted

    async def _extract(self, args: Any, timeout: float) -> None:
        if args.response is not None:
            await self._wait(Condition(response=args.response), timeout)
            value = self._response_value(args.response)
        else:
            target = await self._resolve(args.target, timeout)
            if args.attribute:
                value = (
                    await target.locator.get_attribute(args.attribute, timeout=timeout * 1000) or ""
                )
            else:
                value = await target.locator.inner_text(timeout=timeout * 1000)
            value = " ".join(value.split())
        if args.regex:
            found = re.search(args.regex, value)
            if not found:
                raise StepError(
                    f"extracted text does not match {args.regex!r}", selector=args.target
                )
            value = found.group(1) if found.groups() else found.group(0)
        self._store(args.into, value)

    def _response_value(self, spec: ResponseMatch) -> str:
        for record in reversed(self.watch.responses):
            if url_matches(spec.url, record.url) and record.body is not None:
                found, value = json_at(record.body, spec.json_path)
                if found:
                    return value if isinstance(value, str) else __import__("json").dumps(value)
        return ""

    def _store(self, name: str, value: str) -> None:
        (self._human_vars if self._in_human else self.variables)[name] = value

    async def _retry(self, args: Any, path: str, outer: Match | None) -> None:
        for attempt in range(1, args.times + 1):
            await self._steps(args.steps, f"{path}.try{attempt}.", outer)
            try:
                await self.cond.wait_until(
                    args.until, min(DEFAULT_STEP_TIMEOUT, self.flow.detect_timeout)
                )
                return
            except asyncio.TimeoutError:
                if attempt < args.times:
                    await asyncio.sleep(args.delay)
        raise StepError(f"still not done after {args.times} tries")

    # ------------------------------------------------------------------ people

    async def _human(
        self, kind: HumanKind, prompt: Localized, until: Condition | None, timeout: float
    ) -> None:
        recipe = self.inp.loaded.recipe
        human = self.inp.human
        if human is None:
            raise _End(
                "needs_human",
                kind=kind,
                evidence=Evidence(
                    rule=f"the flow needs a person: {kind}",
                    matched=prompt.en,
                    url=redact(self.page.url),
                ),
            )
        request = Handoff(recipe.id, recipe.name.get(self.inp.lang), kind, _localize(prompt, self))
        self._stop_monitors()
        helper = asyncio.ensure_future(self._handoff(human, request))
        waits: set[asyncio.Future[Any]] = {helper}
        watcher = None
        if until is not None:
            watcher = asyncio.ensure_future(self.cond.wait_until(until, timeout))
            waits.add(watcher)
        try:
            done, pending = await asyncio.wait(
                waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if helper in done and helper.exception() is not None:
                exc = helper.exception()
                if isinstance(exc, NoScript | StepError | SelectorTimeout):
                    raise _End("needs_human", kind=kind, reason=str(exc))
                raise exc  # type: ignore[misc]
            if not done:
                raise _End(
                    "needs_human", kind=kind, reason=f"no one finished the {kind} step in time"
                )
            if until is not None and watcher not in done:
                # The person said done: give the page a moment to show it.
                try:
                    await self.cond.wait_until(until, 5)
                except asyncio.TimeoutError:
                    raise _End(
                        "needs_human", kind=kind, reason=f"the {kind} step was not completed"
                    ) from None
        finally:
            self._start_monitors()

    async def _handoff(self, human: Human, request: Handoff) -> None:
        async def run_steps(steps: list[Step]) -> None:
            self._in_human = True
            try:
                await self._steps(steps, "human.")
            except _End as end:
                raise StepError(end.reason or end.status) from None
            finally:
                self._in_human = False

        await human.handoff(request, self.page, run_steps)

    async def _confirm(self, action: Localized, step: Step) -> None:
        recipe = self.inp.loaded.recipe
        if self.inp.dry_run:
            raise _End("not_done", reason=f"dry run: stopped before `{_localize(action, self).en}`")
        if self.inp.human is None:
            raise _End("not_done", reason="no one to confirm the change")
        request = ConfirmRequest(
            platform=recipe.id,
            platform_name=recipe.name.get(self.inp.lang),
            action=_localize(action, self),
            old_masked=self.inp.phone.masked,
            new_masked=self.inp.new_phone.masked if self.inp.new_phone else None,
        )
        if not await self.inp.human.confirm(request):
            raise _End("not_done", reason="the user declined the confirmation")
        self._confirmed = True

    # ------------------------------------------------------------------ blockers

    def _start_monitors(self) -> None:
        """Watch for blockers while the steps run, so a captcha interrupts a waiting step."""
        self._interrupt = asyncio.Event()
        if not self.blockers or self._monitors:
            return
        self._monitors = [asyncio.ensure_future(self._monitor())]

    async def _monitor(self) -> None:
        # One watcher for all blockers, polled at Playwright's relaxed pace: a blocker only
        # has to stop a step before its timeout, not within a tenth of a second.
        visual = [r.when for r in self.blockers if r.when.kind in VISUAL_KINDS]
        while True:
            waits: list[asyncio.Future[Any]] = [
                asyncio.ensure_future(wait_state(u, "visible", 24 * 3600, slice_=MONITOR_SLICE))
                for u in self.cond.union(visual)
            ]
            waits += [
                asyncio.ensure_future(self.cond.wait_until(r.when, 24 * 3600))
                for r in self.blockers
                if r.when.kind not in VISUAL_KINDS
            ]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in waits:
                    task.cancel()
                await asyncio.gather(*waits, return_exceptions=True)
            for rule in self.blockers:
                match = await self._holds_quickly(rule.when)
                if match:
                    if self._blocker is None:
                        self._blocker = (rule, match)
                    self._interrupt.set()
                    return
            await asyncio.sleep(0.1)  # it vanished again, or the page navigated: keep watching

    def _stop_monitors(self) -> None:
        for task in self._monitors:
            task.cancel()
            if task.done() and not task.cancelled():
                task.exception()
        self._monitors = []

    async def _handle_blocker(self) -> None:
        """A blocker appeared: hand it to the person if there is one, else end with it."""
        blocker = self._blocker
        self._blocker = None
        self._stop_monitors()
        if blocker is None:
            self._start_monitors()
            return
        rule, match = blocker
        evidence = Evidence(rule.evidence, match.what, redact(self.page.url), match.selector)
        if self.inp.human is None or rule.outcome != "needs_human":
            raise _End(rule.outcome, kind=rule.kind, evidence=evidence)
        await self._solve_blocker(rule)

    async def _solve_blocker(self, rule: Rule) -> None:
        """A person clears the captcha (or similar); we go on once the blocker is gone."""
        kind = rule.kind or "other"
        gone = Condition.model_validate({"not": rule.when})
        await self._human(kind, _blocker_prompt(kind), gone, BLOCKER_TIMEOUT)

    def _check_http_status(self, verdict: Rule | None) -> None:
        """403, 429 and 5xx pages are never verdicts."""
        status = self.watch.main_status()
        if status is None or status < 400:
            return
        evidence = Evidence(
            rule="the platform answered with an error page, which is never a verdict",
            matched=f"HTTP status {status}",
            url=redact(self.page.url),
        )
        if status == 403:
            raise _End("needs_human", kind="bot_wall", evidence=evidence)
        if status == 429:
            raise _End("rate_limited", evidence=evidence)
        if status >= 500 or verdict is not None:
            raise _End("unknown", evidence=evidence, reason=f"HTTP {status}")

    # ------------------------------------------------------------------ detect

    async def _detect(self) -> None:
        deadline = time.monotonic() + self.flow.detect_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._check_http_status(verdict=None)
                raise _End(
                    "unknown",
                    reason=f"no detect rule matched within {self.flow.detect_timeout:g}s",
                )
            if self.page.is_closed():
                raise _End(
                    "error",
                    failure=StepFailure(
                        "detect", "detect", None, "the page or browser context closed unexpectedly"
                    ),
                )
            rule, match = await self._race(remaining)
            if rule is None or match is None:
                await asyncio.sleep(0.05)  # every wait failed at once (navigation): look again
                continue
            evidence = Evidence(rule.evidence, match.what, redact(self.page.url), match.selector)
            if rule.is_blocker and rule.outcome == "needs_human" and self.inp.human is not None:
                await self._solve_blocker(rule)
                deadline = time.monotonic() + self.flow.detect_timeout
                continue
            if rule.outcome in VERDICTS:
                self._check_http_status(verdict=rule)
            raise _End(rule.outcome, kind=rule.kind, evidence=evidence)

    async def _race(self, timeout: float) -> tuple[Rule | None, Match | None]:
        """Wait until some rule may hold, then take the best rule that holds now.

        Visible/text rules are watched together, through one union locator per frame, so a
        page costs one poll however many rules a recipe has; URL, response and status rules
        wake on page events. Whatever woke us, every rule is then looked at in precedence
        order: blockers, then the others in recipe order, verdicts last.
        """
        rules = self.flow.detect
        visual = [r for r in rules if r.when.kind in VISUAL_KINDS]
        waits: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(wait_state(union, "visible", timeout))
            for union in self.cond.union([r.when for r in visual])
        ]
        waits += [
            asyncio.ensure_future(self.cond.wait_until(r.when, timeout))
            for r in rules
            if r.when.kind not in VISUAL_KINDS
        ]
        try:
            done, _ = await asyncio.wait(
                waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        if not any(not t.cancelled() and t.exception() is None for t in done):
            return None, None
        order = {id(r): i for i, r in enumerate(rules)}
        ranked = sorted(
            rules, key=lambda r: (not r.is_blocker, r.outcome in VERDICTS, order[id(r)])
        )
        for rule in ranked:
            match = await self._holds_quickly(rule.when)
            if match:
                return rule, match
        return None, None

    # ------------------------------------------------------------------ helpers

    async def _screenshot(self, name: str, *, full_page: bool = False) -> None:
        from playwright.async_api import Error as PlaywrightError

        try:
            mask = list(self._phone_fields) + [self._phone_text_locator()]
            png = await self.page.screenshot(
                type="png", full_page=full_page, mask=mask, animations="disabled", timeout=5_000
            )
        except PlaywrightError:
            return
        self._shots.append(Screenshot(name=name, png=png, url=redact(self.page.url)))

    def _phone_text_locator(self) -> Locator:
        forms = []
        for phone in (self.inp.phone, self.inp.new_phone):
            if phone is not None:
                for form in phone.forms():
                    digits = re.sub(r"\D", "", form)
                    forms.append(r"[\s\-]?".join(re.escape(d) for d in digits))
        pattern = "|".join(sorted(set(forms), key=len, reverse=True))
        return self.page.get_by_text(re.compile(pattern))

    def _fill_in(self, template: str) -> str:
        """Replace `{phone.x}`, `{new_phone.x}` and `{var.x}` placeholders."""

        def one(found: re.Match[str]) -> str:
            scope, name = found.group(1), found.group(2)
            if scope == "phone":
                return self.inp.phone.placeholders()[name]
            if scope == "new_phone":
                if self.inp.new_phone is None:
                    raise StepError("this flow needs a new number (--new-phone)")
                return self.inp.new_phone.placeholders()[name]
            if scope == "var":
                if name in self._human_vars:
                    return self._human_vars[name]
                if name not in self.variables:
                    raise StepError(f"variable {name!r} was not extracted before it is used")
                return self.variables[name]
            raise StepError(f"unknown placeholder {found.group(0)}")

        return PLACEHOLDER.sub(one, template)

    @staticmethod
    def _mentions_phone(template: str) -> bool:
        return "{phone." in template or "{new_phone." in template


def _json_patterns(flow: Flow) -> list[str]:
    patterns: list[str] = []

    def from_condition(cond: Condition | None) -> None:
        if cond is None:
            return
        if cond.response is not None:
            patterns.append(cond.response.url)
        for sub in (cond.any or []) + (cond.all or []) + ([cond.not_] if cond.not_ else []):
            from_condition(sub)

    for rule in flow.detect:
        from_condition(rule.when)
    for step in flow.walk():
        if step.wait_for_response is not None:
            patterns.append(step.wait_for_response.url)
        if step.extract is not None and step.extract.response is not None:
            patterns.append(step.extract.response.url)
        for cond in (
            step.wait_for,
            step.if_.condition if step.if_ else None,
            step.retry.until if step.retry else None,
            step.expect.condition if step.expect else None,
            step.human.until if step.human else None,
        ):
            from_condition(cond)
    return patterns


_BLOCKER_PROMPTS = {
    "captcha": ("Solve the captcha in the browser window.", "请在浏览器窗口中完成验证码。"),
    "risk_control": (
        "The platform asks for a security check: complete it in the browser window.",
        "平台要求安全验证：请在浏览器窗口中完成。",
    ),
    "bot_wall": (
        "The platform suspects automation: complete its check in the browser window.",
        "平台怀疑是自动化访问：请在浏览器窗口中完成验证。",
    ),
    "login": ("Log in in the browser window.", "请在浏览器窗口中登录。"),
    "sms_code": ("Type the SMS code into the page.", "请在页面中输入短信验证码。"),
}


def _blocker_prompt(kind: str) -> Localized:
    en, zh = _BLOCKER_PROMPTS.get(
        kind, ("Complete the step in the browser window.", "请在浏览器窗口中完成此步骤。")
    )
    return Localized.model_validate({"en": en, "zh-CN": zh})


def _localize(text: Localized, run: FlowRun) -> Localized:
    """Prompts may mention the numbers: only in masked form."""

    def fill(value: str | None) -> str | None:
        if value is None:
            return None
        value = value.replace("{phone.masked}", run.inp.phone.masked)
        if run.inp.new_phone is not None:
            value = value.replace("{new_phone.masked}", run.inp.new_phone.masked)
        return value

    return Localized.model_validate({"en": fill(text.en), "zh-CN": fill(text.zh_CN)})


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return redact(first)[:300]


def _closed(exc: BaseException) -> bool:
    text = str(exc)
    return "Target page, context or browser has been closed" in text or "Target closed" in text
