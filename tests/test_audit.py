"""`unbinder audit` end to end: real Chromium, offline replicas, mixed outcomes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from platforms import CHECK_FLOW, check_page, make_platform

from unbinder.browser.replica import Replica
from unbinder.cli import cli
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.engine.human import ScriptedHuman
from unbinder.jobs.audit import AuditOptions, AuditResult, run_audit
from unbinder.jobs.throttle import Throttle
from unbinder.paths import fixtures_dir, recipes_dir
from unbinder.phone import parse_phone
from unbinder.recipe.load import find_recipe
from unbinder.recipe.model import HumanScript, Step

PHONE = ["+86", "138", "0013", "8000"]
DEMO = [
    "example-cn",
    "example-intl",
    "demo-social",
    "demo-food",
    "demo-travel",
    "demo-chat",
    "demo-video",
]

EXPECTED_TABLE = """\
                                                                                        Audit of +86 138****8000

 platform                    outcome          evidence                                                                      what to do next
 ──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
 Example CN (unverified)     BOUND            the platform's lookup says an account exists for this number: response POST   Move or remove it: [1]
                                              passport.example-cn.test/api/account/exists: data.exists = true
 Demo Social (unverified)    needs a person   a slider captcha guards the account finder: captcha is visible                Solve the check yourself: [2]
 Demo Food (unverified)      rate limited     the platform asks to slow down: text '请求过于频繁，请稍后再试'               The platform asked to slow down: check again later.
 Demo Travel (broken)        recipe error     step 3 `click next` (selector next): no alternative of selector 'next'        The recipe no longer fits the page: check by hand ([3]).
                                              became visible within 3s
 Demo Chat (unverified)      manual           The number can only be changed in the app.                                    In the app: Open Demo Chat on your phone > Me > Settings > Account security
                                                                                                                            > Phone number > Choose "Change phone number", enter the new number and the
                                                                                                                            code sent to it. Then record it: [4]
 Demo Video (unverified)     skipped          skipped: this check sends an SMS to the number                                This check texts the number or notifies its owner. If you accept that: [5]
 Example Intl (unverified)   not bound        the platform says no account uses this number: text "Couldn't find your       Nothing to do.
                                              Example Account"

7 platforms: 2 checked automatically (1 bound), 1 without an answer, 2 need a person, 1 manual, 1 skipped.
Still bound (1): Example CN.
Need you (2): Demo Social, Demo Food.
No answer yet (1): Demo Travel.

Commands to copy (OLD and PHONE stand for the number checked, NEW for your new one):
  [1] unbinder unbind example-cn --phone OLD --new-phone NEW
  [2] unbinder audit PHONE --platform demo-social --headed
  [3] unbinder recipes show demo-travel
  [4] unbinder mark demo-chat --phone OLD --status changed
  [5] unbinder audit PHONE --platform demo-video --allow-side-effects
