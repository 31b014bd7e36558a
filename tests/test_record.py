"""`unbinder recipes record`, in parts: a scripted person in a headless browser on a replica stands
in for the contributor; the recording is then scrubbed, saved, and its drafted steps replayed.

Not covered here (it needs a person and a display): the headed window itself, pressing Enter in
the terminal or closing the window to stop, and recording a live site.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from unbinder.browser.replica import Replica
from unbinder.cli import cli
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.contrib.record import (
    Element,
    Recording,
    classify_value,
    record_flow,
    recording_domains,
    save_recording,
)
from unbinder.contrib.scrub import COOKIE
from unbinder.engine import Outcome, run_flow
from unbinder.errors import BadInput
from unbinder.phone import parse_phone
from unbinder.recipe.load import load_recipe_file

PHONE = parse_phone("+86 138 0013 8000")
TYPED_NAME = "Zhang Sanfeng"
PASSWORD = "correct-horse-42"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
CSRF = "Xk29fLq8ZmN3pR7sT1vW5yB2cD4eF6gH"
SESSION = "sess-7Hq2Lm9Xv4Rt8Kp3Zw"
UID = "uid-55d1c0ffee42"
EMAIL = "jane.doe@mail.example.com"
SECRETS = [TYPED_NAME, PASSWORD, JWT, CSRF, SESSION, UID, EMAIL]

REPLICA = """\
region: CN
routes:
  - url: https://www.rec.test/signin
    page: signin.html
  - url: https://www.rec.test/api/lookup
    method: POST
    action: lookup
    phone: mobile
    respond:
      found:
        json: {exists: true, masked: "{masked}"}
        headers: {set-cookie: "session=SESSION; Path=/; HttpOnly"}
      missing: {json: {exists: false}}
  - url: https://www.rec.test/account
    page: account.html
scenarios:
  default:
    accounts: [{phone: "+86 138 0013 8000"}]
""".replace("SESSION", SESSION)

SIGNIN = f"""\
<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="csrf-token" content="{CSRF}"><title>Sign in</title></head><body>
<p>Help: {EMAIL}. Hotline +1 (202) 555-0123.</p>
<form id="f">
  <input type="hidden" name="_token" value="{CSRF}">
  <label for="m">Mobile number</label><input id="m" name="mobile" type="tel">
  <label for="n">Your name</label><input id="n" name="nick">
  <label for="p">Password</label><input id="p" name="pw" type="password">
  <button type="submit">Continue</button>
