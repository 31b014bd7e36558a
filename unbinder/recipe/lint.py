"""Semantic checks on recipes, beyond what the schema can say. Each problem is `file:line: message`.

Errors (exit 1): undefined selectors, unknown placeholders, destructive steps without a confirm,
verdicts without evidence, outcomes without a test, hosts outside `domains`, missing replicas.
Warnings: fallbacks ordered against the house preference, and similar matters of style; and a
platform recipe without `sources:`, or with a verdict rule that neither cites a source nor says
it is assumed, or without `number_change:` (how hard changing the number is, and where), or whose
`number_change:` does neither (demo platforms and fault sites are not platforms, and are spared
these).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from unbinder.errors import RecipeError
from unbinder.paths import fixtures_dir
from unbinder.recipe.confidence import Sourcing
from unbinder.recipe.hosts import punycode_warning
from unbinder.recipe.load import LoadedRecipe, read_recipe_text, recipe_problems
from unbinder.recipe.model import (
    PHONE_FIELDS,
    PLACEHOLDER,
    Condition,
    Flow,
    Recipe,
    Step,
    walk_steps,
)
from unbinder.recipe.names import did_you_mean
from unbinder.recipe.safe_yaml import nearest_line
from unbinder.recipe.specific import match_all_reason
from unbinder.vocab import CHANGE_STATUSES, CHECK_STATUSES, FLOW_NAMES, VERDICTS

# What each flow may end with: a check or verify gives a verdict, a change or unbind is done.
FLOW_OUTCOMES: dict[str, tuple[str, ...]] = {
    "check": CHECK_STATUSES,
    "verify": CHECK_STATUSES,
    "change": CHANGE_STATUSES,
    "unbind": CHANGE_STATUSES,
}


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.path}:{self.line}: {tag}{self.message}"


def lint_file(path: Path, fixtures: Path | None = None) -> list[Problem]:
    """Every problem with one recipe file (schema first; semantics when the schema passes)."""
    try:
        text = read_recipe_text(path)
    except RecipeError as exc:
        return [_parse_problem(exc.message, path)]
    loaded = recipe_problems(text, path, semantics=False)  # run below, with the warnings
    if isinstance(loaded, list):
        return [_parse_problem(p, path) for p in loaded]
    return lint_recipe(loaded, fixtures)


def _parse_problem(text: str, path: Path) -> Problem:
    found = re.match(r"^(.*):(\d+): (.*)$", text, re.S)
    if found:
        return Problem(path, int(found.group(2)), found.group(3))
    return Problem(path, 1, text)


def lint_recipe(loaded: LoadedRecipe, fixtures: Path | None = None) -> list[Problem]:
    checker = _Checker(loaded, fixtures or fixtures_dir())
    checker.run()
    return sorted(checker.problems, key=lambda p: (p.line, p.message))


def refusals(loaded: LoadedRecipe) -> list[Problem]:
    """The errors lint finds in what the recipe does when it runs: `load` refuses a recipe with
    any of them, for every command (audit, unbind, recipes test, live). Only the test kit's
    checks (tests for every outcome, the replica, the file name) are left to lint itself."""
    checker = _Checker(loaded, fixtures_dir())
    checker.run(kit=False)
    errors = [p for p in checker.problems if p.severity == "error"]
    return sorted(errors, key=lambda p: (p.line, p.message))


class _Checker:
    def __init__(self, loaded: LoadedRecipe, fixtures: Path) -> None:
        self.loaded = loaded
        self.recipe = loaded.recipe
        self.fixtures = fixtures
        self.problems: list[Problem] = []

    def error(self, loc: tuple[Any, ...], message: str) -> None:
        self.problems.append(Problem(self.loaded.path, self.loaded.line_of(loc), message))

    def warn(self, loc: tuple[Any, ...], message: str) -> None:
        self.problems.append(
            Problem(self.loaded.path, self.loaded.line_of(loc), message, severity="warning")
        )

    def run(self, *, kit: bool = True) -> None:
        """Every check; without `kit`, only those about what the recipe does when it runs (the
        ones load refuses for every command), not its test kit (tests, replica, file name)."""
        recipe = self.recipe
        if kit and self.loaded.path.stem != recipe.id:
            self.error(
                ("id",),
                f"the id {recipe.id!r} must match the file name {self.loaded.path.name!r}: "
                f"rename the file to {recipe.id}.yaml or change the id",
            )
        if recipe.status == "working" and not recipe.last_verified:
            self.error(
                ("status",), "status `working` needs `last_verified` (the date it was checked live)"
            )
        self._selectors()
        for name, flow in recipe.flows.automated().items():
            self._flow(name, flow)
        if recipe.flows.manual is not None and recipe.flows.manual.url:
            self._host(("flows", "manual", "url"), recipe.flows.manual.url)
        self._specific_verdicts()
        if not kit:
            return
        self._tests()
        self._replica()
        self._domains_shown()
        self._somewhere_to_go()
        if not self._spared_evidence_warnings():
            self._sources()
            self._number_change()

    # ------------------------------------------------------------------ sources

    def _spared_evidence_warnings(self) -> bool:
        """Demo platforms and fault sites (recipes inside the fixtures folder) copy no real
        platform, so there is nothing for them to cite."""
        if self.recipe.demo:
            return True
        return self.loaded.path.resolve().is_relative_to(self.fixtures.resolve())

    def _sources(self) -> None:
        if not self.recipe.sources:
            self.warn(
                ("id",),
                "the recipe has no `sources:`: list the public pages and files it rests on, with "
                "the date you read them, and cite them with `source:` (docs/recipes.md, Sources)",
            )
        for loc, rule in self.recipe.verdict_rules():
            if not rule.cites and not rule.assumed:
                self.warn(
                    loc,
                    f"this {rule.outcome} rule cites no source: add `source: <id>` (an entry of "
                    "`sources:` showing what it looks for), or `assumed: true` if none shows it",
                )

    def _number_change(self) -> None:
        change = self.recipe.number_change
        if change is None:
            self.warn(
                ("id",),
                "the recipe has no `number_change:`: say how hard changing or removing the "
                "number is (`difficulty`), where the codes go (`codes_to`), the settings page "
                "and any waiting period (docs/recipes.md, Changing the number)",
            )
            return
        if not change.cites and not change.assumed:
            self.warn(
                ("number_change",),
                "`number_change` cites no source: add `source: <id>` (an entry of `sources:` "
                "showing how the number is changed), or `assumed: true` if none shows it",
            )
        flows = self.recipe.flows.automated()
        if change.difficulty == "impossible" and ("change" in flows or "unbind" in flows):
            self.warn(
                ("number_change", "difficulty"),
                "difficulty `impossible`, but the recipe has a change or unbind flow: "
                "rate what that flow takes (easy, medium or hard)",
            )

    # ------------------------------------------------------------------ selectors

    def _selectors(self) -> None:
        for name, alts in self.recipe.selectors.items():
            for index, alt in enumerate(alts):
                if alt.xpath is not None and index != len(alts) - 1:
                    self.warn(
                        ("selectors", name, index),
                        f"selector {name!r}: put xpath last, it breaks first",
                    )
            if len(alts) == 1 and alts[0].kind in ("css", "xpath"):
                self.warn(
                    ("selectors", name),
                    f"selector {name!r} has only a {alts[0].kind} alternative; "
                    "add a role, label or "
                    "text alternative first (they survive redesigns)",
                )

    def _known_selector(self, loc: tuple[Any, ...], name: str | None) -> None:
        if name is not None and name not in self.recipe.selectors:
            self.error(
                loc,
                f"selector {name!r} is not defined in `selectors`"
                + (did_you_mean(name, self.recipe.selectors) or "; add it there"),
            )

    # ------------------------------------------------------------------ flows

    def _flow(self, name: str, flow: Flow) -> None:
        base = ("flows", name)
        confirmed = False
        has_destructive = False
        for loc, step in walk_steps(flow.steps, (*base, "steps")):
            confirmed, destructive = self._step(name, loc, step, confirmed, in_test=False)
            has_destructive = has_destructive or destructive
        if has_destructive and not flow.side_effects.destructive:
            self.error(
                (*base, "side_effects"),
                f"flow {name} has a destructive step: declare side_effects: {{destructive: true}}",
            )
        sends = flow.side_effects.sends_sms or flow.side_effects.notifies_owner
        if name in ("change", "unbind") and sends and not any(s.sends for s in flow.walk()):
            self.warn(
                (*base, "side_effects"),
                f"the {name} flow sends a code or a notice, but no step says which: add "
                "`sends: sms` (or `sends: email`) to the step that makes the platform send it, "
                "so that --dry-run stops before it",
            )
        if name == "check" and flow.side_effects.destructive:
            self.error(
                (*base, "side_effects"),
                "a check flow must never be destructive (it only looks): remove "
                "`destructive: true`, and move the step to a change or unbind flow",
            )
        if name in ("check", "verify") and not flow.detect:
            self.error(base, f"the {name} flow needs `detect` rules: no verdict without evidence")
        if name == "check" and flow.requires_login:
            self.warn(
                base, "a check flow is anonymous; requires_login belongs to verify/change/unbind"
            )
        verdicts = set()
        for index, rule in enumerate(flow.detect):
            loc = (*base, "detect", index)
            self._condition(loc + ("when",), rule.when, name)
            if rule.outcome not in FLOW_OUTCOMES[name]:
                self.error(
                    loc + ("outcome",),
                    f"outcome {rule.outcome!r} is not one a {name} flow can end with "
                    f"(use one of: {', '.join(FLOW_OUTCOMES[name])})",
                )
            if rule.outcome == "needs_human" and rule.kind is None:
                self.error(
                    loc,
                    "a needs_human rule must say its kind: add `kind: captcha` (or risk_control, "
                    "bot_wall, login, sms_code, identity, other)",
                )
            if rule.outcome in VERDICTS:
                verdicts.add(rule.outcome)
                if rule.when.kind in ("not_", "hidden"):
                    self.error(
                        loc + ("when",),
                        f"a {rule.outcome} verdict needs positive evidence, "
                        "not the absence of something",
                    )
        if name == "check" and flow.detect and len(verdicts) < 2:
            missing = set(VERDICTS) - verdicts
            self.warn(
                (*base, "detect"),
                f"no rule gives {', '.join(sorted(missing))}: that verdict can never be reached",
            )

    def _step(
        self, flow: str, loc: tuple[Any, ...], step: Step, confirmed: bool, *, in_test: bool
    ) -> tuple[bool, bool]:
        action = step.action
        args = step.args
        key = loc + ("if" if action == "if" else action,)
        destructive = False
        if action == "goto":
            url = args if isinstance(args, str) else args.url
            self._placeholders(key, url, flow)
            self._host(key, url)
        elif action in ("fill", "select"):
            self._known_selector(key, args.target)
            self._placeholders(key, args.value, flow)
        elif action == "click":
            target = args if isinstance(args, str) else args.target
            self._known_selector(key, target)
            if not isinstance(args, str) and args.destructive:
                destructive = True
                if not confirmed:
                    self.error(
                        key,
                        "a destructive step needs a `confirm` step before it, e.g. "
                        "- confirm: {action: {en: Remove the number from your account.}}",
                    )
                confirmed = False
        elif action == "press":
            self._known_selector(key, args.target)
        elif action == "check":
            self._known_selector(key, args if isinstance(args, str) else args.target)
        elif action == "extract":
            self._known_selector(key, args.target)
        elif action in ("wait_for",):
            self._condition(key, args, flow)
        elif action == "wait_for_url":
            self._placeholders(key, args, flow)
        elif action == "if":
            self._condition(key + ("condition",), args.condition, flow)
        elif action == "retry":
            self._condition(key + ("until",), args.until, flow)
        elif action == "human":
            if args.until is not None:
                self._condition(key + ("until",), args.until, flow)
            if args.wrong is not None:
                self._condition(key + ("wrong",), args.wrong, flow)
            for name in (args.field, args.submit):
                if name is not None:
                    self._known_selector(key, name)
        elif action == "expect":
            self._condition(key + ("condition",), args.condition, flow)
        elif action == "confirm":
            confirmed = True
        elif action == "outcome":
            if args.status not in FLOW_OUTCOMES[flow]:
                self.error(
                    key,
                    f"outcome {args.status!r} is not one a {flow} flow can end with "
                    f"(use one of: {', '.join(FLOW_OUTCOMES[flow])})",
                )
            if args.status in VERDICTS and not _inside_if(loc):
                self.error(
                    key,
                    f"an `outcome: {args.status}` step needs evidence: put it in the `then` of an "
                    "`if` whose condition proves it (an `else` proves nothing)",
                )
        for selector_name in self._selectors_used_by_flow(step):
            if selector_name.startswith("replica_") and not in_test:
                self.error(
                    key,
                    f"selector {selector_name!r} exists only in replicas; flows must not use it",
                )
        return confirmed, destructive

    @staticmethod
    def _selectors_used_by_flow(step: Step) -> list[str]:
        args = step.args
        names = []
        if isinstance(args, str) and step.action in ("click", "check"):
            names.append(args)
        target = getattr(args, "target", None)
        if isinstance(target, str):
            names.append(target)
        return names

    def _condition(self, loc: tuple[Any, ...], cond: Condition, flow: str) -> None:
        for sub_loc, sub in _walk_conditions(cond, loc):
            for key, members in (("any", sub.any), ("all", sub.all)):
                if members == []:
                    self.error(
                        (*sub_loc, key),
                        f"an empty `{key}` "
                        + ("never holds" if key == "any" else "holds on any page")
                        + ": list the conditions, or remove it",
                    )
            if sub.visible is not None:
                self._known_selector(sub_loc, sub.visible)
            if sub.hidden is not None:
                self._known_selector(sub_loc, sub.hidden)
            if sub.url is not None:
                self._placeholders(sub_loc, sub.url, flow)

    def _placeholders(self, loc: tuple[Any, ...], text: str, flow: str) -> None:
        for found in PLACEHOLDER.finditer(text):
            scope, name = found.group(1), found.group(2)
            if scope in ("phone", "new_phone"):
                if name not in PHONE_FIELDS:
                    self.error(
                        loc,
                        f"unknown placeholder {found.group(0)} (use one of: "
                        + ", ".join("{" + scope + "." + f + "}" for f in PHONE_FIELDS)
                        + ")",
                    )
                if scope == "new_phone" and flow != "change":
                    self.error(loc, f"{found.group(0)} is only known in a change flow")
            elif scope != "var":
                self.error(
                    loc,
                    f"unknown placeholder {found.group(0)} (known: phone.*, new_phone.*, var.*)",
                )
        for brace in re.findall(r"\{[^{}]*\}", text):
            if not PLACEHOLDER.fullmatch(brace):
                self.error(
                    loc, f"{brace} is not a placeholder (write {{phone.e164}}, {{var.name}}...)"
                )

    def _host(self, loc: tuple[Any, ...], url: str) -> None:
        if "{" in url.split("/")[2] if url.count("/") >= 2 else False:
            self.error(loc, "the host of a URL cannot come from a placeholder")
            return
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http"):
            self.error(loc, f"{url!r}: only http(s) URLs can be visited")
            return
        if not self.recipe.allows_host(parts.hostname or ""):
            self.error(
                loc,
                f"host {parts.hostname!r} is not in this recipe's domains "
                f"{list(self.recipe.domains)}; add it to `domains` or fix the URL",
            )

    # ------------------------------------------------------------------ verdicts (promise 3)

    def _specific_verdicts(self) -> None:
        """A verdict needs a condition that names something: not one that holds on any page."""
        checked: list[tuple[tuple[Any, ...], Condition, str]] = [
            ((*loc, "when"), rule.when, rule.outcome)
            for loc, rule in self.recipe.verdict_rules()
            if rule.when.kind not in ("not_", "hidden")  # refused above, with its own reason
        ]
        for name, flow in self.recipe.flows.automated().items():
            for loc, step in walk_steps(flow.steps, ("flows", name, "steps")):
                if step.if_ is None:
                    continue
                for inner in step.if_.then:  # the condition proves the branch's own verdict
                    if inner.outcome is not None and inner.outcome.status in VERDICTS:
                        checked.append(
                            ((*loc, "if", "condition"), step.if_.condition, inner.outcome.status)
                        )
                        break
        for loc, cond, verdict in checked:
            reason = match_all_reason(cond, self.recipe.selectors)
            if reason:
                self.error(
                    loc,
                    f"this {verdict} verdict can match any page ({reason}); a verdict needs "
                    "evidence that names what was seen: a text, URL or response of this platform",
                )

    def _domains_shown(self) -> None:
        for index, domain in enumerate(self.recipe.domains):
            warning = punycode_warning(domain)
            if warning:
                self.warn(("domains", index), warning)

    def _somewhere_to_go(self) -> None:
        """A person told `bound` needs a way to change the number: a flow, or manual steps."""
        flows = self.recipe.flows
        says_bound = any(rule.outcome == "bound" for _, rule in self.recipe.verdict_rules())
        says_bound = says_bound or any(
            step.outcome is not None and step.outcome.status == "bound"
            for flow in flows.automated().values()
            for step in flow.walk()
        )
        if says_bound and flows.change is None and flows.unbind is None and flows.manual is None:
            self.warn(
                ("flows",),
                "the recipe can say `bound` but offers no way on: add a change or unbind flow, "
                "or `manual` steps saying where the number is changed (a person told `bound` "
                "has nothing to follow otherwise)",
            )

    # ------------------------------------------------------------------ tests & replica

    def _tests(self) -> None:
        tested: dict[str, set[str]] = {}
        for index, test in enumerate(self.recipe.tests):
            tested.setdefault(test.flow, set()).add(test.expect.outcome)
            refusal = test.flow == "unbind" and self.recipe.flows.no_unbind is not None
            if test.flow not in self.recipe.flows.automated() and not refusal:
                self.error(
                    ("tests", index, "flow"),
                    f"test {test.name!r} runs the {test.flow} flow, which this recipe does "
                    f"not have (it has: {', '.join(self.recipe.flows.automated()) or 'none'})",
                )
            if test.flow == "change" and not test.new_phone:
                self.error(
                    ("tests", index), f"test {test.name!r} runs a change flow and needs `new_phone`"
                )
            from unbinder.phone import parse_phone

            for key in ("phone", "new_phone"):
                value = getattr(test, key)
                if value is None:
                    continue
                try:
                    parse_phone(value, test.region, require_mobile=False)
                except RecipeError as exc:  # pragma: no cover - InvalidPhone is not a RecipeError
                    self.error(("tests", index, key), str(exc))
                except Exception as exc:
                    self.error(("tests", index, key), f"test {test.name!r}: {exc}")
            for kind, steps in (test.human.scripts() if test.human else {}).items():
                for loc, step in walk_steps(steps, ("tests", index, "human", kind)):
                    self._step(test.flow, loc, step, confirmed=True, in_test=True)
        for name, flow in self.recipe.flows.automated().items():
            declared: set[str] = {r.outcome for r in flow.detect}
            declared |= {s.outcome.status for s in flow.walk() if s.outcome is not None}
            if name in ("change", "unbind"):
                declared.add("done")
            for outcome in sorted(declared - tested.get(name, set())):
                flow_key = "" if name == "check" else f"flow: {name}, "
                self.error(
                    ("flows", name),
                    f"the {name} flow can end `{outcome}` but no test expects it; add one under "
                    f"`tests:`, e.g. - {{name: ..., {flow_key}scenario: <a replica scenario "
                    f"that leads there>, phone: ..., expect: {{outcome: {outcome}}}}}",
                )

    def _replica(self) -> None:
        if not self.recipe.flows.automated():
            return
        replica_file = self.fixtures / self.recipe.id / "replica.yaml"
        if not replica_file.is_file():
            self.error(
                ("id",),
                f"no offline replica at {replica_file}; every automated flow needs one: "
                "CONTRIBUTING.md, step 2, shows how to write it (`unbinder recipes new` "
                "scaffolds one for a new platform)",
            )
            return
        from unbinder.browser.replica import load_spec_with_lines, pages_used

        try:
            spec, lines = load_spec_with_lines(replica_file)
        except RecipeError as exc:
            self.problems.append(_located(exc.message, replica_file))
            return
        for index, test in enumerate(self.recipe.tests):
            if test.scenario not in spec.scenarios:
                self.error(
                    ("tests", index, "scenario"),
                    f"scenario {test.scenario!r} is not in {replica_file}"
                    + did_you_mean(test.scenario, spec.scenarios)
                    + f" (known: {', '.join(sorted(spec.scenarios))}); add it under `scenarios:`",
                )
        folder = replica_file.parent
        for loc, page in pages_used(spec):
            if not (folder / page).is_file():
                self.problems.append(
                    Problem(
                        replica_file,
                        nearest_line(lines, loc),
                        f"page {page!r} does not exist in {folder}; create it or fix the name",
                    )
                )
        for index, route in enumerate(spec.routes):
            host = urlsplit(route.url).hostname or ""
            if not self.recipe.allows_host(host):
                self.problems.append(
                    Problem(
                        replica_file,
                        nearest_line(lines, ("routes", index, "url")),
                        f"this route serves {host!r}, which is not in the `domains` of "
                        f"{self.loaded.path.name} {list(self.recipe.domains)}; add the host "
                        "there or fix the url",
                    )
                )


def _located(message: str, default: Path) -> Problem:
    """A `file:line: message` text (from another file, such as replica.yaml) as a Problem."""
    found = re.match(r"^(.+?):(\d+): (.*)$", message, re.S)
    if found:
        return Problem(Path(found.group(1)), int(found.group(2)), found.group(3))
    prefix = f"{default}: "
    return Problem(default, 1, message.removeprefix(prefix))


def _inside_if(loc: tuple[Any, ...]) -> bool:
    """Is the step in the `then` branch of an `if` (whose condition is its evidence)?"""
    branches = [part for part in loc if part in ("then", "else")]
    return bool(branches) and branches[-1] == "then"


def _walk_conditions(
    cond: Condition, loc: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], Condition]]:
    yield loc, cond
    for key, subs in (("any", cond.any), ("all", cond.all)):
        for index, sub in enumerate(subs or []):
            yield from _walk_conditions(sub, (*loc, key, index))
    if cond.not_ is not None:
        yield from _walk_conditions(cond.not_, (*loc, "not"))


def lint_paths(paths: list[Path], fixtures: Path | None = None) -> list[Problem]:
    """Lint files and directories (every *.yaml inside a directory)."""
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.glob("*.yaml") if not p.name.startswith("_"))
        elif path.exists():
            files = [path]
        else:
            problems.append(Problem(path, 1, "no such file or directory"))
            continue
        for file in files:
            problems += lint_file(file, fixtures)
    return problems


def sourced_share(recipes: Iterable[Recipe]) -> Sourcing:
    """The verdict rules of these recipes together, and how many cite a public source
    (`.share` is the fraction; None without verdict rules)."""
    return Sourcing.total(recipe.sourcing() for recipe in recipes)


__all__ = ["FLOW_NAMES", "Problem", "lint_file", "lint_paths", "lint_recipe", "sourced_share"]
