"""A newcomer's mistakes in a recipe: each says what is wrong, where, and what was meant.

No crash, no "not visible within 0s", no counting from zero, no silence about an iframe.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from platforms import make_platform, run

from unbinder.cli import cli
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.engine.locate import Locate, UndefinedSelector
from unbinder.errors import ExitCode
from unbinder.paths import recipes_dir
from unbinder.recipe.lint import lint_file
from unbinder.recipe.model import Alternative

EXAMPLE = recipes_dir() / "example-cn.yaml"


def _recipe(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text, old
    folder = tmp_path / "mine"
    folder.mkdir(exist_ok=True)
    path = folder / "example-cn.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_an_undefined_selector_in_a_detect_rule_is_refused_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _recipe(
        tmp_path, "- when: {visible: slider_captcha}", "- when: {visible: slider_captca}"
    )
    monkeypatch.setenv("UNBINDER_RECIPES", str(path.parent))
    result = CliRunner().invoke(cli, ["recipes", "test", "example-cn"])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert "unexpected failure" not in result.output
    assert (
        "selector 'slider_captca' is not defined in `selectors` (did you mean 'slider_captcha'?)"
        in result.output
    )
    assert f"{path}:" in result.output


def test_recipes_test_lints_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The only test expecting `rate_limited` renamed to expect something else: lint's error.
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "expect: {outcome: rate_limited" in text
    path = _recipe(tmp_path, "expect: {outcome: rate_limited", "expect: {outcome: unknown")
    monkeypatch.setenv("UNBINDER_RECIPES", str(path.parent))
    result = CliRunner().invoke(cli, ["recipes", "test", "example-cn"])
    assert result.exit_code == ExitCode.PROBLEMS, result.output
    assert "the check flow can end `rate_limited` but no test expects it" in result.output
    assert "fix them first" in result.output and "no test ran" in result.output
    assert "PASS" not in result.output


def test_an_undefined_selector_at_run_time_says_not_defined_with_the_closest() -> None:
    locate = Locate({"phone_input": [Alternative(label="手机号")]}, page=lambda: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(UndefinedSelector) as info:
        locate.alternatives("phone_imput")
    assert str(info.value) == (
        "selector 'phone_imput' is not defined in the recipe's `selectors` "
        "(did you mean 'phone_input'?)"
    )


def test_an_enum_typo_has_did_you_mean_and_counts_rules_from_one(tmp_path: Path) -> None:
    path = _recipe(tmp_path, "outcome: not_bound", "outcome: not_bund")
    errors = [str(p) for p in lint_file(path) if p.severity == "error"]
    assert len(errors) == 1, errors
    assert "flows.check.detect[rule 5].outcome: 'not_bund' is not one of " in errors[0]
    assert errors[0].endswith("(did you mean 'not_bound'?)")
    assert ".detect.4." not in errors[0]


def test_a_kind_typo_too(tmp_path: Path) -> None:
    path = _recipe(tmp_path, "kind: captcha", "kind: capcha")
    errors = [str(p) for p in lint_file(path) if p.severity == "error"]
    assert any("[rule 1].kind: 'capcha' is not one of" in e and "'captcha'?" in e for e in errors)


def test_lint_warns_when_bound_leads_nowhere(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    start, end = text.index("  change:\n"), text.index("\nlimits:")
    path = tmp_path / "mine" / "example-cn.yaml"
    path.parent.mkdir()
    # No change flow and no manual steps (and none of the tests of the change flow).
    body = text[:start] + text[end:]
    tests = body.index("\ntests:")
    kept = [
        block
        for block in body[tests:].split("\n  - name: ")
        if "flow: change" not in block and "flow: verify" not in block
    ]
    path.write_text(body[:tests] + "\n  - name: ".join(kept), encoding="utf-8")
    warnings = [str(p) for p in lint_file(path) if p.severity == "warning"]
    assert any("can say `bound` but offers no way on" in w for w in warnings), warnings


# ------------------------------------------------------------------ frames

FRAME_REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
  - url: https://www.{id}.test/login.html
    page: login.html
scenarios:
  default:
    accounts: [{{phone: "{phone}"}}]
"""
FRAME_PAGES = {
    "index.html": '<!doctype html><meta charset="utf-8"><body><h1>首页</h1>'
    '<iframe id="login-frame" src="/login.html"></iframe></body>',
    "login.html": '<!doctype html><meta charset="utf-8"><body><p>该手机号已注册</p>'
    '<button type="button">登录</button></body>',
}


def _frame_platform(tmp_path: Path, steps: str, detect: str = "") -> object:
    body = f"""\
selectors:
  login: [{{role: button, name: 登录}}]
flows:
  check:
    detect_timeout: 2
    steps:
      - goto: https://www.tp.test/
      - wait_for: {{text: 首页}}
{steps}
    detect:
{
        detect
        or '''      - when: {text: 永远不会出现}
        outcome: bound
        evidence: never
      - when: {text: 也不会出现}
        outcome: not_bound
        evidence: never
'''
    }"""
    return make_platform(tmp_path, body, FRAME_PAGES, replica=FRAME_REPLICA)


def test_a_text_condition_that_misses_names_the_iframe_it_is_in(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    platform = _frame_platform(
        tmp_path, "      - wait_for: {text: 该手机号已注册}\n        timeout: 2\n"
    )
    outcome, _ = run(unbinder_browser, platform)  # type: ignore[arg-type]
    assert outcome.status == "error"
    assert outcome.failure is not None
    assert outcome.failure.error == (
        "waited 2s for a condition that did not hold (the text is inside the iframe "
        "'#login-frame': add `frame: '#login-frame'` to the condition)"
    )


def test_a_selector_that_misses_names_the_iframe_it_is_in(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    platform = _frame_platform(tmp_path, "      - click: login\n        timeout: 2\n")
    outcome, _ = run(unbinder_browser, platform)  # type: ignore[arg-type]
    assert outcome.status == "error"
    assert outcome.failure is not None
    assert "(it is inside the iframe '#login-frame': add `frame: '#login-frame'`" in (
        outcome.failure.error
    )


def test_a_detect_race_that_misses_names_the_iframe(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    detect = """\
      - when: {text: 该手机号已注册}
        outcome: bound
        evidence: the platform says the number is registered
      - when: {text: 该手机号未注册}
        outcome: not_bound
        evidence: the platform says it is not
"""
    platform = _frame_platform(tmp_path, "", detect)
    outcome, _ = run(unbinder_browser, platform)  # type: ignore[arg-type]
    assert outcome.status == "unknown"
    assert outcome.reason == (
        "no detect rule matched within 2s (the text is inside the iframe '#login-frame': "
        "add `frame: '#login-frame'` to the condition)"
    )
