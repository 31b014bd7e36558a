"""The adaptive concurrency of the audit: the controller on a simulated load, the pool in Chromium.

The controller (unbinder/jobs/concurrency.py) reads no clock and no machine of its own, so most
tests run it against a simulated 2-core machine: each check waits on the network, then needs CPU
time shared fairly with the other checks in flight. What is asserted is the behaviour (the limit
backs off when pages slow down, grows when they are fast, and no check runs out its timeout),
never a wall-clock time.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from platforms import PHONE, make_platform

from unbinder.browser.replica import Replica
from unbinder.cli import cli
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.engine.outcome import Evidence, Outcome, StepFailure
from unbinder.jobs.audit import AuditEvent, AuditOptions, AuditResult, run_audit
from unbinder.jobs.concurrency import (
    AuditCpu,
    Concurrency,
    Machine,
    Policy,
    resolve,
    step_times,
)
from unbinder.phone import parse_phone
from unbinder.recipe.model import Flow

GIB = 2**30
TIMEOUT = 10.0  # the engine's default step timeout


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Check:
    started: float
    net: float  # seconds still waiting on the network
    work: float  # CPU seconds still needed


@dataclass
class Run:
    """What a simulated audit did: the limit over time, each check's time, the timeouts."""

    limits: list[tuple[float, int]] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    timeouts: int = 0
    took: float = 0.0

    @property
    def max_limit(self) -> int:
        return max(limit for _, limit in self.limits)

    def limit_at(self, moment: float) -> int:
        return [limit for at, limit in self.limits if at <= moment][-1]


def simulate(
    control: Concurrency,
    clock: Clock,
    *,
    platforms: int = 30,
    cores: int = 2,
    net: Callable[[float], float] = lambda now: 0.5,
    work: Callable[[float], float] = lambda now: 0.2,
    lag: Callable[[float], float] = lambda now: 0.005,
    step: float = 0.05,
    tick: float = 0.25,
) -> Run:
    """Run an audit of `platforms` checks under `control` on a machine of `cores` cores.

    A check started at `now` waits `net(now)` seconds, then needs `work(now)` CPU seconds; the
    checks in their CPU phase share the cores fairly. A check that reaches TIMEOUT ends there, as
    a step that runs out does. Every `tick` the controller is fed as the pool feeds it: the
    machine's busy share, the event loop's lag, and the checks still running that are slow
    already; each finished check gives its time.
    """
    run = Run()
    waiting = platforms
    flight: list[Check] = []
    busy_since_tick: list[float] = []
    next_tick = tick
    while waiting or flight:
        while waiting and len(flight) < control.limit:
            flight.append(Check(clock.now, net(clock.now), work(clock.now)))
            waiting -= 1
        computing = [c for c in flight if c.net <= 0]
        share = min(1.0, cores / len(computing)) if computing else 0.0
        for check in flight:
            if check.net > 0:
                check.net -= step
            else:
                check.work -= step * share
        busy_since_tick.append(min(1.0, len(computing) / cores))
        clock.now = round(clock.now + step, 6)
        for check in list(flight):
            elapsed = clock.now - check.started
            if (check.net <= 0 and check.work <= 0) or elapsed >= TIMEOUT:
                flight.remove(check)
                run.durations.append(elapsed)
                run.timeouts += elapsed >= TIMEOUT
                control.observe_step(elapsed, TIMEOUT)
        if clock.now >= next_tick:
            next_tick += tick
            control.observe_cpu(sum(busy_since_tick) / len(busy_since_tick))
            busy_since_tick.clear()
            control.observe_lag(lag(clock.now))
            for check in flight:
                elapsed = clock.now - check.started
                if elapsed >= control.policy.grow_below * TIMEOUT:
                    control.observe_step(elapsed, TIMEOUT)
            control.update(waiting=waiting > 0)
        if not run.limits or run.limits[-1][1] != control.limit:
            run.limits.append((clock.now, control.limit))
    run.took = clock.now
    return run


def adaptive(clock: Clock, *, cores: int = 2, memory: int | None = 16 * GIB) -> Concurrency:
    return Concurrency.for_machine(Machine(cores, memory), clock=clock)


