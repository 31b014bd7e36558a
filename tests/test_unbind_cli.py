"""`unbinder unbind`, `unbinder mark` and `unbinder sessions` through the command line."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from unbinder.cli import cli
from unbinder.jobs.sessions import SessionStore
from unbinder.paths import fixtures_dir, recipes_dir
from unbinder.trail import Record, RecordType, Trail

PASSPHRASE = "correct horse battery staple"
INTL_OLD = "+1 202 555 0123"
INTL_NEW = "+1 202 555 0199"

APP_ONLY = """\
id: app-only
name: {en: App Only, zh-CN: 仅限应用}
regions: [CN]
homepage: https://app-only.test/
flows:
  manual:
    why: {en: The number can be changed only in the app., zh-CN: 只能在 App 内更换手机号。}
    steps:
      en: ["Open the app > Me > Settings > Account > Phone", "Change the number"]
      zh-CN: ["打开 App > 我 > 设置 > 账号 > 手机号", "更换手机号"]
"""


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("UNBINDER_PASSPHRASE", PASSPHRASE)
    return PASSPHRASE


@pytest.fixture
def app_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A recipe folder with the shipped recipes plus an app-only (manual) platform."""
    folder = tmp_path / "recipes"
    shutil.copytree(recipes_dir(), folder)
    (folder / "app-only.yaml").write_text(APP_ONLY, encoding="utf-8")
    monkeypatch.setenv("UNBINDER_RECIPES", str(folder))
    return folder


def invoke(*args: str, input: str | None = None) -> Result:
    # pytest-playwright's sync `page` (tests/test_report_browser.py) keeps an event loop running
    # in the main thread for the rest of the session, and `unbind` calls asyncio.run: give each
    # command a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(CliRunner().invoke, cli, list(args), input=input).result()


def records(home: Path) -> list[Record]:
    with Trail.open(home / "trail", PASSPHRASE) as trail:
        return list(trail.records())


def results(home: Path) -> list[dict[str, object]]:
    return [r.payload["result"] for r in records(home) if r.type == RecordType.RESULT]


# ------------------------------------------------------------------------------ mark


def test_mark_records_a_hand_made_result_for_an_app_only_platform(
    home: Path, passphrase: str, app_only: Path
) -> None:
    result = invoke(
        "mark",
        "app-only",
        "--phone",
        "+86 138 0013 8000",
        "--status",
        "changed",
        "--new-phone",
        "+86 139 0013 9000",
        "--note",
        "moved in the app to 139 0013 9000",
    )
    assert result.exit_code == 0, result.output
    assert "app-only: marked changed for +86 138****8000" in result.output
    found = records(home)
    start = next(r for r in found if r.type == RecordType.RUN_START)
    assert start.payload["kind"] == "mark"
    assert start.payload["new_phone"]["masked"] == "+86 139****9000"
    (recorded,) = results(home)
    assert recorded["status"] == "changed"
    assert recorded["by"] == "user"
    assert recorded["reason"] == "moved in the app to +86 139****9000"  # the note, masked
    assert next(r for r in found if r.run == start.seq and r.type == RecordType.RUN_SEAL)


def test_mark_refuses_an_unknown_status_and_platform(home: Path, passphrase: str) -> None:
    bad_status = invoke("mark", "example-cn", "--phone", "+86 138 0013 8000", "--status", "gone")
    assert bad_status.exit_code == 2
    unknown = invoke("mark", "no-such", "--phone", "+86 138 0013 8000", "--status", "unbound")
    assert unknown.exit_code == 2
    assert "no recipe for platform" in unknown.output
    assert not (home / "trail").exists() or not results(home)


# ------------------------------------------------------------------------------ sessions


def test_sessions_list_and_wipe(home: Path) -> None:
    assert invoke("sessions", "list").output.strip() == "No kept sessions."
    store = SessionStore(home / "sessions", b"k" * 32)
    store.save("example-cn", {"cookies": [], "origins": []})
    store.save("example-intl", {"cookies": [], "origins": []})

    listed = invoke("sessions", "list")
    assert listed.exit_code == 0
    assert [line.split()[0] for line in listed.output.splitlines()] == [
        "example-cn",
        "example-intl",
    ]
    assert "encrypted" in listed.output

    one = invoke("sessions", "wipe", "example-cn")
    assert one.exit_code == 0
    assert "Removed the kept session of example-cn" in one.output
    assert not store.exists("example-cn")
    assert store.exists("example-intl")
    assert "No kept session for example-cn" in invoke("sessions", "wipe", "example-cn").output

    everything = invoke("sessions", "wipe", "--all")
    assert everything.exit_code == 0
    assert "Removed 1 kept session(s)" in everything.output
    assert store.kept() == []


def test_sessions_wipe_needs_a_platform_or_all() -> None:
    result = invoke("sessions", "wipe")
    assert result.exit_code == 2
    assert "name one platform, or pass --all" in result.output


# ------------------------------------------------------------------------------ unbind


def unbind(*args: str, input: str | None = None) -> Result:
    return invoke(
        "unbind", *args, "--fixtures", "--scenario", "logged_in", "--headless", input=input
    )


