"""Run one flow of one recipe on one page: the steps, then the detect race.

Precedence (promise 3): a rule for a captcha, risk control, rate limit or bot wall wins over a
verdict; an HTTP 403/429/5xx page is never a verdict; no match before the deadline is `unknown`.
A step that cannot be done ends the flow as `error` naming the step and selector, unless a blocker
explains it.

A change or unbind is decided by its evidence, not by its steps alone: the recipe's verify flow
reads the number the platform shows first (a number that cannot be the one given stops the flow
before anything is sent or changed), and again once the steps are done: that read-back decides
`done`. Its detect rules can only say why it is not done (`not_done`, `unknown`), with their own
evidence; blockers interrupt its steps as in any flow.

The flow's timeout counts the automated steps only: while a person logs in, types a code or
confirms, the clock stops and the hand-off's own limit applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from unbinder.engine.conditions import Conditions, Match, PageWatch, json_at, url_matches
from unbinder.engine.human import ConfirmRequest, Handoff, Human, NoScript
from unbinder.engine.locate import Interrupted, Locate, SelectorTimeout, wait_state
from unbinder.engine.outcome import Evidence, Outcome, Screenshot, StepFailure, network_failure
from unbinder.phone import PhoneNumber, masked_matches
from unbinder.recipe import patterns
from unbinder.recipe.load import LoadedRecipe
from unbinder.recipe.model import (
    Condition,
    Flow,
    HumanArgs,
    Localized,
    ResponseMatch,
    Rule,
    Step,
    walk_steps,
)
from unbinder.redact import redact
from unbinder.vocab import BLOCKERS, VERDICTS, FlowName, FlowStatus, HumanKind, OutcomeKind

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

    from unbinder.browser.guard import DomainGuard

DEFAULT_STEP_TIMEOUT = 10.0
QUICK_CHECK = 2.0  # seconds for an instant look at the page
VISUAL_KINDS = ("visible", "text", "regex")
MONITOR_SLICE = 60.0  # seconds per wait of the blocker watcher (Playwright then polls every 0.5 s)
BLOCKER_TIMEOUT = 900.0  # seconds a person gets to clear a captcha or security check
ACCEPT_WAIT = 5.0  # seconds the page gets to show a hand-off's result once the person is done
SETTLE = 0.5  # seconds for a page's script to show the answer to a request it just received
MAX_NOT_YET = 3  # times a person is asked again when the page does not show the step done
CHANGE_FLOWS = ("change", "unbind")
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


class ScriptFailed(StepError):
    """A step of a scripted human's part failed: which one, and why."""

    def __init__(self, kind: str, failure: StepFailure | None, reason: str) -> None:
        where = f" at {failure.describe()}" if failure is not None else f": {reason}"
        super().__init__(f"the scripted human's {kind} script failed{where}")
        self.failure = failure


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
    # A dry run stops before the first step that sends an SMS or email, unless this is set:
    # then it goes on to the first irreversible step.
    dry_run_sends: bool = False


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
    # The flow's clock stops while a person has the page (or a nested verify flow runs).
    _paused_depth: int = 0
    _paused_since: float = 0.0
    _paused_total: float = 0.0
    # What the platform showed before the steps (the verify flow's read), and the two reads.
    _shown_before: str | None = None
    _before: Outcome | None = None
    _readback: Outcome | None = None

    def __post_init__(self) -> None:
        recipe = self.inp.loaded.recipe
        flow = recipe.flows.automated().get(self.inp.flow_name)
        self._refusal = recipe.flows.no_unbind if self.inp.flow_name == "unbind" else None
        if flow is None and self._refusal is not None:
            flow = Flow()  # the recipe says the platform has no unbind: run() says so
        if flow is None:
            raise ValueError(f"recipe {recipe.id} has no {self.inp.flow_name} flow")
        self.flow: Flow = flow
        self.locate = Locate(recipe.selectors, lambda: self.page)
        patterns = _json_patterns(flow)
        if self.inp.human is not None:
            patterns += _step_patterns(self.inp.human.scripted_steps())
        self.watch = PageWatch(patterns, recipe.allows_host)
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
            await self._run_timed(started)
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
            before=self._before,
            readback=self._readback,
        )

    async def _run_timed(self, started: float) -> None:
        """`_run` within the flow's timeout, a clock that stops while a person has the page."""
        task = asyncio.ensure_future(self._run())
        try:
            while True:
                left = self._time_left(started)
                if self._paused_depth:
                    left = max(left, 1.0)  # a person has the page: their own limit applies
                elif left <= 0:
                    raise _End(
                        "unknown",
                        reason=f"the flow's automated steps did not finish within "
                        f"{self.flow.timeout:g}s",
                    )
                done, _ = await asyncio.wait({task}, timeout=left)
                if task in done:
                    task.result()  # raises the flow's _End (or what went wrong)
                    return
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def _time_left(self, started: float) -> float:
        paused = self._paused_total
        if self._paused_depth:
            paused += time.monotonic() - self._paused_since
        return self.flow.timeout - (time.monotonic() - started - paused)

    @contextlib.contextmanager
    def _clock_stopped(self) -> Iterator[None]:
        """The flow's timeout does not count this (a person's time, or a nested flow's)."""
        if self._paused_depth == 0:
            self._paused_since = time.monotonic()
        self._paused_depth += 1
        try:
            yield
        finally:
            self._paused_depth -= 1
            if self._paused_depth == 0:
                self._paused_total += time.monotonic() - self._paused_since

    async def _run(self) -> None:
        if self._refusal is not None:
            recipe = self.inp.loaded.recipe
            why = self._refusal.why.get(self.inp.lang)
            raise _End(
                "not_done",
                evidence=Evidence(
                    rule=f"{recipe.name.en} has no unbind: the recipe says so",
                    matched=self._refusal.why.en,
                    url="",
                ),
                reason=f"refused: {recipe.name.get(self.inp.lang)} offers no way to remove the "
                f"number ({why.rstrip('.')})",
            )
        changes = self.inp.flow_name in CHANGE_FLOWS
        if changes:
            await self._read_before()
        self._start_monitors()
        await self._steps(self.flow.steps, "")
        if changes:
            await self._conclude()
        if not self.flow.detect:
            raise _End("done", reason="every step ran")
        self._stop_monitors()
        await self._detect()

    # ------------------------------------------------------------------ change and unbind

    async def _verify_here(self) -> tuple[FlowRun, Outcome]:
        """The recipe's verify flow, on this page, with this person (its clock is its own)."""
        sub = FlowRun(
            FlowInput(
                self.inp.loaded,
                "verify",
                self.inp.phone,
                self.inp.new_phone,
                self.inp.human,
                screenshots=self.inp.screenshots,
                lang=self.inp.lang,
            ),
            self.page,
            self.guard,
            self.unserved,
        )
        self._stop_monitors()
        try:
            with self._clock_stopped():
                outcome = await sub.run()
        finally:
            self._start_monitors()
        if sub.page is not self.page:
            self.page = sub.page
            self.watch.attach(self.page)
        return sub, outcome

    async def _read_before(self) -> None:
        """Read the number the platform shows, and refuse to go on when it cannot be ours."""
        if self.inp.loaded.recipe.flows.verify is None:
            return
        sub, before = await self._verify_here()
        self._before = before
        old = self.inp.phone
        if before.status == "bound":
            shown = sub.variables.get("bound_number") or None
            self._shown_before = shown
            if shown:
                self._refuse_mismatch(shown, before.evidence)
        elif before.status == "not_bound":
            raise _End(
                "not_done",
                evidence=before.evidence,
                reason=f"the platform shows no number bound to this account, so {old.masked} "
                "is not bound to it: nothing was sent or changed",
            )
        elif before.status in BLOCKERS:
            raise _End(
                before.status, kind=before.kind, evidence=before.evidence, reason=before.reason
            )
        # unknown or error: the number could not be read; the confirmation says so.

    def _refuse_mismatch(self, shown: str, evidence: Evidence | None) -> None:
        """A mask mismatch: the account's number cannot be the number the person gave."""
        old = self.inp.phone
        if masked_matches(shown, old):
            return
        raise _End(
            "not_done",
            evidence=Evidence(
                rule="the number the platform shows cannot be the number given (mask mismatch)",
                matched=f"the platform shows {redact(shown)}",
                url=evidence.url if evidence is not None else redact(self.page.url),
                selector=evidence.selector if evidence is not None else None,
            ),
            reason=f"mask mismatch: the platform shows {redact(shown)}, which cannot be "
            f"{old.masked}: check that you are logged in to the right account and gave the "
            "number bound to it; nothing was changed",
        )

    async def _conclude(self) -> None:
        """The steps of a change or unbind are done: the page's answer, then the read-back."""
        self._stop_monitors()
        order = {id(r): i for i, r in enumerate(self.flow.detect)}
        ranked = sorted(self.flow.detect, key=lambda r: (not r.is_blocker, order[id(r)]))
        for rule in ranked:
            match = await self._holds_quickly(rule.when)
            if match is None:
                continue
            evidence = Evidence(rule.evidence, match.what, redact(self.page.url), match.selector)
            if rule.is_blocker and rule.outcome == "needs_human" and self.inp.human is not None:
                await self._solve_blocker(rule)
                break  # whatever the blocker held up, the read-back tells
            raise _End(rule.outcome, kind=rule.kind, evidence=evidence)
        if self.inp.loaded.recipe.flows.verify is None:
            raise _End(
                "done",
                reason="every step ran; the recipe has no verify flow to read the number back",
            )
        sub, after = await self._verify_here()
        self._readback = after
        shown = sub.variables.get("bound_number") or ""
        if shown:
            self.variables["bound_number"] = shown
        raise self._judge(after, shown)

    def _judge(self, after: Outcome, shown: str) -> _End:
        """What the read-back proves: the new number (or none after an unbind), or not."""
        old, new = self.inp.phone, self.inp.new_phone
        unbind = self.inp.flow_name == "unbind"
        url = after.evidence.url if after.evidence is not None else redact(self.page.url)
        selector = after.evidence.selector if after.evidence is not None else None

        def seen(rule: str, what: str) -> Evidence:
            return Evidence(rule=rule, matched=what, url=url, selector=selector)

        if after.status == "not_bound":
            matched = after.evidence.matched if after.evidence else "no number"
            if unbind:
                return _End("done", evidence=seen("the read-back shows no number bound", matched))
            return _End(
                "unknown",
                evidence=seen("the read-back shows no number at all after the change", matched),
            )
        if after.status != "bound" or not shown:
            if after.status in BLOCKERS:
                return _End(
                    after.status,
                    kind=after.kind,
                    evidence=after.evidence,
                    reason=f"the read-back was stopped: {after.summary()}",
                )
            return _End(
                "unknown",
                reason=f"the steps ran, but the read-back could not read the number "
                f"({after.status}: {after.summary() or 'nothing read'})",
            )
        fits_old = masked_matches(shown, old)
        fits_new = new is not None and masked_matches(shown, new)
        what = f"the platform shows {redact(shown)}"
        if not unbind and fits_new and not fits_old:
            return _End("done", evidence=seen("the read-back shows the new number", what))
        if fits_old and not fits_new:
            return _End("not_done", evidence=seen("the read-back still shows the old number", what))
        if fits_old and fits_new:
            return _End(
                "unknown", evidence=seen("the read-back shows a number that fits both", what)
            )
        return _End("unknown", evidence=seen("the read-back shows neither number", what))

    # ------------------------------------------------------------------ steps

    async def _steps(self, steps: list[Step], prefix: str, outer: Match | None = None) -> None:
        for index, step in enumerate(steps, start=1):
            path = f"{prefix}{index}"
            began = time.monotonic()
            stop_here = self.inp.dry_run and not self.inp.dry_run_sends and not self._in_human
            if step.sends and stop_here:
                what = "an SMS" if step.sends == "sms" else "an email"
                raise _End(
                    "not_done",
                    reason=f"dry run: stopped before step {path} `{step.describe()}`, which would "
                    f"send {what}: nothing was sent",
                )
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
                await self.watch.settle()  # bodies still being read: the newest answer counts
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
            await self._human(args.kind, args.prompt, args.until, args.timeout, args)
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
            if args.status == "done" and self.inp.flow_name in CHANGE_FLOWS:
                await self._conclude()  # a change is done only when its read-back shows it
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
            except asyncio.TimeoutError as exc:
                hint = getattr(exc, "hint", "")  # conditions.ConditionTimeout: inside an iframe?
                raise StepError(
                    f"waited {timeout:g}s for a condition that did not hold{hint}"
                ) from None
        raise Interrupted

    async def _extract(self, args: Any, timeout: float) -> None:
        if args.response is not None:
            try:
                await self._wait(Condition(response=args.response), timeout)
            except StepError:
                spec = args.response
                field = f" with {spec.json_path}" if spec.json_path else ""
                raise StepError(
                    f"no response from {spec.url}{field} arrived within {timeout:g}s"
                ) from None
            await self.watch.settle()  # bodies still being read: the newest answer counts
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
            found = patterns.search(args.regex, value)  # RE2: linear, cannot hold the loop
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
        self,
        kind: HumanKind,
        prompt: Localized,
        until: Condition | None,
        timeout: float,
        args: HumanArgs | None = None,
    ) -> None:
        """Hand the page to the person until the step is done (their time, not the flow's)."""
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
        self._stop_monitors()
        try:
            with self._clock_stopped():
                await self._hand_over(
                    human, kind=kind, prompt=prompt, until=until, timeout=timeout, args=args
                )
        finally:
            self._start_monitors()

    async def _hand_over(
        self,
        human: Human,
        *,
        kind: HumanKind,
        prompt: Localized,
        until: Condition | None,
        timeout: float,
        args: HumanArgs | None,
    ) -> None:
        """Ask, check what the page shows, and ask again (an empty field, a wrong code)."""
        recipe = self.inp.loaded.recipe
        deadline = time.monotonic() + timeout
        wrong = args.wrong if args is not None else None
        again: Localized | None = None
        not_yet = wrong_answers = 0
        attempt = 1
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _End(
                    "needs_human", kind=kind, reason=f"no one finished the {kind} step in time"
                )
            request = Handoff(
                recipe.id,
                recipe.name.get(self.inp.lang),
                kind,
                _localize(prompt, self),
                timeout=left,
                again=again,
                attempt=attempt,
            )
            if await self._one_handoff(human, request, until, left, kind):
                return  # the page showed the step done while the person was at it
            if args is not None and args.field is not None and not await self._filled(args.field):
                not_yet += 1
                if not_yet >= MAX_NOT_YET:
                    raise _End("needs_human", kind=kind, reason=f"the {kind} field stayed empty")
                again = _AGAIN["empty"]
                continue
            if args is not None and args.submit is not None:
                await self._submit_for_person(args.submit)
            if until is None:
                return
            verdict, match = await self._answer(until, wrong)
            if verdict == "ok":
                return
            if verdict == "wrong" and args is not None and match is not None:
                wrong_answers += 1
                if wrong_answers >= args.attempts:
                    raise _End(
                        "not_done",
                        kind=kind,
                        evidence=Evidence(
                            rule=f"the page said the code was wrong {wrong_answers} time(s)",
                            matched=match.what,
                            url=redact(self.page.url),
                            selector=match.selector,
                        ),
                        reason=f"the {kind} was wrong {wrong_answers} time(s), the most this "
                        "step tries; nothing was changed",
                    )
                attempt += 1
                again = _again_wrong(attempt, args.attempts)
                continue
            not_yet += 1
            if not_yet >= MAX_NOT_YET:
                raise _End("needs_human", kind=kind, reason=f"the {kind} step was not completed")
            again = _AGAIN["not_yet"]

    async def _one_handoff(
        self,
        human: Human,
        request: Handoff,
        until: Condition | None,
        timeout: float,
        kind: HumanKind,
    ) -> bool:
        """One question to the person; True when `until` held before they said they were done."""
        helper = asyncio.ensure_future(self._handoff(human, request))
        waits: set[asyncio.Future[Any]] = {helper}
        watcher = None
        if until is not None:
            watcher = asyncio.ensure_future(self.cond.wait_until(until, timeout))
            waits.add(watcher)
        done, pending = await asyncio.wait(
            waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if helper in done and helper.exception() is not None:
            exc = helper.exception()
            if isinstance(exc, ScriptFailed):
                raise _End("error", kind=kind, failure=exc.failure, reason=str(exc))
            if isinstance(exc, NoScript | StepError | SelectorTimeout):
                raise _End("needs_human", kind=kind, reason=str(exc))
            raise exc  # type: ignore[misc]
        if not done:
            raise _End(
                "needs_human",
                kind=kind,
                reason=f"no one finished the {kind} step in time",
            )
        return watcher is not None and watcher in done and watcher.exception() is None

    async def _filled(self, name: str) -> bool:
        """Is the field the person types into non-empty? (Only that: never what it holds.)"""
        from playwright.async_api import Error as PlaywrightError

        found = await self.locate.now(name)
        if found is None:
            return True  # the field went away: the page moved on, the next check tells
        try:
            return bool(
                await found.locator.evaluate(
                    "el => ((el.value !== undefined ? el.value : el.textContent) || '')"
                    ".trim().length > 0",
                    timeout=QUICK_CHECK * 1000,
                )
            )
        except PlaywrightError:
            return True

    async def _submit_for_person(self, name: str) -> None:
        """Click the page's Next for the person, and give the page time to answer."""
        version = self.watch.version
        target = await self._resolve(name, DEFAULT_STEP_TIMEOUT)
        await target.locator.click(timeout=DEFAULT_STEP_TIMEOUT * 1000)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed_since(version), DEFAULT_STEP_TIMEOUT)
        await asyncio.sleep(SETTLE)

    async def _changed_since(self, version: int) -> None:
        while self.watch.version == version:
            await self.watch.wait_change(version, 1.0)

    async def _answer(
        self, until: Condition, wrong: Condition | None
    ) -> tuple[str | None, Match | None]:
        """("ok", match) when the page shows the step done, ("wrong", match) when it says the
        answer was wrong, (None, None) when it shows neither within ACCEPT_WAIT."""
        either = until if wrong is None else Condition.model_validate({"any": [until, wrong]})
        try:
            await self.cond.wait_until(either, ACCEPT_WAIT)
        except asyncio.TimeoutError:
            return None, None
        match = await self._holds_quickly(until)
        if match:
            return "ok", match
        if wrong is not None:
            match = await self._holds_quickly(wrong)
            if match:
                await asyncio.sleep(SETTLE)  # a message left from the last try, going away?
                accepted = await self._holds_quickly(until)
                return ("ok", accepted) if accepted else ("wrong", match)
        return None, None

    async def _handoff(self, human: Human, request: Handoff) -> None:
        async def run_steps(steps: list[Step]) -> None:
            self._in_human = True
            try:
                await self._steps(steps, f"human.{request.kind}.")
            except _End as end:
                raise ScriptFailed(request.kind, end.failure, end.reason or end.status) from None
            finally:
                self._in_human = False

        await human.handoff(request, self.page, run_steps)

    async def _confirm(self, action: Localized, step: Step) -> None:
        recipe = self.inp.loaded.recipe
        # What the platform shows, read by this flow or by the verify flow before it.
        shown = self.variables.get("bound_number") or self._shown_before
        if shown:
            self._refuse_mismatch(shown, None)
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
            shown=redact(shown) if shown else None,
        )
        with self._clock_stopped():
            said_yes = await self.inp.human.confirm(request)
        if not said_yes:
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
                hint = await self.cond.frame_hint([rule.when for rule in self.flow.detect])
                raise _End(
                    "unknown",
                    reason=f"no detect rule matched within {self.flow.detect_timeout:g}s{hint}",
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
    """The URL patterns of the responses whose JSON bodies the flow reads."""
    patterns = [p for rule in flow.detect for p in _condition_patterns(rule.when)]
    return patterns + _step_patterns(flow.steps)


def _condition_patterns(cond: Condition | None) -> list[str]:
    if cond is None:
        return []
    patterns = [cond.response.url] if cond.response is not None else []
    for sub in (cond.any or []) + (cond.all or []) + ([cond.not_] if cond.not_ else []):
        patterns += _condition_patterns(sub)
    return patterns


def _step_patterns(steps: Iterable[Step]) -> list[str]:
    """The same for steps (a flow's, or a scripted human's), nested ones included."""
    patterns: list[str] = []

    def from_condition(cond: Condition | None) -> None:
        patterns.extend(_condition_patterns(cond))

    for _, step in walk_steps(steps, ()):
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
            step.human.wrong if step.human else None,
        ):
            from_condition(cond)
    return patterns


_AGAIN = {
    "empty": Localized.model_validate(
        {
            "en": "The code field is still empty: type the code into the page first.",
            "zh-CN": "验证码输入框还是空的：请先在页面中输入验证码。",
        }
    ),
    "not_yet": Localized.model_validate(
        {
            "en": "The page does not show that step done yet: finish it in the browser window.",
            "zh-CN": "页面还没有显示这一步已完成：请在浏览器窗口中完成。",
        }
    ),
}


def _again_wrong(attempt: int, attempts: int) -> Localized:
    return Localized.model_validate(
        {
            "en": f"The page says the code was wrong: type it again (try {attempt} of {attempts}).",
            "zh-CN": f"页面提示验证码错误：请重新输入（第 {attempt} 次，共 {attempts} 次）。",
        }
    )


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
