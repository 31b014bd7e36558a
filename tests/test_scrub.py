"""The scrubber: no number (any form), cookie, token or email survives in recorded HTML or HAR."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from unbinder.contrib.record import Recording, save_recording
from unbinder.contrib.scrub import COOKIE, Scrubber, find_har_leaks, find_leaks
from unbinder.phone import parse_phone

CN = parse_phone("+86 138 0013 8000")
US = parse_phone("+1 202 555 0123")
CN_FORMS = [
    "+86 138 0013 8000",
    "13800138000",
    "138-0013-8000",
    "+8613800138000",
    "8613800138000",
    "0086 138 0013 8000",
    "+86-138-0013-8000",
    "138 0013 8000",
    "%2B8613800138000",
    "138+0013+8000",
]
US_FORMS = [
    "+1 (202) 555-0123",
    "(202) 555-0123",
    "202-555-0123",
    "202.555.0123",
    "2025550123",
    "+12025550123",
    "+1-202-555-0123",
]
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJaaGFuZyJ9.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
CSRF = "Xk29fLq8ZmN3pR7sT1vW5yB2cD4eF6gH"
HEX_TOKEN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
SESSION = "sess-7Hq2Lm9Xv4Rt8Kp3"
EMAIL = "zhang.san@mail.example.com"
SECRETS = [JWT, CSRF, HEX_TOKEN, SESSION, EMAIL, "s3cr3t-pa55word"]


def _digits_survive(text: str, digits: str) -> bool:
    """Independent of the scrubber: drop every separator and tag, then look for the digits."""
    squashed = re.sub(r"<[^>]*>|[^0-9]", "", text)
    return digits in squashed


def _page() -> str:
    numbers = "".join(f"<li>{form}</li>" for form in CN_FORMS + US_FORMS)
    return f"""<!doctype html><html><head>