"""


def _audit(*args: str, env: dict[str, str] | None = None) -> object:
    platforms = [a for p in DEMO for a in ("--platform", p)]
    runner = CliRunner(env={"COLUMNS": "200", **(env or {})})
    return runner.invoke(
        cli, ["audit", *PHONE, "--fixtures", "--yes", "--no-trail", *platforms, *args]
    )


def test_mixed_outcomes_table_is_exact() -> None:
    result = _audit()
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    # Exact, but for the padding rich puts after the centred title.
    lines = [line.rstrip() for line in result.stdout.splitlines()]  # type: ignore[attr-defined]
    assert lines == EXPECTED_TABLE.splitlines()
    progress = result.stderr.splitlines()  # type: ignore[attr-defined]
    assert len(progress) == 7
    assert all(line.startswith(f"[{i}/7] ") for i, line in enumerate(progress, start=1))


def _stable(doc: dict[str, object]) -> dict[str, object]:
    """The JSON without what varies between runs (times)."""
    doc = json.loads(json.dumps(doc))
    for key in ("started_at", "finished_at"):
        assert isinstance(doc.pop(key), str)
    for platform in doc["platforms"]:  # type: ignore[attr-defined]
        timings = platform.pop("timings_ms")
        assert timings["total"] >= 0
        assert platform.pop("recipe_version")
    return doc


def test_mixed_outcomes_json_is_exact() -> None:
    result = _audit("--json")
    assert result.exit_code == 0  # type: ignore[attr-defined]
    doc = _stable(json.loads(result.stdout))  # type: ignore[attr-defined]
    assert doc["schema"] == "unbinder.audit/1"
    assert doc["phone"] == {"masked": "+86 138****8000"}
    assert doc["mode"] == "fixtures"
    assert doc["interrupted"] is False
    assert doc["summary"] == {
        "platforms": 7,
        "finished": 7,
        "checked_automatically": 2,  # answers only: the broken recipe's error is no answer
        "checked_by_login": 0,
        "no_answer": 1,
        "network": 0,
        "need_a_person": 2,
        "manual": 1,
        "skipped": 1,
        "status_bound": 1,
        "status_error": 1,
        "status_manual": 1,
        "status_needs_human": 1,
        "status_not_bound": 1,
        "status_rate_limited": 1,
        "status_skipped": 1,
    }
    by_id = {p["id"]: p for p in doc["platforms"]}  # type: ignore[attr-defined]
    assert [p["id"] for p in doc["platforms"]] == DEMO  # type: ignore[attr-defined]
    assert by_id["example-cn"] == {
        "id": "example-cn",
        "name": "Example CN",
        "recipe_status": "unverified",
        "recipe_confidence": "assumed",
        "via": "check",
        "outcome": "bound",
        "kind": None,
        "evidence": {
            "rule": "the platform's lookup says an account exists for this number",
            "matched": "response POST passport.example-cn.test/api/account/exists: data.exists = true",
            "url": "https://passport.example-cn.test/forgot",
            "selector": None,
        },
        "summary": "the platform's lookup says an account exists for this number: response POST "
        "passport.example-cn.test/api/account/exists: data.exists = true",
        "next_step": "Move or remove it: unbinder unbind example-cn --phone OLD --new-phone NEW",
        "attempts": 1,
        "degraded": False,
        "warnings": [],
        "blocked": [],
        "failure": None,
        "reason": None,
    }
    assert by_id["demo-social"]["outcome"] == "needs_human"
    assert by_id["demo-social"]["kind"] == "captcha"
    assert by_id["demo-food"]["outcome"] == "rate_limited"
    assert by_id["demo-food"]["attempts"] == 3  # retried twice with backoff, then reported
    assert by_id["demo-travel"]["failure"] == {
        "step": "3",
        "description": "click next",
        "selector": "next",
        "error": "no alternative of selector 'next' became visible within 3s",
    }
    assert by_id["demo-chat"]["outcome"] == "manual"
    assert by_id["demo-chat"]["reason"] == "The number can only be changed in the app."
    assert by_id["demo-video"]["outcome"] == "skipped"
    assert "13800138000" not in result.stdout  # type: ignore[attr-defined]


def test_show_number_puts_it_in_the_json() -> None:
    result = _audit("--json", "--show-number", "--platform", "demo-chat")
    doc = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert doc["phone"] == {"masked": "+86 138****8000", "e164": "+8613800138000"}


def test_side_effect_checks_run_only_when_allowed() -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    base = [
        "audit",
        *PHONE,
        "--fixtures",
        "--yes",
        "--no-trail",
        "--json",
        "--platform",
        "demo-video",
    ]
    skipped = json.loads(runner.invoke(cli, base).stdout)["platforms"][0]
    assert skipped["outcome"] == "skipped"
    assert skipped["reason"] == "skipped: this check sends an SMS to the number"
    ran = json.loads(runner.invoke(cli, [*base, "--allow-side-effects"]).stdout)["platforms"][0]
    assert ran["outcome"] == "bound"


def test_one_hanging_platform_does_not_stop_the_others(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    hang_replica = """\
    region: CN
    routes:
      - url: https://www.{id}.test/
        page: index.html
        gate: page
    scenarios:
      default:
        accounts: []
        gates: {{page: {{hang: true}}}}
    """
    body = CHECK_FLOW.replace(
        "      - goto: https://www.tp.test/\n",
        "      - goto: https://www.tp.test/\n        timeout: 3\n",
    )
    hanging = make_platform(tmp_path, body, {"index.html": check_page()}, replica=hang_replica)
    others = [find_recipe(i) for i in ("example-cn", "example-intl", "demo-social")]

    def replica_for(loaded: object) -> Replica:
        rid = loaded.id  # type: ignore[attr-defined]
        return Replica.load(rid, "default", hanging.fixtures if rid == "tp" else fixtures_dir())

    async def go(session: object) -> AuditResult:
        return await run_audit(
            session,  # type: ignore[arg-type]
            [hanging.loaded, *others],
            parse_phone("+86 138 0013 8000"),
            options=AuditOptions(concurrency=2, screenshots=False),
            replicas=replica_for,
        )

    result = unbinder_browser.run(go)
    statuses = {r.id: r.status for r in result.results}
    assert statuses == {
        "tp": "unknown",
        "example-cn": "bound",
        "example-intl": "not_bound",
        "demo-social": "needs_human",
    }
    assert "did not load" in (
        result.results[[r.id for r in result.results].index("tp")].outcome.reason or ""
    )  # type: ignore[union-attr]


def test_headed_human_solves_the_captcha_and_the_check_goes_on(
    unbinder_browser: BrowserThread,
) -> None:
    social = find_recipe("demo-social")
    human = ScriptedHuman(HumanScript(captcha=[Step.model_validate({"click": "slider"})]))

    async def go(session: object) -> AuditResult:
        return await run_audit(
            session,  # type: ignore[arg-type]
            [social],
            parse_phone("+86 138 0013 8000"),
            options=AuditOptions(screenshots=False),
            replicas=lambda loaded: Replica.load(loaded.id),
            human=human,
        )

    result = unbinder_browser.run(go)
    assert [r.status for r in result.results] == ["bound"]
    assert [h.kind for h in human.handoffs] == ["captcha"]


def test_minimum_interval_is_enforced_across_runs(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    intl = find_recipe("example-intl")  # limits.min_interval: 86400
    phone = parse_phone("+86 138 0013 8000")

    async def go(session: object) -> AuditResult:
        return await run_audit(
            session,  # type: ignore[arg-type]
            [intl],
            phone,
            options=AuditOptions(screenshots=False),
            replicas=lambda loaded: Replica.load(loaded.id),
            throttle=Throttle(tmp_path / "state"),  # a new object each run: state is on disk
        )

    first = unbinder_browser.run(go)
    second = unbinder_browser.run(go)
    assert first.results[0].status == "not_bound"
    assert second.results[0].status == "throttled"
    assert "next check allowed after" in second.results[0].note
    state = (tmp_path / "state" / "throttle.json").read_text()
    assert "13800138000" not in state
    assert "+8613800138000" not in state


def test_interruption_keeps_what_finished(unbinder_browser: BrowserThread) -> None:
    recipes = [find_recipe(i) for i in ("demo-chat", "demo-travel")]
    phone = parse_phone("+86 138 0013 8000")
    result = AuditResult(phone=phone, fixtures=True)

    async def go(session: object) -> None:
        task = asyncio.ensure_future(
            run_audit(
                session,
                recipes,
                phone,
                result=result,
                replicas=lambda loaded: Replica.load(loaded.id),
            )  # type: ignore[arg-type]
        )
        while not result.results:
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    unbinder_browser.run(go)
    assert result.interrupted
    assert [r.id for r in result.results] == ["demo-chat"]
    assert result.finished_at is not None


def test_ctrl_c_stops_cleanly_and_prints_what_finished(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "UNBINDER_HOME": str(tmp_path / "home"),
        "COLUMNS": "200",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "unbinder",
            "audit",
            *PHONE,
            "--fixtures",
            "--yes",
            "--no-trail",
            "--platform",
            "demo-chat",
            "--platform",
            "demo-travel",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # "[1/2] Demo Chat: manual" comes at once; travel takes seconds
    assert "Demo Chat" in first
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Demo Chat" in out
    assert "Demo Travel" not in out
    assert "Interrupted" in out + err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["12345", "--region", "CN"], 2, "not a valid phone number"),
        (["abc"], 2, "the phone number contains letters"),
        ([""], 2, "the phone number is empty"),
        (["+86"], 2, "cannot read the input (2 digits) as a phone number"),
        (["+86 138 0013 8000 0000 0000"], 2, "as a phone number (too long)"),
        (["138001380001234567"], 2, "the number has no country code"),
        (["+86 010 1234 5678"], 2, "not a mobile number"),
        ([*PHONE, "--platform", "nosuch"], 2, "no recipe for platform 'nosuch'"),
        ([*PHONE, "--platform", "demo-chat"], 2, "demo platform"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(cli, ["audit", *args, "--yes", "--no-trail"])
    assert result.exit_code == code
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert "13800138000" not in result.output  # a bad number is not echoed back either


def test_no_browser_is_exit_3(tmp_path: Path) -> None:
    result = CliRunner(env={"UNBINDER_BROWSER": str(tmp_path / "none")}).invoke(
        cli, ["audit", *PHONE, "--fixtures", "--yes", "--no-trail", "--platform", "example-cn"]
    )
    assert result.exit_code == 3
    assert "UNBINDER_BROWSER" in result.output


def test_without_a_terminal_the_ownership_question_needs_yes() -> None:
    result = CliRunner().invoke(
        cli, ["audit", *PHONE, "--fixtures", "--no-trail", "--platform", "demo-chat"]
    )
    assert result.exit_code == 2
    assert "Add --yes" in result.output


def test_demo_platforms_are_hidden_from_live_audits() -> None:
    for pid in DEMO:
        assert find_recipe(pid).recipe.demo, pid
    assert (recipes_dir() / "demo-chat.yaml").is_file()


def test_coverage_line_counts_one_platform_in_the_singular() -> None:
    from unbinder.cli.progress import coverage_line
    from unbinder.jobs.audit import PlatformResult

    result = AuditResult(phone=parse_phone("+86 138 0013 8000"), fixtures=True)
    result.results.append(PlatformResult(find_recipe("demo-chat"), "not_bound"))
    assert coverage_line(result) == (
        "1 platform: 1 checked automatically (0 bound), 0 without an answer, 0 need a person, "
        "0 manual, 0 skipped."
    )
