"""A full check of a trail: chain, every record's decryption, runs and seals, blobs, anchor.

Read-only: nothing is repaired here (a torn tail is reported, and cut off only when the trail
is next opened for writing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag

from unbinder.errors import ExitCode, TamperedError, UnbinderError
from unbinder.i18n.translate import _
from unbinder.trail import blobs, records
from unbinder.trail.anchor import Anchor, AnchorCheck, check
from unbinder.trail.keys import TrailKeys
from unbinder.trail.log import Frame, Problem, Scan, record_ad
from unbinder.trail.records import Record, RecordType

MAX_LISTED_PROBLEMS = 50


@dataclass
class VerifyReport:
    """What `unbinder trail verify` prints, and its exit code (the shared `ExitCode`)."""

    trail_id: str = ""
    records: int = 0
    head: tuple[int, str] = (-1, "")
    runs: int = 0
    sealed_runs: list[int] = field(default_factory=list)
    unsealed_runs: list[int] = field(default_factory=list)
    blobs_referenced: int = 0
    blobs_present: int = 0
    blobs_authentic: int = 0
    orphan_blobs: int = 0
    anchor: str | None = None  # None: no anchor given
    anchor_ok: bool | None = None
    anchor_used: Anchor | None = None  # the anchor checked (the default one unless refused)
    side_files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.problems:
            return "tampered"
        return "warnings" if self.warnings else "ok"

    @property
    def exit_code(self) -> ExitCode:
        # The same codes as a command that opens a tampered trail (TamperedError), so a script
        # reads 5 as "tampered" whichever command it ran.
        return {"ok": ExitCode.OK, "warnings": ExitCode.PROBLEMS, "tampered": ExitCode.TAMPERED}[
            self.status
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "trail_id": self.trail_id,
            "records": self.records,
            "head": {"seq": self.head[0], "mac": self.head[1]},
            "runs": self.runs,
            "sealed_runs": self.sealed_runs,
            "unsealed_runs": self.unsealed_runs,
            "blobs": {
                "referenced": self.blobs_referenced,
                "present": self.blobs_present,
                "authentic": self.blobs_authentic,
                "unreferenced": self.orphan_blobs,
            },
            "anchor": {"status": self.anchor, "ok": self.anchor_ok},
            "side_files": self.side_files,
            "problems": [
                {"index": p.index, "where": p.where, "message": p.message} for p in self.problems
            ],
            "warnings": self.warnings,
        }


@dataclass
class _RunState:
    records: int = 1
    sealed: bool = False
    kind: str = ""


def build_report(
    directory: Path,
    keys: TrailKeys,
    result: Scan,
    *,
    anchor: Anchor | None,
    warnings: list[str],
    side_files: list[str],
) -> VerifyReport:
    report = VerifyReport(trail_id=keys.trail_id.hex(), side_files=side_files)
    report.problems.extend(result.problems)
    report.warnings.extend(warnings)
    report.records = len(result.frames)
    seq, mac = result.head
    report.head = (seq, mac.hex())
    runs: dict[int, _RunState] = {}
    blob_refs: list[tuple[int, str]] = []
    aead = keys.record_aead()
    prev: Frame | None = None
    seen: set[int] = set()
    for frame in result.frames:
        # A frame out of its place still decrypts when its content is genuine (the AEAD binds
        # it to this trail and its sequence number), so the run counts stay meaningful.
        record = _decrypt(aead, keys, frame, report if frame.ok else None)
        if record is not None and record.seq not in seen:
            seen.add(record.seq)
            _account(record, frame, prev=prev, runs=runs, blob_refs=blob_refs, report=report)
        prev = frame
    if result.frames and result.frames[0].type != RecordType.CREATED:
        report.problems.append(Problem(0, _("the log does not start with its creation record")))
    report.runs = len(runs)
    report.sealed_runs = [r for r, s in runs.items() if s.sealed]
    report.unsealed_runs = [r for r, s in runs.items() if not s.sealed]
    for run_id in report.unsealed_runs:
        report.warnings.append(
            _(
                "run {run} ({kind}) was not sealed: it was interrupted, or it is still running"
            ).format(run=run_id, kind=runs[run_id].kind)
        )
    _check_blobs(directory / "blobs", keys, blob_refs, report)
    if result.tail is not None:
        tail = result.tail
        report.warnings.append(
            _(
                "torn tail at record {index}: {reason} at byte {offset}, left by an "
                "interrupted write; it is moved to a side file when the trail is next opened "
                "for writing"
            ).format(index=tail.index, reason=tail.reason, offset=tail.offset)
        )
    if anchor is not None:
        _check_anchor(anchor, keys, result, report)
    # The header first, then records in order, then the anchor's verdict on what is left.
    report.problems.sort(key=_problem_order)
    return report


def _decrypt(
    aead: Any, keys: TrailKeys, frame: Frame, report: VerifyReport | None
) -> Record | None:
    """The record, or None (a problem goes to `report` when given)."""
    try:
        plaintext = aead.decrypt(
            frame.nonce, frame.ciphertext, record_ad(keys.trail_id, frame.seq, frame.type)
        )
    except InvalidTag:
        if report is not None:
            report.problems.append(
                Problem(frame.position, _("its ciphertext does not authenticate"))
            )
        return None
    try:
        return records.decode(frame.seq, RecordType(frame.type), plaintext)
    except (ValueError, KeyError, TypeError):
        if report is not None:
            report.problems.append(Problem(frame.position, _("its content is not a valid record")))
    return None


def _account(
    record: Record,
    frame: Frame,
    *,
    prev: Frame | None,
    runs: dict[int, _RunState],
    blob_refs: list[tuple[int, str]],
    report: VerifyReport,
) -> None:
    index = frame.position
    if record.type == RecordType.CREATED:
        if index != 0:
            report.problems.append(Problem(index, _("a second creation record")))
        return
    if record.type == RecordType.RUN_START:
        runs[record.seq] = _RunState(kind=str(record.payload.get("kind", "?")))
        return
    state = runs.get(record.run) if record.run is not None else None
    if state is None:
        report.problems.append(
            Problem(
                index,
                _("it belongs to run {run}, never started").format(run=record.run),
            )
        )
        return
    if state.sealed:
        report.problems.append(
            Problem(
                index,
                _("it was added to run {run} after its seal").format(run=record.run),
            )
        )
        return
    if record.type == RecordType.RUN_SEAL:
        state.sealed = True
        count = record.payload.get("records")
        if count != state.records:
            report.problems.append(
                Problem(
                    index,
                    _(
                        "the seal of run {run} counts {count} records but the log holds {held}"
                    ).format(run=record.run, count=count, held=state.records),
                )
            )
        if prev is None or record.payload.get("head_mac") != prev.mac.hex():
            report.problems.append(
                Problem(
                    index,
                    _("the seal of run {run} names another head").format(run=record.run),
                )
            )
        return
    state.records += 1
    if record.type == RecordType.BLOB:
        blob_refs.append((index, str(record.payload.get("blob", ""))))


def _check_blobs(
    blob_dir: Path, keys: TrailKeys, refs: list[tuple[int, str]], report: VerifyReport
) -> None:
    present = blobs.listing(blob_dir)
    report.blobs_referenced = len(refs)
    checked: dict[str, str | None] = {}  # id -> problem (None when authentic)
    for index, blob_id in refs:
        if blob_id not in checked:
            if blob_id not in present:
                checked[blob_id] = _("is missing")
            else:
                try:
                    blobs.load(blob_dir, keys, blob_id)
                    checked[blob_id] = None
                except TamperedError as exc:
                    checked[blob_id] = _("is not authentic ({why})").format(why=exc.message)
                except UnbinderError as exc:
                    checked[blob_id] = _("cannot be read ({why})").format(why=exc.message)
        problem = checked[blob_id]
        if blob_id in present:
            report.blobs_present += 1
        if problem is None:
            report.blobs_authentic += 1
        else:
            report.problems.append(
                Problem(
                    index,
                    _("its evidence file {blob}... {problem}").format(
                        blob=blob_id[:12], problem=problem
                    ),
                )
            )
    report.orphan_blobs = len(present - {b for _record, b in refs})


def _problem_order(problem: Problem) -> int:
    if problem.scope.startswith("anchor"):
        return 1 << 62
    return -1 if problem.index is None else problem.index


def _check_anchor(anchor: Anchor, keys: TrailKeys, result: Scan, report: VerifyReport) -> None:
    trail_id = keys.trail_id.hex()
    outcome: AnchorCheck = check(anchor.load(trail_id), trail_id, result.frames, result.tail)
    report.anchor_used = anchor
    report.anchor = f"{anchor.description}: {outcome.message}"
    report.anchor_ok = outcome.ok
    if outcome.ok is False:
        report.problems.append(
            Problem(
                None, outcome.message, scope=_("anchor ({where})").format(where=anchor.description)
            )
        )
