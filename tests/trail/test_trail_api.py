"""The trail library as audit and unbind use it: runs, records, blobs, seals, reopening."""

from __future__ import annotations

import stat
from datetime import timezone
from pathlib import Path

import pytest
from trail_helpers import PASSPHRASE, build_trail

from unbinder import __version__
from unbinder.errors import BadInput
from unbinder.paths import Paths
from unbinder.phone import PhoneNumber, parse_phone
from unbinder.trail import RecordType, Trail, open_or_create


def test_records_round_trip_through_a_reopen(trail_dir: Path, phone: PhoneNumber) -> None:
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        run = trail.start_run("audit", phone, recipes={"demo-shop": "sha256:ab12"})
        finding = run.finding("demo-shop", {"status": "bound", "kind": "text", "ms": 812})
        action = run.action("demo-shop", "changed the bound number", by="user")
        result = run.result("demo-shop", {"status": "not_bound"})
        seal = run.seal()
    with Trail.open(trail_dir, PASSPHRASE) as trail:
        by_seq = {r.seq: r for r in trail.records()}
    assert [by_seq[s].type for s in (0, run.id, finding, action, result, seal)] == [
        RecordType.CREATED,
        RecordType.RUN_START,
        RecordType.FINDING,
        RecordType.ACTION,
        RecordType.RESULT,
        RecordType.RUN_SEAL,
    ]
    assert by_seq[finding].payload == {
        "platform": "demo-shop",
        "outcome": {"status": "bound", "kind": "text", "ms": 812},
    }
    assert by_seq[finding].run == run.id
    assert by_seq[action].payload["by"] == "user"
    assert by_seq[seal].payload["records"] == 4  # start, finding, action, result
    assert all(r.time.tzinfo == timezone.utc for r in by_seq.values())