def test_unbind_dry_run_on_fixtures_stops_before_the_first_code_is_sent(
    home: Path, passphrase: str
) -> None:
    result = unbind("example-intl", "--phone", INTL_OLD, "--mode", "unbind", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run (unbind +1 202***0123). Nothing was changed." in result.output
    assert (
        "would stop here: stopped before step 6 `click send_remove_code`, which would send an "
        "SMS: nothing was sent" in result.output
    )
    assert "the platform shows: 202***0123" in result.output  # read first, and it fits
    assert "[replica] SMS code" not in result.output
    assert "2025550123" not in result.output
    (recorded,) = results(home)
    assert recorded["status"] == "not_done"
    assert recorded["reason_code"] == "dry_run"
    assert recorded["shown_before"] == "202***0123"


def test_unbind_dry_run_sending_codes_stops_before_the_irreversible_step(
    home: Path, passphrase: str
) -> None:
    # The one hand-off before the first destructive step: the SMS code (Enter).
    result = unbind(
        "example-intl",
        "--phone",
        INTL_OLD,
        "--mode",
        "unbind",
        "--dry-run",
        "--send-codes",
        input="\n",
    )
    assert result.exit_code == 0, result.output
    assert "[replica] SMS code for +1 202***0123: " in result.output
    assert "Type the code sent to +1 202***0123 into the page." in result.output
    assert "would stop here: stopped before `Remove the phone number" in result.output
    assert "2025550123" not in result.output
    assert invoke("unbind", "example-intl", "--phone", INTL_OLD, "--send-codes").exit_code == 2


def test_unbind_stops_at_a_mask_mismatch_and_a_dry_run_reports_it(
    home: Path, passphrase: str
) -> None:
    # Logged in to the account that shows 202***0123, asked to remove +86 138****8000.
    for extra in ((), ("--dry-run",)):
        result = unbind("example-intl", "--phone", "+86 138 0013 8000", "--mode", "unbind", *extra)
        assert result.exit_code == 1, result.output
        assert (
            "mask mismatch: the platform shows 202***0123, which cannot be +86 138****8000"
            in result.output
        )
        assert "Type yes" not in result.output
        assert "[replica] SMS code" not in result.output
    assert [r["reason_code"] for r in results(home)] == ["mask_mismatch", "mask_mismatch"]


def test_unbind_asks_again_when_enter_comes_before_the_code(home: Path, passphrase: str) -> None:
    result = unbind(
        "example-cn",
        "--phone",
        "+86 138 0013 8000",
        "--new-phone",
        "+86 139 0013 9000",
        input="\n\n\n",
    )
    out = result.output
    assert "[replica] SMS code for +86 138****8000: " in out  # --fixtures shows the codes
    assert out.count("The code field is still empty: type the code into the page first.") == 2
    assert out.count("Type the code sent to +86 138****8000 into the page.") == 3
    assert "example-cn: needs_human" in out
    assert "the sms_code field stayed empty" in out
    assert result.exit_code == 1


def test_unbind_confirmation_shows_both_masked_numbers_and_no_stops_it(
    home: Path, passphrase: str
) -> None:
    result = unbind("example-intl", "--phone", INTL_OLD, "--new-phone", INTL_NEW, input="\nno\n")
    assert result.exit_code == 1
    out = result.output
    assert "[replica] SMS code for +1 202***0199: " in out  # --fixtures shows the codes
    assert "[Example Intl] Replace the phone number of your Example Intl account." in out
    assert "old number: +1 202***0123" in out
    assert "the platform shows: 202***0123" in out
    assert "new number: +1 202***0199" in out
    assert "Type yes to go ahead" in out
    assert "example-intl: not_done (change +1 202***0123 -> +1 202***0199)" in out
    assert "you declined the confirmation" in out
    (recorded,) = results(home)
    assert recorded["reason_code"] == "declined"


def test_unbind_yes_without_the_sms_code_is_an_error_that_verify_explains(
    home: Path, passphrase: str
) -> None:
    # Enter without typing the code into the page, then yes: the platform refuses the change.
    result = unbind("example-intl", "--phone", INTL_OLD, "--mode", "unbind", input="\nyes\n")
    assert result.exit_code == 1
    assert "example-intl: error" in result.output
    assert "the platform still shows the old number (202***0123)" in result.output
    (recorded,) = results(home)
    assert recorded["status"] == "error"
    assert recorded["verify_status"] == "bound"


def test_unbind_refuses_options_that_make_no_sense(home: Path, passphrase: str) -> None:
    no_new = invoke("unbind", "example-cn", "--phone", "+86 138 0013 8000", "--mode", "change")
    assert no_new.exit_code == 2
    assert "--new-phone" in no_new.output
    keep = invoke(
        "unbind", "example-cn", "--phone", "+86 138 0013 8000", "--keep-session", "--no-trail"
    )
    assert keep.exit_code == 2
    assert "--keep-session needs the trail" in keep.output


def test_unbind_on_an_app_only_platform_prints_the_manual_steps(
    home: Path, passphrase: str, app_only: Path
) -> None:
    result = invoke("unbind", "app-only", "--phone", "+86 138 0013 8000", "--no-trail")
    assert result.exit_code == 2
    assert "App Only offers no way to remove the number in a browser" in result.output
    assert "1. Open the app > Me > Settings > Account > Phone" in result.output
    assert "unbinder mark app-only --phone OLD --status unbound" in result.output


def test_unbind_on_a_platform_without_unbind_says_what_to_do_instead(
    home: Path, passphrase: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    recipe = (fixtures_dir() / "walletly" / "recipe.yaml").read_text(encoding="utf-8")
    (folder / "walletly.yaml").write_text(recipe, encoding="utf-8")
    monkeypatch.setenv("UNBINDER_RECIPES", str(folder))
    result = invoke("unbind", "walletly", "--phone", "+86 138 0013 8000", "--no-trail")
    assert result.exit_code == 2
    assert (
        "Walletly offers no way to remove a number from an account (Walletly accounts must keep "
        "a phone number; it can only be changed)." in result.output
    )
    assert (
        "Change it to a number you keep instead: unbinder unbind walletly --phone OLD "
        "--new-phone NEW; or close the account." in result.output
    )
    assert "--status unbound" not in result.output
