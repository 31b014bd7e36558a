"""Run the tests embedded in recipes (`tests:`) against their offline replicas.

Used by `unbinder recipes test` and by the pytest plugin. A failed test reports what was observed
as a YAML `expect:` block, ready to paste into the recipe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from unbinder.browser.replica import Replica
from unbinder.engine import Outcome, run_flow
from unbinder.engine.human import ScriptedHuman
from unbinder.phone import parse_phone
from unbinder.recipe.load import LoadedRecipe
from unbinder.recipe.model import RecipeTest


@dataclass
class TestResult:
    """One embedded test: passed or not, with what was observed."""

    recipe: LoadedRecipe
    test: RecipeTest
    index: int
    outcome: Outcome | None = None
    problems: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def name(self) -> str:
        return f"{self.recipe.id}: {self.test.name}"

    def where(self) -> str:
        """`file:line` of the test's `expect:` in its recipe (what a fix usually touches)."""
        return f"{self.recipe.path}:{self.recipe.line_of(('tests', self.index, 'expect'))}"

    def report(self) -> list[str]:
        """A failed test as a newcomer needs it: where, what differed, how to fix, what was seen."""
        lines = [f"{self.where()}: test {self.test.name!r} failed:"]
        lines += [f"  - {p}" for p in self.problems]
        lines += [f"  how to fix: {h}" for h in self.hints()]
        observed = self.observed()
        if observed:
            lines.append(
                "  observed:"
                if self.script_step() is not None
                else "  observed (ready to paste over the test's `expect:` line):"
            )
            lines += ["    " + line for line in observed.splitlines()]
        return lines

    def hints(self) -> list[str]:
        """What to look at first, with the recipe lines involved."""
        o = self.outcome
        if o is None:
            return []
        loaded = self.recipe
        recipe = loaded.recipe
        path = loaded.path
        flow = recipe.flows.automated().get(self.test.flow)
        hints: list[str] = []
        script = self.script_step()
        if script is not None and o.failure is not None:
            kind, script_loc = script
            hints.append(
                f"the test's human script ({path}:{loaded.line_of(script_loc)}) failed at its "
                f"{kind} step {o.failure.path.split('.', 2)[2]}: {o.failure.error}. Make the "
                "script do "
                f"what a person would on the replica's page (fixtures/{loaded.id}/); the "
                "test's expectation may well be right."
            )
        elif o.failure is not None and o.status in ("error", "unknown"):
            loc = step_loc(self.test.flow, o.failure.path)
            where = f"{path}:{loaded.line_of(loc)}" if loc else self.where()
            name = o.failure.selector
            if name and name in recipe.selectors:
                tried = "; ".join(a.describe() for a in recipe.selectors[name])
                hints.append(
                    f"step {o.failure.path} ({where}) found nothing visible for selector "
                    f"{name!r} ({path}:{loaded.line_of(('selectors', name))}), which tried: "
                    f"{tried}. Make one alternative match the page in fixtures/{loaded.id}/, "
                    f"or record the real page again (unbinder recipes record {loaded.id})."
                )
            elif o.status == "error":
                hints.append(
                    f"step {o.failure.path} ({where}) could not be done: fix the step, or the "
                    f"replica page in fixtures/{loaded.id}/ it runs on."
                )
        if o.reason and o.reason.startswith("no detect rule matched") and flow is not None:
            line = loaded.line_of(("flows", self.test.flow, "detect"))
            hints.append(
                f"none of the detect rules ({path}:{line}) matched: compare their texts, "
                f"selectors and URLs with what the replica shows for scenario "
                f"{self.test.scenario!r} (open the pages of fixtures/{loaded.id}/ in a browser)."
            )
        if o.evidence is not None and o.status != self.test.expect.outcome and flow is not None:
            index = next(
                (i for i, r in enumerate(flow.detect) if r.evidence == o.evidence.rule), None
            )
            if index is not None:
                line = loaded.line_of(("flows", self.test.flow, "detect", index))
                hints.append(
                    f"the detect rule at {path}:{line} ({o.evidence.rule}) held first. If the "
                    "replica shows the right thing, fix that rule; if the recipe is right, paste "
                    "the observed expect below."
                )
        for warning in o.warnings:
            if warning.startswith("replica has no route for"):
                hints.append(f"{warning}: add a route for it to fixtures/{loaded.id}/replica.yaml.")
        if o.reason and "scripted human has no steps" in o.reason:
            hints.append(
                "the test needs a `human:` script for that hand-off "
                "(docs/recipes.md, 'Tests' shows one)."
            )
        return hints

    def script_step(self) -> tuple[str, tuple[Any, ...]] | None:
        """The hand-off kind and recipe location of the human-script step that failed, if any."""
        failure = self.outcome.failure if self.outcome is not None else None
        if failure is None or not failure.path.startswith("human."):
            return None
        parts = failure.path.split(".", 2)
        if len(parts) < 3:
            return None
        kind, rest = parts[1], parts[2]
        loc = step_loc(self.test.flow, rest)
        base: tuple[Any, ...] = ("tests", self.index, "human", kind)
        return kind, base + (loc[3:] if loc is not None else ())

    def observed(self) -> str:
        """What happened, as an `expect:` line to paste into the recipe."""
        if self.outcome is None:
            return ""
        o = self.outcome
        if self.script_step() is not None and o.failure is not None:
            # The script failed, not the recipe: an expectation to paste would only mislead.
            return f"# the human script failed at {o.failure.describe()}\n# (nothing to paste)"
        expect: dict[str, Any] = {"outcome": o.status}
        if o.kind:
            expect["kind"] = o.kind
        if o.evidence is not None:
            expect["evidence"] = o.evidence.matched
        if o.variables:
            expect["vars"] = dict(o.variables)
        if o.blocked:
            expect["blocked"] = sorted({b.host for b in o.blocked})
        if o.degraded:
            expect["degraded"] = True
        text = "expect: " + yaml.safe_dump(
            expect, allow_unicode=True, sort_keys=False, width=10**6, default_flow_style=True
        )
        details = []
        if o.failure is not None:
            details.append(f"# failed at {o.failure.describe()}")
        if o.reason:
            details.append(f"# reason: {o.reason}")
        details += [f"# warning: {w}" for w in o.warnings]
        return "\n".join([*details, text.rstrip()])


