"""The main job: check one number across many platforms at once, honestly.

One browser, a bounded number of platforms in flight, a fresh isolated context for each. Recipes
without a `check` flow are reported as `manual` with their steps; checks with side effects are
skipped unless allowed; the per-platform minimum interval is respected; `rate_limited` answers are
retried with backoff a bounded number of times and otherwise reported, never turned into a verdict.
One platform's failure never stops the others, and results gathered before an interruption are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unbinder import __version__
from unbinder.engine import Outcome, run_flow
from unbinder.phone import PhoneNumber
from unbinder.recipe.load import LoadedRecipe

if TYPE_CHECKING:
    from playwright.async_api import Page

    from unbinder.browser.launch import BrowserSession, GuardedContext
    from unbinder.browser.replica import Replica
    from unbinder.engine.human import Human
    from unbinder.jobs.throttle import Throttle
    from unbinder.trail import Run, Trail

SCHEMA = "unbinder.audit/1"
DEFAULT_CONCURRENCY = 4  # measured on 2 cores: see docs/performance.md
FIXTURE_BACKOFF_SCALE = 0.01  # replicas need no real waiting between retries

# What a platform's line can say, beyond the engine's outcomes.
MANUAL = "manual"  # no automated check: the person follows the recipe's steps
SKIPPED = "skipped"  # the check has side effects and they were not allowed
THROTTLED = "throttled"  # checked too recently (the recipe's min_interval)
AUTOMATIC = ("bound", "not_bound", "unknown", "error")
NEEDS_PERSON = ("needs_human", "rate_limited")


@dataclass(frozen=True)
class PlatformResult:
    """One line of the audit: a platform and what became of it."""

    recipe: LoadedRecipe
    status: str  # an engine outcome, or manual / skipped / throttled
    outcome: Outcome | None = None
    attempts: int = 0
    note: str = ""

    @property
    def id(self) -> str:
        return self.recipe.id

    def evidence_summary(self) -> str:
        if self.outcome is not None:
            return self.outcome.summary()
        return self.note

    def next_step(self, phone_hint: str = "PHONE", lang: str = "en") -> str:
        """What the person should do next about this platform, in one line."""
        recipe = self.recipe.recipe
        flows = recipe.flows
        kind = self.outcome.kind if self.outcome else None
        if self.status == "bound":
            if flows.change is not None or flows.unbind is not None:
                return f"unbinder unbind {recipe.id} --phone {phone_hint} --new-phone NEW"
            return f"follow the manual steps: unbinder recipes show {recipe.id}"
        if self.status == "not_bound":
            return "nothing to do"
        if self.status == "needs_human":
            what = {
                "captcha": "solve the captcha",
                "risk_control": "pass the security check",
                "bot_wall": "pass the bot check",
                "login": "log in",
            }.get(kind or "", "help it")
            return (
                f"{what} with --headed: unbinder audit {phone_hint} --platform {recipe.id} --headed"
            )
        if self.status == "rate_limited":
            return "the platform asked to slow down: try again later"
        if self.status == "unknown":
            return f"check by hand (unbinder recipes show {recipe.id}) or retry later"
        if self.status == "error":
            return (
                f"the recipe no longer fits the page: report it (unbinder recipes show {recipe.id})"
            )
        if self.status == MANUAL:
            steps = flows.manual.steps.get(lang) if flows.manual else []
            first = steps[0] if steps else ""
            return (
                f"{first} ... (unbinder recipes show {recipe.id})"
                if first
                else f"unbinder recipes show {recipe.id}"
            )
        if self.status == SKIPPED:
            return "rerun with --allow-side-effects if you accept them"
        if self.status == THROTTLED:
            return "wait for the recipe's minimum interval between checks"
        return ""

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        recipe = self.recipe.recipe
        return {
            "id": recipe.id,
            "name": recipe.name.get(lang),
            "recipe_status": recipe.status,
            "recipe_version": self.recipe.digest,
            "outcome": self.status,
            "kind": self.outcome.kind if self.outcome else None,
            "evidence": self.outcome.evidence.to_dict()
            if self.outcome and self.outcome.evidence
            else None,
            "summary": self.evidence_summary(),
            "next_step": self.next_step(lang=lang),
            "attempts": self.attempts,
            "degraded": self.outcome.degraded if self.outcome else False,
            "warnings": list(self.outcome.warnings) if self.outcome else [],
            "blocked": [
                {"host": b.host, "via": b.via, "url": b.url}
                for b in (self.outcome.blocked if self.outcome else ())
            ],
            "failure": self.outcome.to_dict()["failure"] if self.outcome else None,
            "reason": (self.outcome.reason if self.outcome else None) or (self.note or None),
            "timings_ms": {
                "total": round(self.outcome.total_ms, 1) if self.outcome else 0.0,
                "steps": [{"step": s, "ms": round(ms, 1)} for s, ms in self.outcome.steps_ms]
                if self.outcome
                else [],
            },
        }


@dataclass
class AuditResult:
    """Everything one audit found (filled in as platforms finish, so an interruption keeps it)."""

    phone: PhoneNumber
    fixtures: bool
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    finished_at: dt.datetime | None = None
    results: list[PlatformResult] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    interrupted: bool = False

    def by_status(self, *statuses: str) -> list[PlatformResult]:
        return [r for r in self.results if r.status in statuses]

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return {
            "platforms": len(self.planned) or len(self.results),
            "finished": len(self.results),
            "checked_automatically": sum(counts.get(s, 0) for s in AUTOMATIC),
            "need_a_person": sum(counts.get(s, 0) for s in NEEDS_PERSON),
            "manual": counts.get(MANUAL, 0),
            "skipped": counts.get(SKIPPED, 0) + counts.get(THROTTLED, 0),
            **{f"status_{k}": v for k, v in sorted(counts.items())},
        }

    def ordered(self) -> list[PlatformResult]:
        """Results in the order the platforms were planned."""
        index = {pid: i for i, pid in enumerate(self.planned)}
        return sorted(self.results, key=lambda r: index.get(r.id, len(index)))

    def to_json(self, *, show_number: bool = False, lang: str = "en") -> dict[str, Any]:
        phone: dict[str, Any] = {"masked": self.phone.masked}
        if show_number:
            phone["e164"] = self.phone.e164
        return {
            "schema": SCHEMA,
            "tool": {"name": "unbinder", "version": __version__},
            "mode": "fixtures" if self.fixtures else "live",
            "phone": phone,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "finished_at": self.finished_at.isoformat(timespec="seconds")
            if self.finished_at
            else None,
            "interrupted": self.interrupted,
            "summary": self.summary(),
            "platforms": [r.to_dict(lang) for r in self.ordered()],
        }


@dataclass(frozen=True)
class AuditEvent:
    """Progress: a platform is waiting, running, retrying, or done (with its result)."""

    platform: str
    state: str  # waiting, running, retrying, done
    result: PlatformResult | None = None
    attempt: int = 0


@dataclass
class AuditOptions:
    concurrency: int = DEFAULT_CONCURRENCY
    allow_side_effects: bool = False
    screenshots: bool = True
    lang: str = "en"
    max_retries: int | None = None  # None: each recipe's limits.max_retries
    backoff_scale: float = 1.0


ReplicaFor = Callable[[LoadedRecipe], "Replica"]


async def run_audit(
    session: BrowserSession,
    recipes: Sequence[LoadedRecipe],
    phone: PhoneNumber,
    *,
    options: AuditOptions | None = None,
    result: AuditResult | None = None,
    replicas: ReplicaFor | None = None,
    human: Human | None = None,
    throttle: Throttle | None = None,
    on_event: Callable[[AuditEvent], None] | None = None,
    on_result: Callable[[PlatformResult], None] | None = None,
) -> AuditResult:
    """Check `phone` on every recipe. `replicas` switches to offline fixtures.

    Results are appended to `result` (created if None) as they finish, so a caller that is
    interrupted still has them. `on_result` is called for each (the CLI records it in the trail).
    `throttle` enforces each recipe's minimum interval (the CLI passes none for replicas).
    """
    options = options or AuditOptions()
    fixtures = replicas is not None
    result = result or AuditResult(phone=phone, fixtures=fixtures)
    result.planned = [r.id for r in recipes]
    emit = on_event or (lambda event: None)
    if options.backoff_scale == 1.0 and fixtures:
        options.backoff_scale = FIXTURE_BACKOFF_SCALE

    def finish(platform_result: PlatformResult) -> None:
        result.results.append(platform_result)
        if on_result is not None:
            on_result(platform_result)
        emit(AuditEvent(platform_result.id, "done", platform_result, platform_result.attempts))

    for loaded in recipes:
        emit(AuditEvent(loaded.id, "waiting"))
    browser_bound: list[LoadedRecipe] = []
    for loaded in recipes:
        pre = _precheck(loaded, phone, options, throttle)
        if pre is not None:
            finish(pre)
        else:
            browser_bound.append(loaded)
    pool = _ContextPool(session, browser_bound, replicas, options.concurrency)

    async def one(index: int) -> None:
        async with pool.slot(index) as first_try:
            item = await _check(
                session,
                loaded=browser_bound[index],
                phone=phone,
                options=options,
                first_try=first_try,
                replicas=replicas,
                human=human,
                throttle=throttle,
                emit=emit,
            )
        finish(item)

    tasks = [asyncio.ensure_future(one(i)) for i in range(len(browser_bound))]
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        result.interrupted = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        await pool.close()
        result.finished_at = dt.datetime.now(dt.timezone.utc)
    return result


@dataclass
class _Prepared:
    """A fresh guarded context with its page already open, for one platform's first try."""

    context: GuardedContext
    page: Page
    replica: Replica | None