# --------------------------------------------------------------------------- the simulated load


def test_grows_to_the_ceiling_while_checks_wait_on_the_network() -> None:
    clock = Clock()
    control = adaptive(clock)
    assert (control.limit, control.ceiling) == (4, 8)
    run = simulate(control, clock, platforms=60, net=lambda now: 2.0, work=lambda now: 0.1)
    assert run.max_limit == 8
    reached = next(at for at, limit in run.limits if limit == 8)
    assert reached < 2.5 + 4 * control.policy.grow_every  # one step per interval, no waiting
    assert run.timeouts == 0
    assert all(reason.startswith("room: CPU") for reason in [c.reason for c in control.history[1:]])


def test_grows_no_further_once_the_cpu_is_full() -> None:
    clock = Clock()
    control = adaptive(clock)
    # 4 checks at once keep both cores busy, and their pages take a seventh of their timeouts:
    # more at once would only queue for the CPU (the pressure alone would let it grow).
    run = simulate(control, clock, net=lambda now: 0.1, work=lambda now: 0.65)
    pressures = [d / TIMEOUT for d in run.durations[:-4]]  # the last ones ran with fewer
    assert control.policy.quick_below < min(pressures)
    assert max(pressures) < control.policy.grow_below
    assert run.max_limit == 4
    assert run.timeouts == 0


def test_quick_pages_double_the_limit_until_the_first_cut() -> None:
    clock = Clock()
    control = adaptive(clock)
    clock.now += 1.0
    control.observe_step(0.6, TIMEOUT)  # the first pages load in a sixteenth of their timeout
    assert control.update(waiting=True) == 8  # from 4, the ceiling at once
    assert "doubling" in control.reason

    clock = Clock()
    control = adaptive(clock)
    control.observe_step(6.0, TIMEOUT)  # a slow page: a cut, and slow start is over
    assert control.update(waiting=True) == 2
    clock.now += control.policy.window + 1
    control.observe_step(0.6, TIMEOUT)
    assert control.update(waiting=True) == 3  # quick pages again: one more at a time


def test_quick_pages_grow_the_limit_even_when_the_cpu_is_busy() -> None:
    def feed(control: Concurrency, clock: Clock, *, cpu: float, step: float) -> int:
        for _ in range(4):  # 2 s of it
            clock.now += 0.5
            control.observe_cpu(cpu)
            control.observe_lag(0.0)
            control.observe_step(step, TIMEOUT)
            control.update(waiting=True)
        return control.limit

    clock = Clock()
    # pages answering in a twentieth of their timeouts, cores busy: up to the ceiling
    assert feed(adaptive(clock), clock, cpu=0.97, step=0.5) == 8
    clock = Clock()
    control = adaptive(clock)
    # pages at a fifth of their timeouts, not quick: the busy cores hold the limit,
    assert feed(control, clock, cpu=0.97, step=2.0) == 4
    # and it grows once they have room
    assert feed(control, clock, cpu=0.5, step=2.0) > 4


def test_backs_off_when_pages_are_too_heavy_for_the_machine() -> None:
    heavy = {"net": lambda now: 0.5, "work": lambda now: 3.0}
    clock = Clock()
    fixed = simulate(Concurrency.fixed(8), clock, **heavy)  # type: ignore[arg-type]
    assert fixed.timeouts > 0  # what a fixed 8 does to these pages on 2 cores

    clock = Clock()
    control = adaptive(clock)
    run = simulate(control, clock, **heavy)  # type: ignore[arg-type]
    assert run.timeouts == 0
    assert min(limit for _, limit in run.limits) < 4
    assert max(run.durations) < TIMEOUT * 0.8
    assert any(c.reason.startswith("a step took") for c in control.history)


def test_backs_off_when_pages_slow_down_mid_audit_and_grows_back_after() -> None:
    clock = Clock()
    control = adaptive(clock)
    slow = (15.0, 35.0)  # the pages need 10x the CPU between these moments

    def work(now: float) -> float:
        return 1.0 if slow[0] <= now < slow[1] else 0.1

    run = simulate(control, clock, platforms=200, net=lambda now: 2.0, work=work)
    assert run.limit_at(slow[0]) == 8  # fast pages: the ceiling
    during = [limit for at, limit in run.limits if slow[0] < at <= slow[1] + TIMEOUT / 2]
    assert min(during) < 8
    assert run.timeouts == 0
    assert max(run.durations) < TIMEOUT * 0.8
    assert run.limits[-1][1] == 8  # fast again: back at the ceiling


