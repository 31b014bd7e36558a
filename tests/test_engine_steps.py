"""Every step type of the flow engine, on a real Chromium against local replicas."""

from __future__ import annotations

from pathlib import Path

import pytest
from platforms import CHECK_FLOW, NEW_PHONE, check_page, make_platform, run

from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.engine.human import ScriptedHuman
from unbinder.recipe.model import HumanScript, Step

FORM_PAGE = """\
<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>表单</title></head><body>
<label for="city">城市</label>
<select id="city"><option value="bj">北京</option><option value="sh">上海</option></select>
<label><input type="checkbox" id="agree"> 同意协议</label>
<label for="q">搜索</label><input id="q">
<a id="link" href="#done" data-code="A-42">查看详情</a>
<p id="note">订单号：No.98765</p>
<div id="spinner">加载中</div>
<p id="out"></p>
<script>
document.getElementById('q').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    const city = document.getElementById('city').value;
    const agree = document.getElementById('agree').checked;
    document.getElementById('out').textContent = 'city=' + city + ' agree=' + agree + ' q=' + e.target.value;
    setTimeout(() => document.getElementById('spinner').remove(), 300);
    history.pushState({}, '', '/done?x=1');
  }
});
</script></body></html>
"""

FORM_FLOW = """\
selectors:
  city: [{label: 城市}]
  agree: [{label: 同意协议}]
  query: [{label: 搜索}]
  spinner: [{text: 加载中}]
  link: [{role: link, name: 查看详情}]
  note: [{css: "#note"}]
  out: [{css: "#out"}]
flows:
  check:
    detect_timeout: 3
    steps:
      - goto: https://www.tp.test/
      - select: {target: city, value: sh}
      - check: agree
      - fill: {target: query, value: "{phone.country_code}"}
      - press: {target: query, key: Enter}
      - wait_for: {hidden: spinner}
      - wait_for_url: "**/done?x=1"
      - extract: {target: link, attribute: data-code, into: code, regex: "A-(\\\\d+)"}
      - extract: {target: note, into: order, regex: "No\\\\.(\\\\d+)"}
      - extract: {target: out, into: out}
    detect:
      - when: {text: "city=sh agree=true q=86"}
        outcome: bound
        evidence: every input arrived
"""