class _ContextPool:
    """At most `size` platforms in flight, the next ones' contexts warmed ahead of need.

    Creating a context and its page (a renderer process) is about half of a platform's cost on
    2 cores; opening it while the platforms in flight wait on the network hides most of it.
    Each context still serves one platform only and is closed, off the critical path, after it.
    """

    def __init__(
        self,
        session: BrowserSession,
        recipes: Sequence[LoadedRecipe],
        replicas: ReplicaFor | None,
        size: int,
    ) -> None:
        self.session = session
        self.recipes = recipes
        self.replicas = replicas
        self.gate = asyncio.Semaphore(max(1, size))
        self.ahead = 1  # one warmed context beyond the ones in flight
        self.next_to_warm = 0
        self.in_flight = 0
        self.warming: dict[int, asyncio.Task[_Prepared]] = {}
        self.closing: set[asyncio.Task[None]] = set()

    def _warm_up_to(self, limit: int) -> None:
        while self.next_to_warm < min(limit, len(self.recipes)):
            index = self.next_to_warm
            self.warming[index] = asyncio.ensure_future(self._prepare(self.recipes[index]))
            self.next_to_warm += 1

    async def _prepare(self, loaded: LoadedRecipe) -> _Prepared:
        from unbinder.engine import open_guarded

        replica = self.replicas(loaded) if self.replicas is not None else None
        context = await open_guarded(self.session, loaded, replica)
        try:
            page = await context.context.new_page()
        except BaseException:
            await context.close()
            raise
        return _Prepared(context, page, replica)

    @contextlib.asynccontextmanager
    async def slot(self, index: int) -> AsyncIterator[asyncio.Task[_Prepared]]:
        """Wait for a free slot; yield the warmed context of platform `index`."""
        async with self.gate:
            self.in_flight += 1
            self._warm_up_to(index + 1 + self.ahead)
            task = self.warming.pop(index)
            try:
                yield task
            finally:
                self.in_flight -= 1
                if task.done() and not task.cancelled() and task.exception() is None:
                    self._close_later(task.result().context)
                else:
                    task.cancel()

    def _close_later(self, context: GuardedContext) -> None:
        closer = asyncio.ensure_future(context.close())
        self.closing.add(closer)
        closer.add_done_callback(self.closing.discard)

    async def close(self) -> None:
        for task in self.warming.values():
            task.cancel()
        leftovers = await asyncio.gather(*self.warming.values(), return_exceptions=True)
        for prepared in leftovers:
            if isinstance(prepared, _Prepared):
                self._close_later(prepared.context)
        self.warming.clear()
        await asyncio.gather(*list(self.closing), return_exceptions=True)


