"""Change flows a contributor can write for a real site, and trust afterwards (issues #18, #22).

Most tests run on Walletly (fixtures/walletly/), a made-up payment app whose page is served as
the site ships it: it never shows a code, and it posts both codes (old number, new number) to
one endpoint with a `scene` field. The recipe's flows name none of its API URLs.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from platforms import make_platform, run

from unbinder.browser.replica import Replica
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.contrib.recipe_tests import run_test
from unbinder.engine import Outcome, run_flow
from unbinder.engine.human import ConfirmRequest, Handoff, ScriptedHuman, StepRunner
from unbinder.engine.runner import _json_patterns
from unbinder.jobs.unbind import NoWebFlow, check_flows, run_unbind
from unbinder.paths import fixtures_dir
from unbinder.phone import parse_phone
from unbinder.recipe.load import LoadedRecipe, load_recipe_file
from unbinder.recipe.model import HumanScript, RecipeTest, Step

if TYPE_CHECKING:
    from playwright.async_api import Page

OLD = "+86 138 0013 8000"
NEW = "+86 139 0013 9000"


@pytest.fixture(scope="module")
def walletly() -> LoadedRecipe:
    return load_recipe_file(fixtures_dir() / "walletly" / "recipe.yaml")


def named_test(walletly: LoadedRecipe, name: str) -> RecipeTest:
    return next(t for t in walletly.recipe.tests if t.name == name)


HAPPY = "a change behind a login, two codes and a risk check is done, by its read-back"


def script(walletly: LoadedRecipe, name: str = HAPPY, **changes: Any) -> HumanScript:
    human = named_test(walletly, name).human
    assert human is not None
    return human.model_copy(update=changes)


def change(
    browser: BrowserThread,
    loaded: LoadedRecipe,
    human: Any,
    *,
    scenario: str = "risk",
    phone: str = OLD,
    new_phone: str | None = NEW,
    flow: str = "change",
    dry_run: bool = False,
    dry_run_sends: bool = False,
) -> tuple[Outcome, Replica]:
    replica = Replica.load("walletly", scenario)

    async def go(session: Any) -> Outcome:
        return await run_flow(
            session,
            loaded,
            flow,  # type: ignore[arg-type]
            parse_phone(phone),
            new_phone=parse_phone(new_phone) if new_phone else None,
            human=human,
            replica=replica,
            screenshots=False,
            dry_run=dry_run,
            dry_run_sends=dry_run_sends,
        )

    return browser.run(go), replica


# --------------------------------------------------------------------- the outcome, by evidence


def test_a_flow_with_blocker_rules_is_done_when_its_read_back_shows_the_new_number(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    flow = walletly.recipe.flows.change
    assert flow is not None and [r.outcome for r in flow.detect] == ["needs_human", "not_done"]
    human = ScriptedHuman(script(walletly))
    outcome, replica = change(unbinder_browser, walletly, human)

    assert outcome.status == "done", outcome.summary()
    assert outcome.evidence is not None
    assert outcome.evidence.rule == "the read-back shows the new number"
    assert outcome.evidence.matched == "the platform shows 139****9000"
    assert replica.state.get("accounts.0.phone") == "+8613900139000"
    # The risk check appeared (a blocker), the person passed it, and the flow went on.
    assert [h.kind for h in human.handoffs] == ["login", "sms_code", "risk_control", "sms_code"]
    assert replica.state.risk_cleared
    # Before the steps, the verify flow read the number shown; after them, it read it back.
    assert outcome.before is not None and outcome.before.variables["bound_number"] == "138****8000"
    assert outcome.readback is not None and outcome.readback.status == "bound"
    assert outcome.variables["bound_number"] == "139****9000"
    # The confirmation showed the number given, the number shown, and the new one.
    (asked,) = human.confirmations
    assert (asked.old_masked, asked.shown, asked.new_masked) == (
        "+86 138****8000",
        "138****8000",
        "+86 139****9000",
    )


def test_steps_that_ran_prove_nothing_the_read_back_decides(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    # The page says 更换成功 but its backend changed nothing: never `done` on the steps' word.
    body = """\
    selectors:
      shown: [{testid: shown}]
      go: [{role: button, name: 更换}]
    flows:
      verify:
        steps:
          - goto: https://www.tp.test/
          - extract: {target: shown, into: bound_number}
        detect:
          - when: {var: {name: bound_number, matches: "\\\\d+\\\\*+\\\\d+"}}
            outcome: bound
            evidence: the page shows a number
      change:
        steps:
          - goto: https://www.tp.test/
          - click: go
          - wait_for: {text: 更换成功}
    """
    page = """\
    <!doctype html><meta charset="utf-8"><body><span data-testid="shown"></span>
    <button>更换</button><p id="m"></p>
    <script>
    fetch('/api/me').then(r => r.json()).then(b => {
      document.querySelector('span').textContent = b.masked; });
    document.querySelector('button').onclick = () => {
      document.getElementById('m').textContent = '更换成功'; };
    </script></body>
    """
    replica = """\
    region: CN
    routes:
      - url: https://www.{id}.test/
        page: index.html
      - url: https://www.{id}.test/api/me
        action: me
        respond:
          ok: {{json: {{masked: "{{masked}}"}}}}
    scenarios:
      default:
        accounts: [{{phone: "{phone}"}}]
        logged_in: 0
    """
    platform = make_platform(tmp_path, body, {"index.html": page}, replica=replica)
    outcome, _ = run(unbinder_browser, platform, flow="change", new_phone=NEW)
    assert outcome.status == "not_done", outcome.summary()
    assert outcome.evidence is not None
    assert outcome.evidence.rule == "the read-back still shows the old number"


def test_a_detect_rule_says_not_done_with_its_own_evidence(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    human = ScriptedHuman(script(walletly))
    outcome, replica = change(
        unbinder_browser, walletly, human, scenario="registered", new_phone="+86 137 0013 7000"
    )
    assert outcome.status == "not_done"
    assert outcome.evidence is not None
    assert outcome.evidence.rule == "the platform says the new number belongs to another account"
    assert "该手机号已绑定其他账号" in outcome.evidence.matched
    assert outcome.readback is None  # the page's own answer ended it
    assert replica.state.get("accounts.0.phone") == "+8613800138000"


# --------------------------------------------------------------------- one endpoint, two scenes


def test_one_endpoint_two_scenes_each_code_goes_to_its_number(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    human = ScriptedHuman(script(walletly))
    outcome, replica = change(unbinder_browser, walletly, human, scenario="registered")
    assert outcome.status == "done", outcome.summary()
    assert set(replica.state.codes) == {"+8613800138000", "+8613900139000"}
    sends = [(m, p, r) for m, p, r in replica.state.log if p == "/api/sms/send"]
    assert [r for _, _, r in sends] == ["sent", "sent"]
    assert replica.unserved == []
    # The flow names none of the endpoints: the script read the codes from answers it never named.
    assert not any("api" in p for p in _json_patterns(walletly.recipe.flows.change))  # type: ignore[arg-type]


def test_a_request_no_route_matches_is_unserved(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe, tmp_path: Path
) -> None:
    # Form bodies and nested JSON match too; a scene no route knows is a 404 and a warning.
    page = """\
    <!doctype html><meta charset="utf-8"><body><p id="o"></p><script>
    (async () => {
      const form = await fetch('/api/send', {method: 'POST',
        headers: {'content-type': 'application/x-www-form-urlencoded'},
        body: 'scene=bind_new&mobile=13900139000'});
      const nested = await fetch('/api/send', {method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({data: {scene: 'verify_old'}, mobile: '13800138000'})});
      const other = await fetch('/api/send', {method: 'POST',
        headers: {'content-type': 'application/json'}, body: JSON.stringify({scene: 'login'})});
      document.getElementById('o').textContent = [
        (await form.json()).to, (await nested.json()).to, other.status].join(' ');
    })();
    </script></body>
    """
    replica = """\
    region: CN
    routes:
      - url: https://www.{id}.test/
        page: index.html
      - url: https://www.{id}.test/api/send
        method: POST
        when: {{body: {{scene: bind_new}}}}
        action: send_code
        phone: mobile
        respond:
          sent: {{json: {{to: "new {{to_masked}}"}}}}
      - url: https://www.{id}.test/api/send
        method: POST
        when: {{body: {{data.scene: verify_old}}}}
        action: send_code
        phone: mobile
        respond:
          sent: {{json: {{to: "old {{to_masked}}"}}}}
    scenarios:
      default:
        accounts: [{{phone: "{phone}"}}]
    """
    body = """\
    flows:
      check:
        detect_timeout: 5
        steps:
          - goto: https://www.tp.test/
        detect:
          - when: {text: "new 139****9000 old 138****8000 404"}
            outcome: bound
            evidence: each scene went to its route
            assumed: true
    """
    platform = make_platform(tmp_path, body, {"index.html": page}, replica=replica)
    outcome, rep = run(unbinder_browser, platform)
    assert outcome.status == "bound", outcome.summary()
    assert rep.unserved == ["POST https://www.tp.test/api/send"]
    assert any("replica has no route for POST" in w for w in outcome.warnings)


# --------------------------------------------------------------------- codes: retry, empty field


def test_a_mistyped_code_is_asked_again_and_the_change_goes_through(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    human = ScriptedHuman(script(walletly, "a mistyped code is asked again"))
    outcome, replica = change(unbinder_browser, walletly, human, scenario="registered")
    assert outcome.status == "done", outcome.summary()
    codes = [h for h in human.handoffs if h.kind == "sms_code"]
    assert len(codes) == 3  # old code twice (a typo, then right), new code once
    assert codes[0].again is None
    assert codes[1].again is not None and "code was wrong" in codes[1].again.en
    assert codes[1].attempt == 2
    assert [r for _, p, r in replica.state.log if p == "/api/sms/check"] == ["bad_code", "ok"]


def test_wrong_codes_end_as_not_done_after_the_attempts_never_as_error(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    human = ScriptedHuman(script(walletly, "three wrong codes end the change as not done"))
    outcome, replica = change(unbinder_browser, walletly, human, scenario="registered")
    assert outcome.status == "not_done"
    assert outcome.kind == "sms_code"
    assert outcome.evidence is not None
    assert outcome.evidence.rule == "the page said the code was wrong 3 time(s)"
    assert len(human.handoffs) == 4  # the login, then three tries
    assert human.confirmations == []
    assert replica.state.get("accounts.0.phone") == "+8613800138000"


@dataclasses.dataclass
class Hasty:
    """A person who presses Enter before typing the code, once; then does the script's part."""

    inner: ScriptedHuman
    lang: str = "en"
    pressed_early: bool = False
    handoffs: list[Handoff] = dataclasses.field(default_factory=list)

    async def handoff(self, request: Handoff, page: Page, run_steps: StepRunner) -> None:
        self.handoffs.append(request)
        if request.kind == "sms_code" and not self.pressed_early:
            self.pressed_early = True
            return  # Enter, with the code field still empty
        await self.inner.handoff(request, page, run_steps)

    async def confirm(self, request: ConfirmRequest) -> bool:
        return await self.inner.confirm(request)

    def scripted_steps(self) -> list[Step]:
        return self.inner.scripted_steps()


