"""A failed recipe test says where (recipe lines), why, how to fix it, and what to paste."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unbinder.contrib import recipe_tests
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.contrib.recipe_tests import run_test, step_loc
from unbinder.contrib.scaffold import scaffold
from unbinder.recipe.load import load_recipe_file


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def _run(
    browser: BrowserThread, recipe: Path, fixtures: Path, index: int
) -> recipe_tests.TestResult:
    loaded = load_recipe_file(recipe)
    test = loaded.recipe.tests[index]

    async def go(session: Any) -> recipe_tests.TestResult:
        return await run_test(session, loaded, test, index, fixtures)

    return browser.run(go)


def _platform(tmp_path: Path) -> tuple[Path, Path, str]:
    made = scaffold("reports", name="Reports", domain="reports.example", root=tmp_path)
    return made.recipe, tmp_path / "fixtures", made.recipe.read_text(encoding="utf-8")


def test_a_selector_that_finds_nothing_names_the_step_and_selector_lines(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    recipe, fixtures, text = _platform(tmp_path)
    text = (
        text.replace('name: "Next"', 'name: "Continue"')
        .replace('text: "Next"', 'text: "Continue"')
        .replace("- click: next_button\n", "- click: next_button\n        timeout: 2\n")
    )
    recipe.write_text(text, encoding="utf-8")
    result = _run(unbinder_browser, recipe, fixtures, 0)
    assert not result.passed
    report = "\n".join(result.report())
    step_line = _line_of(text, "- click: next_button")
    selector_line = _line_of(text, "  next_button:")
    assert report.startswith(f"{recipe}:{_line_of(text, 'expect: {outcome: bound')}: test ")
    assert (
        f"step 3 ({recipe}:{step_line}) found nothing visible for selector 'next_button'" in report
    )
    assert f"({recipe}:{selector_line})" in report
    assert "role='button' name='Continue'; text='Continue'" in report
    assert "expect: {outcome: error}" in report


def test_no_matching_detect_rule_points_at_the_rules(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    recipe, fixtures, text = _platform(tmp_path)
    text = text.replace(
        'when: {text: "No account uses this phone number"}', 'when: {text: "No such account"}'
    ).replace("flows:\n  check:\n", "flows:\n  check:\n    detect_timeout: 2\n")
    recipe.write_text(text, encoding="utf-8")
    result = _run(unbinder_browser, recipe, fixtures, 1)  # an unknown number is not bound
    report = "\n".join(result.report())
    assert "outcome is 'unknown', expected 'not_bound'" in report
    assert "there is no evidence (expected it to contain" in report
    assert f"none of the detect rules ({recipe}:{_line_of(text, '    detect:')}) matched" in report
    assert "scenario 'not_registered'" in report


def test_the_observed_expect_line_pasted_in_makes_the_test_pass(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    recipe, fixtures, text = _platform(tmp_path)
    wrong = "expect: {outcome: not_bound, evidence: password}"
    text = text.replace("expect: {outcome: bound, evidence: password}", wrong)
    recipe.write_text(text, encoding="utf-8")
    result = _run(unbinder_browser, recipe, fixtures, 0)
    report = result.report()
    joined = "\n".join(report)
    rule_line = _line_of(text, 'when: {text: "Enter the password for this account"}')
    assert f"the detect rule at {recipe}:{rule_line} (the platform asks for the password" in joined
    pasted = next(line.strip() for line in report if line.strip().startswith("expect: "))
    assert pasted.startswith("expect: {outcome: bound")
    recipe.write_text(text.replace(wrong, pasted), encoding="utf-8")
    assert _run(unbinder_browser, recipe, fixtures, 0).passed


def test_step_paths_map_to_recipe_locations() -> None:
    assert step_loc("check", "3") == ("flows", "check", "steps", 2)
    assert step_loc("verify", "2.then.1") == ("flows", "verify", "steps", 1, "if", "then", 0)
    assert step_loc("check", "4.try2.1") == ("flows", "check", "steps", 3, "retry", "steps", 0)
    assert step_loc("change", "human.1") is None
    assert step_loc("check", "-") is None
