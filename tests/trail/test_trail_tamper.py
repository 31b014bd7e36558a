"""Tamper evidence and torn tails, on real files: flips, cuts, reorders, splices, anchors."""

from __future__ import annotations

import json
import os
import shutil
import sys
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trail_helpers import PASSPHRASE, build_trail, frames

from unbinder.errors import AuthError, BadInput, TamperedError
from unbinder.trail import FileAnchor, KeyringAnchor, Trail, TrailTampered
from unbinder.trail.log import HEADER_SIZE


def _owners(directory: Path, size: int) -> list[int | None]:
    """For each byte of the log, the record it belongs to (None: the header)."""
    owners: list[int | None] = [None] * HEADER_SIZE
    for frame in frames(directory):
        owners.extend([frame.position] * (frame.end - frame.offset))
    assert len(owners) == size
    return owners


def _log(directory: Path) -> Path:
    return directory / "trail.log"


def _rewrite(directory: Path, pieces: list[bytes]) -> None:
    _log(directory).write_bytes(b"".join(pieces))


def _split(directory: Path) -> tuple[bytes, list[bytes]]:
    data = _log(directory).read_bytes()
    return data[:HEADER_SIZE], [data[f.offset : f.end] for f in frames(directory)]


def test_every_single_bit_flip_is_detected_and_names_its_record(trail_dir: Path) -> None:
    build_trail(trail_dir, 50, small=True).close()
    master = Trail.unlock(trail_dir, PASSPHRASE)
    original = _log(trail_dir).read_bytes()
    owners = _owners(trail_dir, len(original))
    wrong: list[tuple[int, int, object]] = []
    fd = os.open(_log(trail_dir), os.O_WRONLY)
    try:
        for offset, byte in enumerate(original):
            for bit in range(8):
                os.pwrite(fd, bytes([byte ^ (1 << bit)]), offset)
                try:
                    Trail.open_unlocked(trail_dir, master).close()
                    wrong.append((offset, bit, "not detected"))
                    _log(trail_dir).write_bytes(original)  # opening may have cut a "tail"
                except TrailTampered as exc:
                    if exc.index != owners[offset]:
                        wrong.append((offset, bit, exc.index))
                except AuthError as exc:
                    wrong.append((offset, bit, exc.message))
            os.pwrite(fd, bytes([byte]), offset)
    finally:
        os.close(fd)
    assert wrong == []
    assert len(original) * 8 > 50_000  # the whole file was covered, bit by bit
    assert _log(trail_dir).read_bytes() == original


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_verify_names_the_flipped_record_and_exits_2(trail_dir: Path, data: st.DataObject) -> None:
    if not Trail.exists(trail_dir):
        build_trail(trail_dir, 50).close()
    path = _log(trail_dir)
    original = path.read_bytes()
    owners = _owners(trail_dir, len(original))
    offset = data.draw(st.integers(0, len(original) - 1), label="offset")
    bit = data.draw(st.integers(0, 7), label="bit")
    flipped = bytearray(original)
    flipped[offset] ^= 1 << bit
    path.write_bytes(bytes(flipped))
    try:
        report = Trail.inspect(trail_dir, PASSPHRASE)
        assert report.problems, (offset, bit)
        assert report.problems[0].index == owners[offset]
        assert report.exit_code == 5
        assert path.read_bytes() == bytes(flipped)  # verify changes nothing
    finally:
        path.write_bytes(original)


