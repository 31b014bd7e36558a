"""The default anchor: rollback and truncation are noticed without being asked for.

Every test points the default anchor at its own folder (UNBINDER_ANCHOR_DIR, set by
tests/conftest.py), so none touches the person's keyring or config folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from trail_helpers import PASSPHRASE, build_trail, frames

from unbinder.cli import cli
from unbinder.phone import PhoneNumber
from unbinder.trail import Trail
from unbinder.trail import log as trail_log
from unbinder.trail.anchor import FolderAnchor, default_anchor, default_anchor_dir
from unbinder.trail.trail import TrailTampered


def _anchored(trail_dir: Path, phone: PhoneNumber, runs: int = 3) -> None:
    """A trail made as every command makes one (the default anchor), with sealed runs."""
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        for n in range(runs):
            run = trail.start_run("audit", phone, recipes={"demo-shop": "sha256:ab"})
            run.finding("demo-shop", {"status": "bound", "n": n})
            run.seal()


def _anchor_files() -> list[Path]:
    folder = Path(os.environ["UNBINDER_ANCHOR_DIR"])
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _verify() -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["trail", "verify"], env={"UNBINDER_PASSPHRASE": PASSPHRASE})
    return result.exit_code, result.output


def test_the_default_anchor_is_kept_outside_the_data_directory(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    _anchored(trail_dir, phone)
    anchor = default_anchor()
    assert isinstance(anchor, FolderAnchor)
    [file] = _anchor_files()
    assert not file.resolve().is_relative_to(trail_dir.parent.resolve())
    with Trail.open(trail_dir, PASSPHRASE) as trail:
        state = anchor.load(trail.trail_id)
        assert state is not None and state.seq == trail.head()[0]


def test_without_a_test_folder_it_lives_in_the_config_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("UNBINDER_ANCHOR_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert default_anchor_dir() == tmp_path / "config" / "unbinder" / "anchors"


def test_a_cut_at_a_record_boundary_is_tampering_by_default(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    _anchored(trail_dir, phone)
    log = trail_dir / "trail.log"
    log.write_bytes(log.read_bytes()[: frames(trail_dir)[-3].offset])  # the last run, gone
    code, output = _verify()
    assert code == 5, output
    assert "3 records were cut off the end or an older copy was restored" in output
    with pytest.raises(TrailTampered, match="cut off the end"):
        Trail.open(trail_dir, PASSPHRASE)


def test_an_older_copy_put_back_is_tampering_by_default(
    trail_dir: Path, phone: PhoneNumber, tmp_path: Path
) -> None:
    _anchored(trail_dir, phone, runs=1)
    shutil.copytree(trail_dir, tmp_path / "backup")
    with Trail.open(trail_dir, PASSPHRASE) as trail:
        run = trail.start_run("audit", phone, recipes={})
        run.finding("demo-shop", {"status": "not_bound"})
        run.seal()
    shutil.rmtree(trail_dir)
    shutil.copytree(tmp_path / "backup", trail_dir)  # the rollback
    code, output = _verify()
    assert code == 5, output
    assert "cut off the end or an older copy was restored" in output


def test_zeroes_over_several_anchored_records_are_damage_with_the_count(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    _anchored(trail_dir, phone)
    log = trail_dir / "trail.log"
    start = frames(trail_dir)[-3].offset
    data = log.read_bytes()
    log.write_bytes(data[:start] + bytes(len(data) - start))  # three whole records zeroed
    code, output = _verify()
    assert code == 5, output
    assert "(3 the anchor vouches for) are gone" in output
    assert "zero bytes" in output
    # Nothing is moved aside: opening stops first, and the zeroes stay where they are.
    with pytest.raises(TrailTampered, match="are gone"):
        Trail.open(trail_dir, PASSPHRASE)
    assert log.read_bytes()[start:] == bytes(len(data) - start)
    assert not list(trail_dir.glob("trail.log.torn-*"))


def test_zeroes_longer_than_any_record_are_damage_even_without_an_anchor(
    trail_dir: Path,
) -> None:
    build_trail(trail_dir, 5).close()  # no anchor at all
    log = trail_dir / "trail.log"
    with log.open("r+b") as fh:
        fh.seek(0, 2)
        fh.truncate(fh.tell() + trail_log.PREFIX_SIZE + trail_log.MAX_BODY + 1)
    code, output = _verify()
    assert code == 5, output
    assert "more than one record can hold: at least 2 records were overwritten" in output


def test_a_crash_still_reads_as_a_torn_tail_with_the_anchor(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    # The record being written when a crash came was never anchored (the anchor advances at
    # seals and close), so tearing it is a warning, as ever.
    trail = Trail.create(trail_dir, PASSPHRASE)
    run = trail.start_run("audit", phone, recipes={})
    run.seal()
    run = trail.start_run("audit", phone, recipes={})
    run.finding("demo-shop", {"status": "bound"})
    os.close(trail._fd)  # type: ignore[arg-type]  # the process dies: no close, no anchor
    trail._fd = None
    log = trail_dir / "trail.log"
    log.write_bytes(log.read_bytes()[:-25])
    code, output = _verify()
    assert code == 1, output
    assert "torn tail" in output
    with Trail.open(trail_dir, PASSPHRASE) as reopened:
        assert any("incomplete" in w for w in reopened.warnings)


def test_a_trail_created_without_an_anchor_never_touches_the_default_one(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    # The demo's throwaway trail: created with anchor=None, opened later by the printed
    # commands (`trail verify`, `report`) with the default anchor in force.
    with Trail.create(trail_dir, PASSPHRASE, anchor=None) as trail:
        trail.start_run("audit", phone, recipes={}).seal()
    with Trail.open(trail_dir, PASSPHRASE) as trail:
        trail.start_run("audit", phone, recipes={}).seal()
    code, output = _verify()
    assert code == 0, output
    assert _anchor_files() == []


def test_the_unanchored_flag_is_under_the_header_mac(trail_dir: Path) -> None:
    build_trail(trail_dir, 3).close()
    log = trail_dir / "trail.log"
    data = bytearray(log.read_bytes())
    data[11] ^= trail_log.FLAG_UNANCHORED  # an attacker turning the anchor back off
    log.write_bytes(bytes(data))
    code, output = _verify()
    assert code == 5, output
    assert "log header" in output


def test_unbinder_anchor_none_turns_the_default_off(
    trail_dir: Path, phone: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNBINDER_ANCHOR", "none")
    assert default_anchor() is None
    _anchored(trail_dir, phone)
    assert _anchor_files() == []
