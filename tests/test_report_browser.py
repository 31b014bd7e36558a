"""The demo's evidence report in a real browser (pytest-playwright's sync `page`, our Chromium).

The page is opened from a file:// URL: it must make no request, show the summary the trail
supports, decode every screenshot, and refuse any fetch through its Content-Security-Policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import DemoRun
from playwright.sync_api import Page, Request

from unbinder.trail import RecordType, Trail
from unbinder.vocab import AUTOMATIC as CHECKED


def expected_summary(trail: Trail) -> dict[str, int]:
    """The summary, counted straight from the trail's records.

    Done: a verified change (or removal), or a check whose last word is `not_bound`. Bound: a
    check said `bound` and nothing done came after. Manual: only ever `manual`.
    """
    history: dict[str, list[tuple[str, str]]] = {}  # platform -> [(source, outcome)]
    by_login: set[str] = set()
    for record in trail.records():
        payload: dict[str, Any] = record.payload
        if record.type == RecordType.FINDING and isinstance(payload["outcome"].get("outcome"), str):
            history.setdefault(payload["platform"], []).append(
                ("check", payload["outcome"]["outcome"])
            )
            if payload["outcome"].get("via") == "login":
                by_login.add(payload["platform"])
        elif record.type == RecordType.RESULT:
            history.setdefault(payload["platform"], []).append(
                ("result", payload["result"]["status"])
            )
    changed = {
        p for p, h in history.items() if ("result", "changed") in h or ("result", "unbound") in h
    }
    not_bound = {
        p for p, h in history.items() if p not in changed and h[-1] == ("check", "not_bound")
    }
    bound = {p for p, h in history.items() if p not in changed and ("check", "bound") in h}
    manual = {p for p, h in history.items() if {o for _, o in h} == {"manual"}}
    return {
        "platforms": len(history),
        "checked": sum(
            1 for h in history.values() if any(o in CHECKED for s, o in h if s == "check")
        ),
        "checked_by_login": len(by_login),
        "bound": len(bound),
        "changed": len(changed),
        "not_bound": len(not_bound),
        "todo": len(history) - len(changed) - len(not_bound),
        "manual": len(manual),
    }


def test_the_report_opens_offline_and_matches_the_trail(
    page: Page, demo_run: DemoRun, tmp_path: Path
) -> None:
    assert demo_run.returncode == 0, demo_run.stderr
    url = demo_run.report.resolve().as_uri()
    requested: list[str] = []

    def seen(request: Request) -> None:
        requested.append(request.url)

    page.on("request", seen)
    page.goto(url, wait_until="load")

    assert requested, "the page load itself is a request"
    assert all(u == url or u.startswith("data:") for u in requested), requested

    shown = {
        key: int(page.locator(f'[data-count="{key}"] .n').inner_text())
        for key in ("platforms", "checked", "bound", "changed", "not_bound", "todo", "manual")
    }
    with Trail.open(demo_run.home / "trail", demo_run.passphrase) as trail:
        expected = expected_summary(trail)
        if not expected["checked_by_login"]:  # the page names the login count only when some were
            del expected["checked_by_login"]
        assert shown == expected
        seq, mac = trail.head()
        blobs = sum(1 for r in trail.records() if r.type == RecordType.BLOB)
    assert shown["changed"] == 1  # the demo's scripted change, re-checked
    assert shown["manual"] == 1  # the app-only demo platform
    assert page.locator("#head-fingerprint").inner_text() == f"#{seq} {mac[:16]}"
    assert page.locator("#verification").get_attribute("data-status") == "ok"
    changed = page.locator('table.states tr[data-platform="example-cn"]')
    assert changed.get_attribute("data-state") == "changed"
    assert changed.get_attribute("data-done") == "yes"
    assert page.locator('article[data-kind="unbind"] ol.steps li').count() >= 5

    widths = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"
    )
    assert len(widths) == blobs > 0
    assert all(w > 0 for w in widths), widths

    # The CSP forbids fetches even from script the page does not have: prove it in the page.
    directive = page.evaluate(
        """() => new Promise(resolve => {
            document.addEventListener('securitypolicyviolation', e => resolve(e.effectiveDirective));
            fetch('https://example.com/beacon').catch(() => {});
            setTimeout(() => resolve('no violation'), 3000);
        })"""
    )
    assert directive == "connect-src"
    assert not [u for u in requested if "example.com" in u]

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.emulate_media(media="print")
    assert page.locator(".print-hint").is_hidden()