def test_enter_before_the_code_is_typed_asks_again(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    human = Hasty(ScriptedHuman(script(walletly)))
    outcome, _ = change(unbinder_browser, walletly, human, scenario="registered")
    assert outcome.status == "done", outcome.summary()
    first, second = [h for h in human.handoffs if h.kind == "sms_code"][:2]
    assert first.again is None
    assert second.again is not None and "still empty" in second.again.en


@dataclasses.dataclass
class Slow(Hasty):
    """A person who takes their time with the first code."""

    delay: float = 0.0

    async def handoff(self, request: Handoff, page: Page, run_steps: StepRunner) -> None:
        self.handoffs.append(request)
        if request.kind == "sms_code" and not self.pressed_early:
            self.pressed_early = True
            await asyncio.sleep(self.delay)
        await self.inner.handoff(request, page, run_steps)


def test_a_person_slower_than_the_flow_timeout_still_completes_the_change(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    # 15 s for the change flow's automated steps; the person spends 25 s on the first code.
    flows = walletly.recipe.flows
    assert flows.change is not None
    quick = flows.model_copy(
        update={
            "change": flows.change.model_copy(update={"timeout": 15}),
        }
    )
    loaded = dataclasses.replace(
        walletly, recipe=walletly.recipe.model_copy(update={"flows": quick})
    )
    human = Slow(ScriptedHuman(script(walletly)), delay=25)
    outcome, replica = change(unbinder_browser, loaded, human)
    assert outcome.status == "done", outcome.summary()
    assert replica.state.get("accounts.0.phone") == "+8613900139000"


# --------------------------------------------------------------------- scripts: read, fail


def test_a_failing_human_script_says_which_action_failed_and_why(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    test = named_test(walletly, HAPPY)
    assert test.human is not None
    broken = test.human.model_copy(
        update={
            "sms_code": [
                Step.model_validate(
                    {
                        "extract": {
                            "response": {"url": "**/api/sms/sent", "json": "demo_code"},
                            "into": "code",
                        },
                        "timeout": 2,
                    }
                )
            ]
        }
    )
    result = unbinder_browser.run(
        lambda session: run_test(
            session, walletly, test.model_copy(update={"human": broken}), 2, fixtures_dir()
        )
    )
    outcome = result.outcome
    assert outcome is not None and outcome.status == "error"
    assert outcome.failure is not None
    assert outcome.failure.path == "human.sms_code.1"
    assert (
        outcome.failure.error == "no response from **/api/sms/sent with demo_code arrived within 2s"
    )
    assert outcome.reason is not None
    assert outcome.reason.startswith("the scripted human's sms_code script failed at step")
    report = "\n".join(result.report())
    assert "the test's human script" in report and "failed at its sms_code step 1" in report
    assert "expect: {" not in report  # no unrelated expectation offered to paste


# --------------------------------------------------------------------- dry run, mask mismatch


def test_dry_run_stops_before_the_first_code_is_sent_and_says_so(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    human = ScriptedHuman(script(walletly))
    outcome, replica = change(
        unbinder_browser, walletly, human, scenario="registered", dry_run=True
    )
    assert outcome.status == "not_done"
    assert outcome.reason is not None
    assert "which would send an SMS: nothing was sent" in outcome.reason
    assert "`click send_old_code`" in outcome.reason
    assert replica.state.codes == {}
    # It logged in and read the number shown first.
    assert outcome.before is not None and outcome.before.variables["bound_number"] == "138****8000"


def test_dry_run_sending_codes_goes_on_to_the_first_irreversible_step(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    human = ScriptedHuman(script(walletly))
    outcome, replica = change(unbinder_browser, walletly, human, dry_run=True, dry_run_sends=True)
    assert outcome.status == "not_done"
    assert (
        outcome.reason
        == "dry run: stopped before `Change the number bound to your Walletly account.`"
    )
    assert len(replica.state.codes) == 2
    assert human.confirmations == []
    assert replica.state.get("accounts.0.phone") == "+8613800138000"


def test_a_mask_mismatch_stops_the_change_before_anything_is_sent_or_clicked(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    human = ScriptedHuman(script(walletly))
    outcome, replica = change(unbinder_browser, walletly, human, scenario="other_account")
    assert outcome.status == "not_done"
    assert outcome.evidence is not None
    assert outcome.evidence.matched == "the platform shows 131****6789"
    assert outcome.reason is not None
    assert outcome.reason.startswith(
        "mask mismatch: the platform shows 131****6789, which cannot be +86 138****8000"
    )
    assert replica.state.codes == {}
    assert human.confirmations == []
    assert replica.state.get("accounts.0.phone") == "+8613123456789"


def test_the_confirmation_refuses_a_number_the_flow_itself_read(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    # No verify flow: the change flow reads the number itself before its confirm.
    body = """\
    selectors:
      shown: [{testid: shown}]
      go: [{role: button, name: 解绑}]
    flows:
      unbind:
        side_effects: {destructive: true}
        steps:
          - goto: https://www.tp.test/
          - extract: {target: shown, into: bound_number}
          - confirm: {action: {en: Remove the number.}}
          - click: {target: go, destructive: true}
    """
    page = '<!doctype html><meta charset="utf-8"><span data-testid="shown">202***0123</span><button>解绑</button>'
    replica = "region: CN\nroutes:\n  - url: https://www.{id}.test/\n    page: index.html\n"
    platform = make_platform(tmp_path, body, {"index.html": page}, replica=replica)
    human = ScriptedHuman(HumanScript())
    outcome, _ = run(unbinder_browser, platform, flow="unbind", human=human)
    assert outcome.status == "not_done"
    assert (outcome.reason or "").startswith("mask mismatch: the platform shows 202***0123")
    assert human.confirmations == []
    dry, _ = run(unbinder_browser, platform, flow="unbind", human=human, dry_run=True)
    assert (dry.reason or "").startswith("mask mismatch")


def test_run_unbind_reports_the_mask_mismatch_also_in_a_dry_run(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    for dry_run in (False, True):
        result = unbinder_browser.run(
            lambda session, dry=dry_run: run_unbind(
                walletly,
                parse_phone(OLD),
                human=ScriptedHuman(script(walletly)),
                session=session,
                new_phone=parse_phone(NEW),
                dry_run=dry,
                replica=Replica.load("walletly", "other_account"),
            )
        )
        assert result.status == "not_done"
        assert result.reason_code == "mask_mismatch"
        assert result.shown_before == "131****6789"
        assert not result.ok
        assert result.reason is not None and "131****6789" in result.reason


def test_run_unbind_changes_walletly_and_records_both_reads(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    replica = Replica.load("walletly", "risk")
    sent: list[tuple[str, str]] = []
    replica.on_code = lambda to, code: sent.append((to, code))
    result = unbinder_browser.run(
        lambda session: run_unbind(
            walletly,
            parse_phone(OLD),
            human=ScriptedHuman(script(walletly)),
            session=session,
            new_phone=parse_phone(NEW),
            replica=replica,
        )
    )
    assert result.status == "changed", result.reason
    assert (result.shown_before, result.bound_number) == ("138****8000", "139****9000")
    assert result.flow is not None and result.verify is result.flow.readback
    assert [to for to, _ in sent] == ["+86 138****8000", "+86 139****9000"]
    assert [code for _, code in sent] == [
        replica.state.codes["+8613800138000"],
        replica.state.codes["+8613900139000"],
    ]


# --------------------------------------------------------------------- no unbind


def test_a_platform_without_unbind_refuses_and_says_what_to_do_instead(
    walletly: LoadedRecipe,
) -> None:
    with pytest.raises(NoWebFlow) as refused:
        check_flows(walletly, "unbind")
    assert refused.value.message == (
        "Walletly offers no way to remove a number from an account (Walletly accounts must keep "
        "a phone number; it can only be changed)."
    )
    assert refused.value.hint == (
        "Change it to a number you keep instead: unbinder unbind walletly --phone OLD "
        "--new-phone NEW; or close the account."
    )
    assert "mark" not in (refused.value.hint or "")
    check_flows(walletly, "change")


def test_a_recipe_test_expects_the_refusal(
    unbinder_browser: BrowserThread, walletly: LoadedRecipe
) -> None:
    test = named_test(walletly, "there is no unbind, and the recipe says why")
    index = walletly.recipe.tests.index(test)
    result = unbinder_browser.run(
        lambda session: run_test(session, walletly, test, index, fixtures_dir())
    )
    assert result.passed, result.report()
    assert result.outcome is not None and result.outcome.status == "not_done"
    assert (result.outcome.reason or "").startswith("refused: Walletly offers no way")


def test_unbind_and_no_unbind_exclude_each_other(walletly: LoadedRecipe) -> None:
    from pydantic import ValidationError

    from unbinder.recipe.model import Flows

    flows = walletly.recipe.flows.model_dump(by_alias=True, exclude_none=True)
    flows["unbind"] = flows["change"]
    with pytest.raises(ValidationError, match="exclude each other"):
        Flows.model_validate(flows)


# --------------------------------------------------------------------- the guide


def test_the_guides_change_flow_excerpts_are_the_files_as_they_are() -> None:
    import re

    from unbinder.paths import project_root

    root = project_root() or Path(__file__).resolve().parent.parent
    guide = (root / "CONTRIBUTING.md").read_text(encoding="utf-8")
    excerpts = re.findall(r"```\w+ from=(\S+)\n(.*?)```", guide, re.S)
    assert {path for path, _ in excerpts} == {
        "fixtures/walletly/recipe.yaml",
        "fixtures/walletly/replica.yaml",
    }
    for path, text in excerpts:
        assert text in (root / path).read_text(encoding="utf-8"), f"{path} no longer has:\n{text}"


# --------------------------------------------------------------------- the format


def _lint(tmp_path: Path, text: str) -> list[str]:
    from unbinder.recipe.lint import lint_file

    path = tmp_path / "walletly.yaml"
    path.write_text(text, encoding="utf-8")
    return [str(p) for p in lint_file(path, fixtures_dir())]


def test_the_recipe_lints_clean_and_lint_asks_where_codes_are_sent(tmp_path: Path) -> None:
    text = (fixtures_dir() / "walletly" / "recipe.yaml").read_text(encoding="utf-8")
    assert [p for p in _lint(tmp_path, text) if "number_change" not in p] == []
    unmarked = text.replace("        sends: sms\n", "")
    (warning,) = [p for p in _lint(tmp_path, unmarked) if "no step says which" in p]
    assert "warning: the change flow sends a code or a notice" in warning
    typo = text.replace("          submit: old_next\n", "          submit: old_nxt\n")
    assert any("selector 'old_nxt' is not defined" in p for p in _lint(tmp_path, typo))


def test_a_wrong_code_condition_needs_until_and_rules_never_say_done() -> None:
    from pydantic import ValidationError

    from unbinder.recipe.model import HumanArgs, Rule

    prompt = {"en": "Type the code."}
    with pytest.raises(ValidationError, match="`wrong` needs `until`"):
        HumanArgs.model_validate({"kind": "sms_code", "prompt": prompt, "wrong": {"text": "x"}})
    with pytest.raises(ValidationError):
        Rule.model_validate({"when": {"text": "成功"}, "outcome": "done", "evidence": "no"})
    rule = {"when": {"text": "审核中"}, "outcome": "not_done", "evidence": "under review"}
    assert Rule.model_validate(rule).outcome == "not_done"