def test_a_lagging_event_loop_shrinks_the_limit_and_one_long_callback_does_not() -> None:
    clock = Clock()
    control = adaptive(clock)
    run = simulate(
        control,
        clock,
        net=lambda now: 2.0,
        work=lambda now: 0.1,
        lag=lambda now: 3.0 if now == pytest.approx(3.0) else 0.005,
    )
    assert all(not c.reason.startswith("the event loop") for c in control.history)
    assert run.max_limit == 8

    clock = Clock()
    control = adaptive(clock)
    run = simulate(
        control,
        clock,
        net=lambda now: 2.0,
        work=lambda now: 0.1,
        lag=lambda now: 1.5 if 6.0 <= now < 9.0 else 0.005,
    )
    assert any(c.reason.startswith("the event loop lags") for c in control.history)
    assert min(limit for at, limit in run.limits if at >= 6.0) < run.limit_at(6.0)


def test_a_lag_that_lasts_cuts_once_per_window() -> None:
    clock = Clock()
    control = adaptive(clock)
    cuts = []
    for _ in range(16):  # 4 s of a lagging event loop
        clock.now = round(clock.now + 0.25, 6)
        control.observe_lag(1.5)
        before = control.limit
        if control.update(waiting=True) < before:
            cuts.append(clock.now)
    assert len(cuts) == 2
    assert cuts[1] - cuts[0] >= control.policy.lag_window


def test_a_loop_lagging_less_than_a_second_holds_growth_but_does_not_cut() -> None:
    # Measured (docs/performance.md): on light pages at 8 at once the audit's own event loop
    # lags a few hundred ms with no page near its timeout; cutting for that cost 15 % of the
    # time against fixed 8. A lag this size only stops the limit from growing.
    clock = Clock()
    control = adaptive(clock)
    start = control.limit
    for _ in range(24):  # 6 s
        clock.now = round(clock.now + 0.25, 6)
        control.observe_step(0.5, 10.0)
        control.observe_cpu(0.3)
        control.observe_lag(0.4)
        control.update(waiting=True)
    assert control.limit == start
    assert all(not c.reason.startswith("the event loop") for c in control.history)


def test_grows_only_while_platforms_wait_for_a_slot() -> None:
    clock = Clock()
    control = adaptive(clock)
    for _ in range(20):
        clock.now += 0.25
        control.observe_cpu(0.1)
        control.observe_lag(0.0)
        control.update(waiting=False)
    assert control.limit == 4


def test_a_step_that_ran_out_counts_as_its_whole_timeout() -> None:
    clock = Clock()
    control = adaptive(clock)
    control.observe_step(30.0, 10.0)  # a selector that never showed, say
    assert control.pressure() == 1.0
    assert control.update(waiting=True) == 2
    assert control.reason == "a step took 100% of its timeout"


def test_after_a_cut_it_waits_for_fresh_evidence_before_growing_again() -> None:
    clock = Clock()
    control = adaptive(clock)
    control.observe_step(6.0, 10.0)
    assert control.update(waiting=True) == 2
    policy = control.policy
    grown_at = None
    while clock.now < policy.window + 2:
        clock.now = round(clock.now + 0.25, 6)
        control.observe_cpu(0.1)
        control.observe_lag(0.0)
        control.observe_step(0.5, 10.0)  # fast pages again
        if control.update(waiting=True) > 2 and grown_at is None:
            grown_at = clock.now
    assert grown_at is not None
    assert grown_at >= max(policy.calm_after_shrink, policy.window)  # the slow step forgotten


def test_steps_that_began_before_a_cut_do_not_cut_again() -> None:
    clock = Clock()
    control = adaptive(clock)
    control.observe_step(5.0, 10.0)
    assert control.update(waiting=True) == 2
    clock.now += 0.25
    control.observe_step(5.5, 10.0)  # the same page, still loading: it began before the cut
    assert control.update(waiting=True) == 2
    clock.now += 6.0
    control.observe_step(5.0, 10.0)  # a page that began after the cut
    assert control.update(waiting=True) == 1