def _precheck(
    loaded: LoadedRecipe, phone: PhoneNumber, options: AuditOptions, throttle: Throttle | None
) -> PlatformResult | None:
    """Platforms decided without a browser: manual, side effects not allowed, too soon."""
    recipe = loaded.recipe
    check = recipe.flows.check
    if check is None:
        why = (
            recipe.flows.manual.why.get(options.lang)
            if recipe.flows.manual and recipe.flows.manual.why
            else ""
        )
        return PlatformResult(loaded, MANUAL, note=why or "no automated check on the web")
    effects = check.side_effects
    if (effects.sends_sms or effects.notifies_owner) and not options.allow_side_effects:
        what = " and ".join(
            text
            for flag, text in (
                (effects.sends_sms, "sends an SMS to the number"),
                (effects.notifies_owner, "notifies the account owner"),
            )
            if flag
        )
        return PlatformResult(loaded, SKIPPED, note=f"skipped: this check {what}")
    if throttle is not None:
        wait = throttle.wait_for(recipe.id, phone, recipe.limits.min_interval)
        if wait is not None:
            when = wait.next_allowed.astimezone().strftime("%Y-%m-%d %H:%M")
            return PlatformResult(
                loaded, THROTTLED, note=f"checked recently; next check allowed after {when}"
            )
    return None