</form>
<p id="out" role="status"></p>
<a id="acct" href="/account">Go to my account</a>
<script>
const token = '{JWT}';
document.cookie = 'uid={UID}; path=/';
document.getElementById('f').addEventListener('submit', async (e) => {{
  e.preventDefault();
  const mobile = document.getElementById('m').value;
  const r = await fetch('/api/lookup', {{method: 'POST',
    headers: {{'content-type': 'application/json', 'authorization': 'Bearer ' + token}},
    body: JSON.stringify({{mobile, nick: document.getElementById('n').value,
                          pw: document.getElementById('p').value}})}});
  const b = await r.json();
  const digits = mobile.replace(/\\D/g, '');
  document.getElementById('out').textContent = b.exists
    ? 'An account uses this number: ' + mobile + ' (' + digits + ', +86-' + digits.slice(0, 3) + '-'
      + digits.slice(3, 7) + '-' + digits.slice(7) + '). Welcome, ' + document.getElementById('n').value
    : 'No account';
}});
</script></body></html>
"""

ACCOUNT = f"""\
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Account</title></head><body>
<h1>Welcome back</h1><p>Signed in as {EMAIL}</p>
<input type="hidden" name="state" value="{CSRF}">
</body></html>
"""


def _fixtures(tmp_path: Path) -> Path:
    folder = tmp_path / "fixtures" / "rec"
    folder.mkdir(parents=True)
    (folder / "replica.yaml").write_text(REPLICA, encoding="utf-8")
    (folder / "signin.html").write_text(SIGNIN, encoding="utf-8")
    (folder / "account.html").write_text(ACCOUNT, encoding="utf-8")
    return tmp_path / "fixtures"


async def _person(page: Any, closed: Any) -> None:
    """What the contributor would do by hand."""
    await page.get_by_label("Mobile number").fill("138 0013 8000")
    await page.get_by_label("Your name").fill(TYPED_NAME)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_text("An account uses this number").wait_for()
    await page.get_by_role("link", name="Go to my account").click()
    await page.get_by_text("Welcome back").wait_for()


@pytest.fixture(scope="module")
def recorded(
    tmp_path_factory: pytest.TempPathFactory, unbinder_browser: BrowserThread
) -> tuple[Recording, Path]:
    """One recording, shared: tests only read it."""
    fixtures = _fixtures(tmp_path_factory.mktemp("record"))
    replica = Replica.load("rec", "default", fixtures)

    async def go(session: Any) -> Recording:
        return await record_flow(
            session,
            "https://www.rec.test/signin",
            ["rec.test"],
            until=_person,
            serve=replica.serve,
            region="CN",
        )

    return unbinder_browser.run(go), fixtures


def _digits_survive(text: str, digits: str) -> bool:
    return digits in re.sub(r"<[^>]*>|[^0-9]", "", text)


def test_the_recording_sees_pages_requests_and_actions(recorded: tuple[Recording, Path]) -> None:
    recording, _ = recorded
    kinds = [(a.kind, a.element.label or a.element.name) for a in recording.actions]
    assert kinds == [
        ("fill", "Mobile number"),
        ("fill", "Your name"),
        ("fill", "Password"),
        ("click", "Continue"),
        ("click", "Go to my account"),
    ]
    assert [a.value_kind for a in recording.actions[:3]] == ["phone.national", "text", "password"]
    assert PASSWORD not in recording.typed  # a password's value is never read
    assert [p.e164 for p in recording.phones] == [PHONE.e164]  # the typed number was recognised
    urls = [s.url for s in recording.snapshots]
    assert "https://www.rec.test/signin" in urls and "https://www.rec.test/account" in urls
    assert any(_digits_survive(s.html, PHONE.national_digits) for s in recording.snapshots)
    methods = {(e["request"]["method"], e["request"]["url"]) for e in recording.entries}
    assert ("POST", "https://www.rec.test/api/lookup") in methods


def test_saved_recording_holds_no_number_cookie_token_or_typed_text(
    recorded: tuple[Recording, Path], tmp_path: Path
) -> None:
    recording, _ = recorded
    saved = save_recording(recording, tmp_path / "out" / "recorded")
    assert saved.skipped == []
    names = sorted(p.name for p in saved.files)
    assert "session.har" in names and "steps.yaml" in names
    assert sum(n.endswith(".html") for n in names) >= 2
    for path in saved.files:
        text = path.read_text(encoding="utf-8")
        for digits in (PHONE.national_digits, "2025550123"):
            assert not _digits_survive(text, digits), (path.name, digits)
        for secret in SECRETS:
            assert secret not in text, (path.name, secret)
    har = json.loads((tmp_path / "out" / "recorded" / "session.har").read_text(encoding="utf-8"))
    headers = [
        (h["name"].lower(), h["value"])
        for e in har["log"]["entries"]
        for part in ("request", "response")
        for h in e[part]["headers"]
    ]
    # (Playwright does not show a fulfilled response's Set-Cookie; the cookie it set is sent back
    # below. Set-Cookie scrubbing itself is tested in test_scrub.py.)
    cookies = [v for n, v in headers if n == "cookie"]
    assert any("session=" in v for v in cookies)  # the session cookie went back to the site...
    assert all(v.count("=") == v.count(COOKIE) for v in cookies)  # ...and no value is left
    assert any(n == "authorization" and v == "[scrubbed:secret]" for n, v in headers)


def test_drafted_steps_replay_on_the_page_they_came_from(
    recorded: tuple[Recording, Path], tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    recording, fixtures = recorded
    saved = save_recording(recording, tmp_path / "out" / "recorded")
    draft = yaml.safe_load(saved.steps)
    selectors = draft["selectors"]
    assert selectors["mobile"][0] == {"role": "textbox", "name": "Mobile number"}
    assert {"label": "Mobile number"} in selectors["mobile"]
    steps = draft["flows"]["check"]["steps"]
    assert steps[0] == {"goto": "https://www.rec.test/signin", "source": "recorded"}
    # What was recorded is cited as a source (the page without its query, the day it was read).
    assert draft["sources"]["recorded"]["url"] == "https://www.rec.test/signin"
    assert set(draft["sources"]["recorded"]) == {"url", "read", "shows"}
    assert steps[1] == {"fill": {"target": "mobile", "value": "{phone.national}"}}
    assert steps[2] == {"fill": {"target": "nick", "value": "TODO"}}  # never the typed text
    assert "a password was typed into `pw`" in saved.steps  # and no step types it
    assert not any("pw" in json.dumps(s) for s in steps)
    # A recipe made of the draft (plus detect rules) runs against the same page.
    recipe = {
        "id": "rec",
        "name": {"en": "Recorded"},
        "regions": ["CN"],
        "homepage": "https://www.rec.test/",
        "domains": ["rec.test"],
        "sources": draft["sources"],
        "selectors": selectors,
        "flows": {
            "check": {
                "detect_timeout": 5,
                "steps": steps,
                "detect": [
                    {
                        "when": {"text": "Welcome back"},
                        "outcome": "bound",
                        "evidence": "the account page opened",
                        "source": "recorded",
                    }
                ],
            }
        },
    }
    path = tmp_path / "recipes" / "rec.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    loaded = load_recipe_file(path)
    replica = Replica.load("rec", "default", fixtures)

    async def go(session: Any) -> Outcome:
        return await run_flow(session, loaded, "check", PHONE, replica=replica, screenshots=False)

    outcome = unbinder_browser.run(go)
    assert outcome.status == "bound", outcome.summary()
    assert not outcome.degraded, outcome.warnings  # the first alternative of every selector worked


def test_values_are_named_by_what_they_are_never_kept() -> None:
    field = Element(tag="input", label="验证码", autocomplete="one-time-code")
    assert classify_value("+8613800138000", field, [PHONE]) == "phone.e164"
    assert classify_value("13800138000", field, [PHONE]) == "phone.national_digits"
    assert classify_value("138-0013-8000", field, [PHONE]) == "phone.national_digits"
    assert classify_value("493021", field, [PHONE]) == "code"
    assert classify_value("hello", Element(tag="input"), [PHONE]) == "text"


def test_recording_domains_follow_the_recipe_or_the_url(tmp_path: Path) -> None:
    domains, region = recording_domains("example-cn", "https://passport.example-cn.test/forgot")
    assert domains == ("example-cn.test",) and region == "CN"
    assert recording_domains("brand-new", "https://m.brand-new.cn/find", ["sso.brand.cn"]) == (
        ("m.brand-new.cn", "sso.brand.cn"),
        None,
    )
    with pytest.raises(BadInput, match=r"not in the domains of recipes/example-cn\.yaml"):
        recording_domains("example-cn", "https://tracker.example.net/")
    with pytest.raises(BadInput, match="not a web address"):
        recording_domains("brand-new", "file:///etc/passwd")


def test_record_refuses_before_opening_a_browser(tmp_path: Path) -> None:
    runner = CliRunner()
    outside = runner.invoke(
        cli, ["recipes", "record", "example-cn", "--url", "https://evil.example.net/"]
    )
    assert outside.exit_code == 2
    assert "--domain evil.example.net" in outside.output
    earlier = tmp_path / "recorded" / "01-page.html"
    earlier.parent.mkdir()
    earlier.write_text("<p>earlier</p>", encoding="utf-8")
    again = runner.invoke(
        cli,
        [
            "recipes",
            "record",
            "example-cn",
            "--url",
            "https://passport.example-cn.test/forgot",
            "--out",
            str(tmp_path),
        ],
    )
    assert again.exit_code == 2
    assert "already holds a recording" in again.output and "--force" in again.output
    assert earlier.read_text(encoding="utf-8") == "<p>earlier</p>"


def test_the_listener_script_ships_with_the_package() -> None:
    from unbinder.contrib.record import listener_script

    script = listener_script()
    assert "__unbinderRecord" in script
    assert textwrap.dedent("secret ? null : el.value") in script  # passwords are never sent