def test_select_check_fill_press_wait_extract(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    platform = make_platform(tmp_path, FORM_FLOW, {"index.html": FORM_PAGE})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "bound", outcome.summary()
    assert outcome.variables == {"code": "42", "order": "98765", "out": "city=sh agree=true q=86"}
    assert next(label for label, _ in outcome.steps_ms) == "1 goto https://www.tp.test/"
    assert len(outcome.steps_ms) == 10


RESPONSE_FLOW = CHECK_FLOW.replace(
    "      - click: go\n",
    "      - click: go\n"
    '      - wait_for_response: {url: "**/api/check", json: exists, into: exists}\n'
    '      - extract: {response: {url: "**/api/check", json: exists}, into: again}\n'
    "      - if:\n"
    '          condition: {var: {name: exists, equals: "true"}}\n'
    "          then:\n"
    "            - outcome: {status: bound, note: the lookup API says the number exists}\n"
    "      - if:\n"
    '          condition: {var: {name: exists, equals: "false"}}\n'
    "          then:\n"
    "            - outcome: {status: not_bound, note: the lookup API says it does not}\n",
)


def test_wait_for_response_extract_and_if_outcome_with_evidence(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    platform = make_platform(tmp_path, RESPONSE_FLOW, {"index.html": check_page(delay=5000)})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "bound"
    assert outcome.variables["exists"] == "true"
    assert outcome.variables["again"] == "true"
    assert outcome.evidence is not None
    assert outcome.evidence.rule == "the lookup API says the number exists"
    assert outcome.evidence.matched == "variable exists = 'true'"
    outcome, _ = run(unbinder_browser, platform, scenario="empty")
    assert outcome.status == "not_bound"
    assert outcome.evidence is not None
    assert outcome.evidence.matched == "variable exists = 'false'"


def test_a_verdict_in_an_else_branch_has_no_evidence_so_it_is_unknown(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    body = RESPONSE_FLOW.replace(
        '      - if:\n          condition: {var: {name: exists, equals: "false"}}\n          then:\n',
        "          else:\n",
    )
    # Lint and load refuse it; the engine's own net behind them is what this tests.
    platform = make_platform(
        tmp_path, body, {"index.html": check_page(delay=5000)}, refused_at_load=True
    )
    outcome, _ = run(unbinder_browser, platform, scenario="empty")
    assert outcome.status == "unknown"
    assert outcome.reason == "`outcome: not_bound` reached without evidence"


RETRY_PAGE = """\
<!doctype html><meta charset="utf-8"><body><button>再试一次</button><p id="n">0</p>
<script>
let n = 0;
document.querySelector('button').onclick = () => {
  n += 1; document.getElementById('n').textContent = String(n);
  if (n >= 3) document.body.insertAdjacentHTML('beforeend', '<p>成功了</p>');
};
</script></body>
"""


def _retry_flow(times: int) -> str:
    return f"""\
selectors:
  again: [{{role: button, name: 再试一次}}]
flows:
  check:
    detect_timeout: 2
    steps:
      - goto: https://www.tp.test/
      - retry:
          times: {times}
          delay: 0.1
          steps: [{{click: again}}]
          until: {{text: 成功了}}
    detect:
      - when: {{text: 成功了}}
        outcome: bound
        evidence: it worked
"""


def test_retry_until_the_condition_holds(tmp_path: Path, unbinder_browser: BrowserThread) -> None:
    platform = make_platform(tmp_path, _retry_flow(3), {"index.html": RETRY_PAGE})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "bound"
    assert [s for s, _ in outcome.steps_ms if "try3" in s]


def test_retry_is_bounded(tmp_path: Path, unbinder_browser: BrowserThread) -> None:
    platform = make_platform(tmp_path, _retry_flow(2), {"index.html": RETRY_PAGE})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "error"
    assert outcome.failure is not None
    assert outcome.failure.error == "still not done after 2 tries"


def test_expect_failure_is_an_error_with_its_message(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    body = CHECK_FLOW.replace(
        "      - click: go\n",
        "      - click: go\n"
        "      - expect: {condition: {text: 不存在的文字}, message: the result panel never appeared}\n"
        "        timeout: 1\n",
    )
    platform = make_platform(tmp_path, body, {"index.html": check_page()})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "error"
    assert outcome.failure is not None
    assert outcome.failure.path == "4"
    assert outcome.failure.error == "the result panel never appeared"


def test_selector_fallback_marks_the_outcome_degraded(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    body = CHECK_FLOW.replace(
        "phone: [{role: textbox, name: 手机号}, {placeholder: 请输入手机号}]",
        "phone: [{role: textbox, name: 电话号码}, {placeholder: 请输入手机号}]",
    )
    platform = make_platform(tmp_path, body, {"index.html": check_page()})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "bound"
    assert outcome.degraded
    assert any("selector 'phone'" in w and "alternative 2" in w for w in outcome.warnings)


def test_broken_selector_is_an_error_naming_step_and_selector(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    body = CHECK_FLOW.replace(
        "go: [{role: button, name: 查询}]", "go: [{role: button, name: 搜索}]"
    )
    body = body.replace("      - click: go\n", "      - click: go\n        timeout: 1\n")
    platform = make_platform(tmp_path, body, {"index.html": check_page()})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "error"
    assert outcome.failure is not None
    assert outcome.failure.path == "3"
    assert outcome.failure.selector == "go"
    assert "no alternative of selector 'go' became visible within 1s" in outcome.failure.error


IFRAME_PAGE = """\
<!doctype html><meta charset="utf-8"><body><h1>登录</h1>
<iframe id="login" title="登录框" src="https://passport.tp.test/frame"></iframe><p id="r"></p>
<script>window.addEventListener('message', (e) => { document.getElementById('r').textContent = e.data; });</script>
</body>
"""
IFRAME_INNER = """\
<!doctype html><meta charset="utf-8"><body>
<label for="u">账号</label><input id="u"><button>确定</button>
<script>document.querySelector('button').onclick = () =>
  parent.postMessage('已收到 ' + document.getElementById('u').value.length + ' 位', '*');</script>
</body>
"""
IFRAME_REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
  - url: https://passport.{id}.test/frame
    page: frame.html
scenarios:
  default:
    accounts: []
"""
IFRAME_FLOW = """\
selectors:
  account: [{frame: "#login", label: 账号}]
  ok: [{frame: "#login", role: button, name: 确定}]
flows:
  check:
    detect_timeout: 3
    steps:
      - goto: https://www.tp.test/
      - fill: {target: account, value: "{phone.national_digits}"}
      - click: ok
    detect:
      - when: {text: 已收到 11 位}
        outcome: bound
        evidence: the iframe form posted the number
"""


def test_form_inside_an_iframe(tmp_path: Path, unbinder_browser: BrowserThread) -> None:
    platform = make_platform(
        tmp_path,
        IFRAME_FLOW,
        {"index.html": IFRAME_PAGE, "frame.html": IFRAME_INNER},
        replica=IFRAME_REPLICA,
    )
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "bound", outcome.summary()


POPUP_PAGE = """\
<!doctype html><meta charset="utf-8"><body>
<a href="https://www.tp.test/popup" target="_blank">打开新窗口</a>
<script>
// A "pop-under" ad opens its own window on the same click, just before the link's.
document.querySelector('a').addEventListener('click', () => {
  window.open('https://ads.example.net/under', 'ad');
});
</script></body>
"""
POPUP_REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
  - url: https://www.{id}.test/popup
    page: popup.html
scenarios:
  default:
    accounts: []
"""
POPUP_FLOW = """\
selectors:
  open: [{role: link, name: 打开新窗口}]
flows:
  check:
    detect_timeout: 3
    steps:
      - goto: https://www.tp.test/
      - click: {target: open, popup: true}
    detect:
      - when: {text: 这是新窗口}
        outcome: bound
        evidence: the flow continued in the popup
"""


def test_click_that_opens_a_popup_continues_there(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    platform = make_platform(
        tmp_path,
        POPUP_FLOW,
        {"index.html": POPUP_PAGE, "popup.html": "<meta charset=utf-8><p>这是新窗口</p>"},
        replica=POPUP_REPLICA,
    )
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "bound"
    assert outcome.evidence is not None and outcome.evidence.url == "https://www.tp.test/popup"
    assert [b.host for b in outcome.blocked] == ["ads.example.net"]


REDIRECT_REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    action: redirect
    target: /zh-cn/login?from=home
  - url: https://www.{id}.test/zh-cn/login
    action: redirect
    target: https://passport.{id}.test/login
  - url: https://passport.{id}.test/login
    page: index.html
  - url: https://passport.{id}.test/api/check
    method: POST
    action: lookup
    phone: mobile
    respond:
      found: {{json: {{exists: true}}}}
      missing: {{json: {{exists: false}}}}
scenarios:
  default:
    accounts: [{{phone: "{phone}"}}]
"""


def test_redirects_inside_the_domains_are_followed_like_a_browser_would(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    # Playwright does not route a redirect's follow-up; the replica follows its own redirects.
    body = CHECK_FLOW.replace(
        "      - click: go\n",
        "      - click: go\n      - wait_for_url: https://passport.tp.test/login\n",
    )
    platform = make_platform(tmp_path, body, {"index.html": check_page()}, replica=REDIRECT_REPLICA)
    outcome, rep = run(unbinder_browser, platform)
    assert outcome.status == "bound", outcome.summary()
    assert outcome.evidence is not None
    assert outcome.evidence.url == "https://passport.tp.test/login"
    assert outcome.blocked == ()
    assert [(path, result) for _, path, result in rep.state.log[:3]] == [
        ("/", "redirect"),
        ("/zh-cn/login", "redirect"),
        ("/login", "page"),
    ]


def test_screenshot_step_and_evidence_screenshot_are_png_bytes(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    body = CHECK_FLOW.replace(
        "      - click: go\n", "      - screenshot: filled\n      - click: go\n"
    )
    platform = make_platform(tmp_path, body, {"index.html": check_page()})
    outcome, _ = run(unbinder_browser, platform, screenshots=True)
    names = [s.name for s in outcome.screenshots]
    assert names == ["filled", "outcome"]
    assert all(s.png.startswith(b"\x89PNG\r\n\x1a\n") for s in outcome.screenshots)


def test_human_step_without_a_human_needs_one(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    body = CHECK_FLOW.replace(
        "      - click: go\n",
        "      - human:\n"
        "          kind: captcha\n"
        "          prompt: {en: Solve the puzzle, zh-CN: 请完成拼图}\n"
        "      - click: go\n",
    )
    platform = make_platform(tmp_path, body, {"index.html": check_page()})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "needs_human"
    assert outcome.kind == "captcha"
    assert outcome.evidence is not None and outcome.evidence.matched == "Solve the puzzle"


def test_captcha_blocker_is_handed_to_the_human_then_the_flow_goes_on(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    body = CHECK_FLOW.replace(
        "  captcha: [{role: dialog, name: 安全验证}]",
        "  captcha: [{role: dialog, name: 安全验证}]\n  solve: [{role: button, name: 验证}]",
    )
    replica = """\
    region: CN
    routes:
      - url: https://www.{id}.test/
        page: index.html
      - url: https://www.{id}.test/api/check
        method: POST
        action: lookup
        phone: mobile
        gate: check
        respond:
          found: {{json: {{exists: true}}}}
          missing: {{json: {{exists: false}}}}
          captcha: {{json: {{captcha: true}}}}
      - url: https://www.{id}.test/api/solve
        method: POST
        action: solve_captcha
    scenarios:
      default:
        accounts: [{{phone: "{phone}"}}]
        gates: {{check: {{captcha: always}}}}
    """
    page = check_page().replace(
        "document.getElementById('go').onclick = check;",
        "document.getElementById('go').onclick = check;\n"
        "document.getElementById('solve').onclick = async () => {"
        " await fetch('/api/solve', {method: 'POST'});"
        " document.getElementById('cap').hidden = true; check(); };",
    )
    platform = make_platform(tmp_path, body, {"index.html": page}, replica=replica)
    human = ScriptedHuman(HumanScript(captcha=[Step.model_validate({"click": "solve"})]))
    outcome, rep = run(unbinder_browser, platform, human=human)
    assert outcome.status == "bound"
    assert [h.kind for h in human.handoffs] == ["captcha"]
    assert rep.state.captcha_solved is False  # one solve let exactly one lookup through


CLOSE_REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
  - url: https://www.{id}.test/api/check
    method: POST
    action: close_context
scenarios:
  default:
    accounts: []
"""


def test_page_that_closes_the_context_is_an_error(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    platform = make_platform(
        tmp_path, CHECK_FLOW, {"index.html": check_page()}, replica=CLOSE_REPLICA
    )
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "error"
    assert outcome.status != "not_bound"


HANG_REPLICA = """\
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


def test_page_that_never_loads_is_unknown(tmp_path: Path, unbinder_browser: BrowserThread) -> None:
    body = CHECK_FLOW.replace(
        "      - goto: https://www.tp.test/\n",
        "      - goto: https://www.tp.test/\n        timeout: 2\n",
    )
    platform = make_platform(tmp_path, body, {"index.html": check_page()}, replica=HANG_REPLICA)
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "unknown"
    assert "did not load" in (outcome.reason or "")


@pytest.mark.parametrize("value", ["{phone.e164}", "{phone.national}", "{phone.national_digits}"])
def test_phone_placeholders(tmp_path: Path, unbinder_browser: BrowserThread, value: str) -> None:
    page = """\
    <!doctype html><meta charset="utf-8"><body><input aria-label="号码"><button>好</button><p id="o"></p>
    <script>document.querySelector('button').onclick = () => {
      document.getElementById('o').textContent = '收到:' + document.querySelector('input').value.replace(/\\D/g, '').length; };
    </script></body>
    """
    body = f"""\
selectors:
  n: [{{role: textbox, name: 号码}}]
  ok: [{{role: button, name: 好}}]
flows:
  check:
    detect_timeout: 2
    steps:
      - goto: https://www.tp.test/
      - fill: {{target: n, value: "{value}"}}
      - click: ok
    detect:
      - when: {{regex: "收到:1[13]$"}}
        outcome: bound
        evidence: the number arrived
"""
    platform = make_platform(tmp_path, body, {"index.html": page})
    assert run(unbinder_browser, platform)[0].status == "bound"


def test_new_phone_placeholder_needs_a_new_number(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    body = CHECK_FLOW.replace("{phone.national_digits}", "{new_phone.national_digits}")
    # Load refuses it (lint); the engine's own check behind that is what this tests.
    platform = make_platform(tmp_path, body, {"index.html": check_page()}, refused_at_load=True)
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "error"
    assert outcome.failure is not None and "new number" in outcome.failure.error
    outcome, _ = run(unbinder_browser, platform, new_phone=NEW_PHONE, scenario="empty")
    assert outcome.status == "not_bound"
