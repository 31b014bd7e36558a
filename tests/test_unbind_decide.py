"""How an unbind's result is decided from the flow's outcome and what verify read (promise 3)."""

from __future__ import annotations

import dataclasses

import pytest

from unbinder.engine import Outcome
from unbinder.engine.human import ScriptedHuman
from unbinder.jobs.unbind import (
    NoWebFlow,
    Recorder,
    RecordingHuman,
    check_flows,
    decide,
    resolve_mode,
)
from unbinder.phone import PhoneNumber, parse_phone
from unbinder.recipe.load import find_recipe
from unbinder.recipe.model import HumanScript

OLD = parse_phone("+86 138 0013 8000")
NEW = parse_phone("+86 139 0013 9000")
# Shares the first three and last four digits with OLD: a masked display cannot tell them apart.
TWIN = parse_phone("+86 138 5555 8000")


def flow(status: str = "done", reason: str | None = None) -> Outcome:
    return Outcome(platform="p", flow="change", status=status, reason=reason)


def verify(status: str, shown: str | None = None) -> Outcome:
    variables = {"bound_number": shown} if shown else {}
    return Outcome(platform="p", flow="verify", status=status, variables=variables)


def nobody() -> RecordingHuman:
    return RecordingHuman(ScriptedHuman(HumanScript()), Recorder(None, "p"))


@pytest.mark.parametrize(
    ("mode", "new", "shown", "verify_status", "expected"),
    [
        ("change", NEW, "139****9000", "bound", ("changed", None)),
        ("change", NEW, "138****8000", "bound", ("not_done", "still_old")),
        ("change", TWIN, "138****8000", "bound", ("needs_human", "ambiguous")),
        ("change", NEW, "150****1234", "bound", ("needs_human", "unexpected_number")),
        ("change", NEW, None, "not_bound", ("needs_human", "no_number")),
        ("change", NEW, None, "unknown", ("needs_human", "unverified")),
        ("unbind", None, None, "not_bound", ("unbound", None)),
        ("unbind", None, "138****8000", "bound", ("not_done", "still_old")),
        ("unbind", None, None, "needs_human", ("needs_human", "unverified")),
    ],
)
def test_the_result_follows_what_verify_read(
    mode: str,
    new: PhoneNumber | None,
    shown: str | None,
    verify_status: str,
    expected: tuple[str, str | None],
) -> None:
    status, _reason, code = decide(
        mode, flow(), verify(verify_status, shown), old=OLD, new=new, human=nobody()
    )
    assert (status, code) == expected


def test_a_failed_flow_that_left_the_old_number_is_an_error() -> None:
    shown = verify("bound", "138****8000")
    status, reason, code = decide(
        "unbind", flow("error", "boom"), shown, old=OLD, new=None, human=nobody()
    )
    assert (status, code) == ("error", "flow_failed")
    assert reason is not None and "still shows the old number" in reason


def test_a_change_the_platform_holds_back_is_not_done_not_an_error() -> None:
    # QQ accepts a change only after a waiting period: its recipe ends the flow `not_done`.
    shown = verify("bound", "138****8000")
    waiting = flow("not_done", "the change takes effect after QQ's waiting period")
    status, reason, code = decide("change", waiting, shown, old=OLD, new=NEW, human=nobody())
    assert (status, code) == ("not_done", "platform_wait")
    assert reason is not None and "waiting period" in reason


def test_without_verify_the_flow_decides_only_what_did_not_happen() -> None:
    human = nobody()
    dry = decide(
        "change", flow("not_done", "dry run"), None, old=OLD, new=NEW, human=human, dry_run=True
    )
    assert dry[2] == "dry_run"
    assert decide("change", flow("needs_human"), None, old=OLD, new=NEW, human=human)[0] == (
        "needs_human"
    )
    assert decide("change", flow("unknown"), None, old=OLD, new=NEW, human=human)[0] == "error"
    # A flow that ran but cannot be verified is never `changed` on its word alone.
    assert decide("change", flow("done"), None, old=OLD, new=NEW, human=human)[:3:2] == (
        "needs_human",
        "unverified",
    )


def test_modes_and_numbers_that_make_no_sense_are_refused() -> None:
    assert resolve_mode(None, NEW, OLD) == "change"
    assert resolve_mode(None, None, OLD) == "unbind"
    for mode, new in (("change", None), ("unbind", NEW), (None, OLD), ("move", None)):
        with pytest.raises(Exception) as info:
            resolve_mode(mode, new, OLD)
        assert getattr(info.value, "exit_code", None) == 2


def test_a_recipe_without_the_flow_points_to_mark() -> None:
    loaded = find_recipe("example-cn")
    check_flows(loaded, "change")  # it has one: no error
    flows = loaded.recipe.flows.model_copy(update={"unbind": None})
    without = dataclasses.replace(loaded, recipe=loaded.recipe.model_copy(update={"flows": flows}))
    with pytest.raises(NoWebFlow, match="unbinder mark example-cn"):
        check_flows(without, "unbind")


def test_a_change_a_detect_rule_saw_refused_is_not_done_not_an_error() -> None:
    from unbinder.engine import Evidence

    refused = dataclasses.replace(
        flow("not_done"),
        evidence=Evidence("the platform says the new number belongs to another account", "x", ""),
    )
    shown = verify("bound", "138****8000")
    status, reason, code = decide("change", refused, shown, old=OLD, new=NEW, human=nobody())
    assert (status, code) == ("not_done", "platform_refused")
    assert reason is not None and "belongs to another account" in reason


def test_a_mask_mismatch_and_a_wrong_code_have_their_own_reasons() -> None:
    before = verify("bound", "131****6789")
    mismatch = dataclasses.replace(flow("not_done", "mask mismatch: ..."), before=before)
    assert decide("change", mismatch, None, old=OLD, new=NEW, human=nobody())[2] == (
        "mask_mismatch"
    )
    wrong = dataclasses.replace(flow("not_done", "the sms_code was wrong"), kind="sms_code")
    assert decide("change", wrong, None, old=OLD, new=NEW, human=nobody())[2] == "wrong_code"