def test_run_start_holds_versions_and_only_the_masked_number_and_its_ref(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    new = parse_phone("+86 139 0013 9000")
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        run = trail.start_run("unbind", phone, new_phone=new, recipes={"demo-shop": "sha256:ab12"})
        start = next(r for r in trail.records() if r.seq == run.id)
        assert start.payload["tool"] == {"name": "unbinder", "version": __version__}
        assert start.payload["recipes"] == {"demo-shop": "sha256:ab12"}
        assert start.payload["phone"] == {"masked": phone.masked, "ref": trail.phone_ref(phone)}
        assert start.payload["new_phone"]["masked"] == "+86 139****9000"
        assert phone.e164 not in str(start.payload)


def test_phone_ref_is_stable_per_trail_and_differs_between_trails(
    tmp_path: Path, phone: PhoneNumber
) -> None:
    with Trail.create(tmp_path / "a", PASSPHRASE) as a:
        ref = a.phone_ref(phone)
    with Trail.open(tmp_path / "a", PASSPHRASE) as a, Trail.create(tmp_path / "b", "x") as b:
        assert a.phone_ref(phone) == ref
        assert b.phone_ref(phone) != ref
        assert a.phone_ref(parse_phone("+86 139 0013 9000")) != ref
    assert len(ref) == 64


def test_a_number_written_into_a_payload_is_masked_before_it_is_stored(
    trail_dir: Path, phone: PhoneNumber
) -> None:
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        run = trail.start_run("audit", phone)
        seq = run.finding(
            "demo-shop", {"evidence": ["page says 138-0013-8000 is registered"], "code": 200}
        )
        stored = next(r for r in trail.records() if r.seq == seq)
    assert stored.payload["outcome"] == {
        "evidence": ["page says +86 138****8000 is registered"],
        "code": 200,
    }


def test_runs_summarise_counts_and_seals(trail_dir: Path, phone: PhoneNumber) -> None:
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        with trail.start_run("audit", phone) as first:
            first.finding("a", {"status": "bound"})
            first.finding("b", {"status": "not_bound"})
            first.blob(b"\x89PNG fake", platform="a", name="a.png")
        second = trail.start_run("unbind", phone)
        second.action("a", "clicked unbind", by="tool")
        runs = trail.runs()
    assert [r.id for r in runs] == [first.id, second.id]
    assert runs[0].sealed
    assert runs[0].status == "complete"
    assert runs[0].counts == {"records": 4, "findings": 2, "actions": 0, "results": 0, "blobs": 1}
    assert runs[0].masked == phone.masked
    assert not runs[1].sealed
    assert runs[1].kind == "unbind"
    assert runs[1].actions == 1


def test_a_run_left_by_an_exception_is_sealed_with_the_reason(trail_dir: Path) -> None:
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        with pytest.raises(RuntimeError), trail.start_run("audit", None):
            raise RuntimeError("browser died")
        assert trail.runs()[0].status == "stopped: RuntimeError"


def test_a_sealed_run_takes_no_more_records(trail_dir: Path) -> None:
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        run = trail.start_run("audit", None)
        run.seal()
        with pytest.raises(ValueError, match="sealed"):
            run.finding("a", {})


def test_blobs_are_encrypted_named_by_keyed_hash_and_read_back(trail_dir: Path) -> None:
    data = b"\x89PNG\r\n" + b"pixels" * 500
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        run = trail.start_run("audit", None)
        blob_id = run.blob(data, platform="demo-shop", name="login.png")
        again = run.blob(data)
        assert again == blob_id  # same content, stored once
        assert trail.read_blob(blob_id) == data
        ref = next(r for r in trail.records() if r.type == RecordType.BLOB)
    files = list((trail_dir / "blobs").iterdir())
    assert [f.name for f in files] == [f"{blob_id}.blob"]
    assert b"pixels" not in files[0].read_bytes()
    assert ref.payload == {
        "blob": blob_id,
        "media_type": "image/png",
        "platform": "demo-shop",
        "name": "login.png",
        "size": len(data),
    }
    with Trail.create(trail_dir.parent / "other", PASSPHRASE) as other:
        assert other.start_run("audit", None).blob(data) != blob_id  # the name is keyed


def test_files_are_private(trail_dir: Path) -> None:
    with Trail.create(trail_dir, PASSPHRASE) as trail:
        trail.start_run("audit", None).blob(b"evidence")
    for path in [trail_dir, *trail_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_create_refuses_an_existing_trail(trail_dir: Path) -> None:
    Trail.create(trail_dir, PASSPHRASE).close()
    assert Trail.exists(trail_dir)
    with pytest.raises(BadInput, match="already exists"):
        Trail.create(trail_dir, "another")


def test_create_into_an_existing_directory_with_other_files(trail_dir: Path) -> None:
    trail_dir.mkdir(parents=True)
    (trail_dir / "notes.txt").write_text("mine")
    Trail.create(trail_dir, PASSPHRASE).close()
    assert (trail_dir / "notes.txt").read_text() == "mine"
    with Trail.open(trail_dir, PASSPHRASE) as trail:
        assert trail.head()[0] == 0


def test_open_or_create_creates_once_then_opens(home: Path) -> None:
    paths = Paths.from_env()
    with pytest.raises(BadInput, match="trail init"):
        open_or_create(paths, PASSPHRASE, create_if_missing=False)
    with open_or_create(paths, PASSPHRASE, create_if_missing=True) as trail:
        trail.start_run("audit", None).seal()
        trail_id = trail.trail_id
    with open_or_create(paths, PASSPHRASE, create_if_missing=True) as trail:
        assert trail.trail_id == trail_id
        assert len(trail.runs()) == 1


def test_two_writers_interleave_without_breaking_the_chain(trail_dir: Path) -> None:
    with Trail.create(trail_dir, PASSPHRASE) as first, Trail.open(trail_dir, PASSPHRASE) as second:
        run_a = first.start_run("audit", None)
        run_b = second.start_run("unbind", None)
        seqs = [run_a.finding("a", {}), run_b.action("b", "x"), run_a.finding("a", {})]
        run_b.seal()
        run_a.seal()
        assert seqs == [3, 4, 5]
        report = first.verify()
    assert report.status == "ok", report.problems
    assert report.runs == 2
    assert sorted(report.sealed_runs) == [run_a.id, run_b.id]


def test_head_names_the_last_record(trail_dir: Path) -> None:
    with build_trail(trail_dir, 7) as trail:
        seq, mac = trail.head()
        assert seq == 6
        assert len(bytes.fromhex(mac)) == 32


def test_threads_sharing_one_trail_keep_the_chain(trail_dir: Path) -> None:
    import threading

    with Trail.create(trail_dir, PASSPHRASE) as trail:
        runs = [trail.start_run("audit", None) for _ in range(4)]
        workers = [
            threading.Thread(target=lambda r=r: [r.finding("p", {"i": i}) for i in range(25)])
            for r in runs
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        for run in runs:
            run.seal()
        report = trail.verify()
    assert report.status == "ok", report.problems
    assert report.records == 1 + 4 + 100 + 4
