"""The main job: check one number across many platforms at once, honestly.

One browser, a bounded number of platforms in flight, a fresh isolated context for each. Recipes
without a `check` flow are reported as `manual` with their steps; checks with side effects are
skipped unless allowed; the per-platform minimum interval is respected; `rate_limited` answers are
retried with backoff a bounded number of times and otherwise reported, never turned into a verdict.
One platform's failure never stops the others, and results gathered before an interruption are kept.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unbinder import __version__
from unbinder.engine import Outcome, run_flow
from unbinder.errors import StorageError
from unbinder.phone import PhoneNumber
from unbinder.recipe.load import LoadedRecipe
from unbinder.vocab import (
    AUTOMATIC,
    NEEDS_PERSON,
    NO_ANSWER,
    THROTTLING,
    URGENCY,
    AuditStatus,
    CheckedVia,
    check_status,
)

if TYPE_CHECKING:
    from playwright.async_api import Page, Request

    from unbinder.browser.launch import BrowserSession, GuardedContext
    from unbinder.browser.replica import Replica
    from unbinder.engine.human import Human
    from unbinder.jobs.advice import Advice
    from unbinder.jobs.concurrency import Concurrency
    from unbinder.jobs.throttle import Throttle
    from unbinder.trail import Run, Trail

SCHEMA = "unbinder.audit/1"
FIXTURE_BACKOFF_SCALE = 0.01  # replicas need no real waiting between retries


@dataclass(frozen=True)
class PlatformResult:
    """One line of the audit: a platform and what became of it."""

    recipe: LoadedRecipe
    status: AuditStatus
    outcome: Outcome | None = None
    attempts: int = 0
    note: str = ""
    via: CheckedVia = "check"

    @property
    def id(self) -> str:
        return self.recipe.id

    def evidence_summary(self, lang: str = "en") -> str:
        """The evidence in one line: as recorded in English, else in `lang`'s words."""
        from unbinder.jobs.evidence_words import evidence_text

        if self.outcome is None:
            return evidence_text(self.note, lang, reason=self.note)
        outcome = self.outcome
        return evidence_text(
            outcome.summary(),
            lang,
            evidence=outcome.evidence.to_dict() if outcome.evidence else None,
            failure=outcome.to_dict()["failure"],
            reason=outcome.reason,
        )

    def next_step(self, lang: str = "en") -> str:
        """What the person should do next about this platform, in one line."""
        return str(self.advice(lang))

    def advice(self, lang: str = "en") -> Advice:
        """What to do next, with its command kept apart (the terminal prints it below)."""
        from unbinder.jobs.advice import advise

        return advise(self.status, self.id, self.recipe, lang)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        recipe = self.recipe.recipe
        return {
            "id": recipe.id,
            "name": recipe.name.get(lang),
            "recipe_status": recipe.status,
            "recipe_confidence": recipe.sourcing().confidence,
            "via": self.via,
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

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return {
            "platforms": len(self.planned) or len(self.results),
            "finished": len(self.results),
            "checked_automatically": sum(counts.get(s, 0) for s in AUTOMATIC),
            "checked_by_login": sum(
                1 for r in self.results if r.via == "login" and r.status in AUTOMATIC
            ),
            "no_answer": sum(counts.get(s, 0) for s in NO_ANSWER),
            "network": sum(1 for r in self.results if r.outcome and r.outcome.kind == "network"),
            "need_a_person": sum(counts.get(s, 0) for s in NEEDS_PERSON),
            "manual": counts.get("manual", 0),
            "skipped": counts.get("skipped", 0) + counts.get("throttled", 0),
            **{f"status_{k}": v for k, v in sorted(counts.items())},
        }

    @property
    def looks_offline(self) -> bool:
        """Most of the platforms a browser asked failed on the network: the machine, not them."""
        asked = [r for r in self.results if r.outcome is not None]
        failed = sum(1 for r in asked if r.outcome is not None and r.outcome.kind == "network")
        return failed >= 2 and failed * 2 > len(asked)

    def ordered(self) -> list[PlatformResult]:
        """Results in the order the platforms were planned."""
        index = {pid: i for i, pid in enumerate(self.planned)}
        return sorted(self.results, key=lambda r: index.get(r.id, len(index)))

    def by_urgency(self) -> list[PlatformResult]:
        """Results as a person should read them: still bound first, then those needing them,
        those without an answer, manual and skipped ones, and last the ones not bound; in the
        planned order (most harmful first) within each."""
        rank = {status: i for i, status in enumerate(URGENCY)}
        return sorted(self.ordered(), key=lambda r: rank.get(r.status, len(rank)))

    def named(self, statuses: tuple[AuditStatus, ...], lang: str = "en") -> list[str]:
        """The names of the platforms whose outcome is one of `statuses`, most urgent first."""
        return [r.recipe.recipe.name.get(lang) for r in self.by_urgency() if r.status in statuses]

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
            "looks_offline": self.looks_offline,
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
    # None: adapted to the machine as the audit runs (jobs/concurrency.py); N: exactly N at once;
    # a Concurrency: that one (the CLI's, which its progress watches).
    concurrency: int | Concurrency | None = None
    allow_side_effects: bool = False
    screenshots: bool = True
    lang: str = "en"
    max_retries: int | None = None  # None: each recipe's limits.max_retries
    recheck: bool = False  # check even inside a recipe's minimum interval
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
    from unbinder.jobs.concurrency import resolve

    pool = _ContextPool(session, browser_bound, replicas, resolve(options.concurrency))

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
            pool.observe(browser_bound[index], item)
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
    """At most `concurrency.limit` platforms in flight, the next ones' contexts warmed ahead.

    Creating a context and its page (a renderer process) is about half of a platform's cost on
    2 cores; opening it while the platforms in flight wait on the network hides most of it.
    Each context still serves one platform only and is closed, off the critical path, after it.
    Slots are given in the platforms' order. An adaptive limit is fed what the pool sees (each
    finished check's step times, the pages loading, the event loop's lag, the CPU the audit
    uses, the memory left) every `TICK` seconds; a lower limit lets the platforms in flight
    finish, a higher one starts the next at once.
    """

    TICK = 0.25  # seconds between two looks at the machine (adaptive only)

    def __init__(
        self,
        session: BrowserSession,
        recipes: Sequence[LoadedRecipe],
        replicas: ReplicaFor | None,
        concurrency: Concurrency,
    ) -> None:
        self.session = session
        self.recipes = recipes
        self.replicas = replicas
        self.concurrency = concurrency
        self.ahead = 1  # one warmed context beyond the ones in flight
        self.next_to_warm = 0
        self.in_flight = 0
        self.queue: collections.deque[asyncio.Future[None]] = collections.deque()
        self.warming: dict[int, asyncio.Task[_Prepared]] = {}
        self.closing: set[asyncio.Task[None]] = set()
        self.watcher: asyncio.Task[None] | None = None
        self.loading: dict[int, tuple[float, float]] = {}  # index: (since, goto timeout)

    def _warm_up_to(self, limit: int) -> None:
        while self.next_to_warm < min(limit, len(self.recipes)):
            index = self.next_to_warm
            self.warming[index] = asyncio.ensure_future(self._prepare(index))
            self.next_to_warm += 1

    async def _prepare(self, index: int) -> _Prepared:
        from unbinder.engine import open_guarded

        loaded = self.recipes[index]
        replica = self.replicas(loaded) if self.replicas is not None else None
        context = await open_guarded(self.session, loaded, replica)
        try:
            page = await context.context.new_page()
        except BaseException:
            await context.close()
            raise
        if self.concurrency.adaptive:
            self._time_loads(page, index, loaded)
        return _Prepared(context, page, replica)

    def _time_loads(self, page: Page, index: int, loaded: LoadedRecipe) -> None:
        """Time each load of the page's document (request to DOMContentLoaded, the render a
        `goto` waits for) while the check runs, not only once it is over."""
        from unbinder.jobs.concurrency import first_goto_timeout

        check = loaded.recipe.flows.check
        timeout = first_goto_timeout(check) if check is not None else 0.0
        loop = asyncio.get_running_loop()

        def started(request: Request) -> None:
            with contextlib.suppress(Exception):  # a request without a frame is no page load
                if request.is_navigation_request() and request.frame is page.main_frame:
                    self.loading[index] = (loop.time(), timeout)

        def rendered(_: object) -> None:
            began = self.loading.pop(index, None)
            if began is not None:
                self.concurrency.observe_step(loop.time() - began[0], began[1])

        page.on("request", started)
        page.on("domcontentloaded", rendered)

    async def _acquire(self) -> None:
        if self.concurrency.adaptive and self.watcher is None:
            self.watcher = asyncio.ensure_future(self._watch())
        if not self.queue and self.in_flight < self.concurrency.limit:
            self.in_flight += 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.append(granted)
        try:
            await granted  # _grant counted us in before it woke us
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()
            else:
                with contextlib.suppress(ValueError):
                    self.queue.remove(granted)
            raise

    def _release(self) -> None:
        self.in_flight -= 1
        self._grant()

    def _grant(self) -> None:
        while self.queue and self.in_flight < self.concurrency.limit:
            granted = self.queue.popleft()
            if not granted.done():
                self.in_flight += 1
                granted.set_result(None)

    @contextlib.asynccontextmanager
    async def slot(self, index: int) -> AsyncIterator[asyncio.Task[_Prepared]]:
        """Wait for a free slot; yield the warmed context of platform `index`."""
        await self._acquire()
        try:
            self._warm_up_to(index + 1 + self.ahead)
            task = self.warming.pop(index)
            try:
                yield task
            finally:
                self.loading.pop(index, None)
                if task.done() and not task.cancelled() and task.exception() is None:
                    self._close_later(task.result().context)
                else:
                    task.cancel()
        finally:
            self._release()

    def observe(self, loaded: LoadedRecipe, item: PlatformResult) -> None:
        """A check finished: its step times tell the limit how close pages come to timeouts."""
        check = loaded.recipe.flows.check
        if self.concurrency.adaptive and item.outcome is not None and check is not None:
            self.concurrency.observe_outcome(check, item.outcome)

    async def _watch(self) -> None:
        from unbinder.jobs.concurrency import AuditCpu, available_memory

        loop = asyncio.get_running_loop()
        cpu = AuditCpu()
        slow = self.concurrency.policy.grow_below
        ticks = 0
        while True:
            asked = loop.time()
            await asyncio.sleep(self.TICK)
            now = loop.time()
            self.concurrency.observe_lag(now - asked - self.TICK)
            busy = cpu.sample()
            if busy is not None:
                self.concurrency.observe_cpu(busy)
            if ticks % 8 == 0:
                self.concurrency.observe_memory(available_memory())
            ticks += 1
            for since, timeout in list(self.loading.values()):
                if timeout and now - since >= slow * timeout:  # slow already, and not done
                    self.concurrency.observe_step(now - since, timeout)
            self.concurrency.update(waiting=bool(self.queue))
            self._grant()

    def _close_later(self, context: GuardedContext) -> None:
        closer = asyncio.ensure_future(context.close())
        self.closing.add(closer)
        closer.add_done_callback(self.closing.discard)

    async def close(self) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
            await asyncio.gather(self.watcher, return_exceptions=True)
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
        return PlatformResult(loaded, "manual", note=why or "no automated check on the web")
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
        return PlatformResult(loaded, "skipped", note=f"skipped: this check {what}")
    if throttle is not None and not options.recheck:
        wait = throttle.wait_for(recipe.id, phone, recipe.limits.min_interval)
        if wait is not None:
            when = wait.next_allowed.astimezone().strftime("%Y-%m-%d %H:%M")
            return PlatformResult(
                loaded, "throttled", note=f"checked recently; next check allowed after {when}"
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
        if throttle is not None and outcome.status in THROTTLING:
            throttle.answered(loaded.id, phone)
        if outcome.status != "rate_limited" or attempt > retries:
            break
        await asyncio.sleep(limits.backoff * (2 ** (attempt - 1)) * options.backoff_scale)
    assert outcome is not None
    return PlatformResult(loaded, check_status(outcome.status), outcome, attempts=attempt)


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


def write_result(run: Run, item: PlatformResult) -> None:
    """Write one platform's result to the trail: its screenshots as encrypted blobs, then the
    finding. Each screenshot keeps the address of its page (redacted, without query or
    fragment, which may carry tokens), for the report's captions."""
    from urllib.parse import urlsplit, urlunsplit

    finding = item.to_dict()
    if item.outcome is not None:
        finding["screenshots"] = [
            {
                "name": shot.name,
                "url": urlunsplit(urlsplit(shot.url)._replace(query="", fragment="")),
                "blob": run.blob(
                    shot.png, media_type="image/png", platform=item.id, name=shot.name
                ),
            }
            for shot in item.outcome.screenshots
        ]
    run.finding(item.id, finding)


class TrailWriter:
    """Writes each result to the trail. A write that fails stops the writing, not the audit."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.error: StorageError | None = None
        self.missed: list[str] = []

    def __call__(self, item: PlatformResult) -> None:
        if self.error is None:
            try:
                write_result(self.run, item)
                return
            except StorageError as exc:
                self.error = exc
        self.missed.append(item.id)

    def seal(self, status: str) -> None:
        if self.error is not None:
            status = f"incomplete: {len(self.missed)} result(s) could not be recorded"
        try:
            self.run.seal(status)
        except StorageError as exc:
            self.error = self.error or exc

    def failure(self, total: int) -> StorageError | None:
        """The one-line error for the user, or None when everything was written."""
        if self.error is None:
            return None
        oserror = self.error.__cause__
        cause = (
            oserror.strerror
            if isinstance(oserror, OSError) and oserror.strerror
            else self.error.message.rstrip(".")
        )
        if self.missed:
            what = f"{len(self.missed)} of {total} results are shown but not recorded"
        else:
            what = "every result is recorded, but the run could not be sealed"
        return StorageError(
            f"the trail could not be written ({cause}): {what}.",
            hint="Free some disk space and run the audit again; the records already in the "
            "trail are intact.",
        )


@dataclass
class AuditRun:
    """A whole audit: what it found, and what the trail could not keep (None: all of it)."""

    result: AuditResult
    unrecorded: StorageError | None = None


async def audit_number(
    phone: PhoneNumber,
    recipes: Sequence[LoadedRecipe],
    *,
    options: AuditOptions | None = None,
    trail: Trail | None = None,
    fixtures: bool = False,
    headed: bool = False,
    session: BrowserSession | None = None,
    replicas: ReplicaFor | None = None,
    human: Human | None = None,
    throttle: Throttle | None = None,
    on_event: Callable[[AuditEvent], None] | None = None,
    result: AuditResult | None = None,
    login: bool = False,
    choose: Callable[[LoadedRecipe], bool] | None = None,
    keep_session: bool = False,
) -> AuditRun:
    """The audit end to end: the trail run, the browser, the replicas, the throttle, the seal.

    `trail` None: nothing is written. `fixtures`: every platform is answered by its replica
    (`replicas` chooses them, else each recipe's default scenario) and no interval applies;
    live, each recipe's minimum interval is kept across runs (`throttle`, else the data
    directory's). `session`: a browser already open (the demo's), else one is opened for the
    audit. A full or failing disk stops the writing, not the checks: the results are still
    returned, with `unrecorded` saying what the trail is missing. Cancelled (Ctrl-C), the run is
    sealed as interrupted with what finished.

    `login` (`audit --login`): afterwards, each platform a login may tell more about (no check,
    skipped, needing a person) and whose recipe reads the account's number is checked again by
    the person's login, one at a time (`choose` may skip one; a kept session is reused, and
    `keep_session` keeps it); its result replaces the anonymous one, marked `via: login`.
    """
    from unbinder.browser.launch import BrowserSession

    options = options or AuditOptions()
    result = result or AuditResult(phone=phone, fixtures=fixtures)
    if fixtures and replicas is None:
        from unbinder.browser.replica import Replica

        def replicas(loaded: LoadedRecipe) -> Replica:
            return Replica.load(loaded.id)

    if not fixtures and throttle is None:
        from unbinder.jobs.throttle import Throttle
        from unbinder.paths import Paths

        throttle = Throttle(Paths.from_env().state_dir)
    writer = None
    if trail is not None:
        writer = TrailWriter(start_trail_run(trail, phone, recipes, fixtures=fixtures))
    sessions = None
    if login and trail is not None:
        from unbinder.jobs.sessions import KEY_PURPOSE, SessionStore
        from unbinder.paths import Paths

        sessions = SessionStore(Paths.from_env().sessions_dir, trail.derive_key(KEY_PURPOSE))

    async def by_login(browser: BrowserSession) -> None:
        from unbinder.jobs.login_check import check_by_login, wants_login

        emit = on_event or (lambda event: None)
        for index, item in enumerate(list(result.results)):
            if not wants_login(item) or (choose is not None and not choose(item.recipe)):
                continue
            emit(AuditEvent(item.id, "running", attempt=1))
            checked = await check_by_login(
                browser,
                item.recipe,
                phone,
                human=human,
                replica=replicas(item.recipe) if replicas is not None else None,
                sessions=sessions,
                keep_session=keep_session,
                screenshots=options.screenshots,
                lang=options.lang,
            )
            result.results[index] = checked
            if writer is not None:
                writer(checked)
            emit(AuditEvent(item.id, "done", checked, 1))

    async def go(browser: BrowserSession) -> None:
        await run_audit(
            browser,
            recipes,
            phone,
            options=options,
            result=result,
            replicas=replicas,
            human=human,
            throttle=throttle,
            on_event=on_event,
            on_result=writer,
        )
        if login:
            await by_login(browser)

    ended = "complete"
    try:
        if session is not None:
            await go(session)
        else:
            async with BrowserSession(headless=not headed) as own:
                await go(own)
    except (asyncio.CancelledError, KeyboardInterrupt):
        result.interrupted = True
        raise
    except BaseException as exc:
        ended = f"stopped: {type(exc).__name__}"
        raise
    finally:
        if writer is not None:
            writer.seal("interrupted" if result.interrupted else ended)
    return AuditRun(result, writer.failure(len(result.results)) if writer else None)
