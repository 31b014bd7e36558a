"""`run_unbind` end to end: a real (headless) Chromium, a scripted human, the offline replicas of
example-cn and example-intl, and a real trail."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from unbinder.browser.replica import Replica
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.engine.human import ScriptedHuman, recipe_script
from unbinder.jobs.sessions import KEY_PURPOSE, SessionError, SessionStore
from unbinder.jobs.unbind import ActionResult, run_unbind, start_unbind_run
from unbinder.phone import PhoneNumber, masked_matches, parse_phone
from unbinder.recipe.load import find_recipe
from unbinder.trail import Record, RecordType, Trail

PASSPHRASE = "correct horse battery staple"
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Case:
    platform: str
    mode: str
    old: str
    new: str | None
    after: str | None  # the account's number in the replica afterwards
    handoffs: tuple[str, ...]  # the kinds of hand-off the person does, in order


CASES = [
    Case(
        "example-cn",
        "change",
        "+86 138 0013 8000",
        "+86 139 0013 9000",
        "+8613900139000",
        ("login", "sms_code", "sms_code"),
    ),
    Case("example-cn", "unbind", "+86 138 0013 8000", None, None, ("login", "sms_code")),
    Case(
        "example-intl",
        "change",
        "+1 202 555 0123",
        "+1 202 555 0199",
        "+12025550199",
        ("login", "sms_code"),
    ),
    Case("example-intl", "unbind", "+1 202 555 0123", None, None, ("login", "sms_code")),
]
IDS = [f"{c.platform}-{c.mode}" for c in CASES]


@dataclass
class Played:
    result: ActionResult
    replica: Replica
    human: ScriptedHuman
    run_id: int
    phone: PhoneNumber
    new_phone: PhoneNumber | None


@pytest.fixture
def trail(home: Path) -> Iterator[Trail]:
    opened = Trail.create(home / "trail", PASSPHRASE)
    yield opened
    opened.close()


def play(
    browser: BrowserThread,
    trail: Trail,
    case: Case,
    *,
    dry_run: bool = False,
    confirm: bool = True,
    sessions: SessionStore | None = None,
    keep_session: bool = False,
    scenario: str = "registered",
) -> Played:
    loaded = find_recipe(case.platform)
    phone = parse_phone(case.old)
    new_phone = parse_phone(case.new) if case.new else None
    replica = Replica.load(case.platform, scenario)
    script = recipe_script(loaded, case.mode)
    assert script is not None
    human = ScriptedHuman(script.model_copy(update={"confirm": confirm}))
    run = start_unbind_run(
        trail, loaded, phone, new_phone=new_phone, mode=case.mode, dry_run=dry_run, fixtures=True
    )
    result = browser.run(
        lambda session: run_unbind(
            loaded,
            phone,
            human=human,
            session=session,
            new_phone=new_phone,
            mode=case.mode,
            dry_run=dry_run,
            replica=replica,
            run=run,
            sessions=sessions,
            keep_session=keep_session,
        )
    )
    run.seal()
    return Played(result, replica, human, run.id, phone, new_phone)


def run_records(trail: Trail, run_id: int) -> list[Record]:
    return [r for r in trail.records() if r.seq == run_id or r.run == run_id]


def actions(records: list[Record], what: str) -> list[Record]:
    return [r for r in records if r.type == RecordType.ACTION and r.payload["what"] == what]


def the_result(records: list[Record]) -> dict[str, object]:
    (record,) = [r for r in records if r.type == RecordType.RESULT]
    result: dict[str, object] = record.payload["result"]
    return result


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_flow_changes_the_platform_and_verify_reads_it(
    unbinder_browser: BrowserThread, trail: Trail, home: Path, case: Case
) -> None:
    played = play(unbinder_browser, trail, case)
    result = played.result

    assert result.status == ("changed" if case.mode == "change" else "unbound"), result.reason
    # The replica's backend really changed.
    assert played.replica.state.get("accounts.0.phone") == case.after
    # One destructive click, one confirmation, showing both numbers masked.
    assert len(played.human.confirmations) == 1
    asked = played.human.confirmations[0]
    assert asked.old_masked == played.phone.masked
    assert asked.new_masked == (played.new_phone.masked if played.new_phone else None)
    assert [h.kind for h in played.human.handoffs] == list(case.handoffs)
    # Verify ran in the same (logged-in) context and read the new state.
    assert result.verify is not None
    if case.mode == "change":
        assert played.new_phone is not None
        assert result.verify.status == "bound"
        assert result.bound_number is not None
        assert masked_matches(result.bound_number, played.new_phone)
        assert not masked_matches(result.bound_number, played.phone)
    else:
        assert result.verify.status == "not_bound"

    # The trail: start, hand-offs (what was asked), the confirmation, the outcome, screenshots.
    records = run_records(trail, played.run_id)
    start = records[0]
    assert start.type == RecordType.RUN_START
    assert start.payload["kind"] == "unbind"
    assert start.payload["phone"]["masked"] == played.phone.masked
    assert actions(records, "start")[0].payload["details"]["mode"] == case.mode
    handoffs = actions(records, "handoff")
    assert [h.payload["details"]["kind"] for h in handoffs] == list(case.handoffs)
    assert all(set(h.payload["details"]) == {"kind", "prompt"} for h in handoffs)
    assert all(h.payload["by"] == "user" for h in handoffs)
    assert len(actions(records, "confirm_asked")) == 1
    (answered,) = actions(records, "confirm_answered")
    assert answered.payload["details"] == {"answer": "yes"}
    (flow_ended,) = actions(records, "flow_ended")
    assert flow_ended.payload["details"]["status"] == "done"
    # Two reads of the platform, both verify flows in the same page: before the steps (the number
    # shown, which fits the one given) and after them (the read-back).
    before, after = [r for r in records if r.type == RecordType.FINDING]
    assert [before.payload["outcome"]["flow"], after.payload["outcome"]["flow"]] == ["verify"] * 2
    assert masked_matches(before.payload["outcome"]["variables"]["bound_number"], played.phone)
    assert before.seq < flow_ended.seq < after.seq
    assert result.shown_before == before.payload["outcome"]["variables"]["bound_number"]
    assert asked.shown == result.shown_before
    assert the_result(records)["status"] == result.status
    assert records[-1].type == RecordType.RUN_SEAL

    # Screenshots: before and after the change (plus evidence), stored only encrypted.
    shots = [r for r in records if r.type == RecordType.BLOB]
    names = {r.payload["name"] for r in shots}
    assert {f"{case.mode}:before", f"{case.mode}:after", "verify:outcome"} <= names
    assert [r.payload["blob"] for r in shots] == list(result.blobs)
    for blob_id in result.blobs:
        assert trail.read_blob(blob_id).startswith(PNG)
    files = [p for p in (home / "trail").rglob("*") if p.is_file()]
    assert len([p for p in files if "blobs" in p.parts]) >= len(set(result.blobs))
    for path in files:
        assert PNG not in path.read_bytes(), f"{path} holds a plaintext PNG"
    assert not trail.verify().problems
    # The report captions each of them with its page's address, as it does an audit's.
    from unbinder.jobs.report import build_report

    (reported,) = build_report(trail, run=played.run_id)["runs"]
    assert {s["blob"] for s in reported["screenshots"]} == set(result.blobs)
    assert all(s["url"] and "?" not in s["url"] for s in reported["screenshots"]), reported


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_dry_run_changes_nothing(unbinder_browser: BrowserThread, trail: Trail, case: Case) -> None:
    played = play(unbinder_browser, trail, case, dry_run=True)
    result = played.result

    assert result.status == "not_done"
    assert result.reason_code == "dry_run"
    assert result.reason is not None and "dry run" in result.reason
    assert played.replica.state.get("accounts.0.phone") == played.phone.e164
    assert not {"changed", "unbound"} & set(played.replica.state.get("results"))
    assert played.human.confirmations == []  # it stops before asking
    assert played.replica.state.codes == {}  # and before the first code is sent
    assert "which would send an SMS: nothing was sent" in result.reason
    assert result.verify is None
    assert result.shown_before is not None and masked_matches(result.shown_before, played.phone)
    records = run_records(trail, played.run_id)
    assert actions(records, "confirm_asked") == []
    recorded = the_result(records)
    assert recorded["status"] == "not_done"
    assert recorded["dry_run"] is True
    assert recorded["reason_code"] == "dry_run"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_declining_the_confirmation_changes_nothing(
    unbinder_browser: BrowserThread, trail: Trail, case: Case
) -> None:
    played = play(unbinder_browser, trail, case, confirm=False)
    result = played.result

    assert result.status == "not_done"
    assert result.reason_code == "declined"
    assert played.replica.state.get("accounts.0.phone") == played.phone.e164
    assert not {"changed", "unbound"} & set(played.replica.state.get("results"))
    assert len(played.human.confirmations) == 1
    records = run_records(trail, played.run_id)
    (answered,) = actions(records, "confirm_answered")
    assert answered.payload["details"] == {"answer": "no"}
    recorded = the_result(records)
    assert recorded["status"] == "not_done"
    assert recorded["reason_code"] == "declined"


@pytest.mark.parametrize("case", [CASES[0], CASES[3]], ids=[IDS[0], IDS[3]])
def test_nothing_typed_reaches_the_trail_logs_or_data_directory(
    unbinder_browser: BrowserThread,
    trail: Trail,
    home: Path,
    case: Case,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sessions = SessionStore(home / "sessions", trail.derive_key(KEY_PURPOSE))
    played = play(unbinder_browser, trail, case, sessions=sessions, keep_session=True)
    assert played.result.ok, played.result.reason
    assert sessions.exists(case.platform)

    # What the scripted human typed into the page: the password and every SMS code.
    codes = list(played.replica.state.codes.values())
    assert codes, "the flow sent no code, so this test would prove nothing"
    typed = ["demo-password", *codes]
    numbers = [f for p in (played.phone, played.new_phone) if p is not None for f in p.forms()]
    records = json.dumps([r.to_json() for r in trail.records()], ensure_ascii=False)
    output = capsys.readouterr()
    texts = {
        "trail records": records,
        "stdout": output.out,
        "stderr": output.err,
        "log": caplog.text,
    }
    for path in home.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_bytes().decode("latin-1")
    for where, text in texts.items():
        for secret in typed:
            assert secret not in text, f"something typed appears in {where}"
        for form in numbers:
            assert form not in text, f"the number appears in plaintext in {where}"


def test_a_kept_session_is_encrypted_loaded_and_wiped(
    unbinder_browser: BrowserThread, trail: Trail, home: Path
) -> None:
    case = CASES[0]
    sessions = SessionStore(home / "sessions", trail.derive_key(KEY_PURPOSE))
    seeded = {
        "cookies": [
            {
                "name": "sid",
                "value": "seeded-login-cookie",
                "domain": "www.example-cn.test",
                "path": "/",
                "expires": -1,
                "httpOnly": True,
                "secure": True,
                "sameSite": "Lax",
            }
        ],
        "origins": [],
    }
    sessions.save(case.platform, seeded)

    played = play(unbinder_browser, trail, case, dry_run=True, sessions=sessions, keep_session=True)
    assert played.result.session == "kept"
    path = sessions.path(case.platform)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    on_disk = path.read_bytes()
    assert b"seeded-login-cookie" not in on_disk
    assert b"example-cn.test" not in on_disk
    # The kept cookie went into the context and came back out with the state saved at the end.
    kept = sessions.load(case.platform)
    assert kept is not None
    assert any(c["value"] == "seeded-login-cookie" for c in kept["cookies"])
    records = run_records(trail, played.run_id)
    assert actions(records, "start")[0].payload["details"]["session"] == "kept session"
    assert actions(records, "session_kept")

    # Without --keep-session the kept login is wiped when the flow ends.
    again = play(unbinder_browser, trail, case, dry_run=True, sessions=sessions)
    assert again.result.session == "not kept"
    assert not path.exists()
    assert actions(run_records(trail, again.run_id), "session_wiped")


def test_a_session_from_another_trail_or_platform_does_not_open(home: Path) -> None:
    mine = SessionStore(home / "sessions", b"k" * 32)
    mine.save("example-cn", {"cookies": [], "origins": []})
    with pytest.raises(SessionError, match="sessions wipe example-cn"):
        SessionStore(home / "sessions", b"x" * 32).load("example-cn")
    # A file renamed to another platform is refused too (the platform is authenticated).
    mine.path("example-cn").rename(mine.path("example-intl"))
    with pytest.raises(SessionError):
        mine.load("example-intl")
    assert mine.load("example-cn") is None


def test_the_session_key_is_the_trails_own_and_survives_reopening(home: Path) -> None:
    with Trail.create(home / "trail", PASSPHRASE) as first:
        key = first.derive_key(KEY_PURPOSE)
        assert first.derive_key("something else") != key
    with Trail.open(home / "trail", PASSPHRASE) as reopened:
        assert reopened.derive_key(KEY_PURPOSE) == key
    with Trail.create(home / "other-trail", PASSPHRASE) as other:
        assert other.derive_key(KEY_PURPOSE) != key
