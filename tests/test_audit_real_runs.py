"""Real runs off the replicas: what starts a platform's interval, and offline told apart."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from unbinder.browser.replica import Replica
from unbinder.cli import cli
from unbinder.cli.progress import offline_line
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.jobs.audit import AuditOptions, AuditResult, run_audit
from unbinder.jobs.throttle import Throttle
from unbinder.paths import fixtures_dir
from unbinder.phone import parse_phone
from unbinder.recipe.load import LoadedRecipe, find_recipe

PHONE = parse_phone("+86 138 0013 8000")


def _offline_fixtures(tmp_path: Path, *ids: str) -> Path:
    """Copies of the replicas with an `offline` scenario: every request fails as DNS would."""
    root = tmp_path / "fixtures"
    for pid in ids:
        shutil.copytree(fixtures_dir() / pid, root / pid)
        spec = root / pid / "replica.yaml"
        spec.write_text(
            spec.read_text(encoding="utf-8") + "  offline:\n    offline: true\n", encoding="utf-8"
        )
    return root


def _audit(
    thread: BrowserThread,
    recipes: list[LoadedRecipe],
    scenario: str,
    fixtures: Path,
    throttle: Throttle | None,
    *,
    recheck: bool = False,
) -> AuditResult:
    async def go(session: object) -> AuditResult:
        return await run_audit(
            session,  # type: ignore[arg-type]
            recipes,
            PHONE,
            options=AuditOptions(screenshots=False, recheck=recheck),
            replicas=lambda loaded: Replica.load(loaded.id, scenario, fixtures),
            throttle=throttle,
        )

    return thread.run(go)


def test_offline_is_network_and_leaves_the_platform_checkable(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    intl = find_recipe("example-intl")  # limits.min_interval: 86400
    fixtures = _offline_fixtures(tmp_path, "example-intl")
    throttle_dir = tmp_path / "state"
    for _ in range(2):  # no answer twice: never throttled
        result = _audit(unbinder_browser, [intl], "offline", fixtures, Throttle(throttle_dir))
        [item] = result.results
        assert item.status == "unknown"
        assert item.outcome is not None and item.outcome.kind == "network"
        assert result.summary()["checked_automatically"] == 0
    answered = _audit(unbinder_browser, [intl], "not_registered", fixtures, Throttle(throttle_dir))
    assert answered.results[0].status == "not_bound"
    again = _audit(unbinder_browser, [intl], "not_registered", fixtures, Throttle(throttle_dir))
    assert again.results[0].status == "throttled"
    forced = _audit(
        unbinder_browser, [intl], "not_registered", fixtures, Throttle(throttle_dir), recheck=True
    )
    assert forced.results[0].status == "not_bound"


def test_a_captcha_or_a_rate_limit_does_not_lock_the_platform_for_a_day(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    social = find_recipe("demo-social")  # a slider captcha on every check
    throttle = tmp_path / "state"
    first = _audit(unbinder_browser, [social], "default", fixtures_dir(), Throttle(throttle))
    assert first.results[0].status == "needs_human"
    second = _audit(unbinder_browser, [social], "default", fixtures_dir(), Throttle(throttle))
    assert second.results[0].status == "needs_human"  # not throttled: a headed rerun may follow


def test_most_platforms_failing_on_the_network_says_the_machine_looks_offline(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    recipes = [find_recipe("example-intl"), find_recipe("example-cn")]
    fixtures = _offline_fixtures(tmp_path, "example-intl", "example-cn")
    result = _audit(unbinder_browser, recipes, "offline", fixtures, None)
    assert result.looks_offline
    assert result.summary()["network"] == 2
    line = offline_line(result, "en")
    assert line is not None and "looks offline" in line
    zh = offline_line(result, "zh-CN")
    assert zh is not None and "没有联网" in zh
    online = _audit(unbinder_browser, recipes, "default", fixtures_dir(), None)
    assert not online.looks_offline
    assert offline_line(online, "en") is None


def test_recheck_warns_what_the_interval_protects() -> None:
    args = ["audit", "+86", "138", "0013", "8000", "--fixtures", "--yes", "--no-trail"]
    result = CliRunner().invoke(cli, [*args, "--platform", "example-intl", "--recheck"])
    assert result.exit_code == 0, result.output
    assert "--recheck: checking again inside a platform's minimum interval" in result.stderr


def test_the_audit_and_the_report_show_each_recipes_confidence(tmp_path: Path) -> None:
    from unbinder.recipe.catalog import word

    alipay = find_recipe("alipay").recipe
    confidence = alipay.sourcing().confidence
    # Wide enough that the platform cell holds its note on one line (tests/test_terminal_fit.py
    # covers how the table folds at 80 columns).
    env = {
        "UNBINDER_HOME": str(tmp_path / "home"),
        "UNBINDER_PASSPHRASE": "a passphrase",
        "COLUMNS": "240",
    }
    for lang in ("en", "zh-CN"):
        args = ["audit", "+86", "138", "0013", "8000", "--fixtures", "--yes", "--lang", lang]
        shown = CliRunner().invoke(cli, [*args, "--platform", "alipay"], env=env)
        assert shown.exit_code == 0, shown.output
        expected = f"{word('statuses', 'unverified', lang)}, {word('confidence', confidence, lang)}"
        assert f"({expected})" in shown.stdout
    report = CliRunner().invoke(cli, ["report", "--format", "json", "--out", "-"], env=env)
    assert report.exit_code == 0, report.output
    import json

    [state] = json.loads(report.stdout)["numbers"][0]["platforms"]
    assert state["recipe"] == f"unverified, {word('confidence', confidence, 'en')}"