def test_truncation_at_every_offset_of_the_last_record_is_a_torn_tail(trail_dir: Path) -> None:
    build_trail(trail_dir, 50).close()
    master = Trail.unlock(trail_dir, PASSPHRASE)
    original = _log(trail_dir).read_bytes()
    last = frames(trail_dir)[-1]
    assert last.position == 49
    for cut in range(last.offset, last.end):
        _log(trail_dir).write_bytes(original[:cut])
        before = set(trail_dir.glob("trail.log.torn-*"))
        with Trail.open_unlocked(trail_dir, master) as trail:
            assert [r.seq for r in trail.records()] == list(range(49))
            if cut == last.offset:
                assert trail.warnings == []  # a clean cut: only an anchor can tell (below)
            else:
                assert len(trail.warnings) == 1, cut
                assert "last record (#49) was incomplete" in trail.warnings[0]
        assert _log(trail_dir).stat().st_size == last.offset
        side = set(trail_dir.glob("trail.log.torn-*")) - before
        if cut > last.offset:
            assert [p.read_bytes() for p in side] == [original[last.offset : cut]]


def test_a_torn_tail_is_a_warning_for_verify_which_changes_nothing(trail_dir: Path) -> None:
    build_trail(trail_dir, 10).close()
    original = _log(trail_dir).read_bytes()
    _log(trail_dir).write_bytes(original[:-7])
    report = Trail.inspect(trail_dir, PASSPHRASE)
    assert report.status == "warnings"
    assert report.exit_code == 1
    assert report.records == 9
    assert any("torn tail at record 9" in w for w in report.warnings)
    assert _log(trail_dir).read_bytes() == original[:-7]


@pytest.mark.parametrize("zeros", [1, 13, 4096])
def test_a_tail_of_zero_bytes_reads_as_torn(trail_dir: Path, zeros: int) -> None:
    build_trail(trail_dir, 20).close()
    original = _log(trail_dir).read_bytes()
    _log(trail_dir).write_bytes(original + b"\0" * zeros)
    with Trail.open(trail_dir, PASSPHRASE) as trail:
        assert trail.head()[0] == 19
        assert f"{zeros} zero bytes" in trail.warnings[0]
        trail.start_run("audit", None).seal()  # appends go where the zeros were
    assert Trail.inspect(trail_dir, PASSPHRASE).status == "ok"


def test_a_last_frame_whose_end_was_zero_filled_reads_as_torn(trail_dir: Path) -> None:
    build_trail(trail_dir, 20).close()
    data = bytearray(_log(trail_dir).read_bytes())
    data[-64:] = b"\0" * 64  # the size reached the disk, the last block's data did not
    _log(trail_dir).write_bytes(bytes(data))
    with Trail.open(trail_dir, PASSPHRASE) as trail:
        assert trail.head()[0] == 18
        assert "zero-filled" in trail.warnings[0]


def test_a_frame_prefix_followed_by_zeros_reads_as_torn(trail_dir: Path) -> None:
    build_trail(trail_dir, 20).close()
    last = frames(trail_dir)[-1]
    data = _log(trail_dir).read_bytes()
    _log(trail_dir).write_bytes(data[: last.offset + 5] + b"\0" * 4096)
    with Trail.open(trail_dir, PASSPHRASE) as trail:
        assert trail.head()[0] == 18
        assert len(trail.warnings) == 1


def test_garbage_after_the_last_record_is_tampering(trail_dir: Path) -> None:
    build_trail(trail_dir, 20).close()
    _log(trail_dir).write_bytes(_log(trail_dir).read_bytes() + b"\x01" + os.urandom(200))
    with pytest.raises(TrailTampered) as info:
        Trail.open(trail_dir, PASSPHRASE)
    assert info.value.index == 20
    assert info.value.exit_code == 5


def test_swapped_records_are_detected_where_the_order_breaks(trail_dir: Path) -> None:
    build_trail(trail_dir, 30).close()
    header, pieces = _split(trail_dir)
    pieces[12], pieces[13] = pieces[13], pieces[12]
    _rewrite(trail_dir, [header, *pieces])
    report = Trail.inspect(trail_dir, PASSPHRASE)
    assert report.problems[0].index == 12
    assert "sequence number 13 where 12 was expected" in report.problems[0].message
    with pytest.raises(TrailTampered) as info:
        Trail.open(trail_dir, PASSPHRASE)
    assert info.value.index == 12


