"""`recipes test ID --live`: what an outcome proposes, the confirmation, and the two-line edit.

The live site cannot be reached here, so the flow runs against the recipe's replica, injected
through the library (`replica=`); the browser, the engine and the file update are the real ones.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from unbinder.browser.replica import Replica
from unbinder.cli import cli
from unbinder.contrib import live
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.contrib.scaffold import scaffold
from unbinder.engine import Outcome
from unbinder.engine.outcome import Evidence, StepFailure
from unbinder.errors import RecipeError
from unbinder.phone import parse_phone
from unbinder.recipe.lint import lint_file
from unbinder.recipe.load import LoadedRecipe, load_recipe_file

TODAY = dt.date(2025, 3, 14)
PHONE = "+1 201-555-0123"  # the scaffold's made-up number for US


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UNBINDER_RECIPES", str(tmp_path / "recipes"))
    monkeypatch.setenv("UNBINDER_FIXTURES", str(tmp_path / "fixtures"))
    scaffold("livey", name="Livey", domain="livey.example")
    return tmp_path


def _loaded(project: Path) -> LoadedRecipe:
    return load_recipe_file(project / "recipes" / "livey.yaml")


def _check(browser: BrowserThread, loaded: LoadedRecipe, project: Path, scenario: str) -> Outcome:
    replica = Replica.load("livey", scenario, project / "fixtures")

    async def go(session: Any) -> Outcome:
        return await live.run_live(session, loaded, parse_phone(PHONE), replica=replica)

    return browser.run(go)


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_a_confirmed_verdict_marks_the_recipe_working_and_nothing_else(
    project: Path, unbinder_browser: BrowserThread
) -> None:
    loaded = _loaded(project)
    before = loaded.path.read_text(encoding="utf-8")
    outcome = _check(unbinder_browser, loaded, project, "registered")
    assert outcome.status == "bound"
    asked: list[live.Proposal] = []
    report = live.settle(loaded, outcome, confirm=lambda p: asked.append(p) or True, today=TODAY)
    assert report.applied
    assert asked == [live.Proposal("working", "2025-03-14", "a verdict with evidence")]
    after = loaded.path.read_text(encoding="utf-8")
    changed = _changed_lines(before, after)
    assert [new.split("#")[0].rstrip() for _, new in changed] == [
        "status: working",
        'last_verified: "2025-03-14"',
    ]
    status_old, status_new = changed[0]  # the author's comment keeps its column
    assert status_old.index("#") == status_new.index("#") > 0
    assert [str(p) for p in lint_file(loaded.path) if p.severity == "error"] == []
    updated = load_recipe_file(loaded.path).recipe
    assert (updated.status, updated.last_verified) == ("working", "2025-03-14")


def test_declining_leaves_the_file_byte_for_byte(
    project: Path, unbinder_browser: BrowserThread
) -> None:
    loaded = _loaded(project)
    before = loaded.path.read_bytes()
    outcome = _check(unbinder_browser, loaded, project, "not_registered")
    assert outcome.status == "not_bound"
    report = live.settle(loaded, outcome, confirm=lambda p: False, today=TODAY)
    assert report.proposal is not None and not report.applied
    assert loaded.path.read_bytes() == before


def test_a_captcha_proposes_nothing_and_asks_nothing(
    project: Path, unbinder_browser: BrowserThread
) -> None:
    loaded = _loaded(project)
    before = loaded.path.read_bytes()
    outcome = _check(unbinder_browser, loaded, project, "captcha")
    assert outcome.status == "needs_human"

    def never(proposal: live.Proposal) -> bool:
        raise AssertionError("asked to confirm a proposal that says nothing")

    report = live.settle(loaded, outcome, confirm=never, today=TODAY)
    assert report.proposal is None and not report.applied
    assert loaded.path.read_bytes() == before


def _outcome(status: str, **kwargs: Any) -> Outcome:
    return Outcome(platform="x", flow="check", status=status, **kwargs)


EVIDENCE = Evidence(rule="the page says so", matched="text 'x'", url="https://x.example/")


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (_outcome("bound", evidence=EVIDENCE), ("working", "2025-03-14")),
        (_outcome("not_bound", evidence=EVIDENCE), ("working", "2025-03-14")),
        (_outcome("bound", evidence=EVIDENCE, degraded=True), ("degraded", "2025-03-14")),
        (
            _outcome("error", failure=StepFailure("3", "click next", "next", "not found")),
            ("broken", None),
        ),
        (_outcome("bound"), None),  # a verdict without evidence proves nothing
        (_outcome("needs_human", kind="captcha", evidence=EVIDENCE), None),
        (_outcome("rate_limited", evidence=EVIDENCE), None),
        (_outcome("unknown", reason="no detect rule matched within 15s"), None),
    ],
)
def test_what_each_outcome_proposes(
    outcome: Outcome, expected: tuple[str, str | None] | None
) -> None:
    proposal = live.propose(outcome, TODAY)
    assert (None if proposal is None else (proposal.status, proposal.last_verified)) == expected


def test_unreachable_is_told_apart_from_a_broken_recipe() -> None:
    dns = _outcome(
        "error",
        failure=StepFailure(
            "1", "goto https://a.example/", None, "net::ERR_NAME_NOT_RESOLVED at https://a.example/"
        ),
    )
    slow = _outcome(
        "unknown",
        reason="the page did not load: Timeout 10000ms exceeded",
        failure=StepFailure("1", "goto https://a.example/", None, "Timeout 10000ms exceeded"),
    )
    broken = _outcome("error", failure=StepFailure("3", "click next", "next", "not visible"))
    assert live.unreachable(dns) == "net::ERR_NAME_NOT_RESOLVED"
    assert live.unreachable(slow) == "the first page did not load in time"
    assert live.unreachable(broken) is None


RECIPE = """\
# yaml-language-server: $schema=schema.json
id: x
name: {en: X}
status: unverified     # leave it
domains: [x.example]
flows: {}
"""


def test_update_keeps_comments_and_inserts_a_missing_last_verified() -> None:
    out = live.update_status_lines(RECIPE, "working", "2025-03-14")
    assert out.splitlines()[3:5] == [
        "status: working        # leave it",
        'last_verified: "2025-03-14"',
    ]
    assert out.replace('status: working        # leave it\nlast_verified: "2025-03-14"\n', "") == (
        RECIPE.replace("status: unverified     # leave it\n", "")
    )
    crlf = RECIPE.replace("\n", "\r\n")
    assert live.update_status_lines(crlf, "broken", None).count("\r\n") == crlf.count("\r\n")


@pytest.mark.parametrize(
    "text",
    [
        RECIPE + "status: working\n",  # twice
        RECIPE.replace(
            "status: unverified     # leave it", "status: >-\n  working"
        ),  # not one line
    ],
)
def test_update_refuses_what_it_cannot_edit_safely(text: str) -> None:
    with pytest.raises(RecipeError):
        live.update_status_lines(text, "working", "2025-03-14")


def test_cli_without_internet_is_one_clear_line(home: Path) -> None:
    result = CliRunner().invoke(
        cli, ["recipes", "test", "example-cn", "--live", "--phone", "+86 138 0013 8000"]
    )
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert "could not reach Example CN (net::ERR_NAME_NOT_RESOLVED)" in errors[0]
    assert "Nothing was changed." in errors[0]
    assert "+86 138****8000" in result.output
    assert "13800138000" not in result.output and "138 0013 8000" not in result.output


def test_cli_confirmation_writes_only_after_yes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = live.check_live

    def on_the_replica(loaded: LoadedRecipe, phone: Any, **kwargs: Any) -> Outcome:
        replica = Replica.load(loaded.id, "registered", project / "fixtures")
        return real(loaded, phone, **{**kwargs, "replica": replica})

    monkeypatch.setattr(live, "check_live", on_the_replica)
    recipe = project / "recipes" / "livey.yaml"
    before = recipe.read_bytes()
    args = ["recipes", "test", "livey", "--live", "--phone", PHONE]
    declined = CliRunner().invoke(cli, args, input="n\n")
    assert declined.exit_code == 0, declined.output
    assert "outcome: bound" in declined.output
    assert "evidence: the platform asks for the password of an existing account" in declined.output
    assert "status: unverified -> working" in declined.output
    assert "Nothing changed." in declined.output
    assert recipe.read_bytes() == before
    accepted = CliRunner().invoke(cli, args, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert f"Updated {recipe}." in accepted.output
    assert load_recipe_file(recipe).recipe.status == "working"
    for output in (declined.output, accepted.output):
        assert "+1 201***0123" in output
        assert "2015550123" not in output.replace("-", "").replace(" ", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["recipes", "test", "example-cn", "--live"], "one recipe with your own number"),
        (
            [
                "recipes",
                "test",
                "example-cn",
                "example-intl",
                "--live",
                "--phone",
                "+86 138 0013 8000",
            ],
            "one recipe",
        ),
        (["recipes", "test", "example-cn", "--live", "--phone", "12"], "no country code"),
        (["recipes", "test", "example-cn", "--phone", "+86 138 0013 8000"], "go with --live"),
    ],
)
def test_cli_live_bad_input_exits_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_cli_live_refuses_a_check_with_side_effects_unless_allowed(project: Path) -> None:
    recipe = project / "recipes" / "livey.yaml"
    recipe.write_text(
        recipe.read_text(encoding="utf-8").replace("sends_sms: false", "sends_sms: true"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["recipes", "test", "livey", "--live", "--phone", PHONE])
    assert result.exit_code == 2
    assert "declares side effects (sends_sms)" in result.output
    assert "--allow-side-effects" in result.output


def test_check_live_uses_its_own_browser_and_the_injected_replica(project: Path) -> None:
    """The synchronous entry point the CLI calls, end to end on the replica."""
    loaded = _loaded(project)
    replica = Replica.load("livey", "registered", project / "fixtures")
    outcome = functools.partial(live.check_live, replica=replica)(loaded, parse_phone(PHONE))
    assert outcome.status == "bound"