# --------------------------------------------------------------------------- machine facts


@pytest.mark.parametrize(
    ("cores", "memory", "start", "ceiling"),
    [
        (1, 16 * GIB, 2, 4),
        (2, 16 * GIB, 4, 8),
        (8, 64 * GIB, 16, 16),
        (2, 1 * GIB, 2, 2),  # half of 1 GiB holds two platforms
        (2, None, 4, 8),  # memory unknown: cores only
    ],
)
def test_starts_from_the_cores_and_the_memory(
    cores: int, memory: int | None, start: int, ceiling: int
) -> None:
    control = Concurrency.for_machine(Machine(cores, memory), clock=Clock())
    assert (control.limit, control.ceiling) == (start, ceiling)
    assert control.reason.startswith(f"start: {cores} core")


@pytest.mark.parametrize(("others", "start"), [(0, 4), (2, 4), (4, 2), (20, 1)])
def test_a_machine_busy_with_other_work_starts_lower(others: int, start: int) -> None:
    control = Concurrency.for_machine(Machine(2, 16 * GIB, others), clock=Clock())
    assert (control.limit, control.ceiling) == (start, 8)


def test_memory_running_short_shrinks_the_limit() -> None:
    clock = Clock()
    control = adaptive(clock)
    control.observe_memory(200 * 2**20)
    assert control.update(waiting=True) == 2
    assert "of memory left" in control.reason


def test_a_fixed_concurrency_never_moves() -> None:
    clock = Clock()
    control = Concurrency.fixed(3)
    run = simulate(control, clock, net=lambda now: 0.5, work=lambda now: 3.0)
    assert {limit for _, limit in run.limits} == {3}
    assert resolve(5).limit == 5
    assert resolve(None).adaptive
    assert resolve(control) is control


def test_audit_cpu_counts_this_process_and_its_children() -> None:
    cpu = AuditCpu(cores=1)
    if not cpu.available:
        pytest.skip("no /proc here: the policy goes by the pages' times alone")
    assert cpu.sample() is None  # a share needs two samples
    before = cpu.cpu_seconds()
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    after = cpu.cpu_seconds()
    assert before is not None and after is not None
    assert after - before > 0.05  # the child's CPU time, reaped into ours
    share = cpu.sample()
    assert share is not None and share > 0


def test_step_times_pair_each_step_with_its_timeout() -> None:
    flow = Flow.model_validate(
        {
            "detect_timeout": 12,
            "steps": [
                {"goto": "https://www.tp.test/", "timeout": 20},
                {"if": {"condition": {"text": "x"}, "then": [{"click": "go", "timeout": 4}]}},
                {"fill": {"target": "phone", "value": "1"}},
                {"human": {"kind": "login", "prompt": {"en": "log in"}}},
            ],
            "detect": [{"when": {"text": "y"}, "outcome": "bound", "evidence": "y"}],
        }
    )
    outcome = Outcome(
        platform="tp",
        flow="check",
        status="bound",
        evidence=Evidence("y", "text 'y'", "https://www.tp.test/"),
        steps_ms=(
            ("1 goto https://www.tp.test/", 2000.0),
            ("2.then.1 click go", 1000.0),
            ("2 if", 1500.0),
            ("3 fill phone", 500.0),
        ),
        total_ms=7000.0,
    )
    assert step_times(flow, outcome) == [
        (2.0, 20.0, 0.0),
        (1.0, 4.0, 2.0),  # nested: from its parent's start
        (0.5, 10.0, 3.5),  # no timeout of its own: the engine's default
        (3.0, 12.0, 4.0),  # the detect race: what the steps leave of the total
    ]
    failed = Outcome(
        platform="tp",
        flow="check",
        status="error",
        failure=StepFailure("3", "fill phone", "phone", "not visible"),
        steps_ms=(("3 fill phone", 10_000.0),),
        total_ms=12_000.0,
    )
    assert step_times(flow, failed) == [(10.0, 10.0, 0.0)]