async def _check(
    session: BrowserSession,
    *,
    loaded: LoadedRecipe,
    phone: PhoneNumber,
    options: AuditOptions,
    first_try: asyncio.Task[_Prepared],
    replicas: ReplicaFor | None,
    human: Human | None,
    throttle: Throttle | None,
    emit: Callable[[AuditEvent], None],
) -> PlatformResult:
    limits = loaded.recipe.limits
    retries = limits.max_retries if options.max_retries is None else options.max_retries
    outcome: Outcome | None = None
    attempt = 0
    for attempt in range(1, retries + 2):
        emit(AuditEvent(loaded.id, "running" if attempt == 1 else "retrying", attempt=attempt))
        try:
            if attempt == 1:
                prepared = await first_try  # warmed ahead; its pool closes it afterwards
                replica, context, page = prepared.replica, prepared.context, prepared.page
            else:
                replica = replicas(loaded) if replicas is not None else None
                context, page = None, None  # a retry gets a context of its own
            outcome = await run_flow(
                session,
                loaded,
                "check",
                phone,
                human=human,
                replica=replica,
                screenshots=options.screenshots,
                lang=options.lang,
                context=context,
                page=page,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one platform's failure never stops the others
            outcome = _crashed(loaded, exc)
        if throttle is not None:
            throttle.record(loaded.id, phone)
        if outcome.status != "rate_limited" or attempt > retries:
            break
        await asyncio.sleep(limits.backoff * (2 ** (attempt - 1)) * options.backoff_scale)
    assert outcome is not None
    return PlatformResult(loaded, outcome.status, outcome, attempts=attempt)


def _crashed(loaded: LoadedRecipe, exc: BaseException) -> Outcome:
    from unbinder.engine.outcome import StepFailure
    from unbinder.redact import redact

    text = str(exc).strip().splitlines()
    message = redact(text[0] if text else type(exc).__name__)
    return Outcome(
        platform=loaded.id,
        flow="check",
        status="error",
        failure=StepFailure("-", "run", None, f"{type(exc).__name__}: {message}"),
    )


def start_trail_run(
    trail: Trail, phone: PhoneNumber, recipes: Sequence[LoadedRecipe], *, fixtures: bool
) -> Run:
    """The trail run of one audit (its start record: the recipes' versions, the mode)."""
    return trail.start_run(
        "audit",
        phone,
        recipes={r.id: r.digest for r in recipes},
        details={"mode": "fixtures" if fixtures else "live", "platforms": [r.id for r in recipes]},
    )


def record_result(run: Run, item: PlatformResult) -> None:
    """Record one platform's result: its screenshots as encrypted blobs, then the finding."""
    finding = item.to_dict()
    if item.outcome is not None:
        finding["screenshots"] = [
            {
                "name": shot.name,
                "blob": run.blob(
                    shot.png, media_type="image/png", platform=item.id, name=shot.name
                ),
            }
            for shot in item.outcome.screenshots
        ]
    run.finding(item.id, finding)