<meta name="csrf-token" content="{CSRF}"><title>Account</title></head><body>
<p>Signed in as {EMAIL}. Your numbers:</p><ul>{numbers}</ul>
<p>Another user: 13912345678, +44 7400 123456, +1 415 555 2671</p>
<form><input type="hidden" name="_token" value="{HEX_TOKEN}">
<input type="hidden" name="__VIEWSTATE" value="dDwtMTA4NzI1MzIzMDs7Pg==">
<input name="mobile" value="13800138000"><input type="submit" value="Next"></form>
<a href="/next?mobile=13800138000&amp;ticket={SESSION}&amp;lang=en">go</a>
<div data-token="{CSRF}" data-phone="+8613800138000">x</div>
<script nonce="{CSRF}">window.__STATE__ = {{"user": {{"email": "{EMAIL}", "mobile": "13800138000",
"csrfToken": "{CSRF}"}}, token: '{JWT}', sessionKey = "{HEX_TOKEN}"}};
document.cookie = "sid={SESSION}; path=/";</script>
<p>ID 11010519491231002X, card 6222 0202 0000 1234 567</p>
</body></html>"""


def test_no_number_cookie_or_token_survives_in_html() -> None:
    page = _page()
    assert _digits_survive(page, CN.national_digits)  # the test page really holds them
    out = Scrubber([CN, US]).html(page)
    for digits in (
        CN.national_digits,
        US.national_digits,
        "13912345678",
        "7400123456",
        "4155552671",
    ):
        assert not _digits_survive(out, digits), digits
    for secret in SECRETS:
        assert secret not in out, secret
    assert "11010519491231002X" not in out
    assert "6222020200001234" not in re.sub(r"\D", "", out)
    assert find_leaks(out, [CN, US], SECRETS) == []


def test_numbers_are_found_without_being_told_which() -> None:
    """Generic CN, North American and international patterns, with no number registered."""
    out = Scrubber().html(_page())
    for digits in (CN.national_digits, US.national_digits, "13912345678", "4155552671"):
        assert not _digits_survive(out, digits), digits


def test_ordinary_content_is_left_alone() -> None:
    text = (
        "<h1>Sign in</h1><p>Enter the 6-digit code. Version 1.2.3, 2024-01-15 12:30, 4096 MB, "
        "order No.98765</p><style>.a{width:1200px;margin:0 auto}</style>"
        '<a href="/static/js/main.chunk.js?v=3">Help</a><input type="submit" value="Next">'
    )
    assert Scrubber([CN]).html(text) == text


def _har() -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "pages": [{"title": f"Account of {EMAIL}"}],
            "entries": [
                {
                    "request": {
                        "method": "POST",
                        "url": "https://passport.example.cn/api/check?mobile=138-0013-8000&t=1",
                        "headers": [
                            {"name": "Cookie", "value": f"sid={SESSION}; uid=u-8842; lang=zh"},
                            {"name": "Authorization", "value": f"Bearer {JWT}"},
                            {"name": "X-CSRF-Token", "value": CSRF},
                            {
                                "name": "Referer",
                                "value": "https://passport.example.cn/?phone=13800138000",
                            },
                            {"name": "Accept", "value": "application/json"},
                        ],
                        "cookies": [{"name": "sid", "value": SESSION}],
                        "queryString": [{"name": "mobile", "value": "138-0013-8000"}],
                        "postData": {
                            "mimeType": "application/json",
                            "text": json.dumps(
                                {
                                    "mobile": "+1 (202) 555-0123",
                                    "pwd": "s3cr3t-pa55word",
                                    "agree": True,
                                }
                            ),
                        },
                    },
                    "response": {
                        "status": 200,
                        "headers": [
                            {"name": "Set-Cookie", "value": f"sid={SESSION}; Path=/; HttpOnly"},
                            {"name": "Content-Type", "value": "application/json"},
                        ],
                        "cookies": [{"name": "sid", "value": SESSION}],
                        "content": {
                            "mimeType": "application/json",
                            "text": json.dumps(
                                {
                                    "code": 0,
                                    "data": {
                                        "exists": True,
                                        "masked": "138****8000",
                                        "mobile": 13800138000,
                                        "owner": EMAIL,
                                        "token": JWT,
                                        "note": "call +1 (202) 555-0123",
                                    },
                                }
                            ),
                        },
                        "redirectURL": "",
                    },
                },
                {
                    "request": {"method": "GET", "url": "https://www.example.cn/a", "headers": []},
                    "response": {
                        "status": 200,
                        "headers": [{"name": "content-type", "value": "text/html"}],
                        "content": {"mimeType": "text/html", "text": _page()},
                    },
                },
                {
                    "request": {
                        "method": "GET",
                        "url": "https://www.example.cn/logo.png",
                        "headers": [],
                    },
                    "response": {
                        "status": 200,
                        "headers": [],
                        "content": {
                            "mimeType": "image/png",
                            "encoding": "base64",
                            "text": "iVBORw0KGgo=",
                        },
                    },
                },
            ],
        }
    }


def test_no_number_cookie_or_token_survives_in_a_har() -> None:
    har = _har()
    out = Scrubber([CN, US]).har(har)
    text = json.dumps(out, ensure_ascii=False)
    for digits in (CN.national_digits, US.national_digits):
        assert not _digits_survive(text, digits), digits
    for secret in SECRETS:
        assert secret not in text, secret
    request = out["log"]["entries"][0]["request"]
    headers = {h["name"]: h["value"] for h in request["headers"]}
    assert headers["Cookie"] == f"sid={COOKIE}; uid={COOKIE}; lang={COOKIE}"
    assert "Bearer" not in headers["Authorization"]
    assert headers["Accept"] == "application/json"  # harmless headers stay readable
    assert json.loads(request["postData"]["text"]) == {
        "mobile": "[scrubbed:value]",
        "pwd": "[scrubbed:value]",
        "agree": True,  # field names and booleans stay: they tell the replica's shape
    }
    response = out["log"]["entries"][0]["response"]
    set_cookie = response["headers"][0]["value"]
    assert set_cookie == f"sid={COOKIE}; Path=/; HttpOnly"
    body = json.loads(response["content"]["text"])
    assert body["data"]["exists"] is True and body["data"]["masked"] == "138****8000"
    assert "text" not in out["log"]["entries"][2]["response"]["content"]  # binary dropped
    assert find_har_leaks(out, [CN, US], SECRETS) == []
    assert har["log"]["entries"][0]["request"]["cookies"][0]["value"] == SESSION  # input untouched


def test_find_har_leaks_notices_a_cookie_left_in() -> None:
    har = Scrubber([CN]).har(_har())
    har["log"]["entries"][0]["response"]["headers"][0]["value"] = "sid=abc; Path=/"
    assert "a set-cookie header" in find_har_leaks(har)


_FILLER = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ,:;!?<>/="), max_size=20)


@st.composite
def _cn_number(draw: st.DrawFn) -> tuple[str, str]:
    digits = (
        "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    )
    a, b, c = digits[:3], digits[3:7], digits[7:]
    form = draw(
        st.sampled_from(
            [
                digits,
                f"{a} {b} {c}",
                f"{a}-{b}-{c}",
                f"+86 {a} {b} {c}",
                f"+86{digits}",
                f"0086 {digits}",
                f"+86-{a}-{b}-{c}",
                f"86{digits}",
            ]
        )
    )
    return digits, form


@st.composite
def _us_number(draw: st.DrawFn) -> tuple[str, str]:
    area = draw(st.sampled_from("23456789")) + draw(st.text("0123456789", min_size=2, max_size=2))
    exchange = draw(st.sampled_from("23456789")) + draw(
        st.text("0123456789", min_size=2, max_size=2)
    )
    line = draw(st.text("0123456789", min_size=4, max_size=4))
    form = draw(
        st.sampled_from(
            [
                f"({area}) {exchange}-{line}",
                f"{area}-{exchange}-{line}",
                f"+1 ({area}) {exchange}-{line}",
                f"+1 {area} {exchange} {line}",
                f"{area}.{exchange}.{line}",
                f"{area}{exchange}{line}",
                f"+1{area}{exchange}{line}",
            ]
        )
    )
    return area + exchange + line, form


@settings(max_examples=300, deadline=None)
@given(st.one_of(_cn_number(), _us_number()), _FILLER, _FILLER)
def test_any_cn_or_us_number_in_any_form_is_scrubbed(
    number: tuple[str, str], before: str, after: str
) -> None:
    digits, form = number
    out = Scrubber().text(f"{before} {form} {after}")
    assert not _digits_survive(out, digits), (form, out)


def test_the_typed_number_is_scrubbed_in_forms_no_generic_rule_knows() -> None:
    """A UK number is no CN or NANP shape: registering it catches its spaced and trunk forms."""
    uk = parse_phone("+44 7400 123456")
    text = "<p>07400 123456</p><p>7400-123-456</p><p>+44 (0) 7400 123456</p>"
    out = Scrubber([uk]).html(text)
    assert not _digits_survive(out, uk.national_digits)
    assert find_leaks(out, [uk]) == []


def test_a_number_split_across_tags_is_refused_not_written(tmp_path: Path) -> None:
    """What the scrubber cannot see, find_leaks still finds: the file is skipped."""
    recording = Recording("https://www.example.cn/", ("example.cn",), phones=[CN])
    recording.add_snapshot("https://www.example.cn/", "<p><b>138</b>0013<i>8000</i></p>")
    recording.add_snapshot("https://www.example.cn/ok", "<p>nothing personal</p>")
    saved = save_recording(recording, tmp_path / "recorded")
    names = [p.name for p in saved.files]
    assert any(name.endswith("example-cn-ok.html") for name in names)
    assert [name for name, _ in saved.skipped] == ["01-www-example-cn.html"]
    assert "the number +86 138****8000" in saved.skipped[0][1]
    for path in saved.files:
        assert not _digits_survive(path.read_text(encoding="utf-8"), CN.national_digits)
