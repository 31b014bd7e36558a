"""Replica: pages that ask a signed-in person for their password again before a change."""

from __future__ import annotations

from pathlib import Path

import pytest
from platforms import make_platform, run

from unbinder.contrib.pytest_plugin import BrowserThread

REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
  - url: https://www.{id}.test/api/reauth
    method: POST
    action: reauth
    respond:
      ok: {{json: {{ok: true}}}}
      bad_password: {{json: {{ok: false, error: wrong password}}}}
  - url: https://www.{id}.test/api/remove
    method: POST
    action: unbind_phone
    code: null
    reauth: true
    respond:
      unbound: {{json: {{ok: true}}}}
      reauth_required: {{status: 401, json: {{ok: false, error: verify it is you}}}}
scenarios:
  default:
    accounts: [{{phone: "{phone}", password: right}}]
    logged_in: 0
"""

PAGE = """\
<!doctype html><meta charset="utf-8"><body>
<label for="pw">Password</label><input id="pw">
<button id="verify">Verify</button><button id="remove">Remove</button>
<p id="out" role="status"></p>
<script>
const post = async (url, body) => (await fetch(url, {method: 'POST',
  headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})).json();
document.getElementById('verify').onclick = async () => {
  const b = await post('/api/reauth', {password: document.getElementById('pw').value});
  document.getElementById('out').textContent = b.ok ? 'verified' : b.error;
};
document.getElementById('remove').onclick = async () => {
  const b = await post('/api/remove', {});
  document.getElementById('out').textContent = b.ok ? 'removed' : b.error;
};
</script></body>
"""

FLOW = """\
selectors:
  password: [{label: Password}]
  verify: [{role: button, name: Verify}]
  remove: [{role: button, name: Remove}]
flows:
  check:
    detect_timeout: 4
    steps:
      - goto: https://www.tp.test/
{steps}
      - click: remove
    detect:
      - when: {text: removed}
        outcome: not_bound
        evidence: removed
      - when: {text: [verify it is you, wrong password]}
        outcome: bound
        evidence: still there
"""


@pytest.mark.parametrize(
    ("steps", "status", "phone_left", "reauthenticated"),
    [
        ("", "bound", True, False),
        (
            "      - fill: {target: password, value: wrong}\n      - click: verify\n"
            "      - wait_for: {text: wrong password}\n",
            "bound",
            True,
            False,
        ),
        (
            "      - fill: {target: password, value: right}\n      - click: verify\n"
            "      - wait_for: {text: verified}\n",
            "not_bound",
            False,
            True,
        ),
    ],
    ids=["no password: refused", "wrong password: refused", "right password: removed"],
)
def test_a_reauth_route_refuses_until_the_password_is_typed_again(
    tmp_path: Path,
    unbinder_browser: BrowserThread,
    steps: str,
    status: str,
    phone_left: bool,
    reauthenticated: bool,
) -> None:
    body = FLOW.replace("{steps}\n", steps)
    platform = make_platform(tmp_path, body, {"index.html": PAGE}, replica=REPLICA)
    outcome, replica = run(unbinder_browser, platform)
    assert outcome.status == status, outcome
    assert (replica.state.get("accounts.0.phone") is not None) == phone_left
    assert replica.state.get("reauthenticated") is reauthenticated


CODE_REPLICA = REPLICA.replace(
    """  - url: https://www.{id}.test/api/remove""",
    """  - url: https://www.{id}.test/api/send
    method: POST
    action: send_code
    to: session
    respond:
      sent: {{json: {{ok: true, demo: "{{code}}"}}}}
  - url: https://www.{id}.test/api/remove""",
).replace(
    """    action: reauth
    respond:""",
    """    action: reauth
    respond:
      bad_code: {{json: {{ok: false, error: wrong code}}}}""",
)

CODE_PAGE = (
    PAGE.replace(
        '<button id="verify">Verify</button>',
        '<button id="send">Send code</button><span id="sms"></span><button id="verify">Verify</button>',
    )
    .replace(
        "{password: document.getElementById('pw').value}",
        "{code: document.getElementById('pw').value}",
    )
    .replace(
        "document.getElementById('remove').onclick",
        "document.getElementById('send').onclick = async () => {"
        " document.getElementById('sms').textContent = 'code ' + (await post('/api/send', {})).demo; };\n"
        "document.getElementById('remove').onclick",
    )
)


@pytest.mark.parametrize(
    ("code_step", "status", "phone_left"),
    [
        ("      - fill: {target: password, value: '000000'}\n", "bound", True),
        (
            "      - extract: {target: sms, into: code, regex: '(\\d{6})'}\n"
            "      - fill: {target: password, value: '{var.code}'}\n",
            "not_bound",
            False,
        ),
    ],
    ids=["wrong code: refused", "code sent to the account's number: removed"],
)
def test_a_security_code_to_the_accounts_number_also_reauthenticates(
    tmp_path: Path, unbinder_browser: BrowserThread, code_step: str, status: str, phone_left: bool
) -> None:
    steps = (
        "      - click: send\n      - wait_for: {text: code}\n"
        + code_step
        + "      - click: verify\n      - wait_for: {any: [{text: verified}, {text: wrong code}]}\n"
    )
    body = FLOW.replace("{steps}\n", steps).replace(
        "  remove: [{role: button, name: Remove}]",
        "  remove: [{role: button, name: Remove}]\n  send: [{role: button, name: Send code}]\n"
        "  sms: [{regex: '^code \\d+$'}]",
    )
    platform = make_platform(tmp_path, body, {"index.html": CODE_PAGE}, replica=CODE_REPLICA)
    outcome, replica = run(unbinder_browser, platform)
    assert outcome.status == status, outcome
    assert (replica.state.get("accounts.0.phone") is not None) == phone_left


def test_a_recent_login_scenario_needs_no_password_again(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    replica = REPLICA + "  fresh:\n    extends: default\n    recent_login: true\n"
    platform = make_platform(
        tmp_path, FLOW.replace("{steps}\n", ""), {"index.html": PAGE}, replica=replica
    )
    outcome, rep = run(unbinder_browser, platform, scenario="fresh")
    assert outcome.status == "not_bound", outcome
    assert rep.state.get("accounts.0.phone") is None