def test_a_duplicated_record_is_detected_at_the_copy(trail_dir: Path) -> None:
    build_trail(trail_dir, 30).close()
    header, pieces = _split(trail_dir)
    _rewrite(trail_dir, [header, *pieces[:13], pieces[12], *pieces[13:]])
    report = Trail.inspect(trail_dir, PASSPHRASE)
    assert [p.index for p in report.problems] == [13]  # the records after it still check out
    assert "already used" in report.problems[0].message


def test_a_deleted_record_is_detected_where_it_was(trail_dir: Path) -> None:
    build_trail(trail_dir, 30).close()
    header, pieces = _split(trail_dir)
    _rewrite(trail_dir, [header, *pieces[:12], *pieces[13:]])
    report = Trail.inspect(trail_dir, PASSPHRASE)
    assert report.problems[0].index == 12
    assert "deleted" in report.problems[0].message
    # The seal of the run that lost a record counts one record too many.
    assert [p.index for p in report.problems[1:]] == [19]
    assert "counts 9 records but the log holds 8" in report.problems[1].message


def test_a_record_spliced_from_another_trail_is_detected(tmp_path: Path) -> None:
    build_trail(tmp_path / "a", 30).close()
    build_trail(tmp_path / "b", 30).close()
    header, pieces = _split(tmp_path / "a")
    _header_b, pieces_b = _split(tmp_path / "b")
    _rewrite(tmp_path / "a", [header, *pieces[:12], pieces_b[12], *pieces[13:]])
    report = Trail.inspect(tmp_path / "a", PASSPHRASE)
    assert report.problems[0].index == 12
    assert "authentication failed" in report.problems[0].message
    _rewrite(tmp_path / "a", [header, *pieces[:12], pieces_b[12], *pieces[12:]])  # inserted
    assert Trail.inspect(tmp_path / "a", PASSPHRASE).problems[0].index == 12


def test_a_key_file_from_another_trail_is_an_auth_error(tmp_path: Path) -> None:
    build_trail(tmp_path / "a", 5).close()
    build_trail(tmp_path / "b", 5).close()
    shutil.copy(tmp_path / "b" / "key.json", tmp_path / "a" / "key.json")
    with pytest.raises(AuthError, match="does not belong"):
        Trail.open(tmp_path / "a", PASSPHRASE)


def test_a_missing_log_is_tampering(trail_dir: Path) -> None:
    build_trail(trail_dir, 5).close()
    _log(trail_dir).unlink()
    with pytest.raises(TamperedError, match="missing"):
        Trail.open(trail_dir, PASSPHRASE)
    assert Trail.inspect(trail_dir, PASSPHRASE).exit_code == 5


def test_an_altered_or_missing_blob_is_a_problem_at_its_reference(trail_dir: Path) -> None:
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        run = trail.start_run("audit", None)
        first = run.blob(b"first screenshot")
        second = run.blob(b"second screenshot")
        run.seal()
        refs = [r.seq for r in trail.records() if r.payload.get("blob")]
        path = trail_dir / "blobs" / f"{first}.blob"
        raw = bytearray(path.read_bytes())
        raw[-1] ^= 1
        path.write_bytes(bytes(raw))
        (trail_dir / "blobs" / f"{second}.blob").unlink()
        with pytest.raises(TamperedError, match="does not authenticate"):
            trail.read_blob(first)
        with pytest.raises(BadInput):
            trail.read_blob(second)
        report = trail.verify()
    assert [(p.index, "authentic" in p.message) for p in report.problems] == [
        (refs[0], True),
        (refs[1], False),
    ]
    assert (report.blobs_referenced, report.blobs_present, report.blobs_authentic) == (2, 1, 0)