async def run_test(
    session: Any, loaded: LoadedRecipe, test: RecipeTest, index: int, fixtures: Path | None = None
) -> TestResult:
    """Run one embedded test in a fresh context against its replica scenario."""
    result = TestResult(loaded, test, index)
    try:
        replica = Replica.load(loaded.id, test.scenario, fixtures)
        phone = parse_phone(test.phone, test.region, require_mobile=False)
        new_phone = (
            parse_phone(test.new_phone, test.region, require_mobile=False)
            if test.new_phone
            else None
        )
    except Exception as exc:
        result.problems.append(str(exc))
        return result
    human = ScriptedHuman(test.human, lang="zh-CN") if test.human is not None else None
    outcome = await run_flow(
        session,
        loaded,
        test.flow,
        phone,
        new_phone=new_phone,
        human=human,
        replica=replica,
        screenshots=False,
    )
    result.outcome = outcome
    result.state = replica.state.snapshot()
    result.problems = _compare(test, outcome, replica, human)
    return result


def _compare(
    test: RecipeTest, outcome: Outcome, replica: Replica, human: ScriptedHuman | None
) -> list[str]:
    expect = test.expect
    problems: list[str] = []
    if outcome.status != expect.outcome:
        problems.append(f"outcome is {outcome.status!r}, expected {expect.outcome!r}")
    if expect.kind is not None and outcome.kind != expect.kind:
        problems.append(f"kind is {outcome.kind or 'none'!r}, expected {expect.kind!r}")
    if expect.evidence is not None:
        ev = outcome.evidence
        seen = " ".join(filter(None, (ev.rule, ev.matched, ev.selector))) if ev else ""
        if not seen:
            problems.append(f"there is no evidence (expected it to contain {expect.evidence!r})")
        elif expect.evidence not in seen:
            problems.append(f"evidence {seen!r} does not contain {expect.evidence!r}")
    if expect.degraded is not None and outcome.degraded != expect.degraded:
        problems.append(f"degraded is {outcome.degraded}, expected {expect.degraded}")
    for name, value in (expect.vars or {}).items():
        if outcome.variables.get(name) != value:
            problems.append(
                f"variable {name} is {outcome.variables.get(name)!r}, expected {value!r}"
            )
    if expect.blocked is not None:
        hosts = {b.host for b in outcome.blocked}
        missing = [h for h in expect.blocked if h not in hosts]
        if missing:
            problems.append(f"expected blocked requests to {missing}, saw {sorted(hosts)}")
    for path, value in (expect.state or {}).items():
        try:
            actual = replica.state.get(path)
        except (KeyError, IndexError, ValueError):
            problems.append(f"replica state has no {path}")
            continue
        if actual != value:
            problems.append(f"replica state {path} is {actual!r}, expected {value!r}")
    declined = test.human is not None and test.human.confirm is False
    if human is not None and declined and not human.confirmations:
        problems.append("the flow never asked for a confirmation")
    return problems


def step_loc(flow: str, step_path: str) -> tuple[Any, ...] | None:
    """The recipe location of a step from its run path ("3", "2.then.1", "4.try2.1")."""
    if step_path.startswith("human") or step_path in ("-", "detect"):
        return None
    loc: list[Any] = ["flows", flow, "steps"]
    parts = step_path.split(".")
    try:
        loc.append(int(parts[0]) - 1)
        rest = parts[1:]
        while rest:
            branch, number = rest[0], int(rest[1]) - 1
            if branch in ("then", "else"):
                loc += ["if", branch, number]
            elif branch.startswith("try"):
                loc += ["retry", "steps", number]
            else:
                return None
            rest = rest[2:]
    except (ValueError, IndexError):
        return None
    return tuple(loc)


def lint_errors(recipes: Iterable[LoadedRecipe]) -> list[str]:
    """`recipes test` lints first: every lint error of these recipes (`file:line: message`,
    as `unbinder recipes lint` prints them), so a test never meets a recipe lint refuses."""
    from unbinder.recipe.lint import lint_recipe

    return [
        str(problem)
        for loaded in recipes
        for problem in lint_recipe(loaded)
        if problem.severity == "error"
    ]


def select_tests(
    recipes: Iterable[LoadedRecipe],
) -> list[tuple[LoadedRecipe, RecipeTest, int]]:
    return [(r, t, i) for r in recipes for i, t in enumerate(r.recipe.tests)]


async def run_tests_async(
    recipes: Iterable[LoadedRecipe], *, concurrency: int = 4, fixtures: Path | None = None
) -> list[TestResult]:
    """Every embedded test of `recipes`, a few at a time in one browser."""
    from unbinder.browser.launch import BrowserSession

    cases = select_tests(recipes)
    results: list[TestResult | None] = [None] * len(cases)
    gate = asyncio.Semaphore(max(1, concurrency))
    async with BrowserSession() as session:

        async def one(i: int, case: tuple[LoadedRecipe, RecipeTest, int]) -> None:
            async with gate:
                results[i] = await run_test(session, case[0], case[1], case[2], fixtures)

        await asyncio.gather(*(one(i, c) for i, c in enumerate(cases)))
    return [r for r in results if r is not None]
