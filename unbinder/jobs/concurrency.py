"""How many platforms an audit checks at once: fixed by the person, or adapted as it runs.

`Concurrency` is a pure controller: it is told what the audit observes and answers with a limit;
the audit's context pool (jobs/audit.py) feeds it and honours the limit. It reads no clock and
no machine of its own (both are given), so tests drive it with a simulated load.

The adaptive policy (the figures behind it: docs/performance.md):

- **Start from the machine**: 2 platforms per core (4 on 2 cores, the fixed default before),
  fewer on a machine already busy (more tasks ready to run than cores: its share of them), and
  a ceiling of 4 per core (8 on 2 cores, at most 16), lowered so that the platforms in flight
  fit in half the memory available at `CONTEXT_MEMORY` each. The first platforms are in flight
  before anything is known of their pages, and cannot be called back: the start is what the
  heaviest pages can bear at once.
- **Grow by one**, at most every half second and only while platforms wait for a slot, when
  the audit shows room: the event loop is on time (median lag under 50 ms), a page has been
  seen loading, and no step seen in the last 6 s took a quarter of its timeout; and either
  those steps all took under an eighth of their timeouts (the pages are quick: more at once
  costs them nothing that matters), or the audit's processes (this one, the Playwright driver,
  the browser) used less than 85 % of the cores over the last second. Light pages at 400 ms
  keep the audit's CPU near that at 8 at once and still gain from 8; heavy ones fill the CPU
  with steps well past an eighth of their timeouts. On a machine shared with other work the
  audit gets less CPU than that; whether that is enough is what its pages' times say.
- **Double instead** while the audit has never been cut and every step seen was quick (slow
  start, as TCP's): the first light pages load in a second, and waiting half a second per
  platform more would cost them a tenth of the audit.
- **Shrink by a third** as soon as a step took half its timeout (a page still loading counts
  with the time it has taken so far), or the event loop's median lag reaches 1 s, or memory
  runs short. A step that began before a cut cannot cause another one (it ran at the old
  limit), nor can the lag before 2 s of it have been seen since; the limit grows again no
  sooner than 3 s later, once no slow step is left among the last 6 s.

So the limit stays where pages finish well inside their timeouts: it climbs while the checks
mostly wait on the network, stops when the CPU is full, and backs off when pages slow down,
long before a step runs out. A step that ran out counts too (as 100 % of its timeout): a
selector that no longer fits costs one cut, which is cheaper than a starved audit.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from unbinder.i18n.translate import _, listed, ngettext
from unbinder.recipe.model import STEP_KINDS

if TYPE_CHECKING:
    from unbinder.engine.outcome import Outcome
    from unbinder.recipe.model import Flow, Step

MAX_CONCURRENCY = 16  # the CLI's --concurrency range too
CONTEXT_MEMORY = 250 * 2**20  # bytes per platform in flight: a heavy page, with a margin
# Steps the machine does alone: compound steps (if, retry) last as long as their parts, human and
# confirm wait for a person, and outcome takes no time at all.
ATOMIC_STEPS = frozenset(STEP_KINDS) - {"if", "retry", "human", "confirm", "outcome"}


@dataclass(frozen=True)
class Machine:
    """What the machine offers: cores, the memory available now, and how many tasks of other
    work are ready to run right now (None: unknown)."""

    cores: int
    available_memory: int | None = None
    others_running: float | None = None

    @classmethod
    def detect(cls) -> Machine:
        return cls(usable_cores(), available_memory(), others_running())


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the system says, else all)."""
    if hasattr(os, "sched_getaffinity"):
        with contextlib.suppress(OSError):
            return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def available_memory() -> int | None:
    """Bytes of memory available without swapping: MemAvailable on Linux; None elsewhere."""
    try:
        for line in Path("/proc/meminfo").read_text("ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def others_running(readings: int = 5, gap: float = 0.01) -> float | None:
    """Tasks ready to run besides this one, now: the median of a few readings of the running
    count in /proc/loadavg on Linux; elsewhere the 1-minute load average."""
    counts = []
    for reading in range(readings):
        try:
            field = Path("/proc/loadavg").read_text("ascii").split()[3]
            counts.append(max(0, int(field.split("/")[0]) - 1))
        except (OSError, ValueError, IndexError):
            break
        if reading + 1 < readings:
            time.sleep(gap)
    if counts:
        return float(sorted(counts)[len(counts) // 2])
    if hasattr(os, "getloadavg"):
        with contextlib.suppress(OSError):
            return os.getloadavg()[0]
    return None


@dataclass(frozen=True)
class Policy:
    """The thresholds of the adaptive policy (module docstring; docs/performance.md)."""

    start_per_core: float = 2.0
    ceiling_per_core: float = 4.0
    max_limit: int = MAX_CONCURRENCY
    context_memory: int = CONTEXT_MEMORY
    memory_share: float = 0.5  # of the available memory, for the platforms in flight
    grow_below: float = 0.25  # slowest recent step / its timeout
    quick_below: float = 0.125  # steps this quick: growing does not wait for the CPU
    shrink_above: float = 0.5
    lag_grow_below: float = 0.05  # seconds: the median event-loop lag
    lag_shrink_above: float = 1.0  # a lag under it only holds growth (docs/performance.md)
    cpu_grow_below: float = 0.85  # the share of the cores the audit's processes use
    shrink_factor: float = 2 / 3
    grow_every: float = 0.5  # seconds between two increases
    calm_after_shrink: float = 3.0  # seconds before growing again after a decrease
    window: float = 6.0  # seconds a step observation counts
    lag_window: float = 2.0  # seconds of event-loop lag whose median counts
    cpu_window: float = 1.0  # seconds of CPU samples averaged


@dataclass(frozen=True)
class Change:
    """One change of the limit: when (controller clock), to what, and why, in words."""

    at: float
    limit: int
    reason: str


@dataclass(frozen=True)
class Sample:
    """What one `update` saw (kept when `record` is on: the benchmark's trace)."""

    at: float
    limit: int
    waiting: bool
    pressure: float | None
    lag: float | None
    cpu: float | None


Listener = Callable[[int, str], None]


class Concurrency:
    """The number of platforms in flight: fixed, or adapted (`adaptive`) from observations.

    Feed it `observe_step` (a step's duration and its timeout) or `observe_outcome`,
    `observe_lag`, `observe_cpu` (the share of the cores the audit used) and `observe_memory`,
    then call `update(waiting=...)`: it returns the limit (also `limit`).
    """

    def __init__(
        self,
        limit: int,
        *,
        adaptive: bool = False,
        floor: int = 1,
        ceiling: int | None = None,
        policy: Policy | None = None,
        clock: Callable[[], float] = time.monotonic,
        available_memory: int | None = None,
        record: bool = False,
    ) -> None:
        self.limit = limit
        self.adaptive = adaptive
        self.floor = floor
        self.ceiling = ceiling if ceiling is not None else limit
        self.policy = policy or Policy()
        self.clock = clock
        self.history: list[Change] = []
        self.samples: list[Sample] | None = [] if record else None
        self._steps: deque[tuple[float, float, float]] = deque()  # (at, seconds/timeout, began)
        self._lags: deque[tuple[float, float]] = deque()  # (at, seconds)
        self._cpu: deque[tuple[float, float]] = deque()  # (at, busy share)
        self._memory = available_memory
        self._last_change = float("-inf")
        self._last_shrink = float("-inf")
        self._slow_start = True  # until the first cut
        self._listeners: list[Listener] = []

    @classmethod
    def fixed(cls, limit: int) -> Concurrency:
        """Exactly `limit` platforms at once (`--concurrency N`)."""
        limit = max(1, limit)
        concurrency = cls(limit, floor=limit, ceiling=limit)
        concurrency.history.append(Change(concurrency.clock(), limit, "fixed"))
        return concurrency

    @classmethod
    def for_machine(
        cls,
        machine: Machine | None = None,
        *,
        policy: Policy | None = None,
        clock: Callable[[], float] = time.monotonic,
        record: bool = False,
    ) -> Concurrency:
        """Adaptive, starting from what `machine` (else this machine) offers."""
        machine = machine or Machine.detect()
        policy = policy or Policy()
        ceiling = min(policy.max_limit, max(1, round(machine.cores * policy.ceiling_per_core)))
        if machine.available_memory is not None:
            room = int(machine.available_memory * policy.memory_share // policy.context_memory)
            ceiling = max(1, min(ceiling, room))
        wanted = machine.cores * policy.start_per_core
        busy = machine.others_running
        if busy is not None and busy > machine.cores:  # a machine already busy: its share only
            wanted *= machine.cores / busy
        start = min(ceiling, max(1, round(wanted)))
        concurrency = cls(
            start,
            adaptive=True,
            ceiling=ceiling,
            policy=policy,
            clock=clock,
            available_memory=machine.available_memory,
            record=record,
        )
        seen = [
            ngettext("{count} core", "{count} cores", machine.cores).format(count=machine.cores)
        ]
        if machine.available_memory is not None:
            free = machine.available_memory / 2**30
            seen.append(_("{free:.1f} GiB free").format(free=free))
        if busy is not None and busy > machine.cores:
            seen.append(_("{busy:g} other tasks running").format(busy=busy))
        why = _("start: {seen}, at most {ceiling}").format(seen=listed(seen), ceiling=ceiling)
        concurrency.history.append(Change(clock(), start, why))
        return concurrency

    def on_change(self, listener: Listener) -> None:
        """Call `listener(limit, reason)` whenever the limit changes."""
        self._listeners.append(listener)

    @property
    def reason(self) -> str:
        """Why the limit is what it is (the last change)."""
        return self.history[-1].reason if self.history else ""

    # ------------------------------------------------------------------ observations

    def observe_step(self, seconds: float, timeout: float, *, began: float | None = None) -> None:
        """A step took `seconds` of its `timeout` (or has taken them so far: still running);
        it `began` then (default: `seconds` ago)."""
        if timeout > 0:
            now = self.clock()
            ratio = min(1.0, max(0.0, seconds) / timeout)
            self._steps.append((now, ratio, now - seconds if began is None else began))

    def observe_outcome(self, flow: Flow, outcome: Outcome) -> None:
        """Every step of a flow that just finished, and its detect race when a rule matched."""
        flow_began = self.clock() - outcome.total_ms / 1000
        for seconds, timeout, offset in step_times(flow, outcome):
            self.observe_step(seconds, timeout, began=flow_began + offset)

    def observe_lag(self, seconds: float) -> None:
        """The event loop woke up `seconds` later than it asked."""
        self._lags.append((self.clock(), max(0.0, seconds)))

    def observe_cpu(self, busy: float) -> None:
        """The share (0 to 1) of the cores the audit's processes used since the last sample."""
        self._cpu.append((self.clock(), min(1.0, max(0.0, busy))))

    def observe_memory(self, available: int | None) -> None:
        self._memory = available

    # ------------------------------------------------------------------ the decision

    def pressure(self, *, began_after: float = float("-inf")) -> float | None:
        """The slowest recent step as a share of its timeout (None: no step seen lately);
        only the steps that began after `began_after`, if given."""
        return max((r for _, r, b in self._steps if b >= began_after), default=None)

    def lag(self) -> float | None:
        """The event loop's typical lag lately: the median, so that one long callback (a
        replica loading its YAML, a large body encoded) is not taken for a trend."""
        recent = sorted(s for _, s in self._lags)
        return recent[len(recent) // 2] if recent else None

    def cpu(self) -> float | None:
        """The share of the cores the audit used lately (None: not measured)."""
        return sum(b for _, b in self._cpu) / len(self._cpu) if self._cpu else None

    def update(self, *, waiting: bool) -> int:
        """Decide the limit from what was observed; `waiting`: platforms wait for a slot."""
        if not self.adaptive:
            return self.limit
        now = self.clock()
        self._forget(now)
        p = self.policy
        pressure, lag, cpu = self.pressure(), self.lag(), self.cpu()
        if self.samples is not None:
            self.samples.append(Sample(now, self.limit, waiting, pressure, lag, cpu))
        # Steps that began before the last cut ran at the old limit: they keep the limit from
        # growing, but cutting it again for them would punish the same load twice.
        fresh = self.pressure(began_after=self._last_shrink)
        shrink = None
        if fresh is not None and fresh >= p.shrink_above:
            shrink = _("a step took {share:.0%} of its timeout").format(share=fresh)
        elif (
            lag is not None
            and lag >= p.lag_shrink_above
            and now - self._last_shrink >= p.lag_window  # a full window since the last cut
        ):
            shrink = _("the event loop lags {ms:.0f} ms").format(ms=lag * 1000)
        elif self._memory is not None and self._memory < 2 * p.context_memory:
            shrink = _("{mib:.0f} MiB of memory left").format(mib=self._memory / 2**20)
        if shrink is not None:
            if self.limit > self.floor:
                self._set(max(self.floor, int(self.limit * p.shrink_factor)), now, shrink)
            self._last_shrink = now
            self._slow_start = False
            self._lags.clear()
            return self.limit
        if pressure is None:  # no page seen loading yet: the CPU's idle start means nothing
            return self.limit
        room = (
            waiting
            and self.limit < self.ceiling
            and now - self._last_change >= p.grow_every
            and now - self._last_shrink >= p.calm_after_shrink
            and pressure < p.grow_below
            and (lag is None or lag < p.lag_grow_below)
            and (pressure < p.quick_below or cpu is None or cpu < p.cpu_grow_below)
        )
        if room:
            seen = [
                _("CPU {share:.0%}").format(share=cpu) if cpu is not None else "",
                _("steps at {share:.0%} of their timeouts").format(share=pressure),
                _("lag {ms:.0f} ms").format(ms=lag * 1000) if lag is not None else "",
            ]
            said = listed(s for s in seen if s)
            grow, why = 1, _("room: {seen}")
            if self._slow_start and pressure < p.quick_below:
                grow, why = self.limit, _("room (doubling: quick pages, never cut): {seen}")
            limit = min(self.ceiling, self.limit + grow)
            self._set(limit, now, why.format(seen=said))
        return self.limit

    def _forget(self, now: float) -> None:
        for samples, span in (
            (self._steps, self.policy.window),
            (self._lags, self.policy.lag_window),
            (self._cpu, self.policy.cpu_window),
        ):
            while samples and now - samples[0][0] > span:
                samples.popleft()

    def _set(self, limit: int, now: float, reason: str) -> None:
        if limit == self.limit:
            return
        self.limit = limit
        self._last_change = now
        self.history.append(Change(now, limit, reason))
        for listener in self._listeners:
            listener(limit, reason)


def resolve(setting: int | Concurrency | None) -> Concurrency:
    """`AuditOptions.concurrency` as a controller: None adapts, a number fixes it."""
    if isinstance(setting, Concurrency):
        return setting
    if setting is None:
        return Concurrency.for_machine()
    return Concurrency.fixed(setting)


def step_times(flow: Flow, outcome: Outcome) -> list[tuple[float, float, float]]:
    """(seconds, timeout, began) of each atomic step of `outcome`, `began` in seconds from the
    flow's start (a nested step: its parent's start); and of the detect race when a rule matched
    (what the steps leave of the total, an evidence screenshot included)."""
    from unbinder.engine.runner import DEFAULT_STEP_TIMEOUT

    found: list[tuple[float, float, float]] = []
    top = 0.0  # the top-level steps run one after the other; nested ones come before their parent
    for label, ms in outcome.steps_ms:
        path = label.split(" ", 1)[0]
        step = _step_at(flow.steps, path)
        if step is not None and step.action in ATOMIC_STEPS:
            found.append((ms / 1000, step.timeout or DEFAULT_STEP_TIMEOUT, top / 1000))
        if "." not in path:
            top += ms
    if outcome.evidence is not None and outcome.failure is None and flow.detect:
        found.append((max(0.0, outcome.total_ms - top) / 1000, flow.detect_timeout, top / 1000))
    return found


def first_goto_timeout(flow: Flow) -> float:
    """The timeout of the flow's first page load (what a page's own loading is held to)."""
    from unbinder.engine.runner import DEFAULT_STEP_TIMEOUT

    for step in flow.steps:
        if step.goto is not None:
            return step.timeout or DEFAULT_STEP_TIMEOUT
    return DEFAULT_STEP_TIMEOUT


def _step_at(steps: list[Step], path: str) -> Step | None:
    """The step at a runner path: "3", "2.then.1", "2.else.1", "4.try2.1"."""
    parts = path.split(".")
    current = steps
    index = 0
    while index < len(parts):
        number = parts[index]
        if not number.isdigit() or not 1 <= int(number) <= len(current):
            return None
        step = current[int(number) - 1]
        if index + 1 == len(parts):
            return step
        branch = parts[index + 1]
        if branch == "then" and step.if_ is not None:
            current = step.if_.then
        elif branch == "else" and step.if_ is not None:
            current = step.if_.else_ or []
        elif branch.startswith("try") and step.retry is not None:
            current = step.retry.steps
        else:
            return None
        index += 2
    return None


class AuditCpu:
    """The share of the cores used by this process and every process below it (the Playwright
    driver, the browser and its renderers) since the last sample.

    Linux only (/proc); elsewhere `sample()` is None and the policy goes by the pages' times
    and the event loop. Scanning all of /proc costs milliseconds on a busy machine, so a process
    found outside the tree once is not read again; the CPU time of a process that ended is in
    its parent's `cutime`/`cstime` once the parent has reaped it.
    """

    def __init__(self, cores: int | None = None, root: int | None = None) -> None:
        self.cores = cores or usable_cores()
        self.root = root if root is not None else os.getpid()
        self.available = Path(f"/proc/{self.root}/stat").exists()
        self._tick = os.sysconf("SC_CLK_TCK") if self.available else 100
        self._outside: set[int] = set()
        self._last: tuple[float, float] | None = None  # (wall, CPU seconds)

    def sample(self) -> float | None:
        used = self.cpu_seconds()
        if used is None:
            return None
        now = time.monotonic()
        last, self._last = self._last, (now, used)
        if last is None or now <= last[0]:
            return None
        return max(0.0, used - last[1]) / (now - last[0]) / self.cores

    def cpu_seconds(self) -> float | None:
        """CPU seconds used so far by the tree below (and including) `root`."""
        if not self.available:
            return None
        try:
            pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
        except OSError:
            return None
        self._outside &= set(pids)
        parents: dict[int, int] = {}
        ticks: dict[int, int] = {}
        for pid in pids:
            if pid in self._outside:
                continue
            fields = _stat(pid)
            if fields is not None:
                parents[pid] = int(fields[1])
                ticks[pid] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        inside = {self.root}
        grew = True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if pid not in inside and parent in inside:
                    inside.add(pid)
                    grew = True
        self._outside |= set(parents) - inside
        return sum(ticks.get(pid, 0) for pid in inside) / self._tick


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name: [state, ppid, ...]."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return raw.rsplit(b")", 1)[-1].decode("ascii", "replace").split()
