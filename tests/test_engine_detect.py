"""The detect race and its precedence, on a real Chromium against local replicas."""

from __future__ import annotations

from pathlib import Path

from platforms import CHECK_FLOW, PHONE, check_page, make_platform, run

from unbinder.contrib.pytest_plugin import BrowserThread


def test_registered_number_is_bound_with_evidence(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    platform = make_platform(tmp_path, CHECK_FLOW, {"index.html": check_page()})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "bound"
    assert outcome.evidence is not None
    assert outcome.evidence.rule == "the platform says the number is registered"
    assert "该手机号已注册" in outcome.evidence.matched
    assert outcome.evidence.url == "https://www.tp.test/"
    assert not outcome.degraded


def test_unregistered_number_is_not_bound(tmp_path: Path, unbinder_browser: BrowserThread) -> None:
    platform = make_platform(tmp_path, CHECK_FLOW, {"index.html": check_page()})
    outcome, _ = run(unbinder_browser, platform, scenario="empty")
    assert outcome.status == "not_bound"
    assert "该手机号未注册" in outcome.evidence.matched  # type: ignore[union-attr]


def test_english_text_matches_the_same_rule(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    page = check_page("This number is already registered", "No account uses this number")
    platform = make_platform(tmp_path, CHECK_FLOW, {"index.html": page})
    assert run(unbinder_browser, platform)[0].status == "bound"
    assert run(unbinder_browser, platform, scenario="empty")[0].status == "not_bound"


def test_slow_page_rendered_by_js_after_a_delay(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    platform = make_platform(tmp_path, CHECK_FLOW, {"index.html": check_page(delay=1500)})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "bound"


def test_no_match_before_the_deadline_is_unknown(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    page = check_page("某种新的提示", "另一种提示")  # the platform changed its wording
    platform = make_platform(tmp_path, CHECK_FLOW, {"index.html": page})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "unknown"
    assert outcome.evidence is None
    assert "no detect rule matched within 4s" in (outcome.reason or "")


def test_captcha_wins_over_a_verdict_shown_at_the_same_time(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    page = """\
    <!doctype html><meta charset="utf-8"><body>
    <input aria-label="手机号"><button>查询</button>
    <script>
    document.querySelector('button').onclick = () => {
      document.body.insertAdjacentHTML('beforeend',
        '<p>该手机号已注册</p><div role="dialog" aria-label="安全验证">请完成安全验证</div>');
    };
    </script></body>
    """
    platform = make_platform(tmp_path, CHECK_FLOW, {"index.html": page})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "needs_human"
    assert outcome.kind == "captcha"


def test_captcha_that_appears_only_on_the_second_try(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
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
    scenarios:
      default:
        accounts: [{{phone: "{phone}"}}]
        gates: {{check: {{captcha: 2}}}}
    """
    platform = make_platform(tmp_path, CHECK_FLOW, {"index.html": check_page()}, replica=replica)
    shared = platform.replica()
    first, _ = run(unbinder_browser, platform, replica=shared)
    second, _ = run(unbinder_browser, platform, replica=shared)
    assert first.status == "bound"
    assert second.status == "needs_human"
    assert second.kind == "captcha"


ERROR_PAGE_FLOW = CHECK_FLOW.replace(
    '      - fill: {target: phone, value: "{phone.national_digits}"}\n      - click: go\n', ""
)

STATUS_REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
    gate: page
scenarios:
  default:
    accounts: [{{phone: "{phone}"}}]
  forbidden:
    gates: {{page: {{status: 403}}}}
  server_error:
    gates: {{page: {{status: 500}}}}
  too_many:
    gates: {{page: {{status: 429}}}}
"""


def _error_platform(tmp_path: Path, body_text: str) -> object:
    replica = STATUS_REPLICA.replace(
        "    gate: page\n",
        "    gate: page\n    respond:\n"
        f"      '403': {{{{status: 403, body: '<p>{body_text}</p>'}}}}\n"
        f"      '500': {{{{status: 500, body: '<p>{body_text}</p>'}}}}\n"
        f"      '429': {{{{status: 429, body: '<p>{body_text}</p>'}}}}\n",
    )
    return make_platform(tmp_path, ERROR_PAGE_FLOW, {"index.html": "<p>ok</p>"}, replica=replica)


def test_403_page_is_a_bot_wall_never_a_verdict(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    # The error page even contains the "not registered" text: it must not count.
    platform = _error_platform(tmp_path, "该手机号未注册")
    outcome, _ = run(unbinder_browser, platform, scenario="forbidden")  # type: ignore[arg-type]
    assert outcome.status == "needs_human"
    assert outcome.kind == "bot_wall"
    assert outcome.evidence is not None and "HTTP status 403" in outcome.evidence.matched


def test_500_page_is_unknown_never_a_verdict(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    platform = _error_platform(tmp_path, "该手机号未注册")
    outcome, _ = run(unbinder_browser, platform, scenario="server_error")  # type: ignore[arg-type]
    assert outcome.status == "unknown"
    assert outcome.evidence is not None and "HTTP status 500" in outcome.evidence.matched


def test_429_page_is_rate_limited(tmp_path: Path, unbinder_browser: BrowserThread) -> None:
    platform = _error_platform(tmp_path, "该手机号已注册")
    outcome, _ = run(unbinder_browser, platform, scenario="too_many")  # type: ignore[arg-type]
    assert outcome.status == "rate_limited"


def test_response_json_rule(tmp_path: Path, unbinder_browser: BrowserThread) -> None:
    body = CHECK_FLOW.replace(
        "      - when: {text: [该手机号已注册, This number is already registered]}",
        '      - when: {response: {url: "**/api/check", json: exists, equals: true}}',
    )
    platform = make_platform(tmp_path, body, {"index.html": check_page(delay=3000)})
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "bound"
    assert outcome.evidence is not None
    assert outcome.evidence.matched == "response POST www.tp.test/api/check: exists = true"


def test_evidence_never_holds_the_number(tmp_path: Path, unbinder_browser: BrowserThread) -> None:
    page = check_page("账号 13800138000 已注册", "该手机号未注册")
    body = CHECK_FLOW.replace(
        "[该手机号已注册, This number is already registered]", "{regex: '已注册'}"
    )
    body = body.replace("when: {text: {regex: '已注册'}}", "when: {regex: '已注册'}")
    platform = make_platform(tmp_path, body, {"index.html": page})
    from unbinder import redact
    from unbinder.phone import parse_phone

    redact.register(parse_phone(PHONE))
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "bound"
    text = str(outcome.to_dict())
    assert "13800138000" not in text
    assert "+86 138****8000" in text