def test_policy_thresholds_keep_a_band_between_growing_and_shrinking() -> None:
    policy = Policy()
    assert policy.grow_below < policy.shrink_above < 1
    assert policy.lag_grow_below < policy.lag_shrink_above


# --------------------------------------------------------------------------- the pool, in Chromium


class Scripted(Concurrency):
    """One platform at a time until two have finished, then three at once."""

    def __init__(self) -> None:
        super().__init__(1, adaptive=True, ceiling=3)
        self.finished = 0

    def observe_outcome(self, flow: Flow, outcome: Outcome) -> None:
        self.finished += 1

    def update(self, *, waiting: bool) -> int:
        if self.finished >= 2:
            self.limit = 3
        return self.limit


PAGE = """\
<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>查询</title></head><body>
<label for="m">手机号</label><input id="m" placeholder="请输入手机号">
<button type="button">查询</button><p id="out" role="status"></p>
<script>
document.querySelector('button').onclick = async () => {
  const r = await fetch('/api/check', {method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({mobile: document.getElementById('m').value})});
  const b = await r.json();
  document.getElementById('out').textContent = b.exists ? '该手机号已注册' : '该手机号未注册';
};
</script></body></html>
"""

FLOW = """\
selectors:
  phone: [{{placeholder: 请输入手机号}}]
  go: [{{role: button, name: 查询}}]
flows:
  check:
    steps:
      - goto: https://www.{id}.test/
      - fill: {{target: phone, value: "{{phone.national_digits}}"}}
      - click: go
    detect:
      - when: {{text: 该手机号已注册}}
        outcome: bound
        evidence: registered
      - when: {{text: 该手机号未注册}}
        outcome: not_bound
        evidence: not registered
"""

REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
  - url: https://www.{id}.test/api/check
    method: POST
    action: lookup
    phone: mobile
    respond:
      found: {{json: {{exists: true}}}}
      missing: {{json: {{exists: false}}}}
scenarios:
  default:
    accounts: [{{phone: "{phone}"}}]
    latency_ms: 300
"""


def test_the_pool_honours_the_limit_it_is_given(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    platforms = [
        make_platform(
            tmp_path,
            textwrap.dedent(FLOW).format(id=f"tp{n}"),
            {"index.html": PAGE},
            replica=REPLICA,
            platform_id=f"tp{n}",
        )
        for n in range(7)
    ]
    fixtures = platforms[0].fixtures
    control = Scripted()
    running: set[str] = set()
    seen: list[tuple[int, int]] = []  # (platforms running, the limit then)

    def on_event(event: AuditEvent) -> None:
        if event.state == "running":
            running.add(event.platform)
            seen.append((len(running), control.limit))
        elif event.state == "done":
            running.discard(event.platform)

    async def go(session: object) -> AuditResult:
        return await run_audit(
            session,  # type: ignore[arg-type]
            [p.loaded for p in platforms],
            parse_phone(PHONE),
            options=AuditOptions(concurrency=control, screenshots=False),
            replicas=lambda loaded: Replica.load(loaded.id, "default", fixtures),
            on_event=on_event,
        )

    result = unbinder_browser.run(go)
    assert {r.status for r in result.results} == {"bound"}
    assert len(result.results) == 7
    assert all(count <= limit for count, limit in seen)
    assert [count for count, _ in seen[:2]] == [1, 1]  # one at a time while the limit is 1
    assert max(count for count, _ in seen) == 3  # the raised limit is used at once


def test_verbose_audit_shows_the_concurrency() -> None:
    runner = CliRunner()
    base = ["audit", "+86", "138", "0013", "8000", "--fixtures", "--yes", "--no-trail"]
    result = runner.invoke(cli, [*base, "--platform", "example-cn", "--verbose"])
    assert result.exit_code == 0, result.output
    first = result.stderr.splitlines()[0]
    assert re.fullmatch(r"\d+ at once \(start: \d+ cores?, .*at most \d+\)", first), first

    result = runner.invoke(cli, [*base, "--platform", "example-cn", "--concurrency", "3", "-v"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == "3 at once (fixed)"

    result = runner.invoke(cli, [*base, "--platform", "example-cn"])
    assert "at once" not in result.stderr
