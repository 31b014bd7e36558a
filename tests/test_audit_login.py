"""`audit --login`: a platform without an anonymous check is checked by the person's login."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from unbinder.browser.replica import Replica
from unbinder.cli import cli
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.engine.human import ScriptedHuman
from unbinder.jobs.audit import AuditOptions, AuditRun, audit_number
from unbinder.jobs.report import build_report
from unbinder.paths import fixtures_dir, recipes_dir
from unbinder.phone import parse_phone
from unbinder.recipe.load import LoadedRecipe, find_recipe, load_recipe_file
from unbinder.trail import RecordType, Trail

PHONE = parse_phone("+86 138 0013 8000")
EXTRA_SCENARIOS = """\
  another_number:  # logged in, the account shows a number that is not the audited one
    accounts:
      - {phone: "+86 139 0013 9000", password: demo-password, name: 演示用户}
    logged_in: 0
"""


@pytest.fixture
def verify_only(tmp_path: Path) -> tuple[LoadedRecipe, Path]:
    """Example CN without its anonymous check: a platform that only a login can check."""
    text = (recipes_dir() / "example-cn.yaml").read_text(encoding="utf-8")
    without_check = re.sub(r"\n  check:\n.*?(?=\n  verify:\n)", "", text, count=1, flags=re.S)
    # Its embedded tests of the check flow go with it.
    without_check = re.sub(r"\ntests:\n.*", "\n", without_check, flags=re.S)
    assert "\n  check:" not in without_check
    recipe = tmp_path / "recipes" / "example-cn.yaml"
    recipe.parent.mkdir()
    recipe.write_text(without_check, encoding="utf-8")
    fixtures = tmp_path / "fixtures"
    shutil.copytree(fixtures_dir() / "example-cn", fixtures / "example-cn")
    spec = fixtures / "example-cn" / "replica.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + EXTRA_SCENARIOS, encoding="utf-8")
    return load_recipe_file(recipe), fixtures


def _login_script() -> ScriptedHuman:
    test = next(
        t for t in find_recipe("example-cn").recipe.tests if t.name.startswith("verify reads")
    )
    assert test.human is not None
    return ScriptedHuman(test.human)


def _audit(
    thread: BrowserThread,
    loaded: LoadedRecipe,
    fixtures: Path,
    scenario: str,
    trail: Trail | None = None,
    *,
    skip: bool = False,
) -> AuditRun:
    asked: list[str] = []

    def choose(recipe: LoadedRecipe) -> bool:
        asked.append(recipe.id)
        return not skip

    async def go(session: object) -> AuditRun:
        return await audit_number(
            PHONE,
            [loaded],
            options=AuditOptions(),
            trail=trail,
            fixtures=True,
            session=session,  # type: ignore[arg-type]
            replicas=lambda r: Replica.load(r.id, scenario, fixtures),
            human=_login_script(),
            login=True,
            choose=choose,
        )

    run = thread.run(go)
    assert asked == ["example-cn"]
    return run


def test_a_login_reads_the_audited_number_as_bound(
    verify_only: tuple[LoadedRecipe, Path], unbinder_browser: BrowserThread, tmp_path: Path
) -> None:
    loaded, fixtures = verify_only
    with Trail.create(tmp_path / "trail", "passphrase", anchor=None) as trail:
        run = _audit(unbinder_browser, loaded, fixtures, "registered", trail)
        [item] = run.result.results
        assert (item.status, item.via) == ("bound", "login")
        assert item.outcome is not None and item.outcome.variables["bound_number"] == "138****8000"
        assert item.outcome.screenshots  # the same evidence as a check: the page, as seen
        assert run.result.summary()["checked_by_login"] == 1
        findings = [r.payload["outcome"] for r in trail.records() if r.type == RecordType.FINDING]
        assert [f["outcome"] for f in findings] == ["manual", "bound"]
        assert findings[-1]["via"] == "login"
        doc = build_report(trail)
    [state] = doc["numbers"][0]["platforms"]
    assert (state["state"], state["checked"], state["via"]) == ("bound", True, "login")
    assert doc["summary"]["checked_by_login"] == 1


def test_another_masked_number_on_the_account_is_not_bound(
    verify_only: tuple[LoadedRecipe, Path], unbinder_browser: BrowserThread
) -> None:
    loaded, fixtures = verify_only
    [item] = _audit(unbinder_browser, loaded, fixtures, "another_number").result.results
    assert (item.status, item.via) == ("not_bound", "login")
    assert item.outcome is not None and item.outcome.evidence is not None
    assert item.outcome.evidence.matched == "139****9000, which cannot be +86 138****8000"


def test_an_account_without_a_number_is_not_bound(
    verify_only: tuple[LoadedRecipe, Path], unbinder_browser: BrowserThread
) -> None:
    loaded, fixtures = verify_only
    [item] = _audit(unbinder_browser, loaded, fixtures, "no_phone").result.results
    assert (item.status, item.via) == ("not_bound", "login")
    assert item.outcome is not None and item.outcome.evidence is not None
    assert "未绑定手机" in item.outcome.evidence.matched


def test_a_skipped_platform_stays_unchecked(
    verify_only: tuple[LoadedRecipe, Path], unbinder_browser: BrowserThread
) -> None:
    loaded, fixtures = verify_only
    run = _audit(unbinder_browser, loaded, fixtures, "registered", skip=True)
    [item] = run.result.results
    assert (item.status, item.via) == ("manual", "check")
    assert run.result.summary()["checked_by_login"] == 0


def test_keep_session_needs_login_and_the_trail() -> None:
    base = ["audit", "+86", "138", "0013", "8000", "--fixtures", "--yes"]
    alone = CliRunner().invoke(cli, [*base, "--keep-session"])
    assert alone.exit_code == 2
    assert "--keep-session goes with --login" in alone.output
    no_trail = CliRunner().invoke(cli, [*base, "--login", "--keep-session", "--no-trail"])
    assert no_trail.exit_code == 2
    assert "needs the trail" in no_trail.output