def test_an_anchor_detects_a_clean_cut_of_the_last_records(trail_dir: Path, tmp_path: Path) -> None:
    anchor = FileAnchor(tmp_path / "usb" / "unbinder.anchor")
    with (
        build_trail(trail_dir, 30),
        Trail.open(trail_dir, PASSPHRASE, anchor=anchor) as t2,
    ):
        t2.start_run("audit", None).seal()  # sealing advances the anchor
        head = t2.head()
    assert json.loads(anchor.path.read_text())["seq"] == head[0]
    last = frames(trail_dir)[-2]
    data = _log(trail_dir).read_bytes()
    _log(trail_dir).write_bytes(data[: last.offset])  # cut cleanly at a frame boundary
    assert Trail.inspect(trail_dir, PASSPHRASE).status == "ok"  # nothing inside shows it
    with pytest.raises(TrailTampered, match="cut off the end") as info:
        Trail.open(trail_dir, PASSPHRASE, anchor=anchor)
    assert info.value.index is None
    report = Trail.inspect(trail_dir, PASSPHRASE, anchor=anchor, advance_anchor=True)
    assert report.exit_code == 5
    assert report.anchor_ok is False
    assert json.loads(anchor.path.read_text())["seq"] == head[0]  # never moved back


def test_an_anchor_detects_an_older_copy_put_back(trail_dir: Path, tmp_path: Path) -> None:
    anchor = FileAnchor(tmp_path / "head.anchor")
    build_trail(trail_dir, 12).close()
    shutil.copytree(trail_dir, tmp_path / "older")
    with Trail.open(trail_dir, PASSPHRASE, anchor=anchor) as trail:
        trail.start_run("unbind", None).seal()
    with Trail.open(tmp_path / "older", PASSPHRASE) as older:  # a diverging history
        for _ in range(4):
            older.start_run("audit", None).seal()
    shutil.rmtree(trail_dir)
    shutil.copytree(tmp_path / "older", trail_dir)
    with pytest.raises(TrailTampered, match="replaced by another copy"):
        Trail.open(trail_dir, PASSPHRASE, anchor=anchor)


def test_an_anchor_that_is_behind_is_fine_and_advanced_by_verify(
    trail_dir: Path, tmp_path: Path
) -> None:
    anchor = FileAnchor(tmp_path / "head.anchor")
    build_trail(trail_dir, 12).close()
    first = Trail.inspect(trail_dir, PASSPHRASE, anchor=anchor, advance_anchor=True)
    assert "now holds record 11" in str(first.anchor)
    with Trail.open(trail_dir, PASSPHRASE) as trail:  # no anchor given: it falls behind
        trail.start_run("audit", None)
    report = Trail.inspect(trail_dir, PASSPHRASE, anchor=anchor, advance_anchor=True)
    assert report.anchor_ok is True
    assert "1 newer" in str(report.anchor)
    assert json.loads(anchor.path.read_text())["seq"] == 12


def test_the_keyring_anchor_uses_the_keyring_package(
    trail_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: dict[tuple[str, str], str] = {}
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: store.get((service, user))  # type: ignore[attr-defined]
    fake.set_password = lambda service, user, value: store.__setitem__((service, user), value)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    anchor = KeyringAnchor()
    with build_trail(trail_dir, 5) as trail:
        trail_id = trail.trail_id
    Trail.inspect(trail_dir, PASSPHRASE, anchor=anchor, advance_anchor=True)
    assert json.loads(store[("unbinder", f"trail-anchor-{trail_id}")])["seq"] == 4
    data = _log(trail_dir).read_bytes()
    _log(trail_dir).write_bytes(data[: frames(trail_dir)[-1].offset])
    with pytest.raises(TrailTampered, match="OS keyring"):
        Trail.open(trail_dir, PASSPHRASE, anchor=anchor)


def test_the_keyring_anchor_without_the_package_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    with pytest.raises(BadInput, match=r"unbinder\[keyring\]"):
        KeyringAnchor()
