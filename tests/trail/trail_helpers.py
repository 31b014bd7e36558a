"""Helpers for the trail tests: a passphrase, trails of a given length, frame layouts."""

from __future__ import annotations

from pathlib import Path

from unbinder.phone import PhoneNumber
from unbinder.trail import Trail
from unbinder.trail import log as trail_log
from unbinder.trail.trail import AnchorChoice

PASSPHRASE = "correct horse battery staple"


def build_trail(
    directory: Path,
    records: int,
    phone: PhoneNumber | None = None,
    *,
    small: bool = False,
    anchor: AnchorChoice = None,
) -> Trail:
    """An open trail of exactly `records` records: creation, runs of findings, seals.

    `small` keeps payloads minimal (the bit-flip test flips every bit of the file). Without an
    anchor by default: these trails test the log itself, where a cut record looks like a torn
    write (tests/trail/test_trail_anchor.py tests the default anchor, which would catch it).
    """
    trail = Trail.create(directory, PASSPHRASE, anchor=anchor)
    count = 1
    while count < records:
        run = trail.start_run(
            "a" if small else "audit", phone, recipes={} if small else {"demo-shop": "sha256:0f1e"}
        )
        count += 1
        while count < records - 1 and count % 10 != 0:
            run.finding("p", {} if small else {"status": "bound", "n": count})
            count += 1
        if count < records:
            run.seal()
            count += 1
    assert trail.head()[0] == records - 1
    return trail


def frames(directory: Path) -> list[trail_log.Frame]:
    """The frames of the trail's log, as the reader sees them."""
    keys = Trail.unlock(directory, PASSPHRASE).subkeys()
    return trail_log.scan((directory / "trail.log").read_bytes(), keys).frames
