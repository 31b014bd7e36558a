"""The trail: create, open (cutting off a torn tail), append runs and records, read, verify.

Files in the trail directory (0700; files 0600):

    key.json                    passphrase slots wrapping the master key (keyfile.py)
    trail.log                   header + framed, encrypted, hash-chained records (log.py)
    blobs/<keyed hash>.blob     encrypted evidence (blobs.py)
    trail.log.torn-<time>-<offset>   the bytes of a torn tail, cut off at open

Each append is one write on an O_APPEND descriptor followed by fdatasync, under the log's
exclusive lock (lock.py: flock on Linux and macOS, msvcrt on Windows), after catching up with
whatever another process appended meanwhile; the record number is returned only once the record
is on disk.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from cryptography.exceptions import InvalidTag

from unbinder import __version__, fsio, redact
from unbinder.errors import AuthError, BadInput, StorageError, TamperedError
from unbinder.i18n.translate import _
from unbinder.paths import Paths, check_private, private_dir
from unbinder.phone import PhoneNumber
from unbinder.trail import blobs, kdf, keyfile, lock, log, records
from unbinder.trail.anchor import Anchor, AnchorState, check, default_anchor, is_automatic
from unbinder.trail.keys import MAC_LENGTH, MasterKey
from unbinder.trail.log import Problem, Scan
from unbinder.trail.records import Record, RecordType
from unbinder.trail.verify import VerifyReport, build_report

LOG_NAME = "trail.log"
KEY_NAME = "key.json"
BLOB_DIR = "blobs"
SIDE_PREFIX = f"{LOG_NAME}.torn-"

_datasync = getattr(os, "fdatasync", os.fsync)
_BINARY = getattr(os, "O_BINARY", 0)  # Windows would otherwise translate newlines


class TrailTampered(TamperedError):
    """TamperedError carrying every problem found (the first one is in the message)."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        more = f" ({len(problems)} problems in all)" if len(problems) > 1 else ""
        super().__init__(
            f"the trail was tampered with: {first}{more}.",
            hint="Run `unbinder trail verify` for the full list, and keep a copy of the trail "
            "directory as evidence.",
        )
        self.problems = problems

    @property
    def index(self) -> int | None:
        """The position of the first altered record (None: the header or the anchor)."""
        return self.problems[0].index


@dataclass(frozen=True)
class RunSummary:
    """One run as `unbinder trail show` lists it."""

    id: int
    kind: str
    started: datetime
    masked: str | None
    phone_ref: str | None
    new_masked: str | None
    new_phone_ref: str | None
    sealed: bool
    status: str | None  # the seal's status: complete, or why the run stopped
    records: int
    findings: int
    actions: int
    results: int
    blobs: int

    @property
    def counts(self) -> dict[str, int]:
        return {
            "records": self.records,
            "findings": self.findings,
            "actions": self.actions,
            "results": self.results,
            "blobs": self.blobs,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "started": records.format_time(self.started),
            "phone": {"masked": self.masked, "ref": self.phone_ref} if self.masked else None,
            "new_phone": (
                {"masked": self.new_masked, "ref": self.new_phone_ref} if self.new_masked else None
            ),
            "sealed": self.sealed,
            "status": self.status,
            "counts": self.counts,
        }


# `anchor=` of create/open: an Anchor, None (no anchor: at creation, a trail that the default
# anchor will leave alone for good, as the demo's throwaway one), or "default" (default_anchor()).
AnchorChoice = Anchor | None | Literal["default"]


def _resolve_anchor(anchor: AnchorChoice, unanchored: bool) -> Anchor | None:
    """The anchor to keep for a trail: a trail created without one keeps the default one out
    (it must never touch the person's own anchor); an anchor named explicitly still applies."""
    chosen = default_anchor() if anchor == "default" else anchor
    if unanchored and is_automatic(chosen):
        return None
    return chosen


class Trail:
    """An open trail. Use `Trail.create` / `Trail.open` (or `open_or_create`), then `close()`."""

    def __init__(
        self,
        directory: Path,
        master: MasterKey,
        fd: int,
        result: Scan,
        *,
        anchor: Anchor | None,
        warnings: list[str],
        read_only: str | None = None,
    ) -> None:
        self.directory = directory
        self.read_only = read_only  # why the log cannot be written (None: it can)
        self.warnings = warnings
        self.cut_tails: list[log.Tail] = [result.tail] if result.tail is not None else []
        self._master = master
        self._keys = master.subkeys()
        self._aead = self._keys.record_aead()
        self._fd: int | None = fd
        self._end = result.end
        self._head_seq, self._head_mac = result.head
        self._anchor = anchor
        # The file lock excludes other processes; threads sharing this descriptor need their own
        # lock, held for every read and write of it (on Windows a read moves the shared offset).
        self._lock = threading.Lock()

    # -- creating and opening --------------------------------------------------------------

    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / KEY_NAME).exists() or (directory / LOG_NAME).exists()

    @classmethod
    def create(
        cls,
        directory: Path,
        passphrase: str,
        *,
        anchor: AnchorChoice = "default",
        recovery_code: str | None = None,
    ) -> Trail:
        """A new trail in `directory` (which must not hold one). Costs one calibrated KDF run,
        two with a `recovery_code` (a second slot it opens, for when the passphrase is lost).

        The anchor (by default `default_anchor()`) records the new head at once; `anchor=None`
        makes a trail that no default anchor ever follows (its header says so)."""
        directory = Path(directory)
        if cls.exists(directory):
            raise BadInput(
                _("a trail already exists in {directory}.").format(directory=directory),
                hint=_("Open it with its passphrase, or move the directory away to start anew."),
            )
        if not passphrase:
            raise BadInput(_("the passphrase is empty."), hint=_("Choose one you can remember."))
        master = keyfile.new_master()
        params = kdf.calibrate()
        slots = [keyfile.wrap(master, passphrase, params)]
        if recovery_code is not None:
            slots.append(keyfile.wrap(master, recovery_code, params, label=keyfile.RECOVERY))
        keys = master.subkeys()
        header = log.build_header(keys, log.FLAG_UNANCHORED if anchor is None else 0)
        created = {
            "tool": {"name": "unbinder", "version": __version__},
            "cipher": keyfile.CIPHER,
            "kdf": params.describe(),
        }
        genesis, _end = log.build_frame(
            keys,
            keys.record_aead(),
            seq=0,
            rtype=RecordType.CREATED,
            plaintext=records.encode(records.now(), None, created),
            prev_mac=header[-MAC_LENGTH:],
        )
        private_dir(directory.parent)
        # Built aside and renamed into place, so a crash never leaves half a trail behind.
        staging = directory.parent / f".{directory.name}.new-{secrets.token_hex(4)}"
        try:
            private_dir(staging)
            private_dir(staging / BLOB_DIR)
            fsio.write_new(staging / LOG_NAME, header + genesis)
            fsio.write_new(
                staging / KEY_NAME, keyfile.KeyFile(master.trail_id, tuple(slots)).to_bytes()
            )
            _move_into_place(staging, directory)
            fsio.fsync_dir(directory.parent)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise StorageError(
                _("cannot create the trail in {directory}: {value}.").format(
                    directory=directory, value=exc.strerror or exc
                ),
                hint=_("Check free space and permissions, or set UNBINDER_HOME."),
            ) from exc
        trail = cls.open_unlocked(directory, master, anchor=anchor)
        try:
            trail._save_anchor()
        except BaseException:
            trail.close()
            raise
        return trail

    @classmethod
    def unlock(cls, directory: Path, passphrase: str) -> MasterKey:
        """The master key, from the key file and the passphrase (one KDF run)."""
        directory = Path(directory)
        if not cls.exists(directory):
            raise _no_trail(directory)
        keys_file = keyfile.load(directory / KEY_NAME)
        master, _slot = keys_file.unlock(passphrase)
        return master

    @classmethod
    def open(cls, directory: Path, passphrase: str, *, anchor: AnchorChoice = "default") -> Trail:
        """Open for reading and appending; checks the whole chain and cuts off a torn tail.

        AuthError: wrong passphrase or damaged key file. TamperedError (TrailTampered): the log
        or the anchor does not check out.
        """
        return cls.open_unlocked(directory, cls.unlock(directory, passphrase), anchor=anchor)

    @classmethod
    def open_unlocked(
        cls, directory: Path, master: MasterKey, *, anchor: AnchorChoice = "default"
    ) -> Trail:
        """`open` with a master key already unlocked (no KDF run: tests, tools, child processes)."""
        directory = Path(directory)
        _check_private(directory)
        keys = master.subkeys()
        path = directory / LOG_NAME
        read_only: str | None = None
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | _BINARY)
        except FileNotFoundError:
            raise TrailTampered([_missing(path)]) from None
        except OSError as exc:
            # A trail on a read-only disk (a backup, evidence on a locked stick) can still be
            # read; only appending is refused.
            fd = _open_read_only(path, exc)
            read_only = f"{path}: {exc.strerror}"
        try:
            warnings: list[str] = []
            with lock.exclusive(fd):
                data = _read_all(fd)
                result = log.scan(data, keys)
                _check_key_matches(result, master)
                if result.problems:
                    raise TrailTampered(result.problems)
                kept = _resolve_anchor(anchor, result.unanchored)
                if kept is not None:
                    # Before any repair: zeroes where anchored records were are no torn tail,
                    # and nothing is moved aside before that is known.
                    trail_id = master.trail_id.hex()
                    outcome = check(kept.load(trail_id), trail_id, result.frames, result.tail)
                    if outcome.ok is False:
                        raise TrailTampered(
                            [
                                Problem(
                                    None,
                                    outcome.message,
                                    scope=_("anchor ({where})").format(where=kept.description),
                                )
                            ]
                        )
                if result.tail is not None and read_only:
                    warnings.append(_tail_left(result))
                elif result.tail is not None:
                    warnings.append(_cut_tail(directory, fd, data, result))
            return cls(
                directory,
                master,
                fd,
                result,
                anchor=kept,
                warnings=warnings,
                read_only=read_only,
            )
        except BaseException:
            os.close(fd)
            raise

    @classmethod
    def inspect(
        cls,
        directory: Path,
        passphrase: str,
        *,
        anchor: AnchorChoice = "default",
        advance_anchor: bool = False,
    ) -> VerifyReport:
        """Verify without opening for writing: nothing is repaired, tampering is reported.

        With `advance_anchor`, a trail without problems moves the anchor to its current head
        (creating it if it holds nothing yet).
        """
        report = verify_unlocked(Path(directory), cls.unlock(directory, passphrase), anchor=anchor)
        kept = report.anchor_used
        if advance_anchor and kept is not None and not report.problems:
            head = AnchorState(report.trail_id, *report.head)
            if kept.load(report.trail_id) != head:
                kept.save(head)
                report.anchor = f"{report.anchor}; now holds record {head.seq}"
        return report

    # -- writing ---------------------------------------------------------------------------

    def phone_ref(self, phone: PhoneNumber) -> str:
        """The keyed reference stored instead of the number (HMAC-SHA256 of its E.164 form)."""
        return phone.ref(self._keys.phone)

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for another part of unbinder (e.g. kept browser sessions): bound to
        this trail's master key, independent of the trail's own subkeys."""
        return self._master.derive(b"ext " + purpose.encode())

    def start_run(
        self,
        kind: str,
        phone: PhoneNumber | None,
        *,
        new_phone: PhoneNumber | None = None,
        recipes: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Run:
        """Append a run-start record; the returned Run appends the run's records."""
        phones = [p for p in (phone, new_phone) if p is not None]
        for p in phones:
            redact.register(p)  # so any written form in the run's payloads is masked
        payload = {
            "kind": kind,
            "tool": {"name": "unbinder", "version": __version__},
            "recipes": dict(recipes or {}),
            "phone": self._phone_entry(phone),
            "new_phone": self._phone_entry(new_phone),
            "details": redact.redact_deep(dict(details or {})),
        }
        seq = self._append(RecordType.RUN_START, None, payload)
        return Run(self, seq)

    def _phone_entry(self, phone: PhoneNumber | None) -> dict[str, str] | None:
        if phone is None:
            return None
        return {"masked": phone.masked, "ref": self.phone_ref(phone)}

    def _append(
        self,
        rtype: RecordType,
        run: int | None,
        payload: dict[str, Any] | Callable[[int, bytes], dict[str, Any]],
    ) -> int:
        fd = self._require_open()
        if self.read_only:
            raise StorageError(
                _("cannot append to the trail: {read_only}.").format(read_only=self.read_only),
                hint=_("Make the data directory writable again; the trail itself is intact."),
            )
        with self._lock, lock.exclusive(fd):
            self._catch_up(fd)
            seq = self._head_seq + 1
            body = payload(self._head_seq, self._head_mac) if callable(payload) else payload
            plaintext = records.encode(records.now(), run, body)
            frame, mac = log.build_frame(
                self._keys,
                self._aead,
                seq=seq,
                rtype=rtype,
                plaintext=plaintext,
                prev_mac=self._head_mac,
            )
            try:
                fsio.write_all(fd, frame)
                _datasync(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, self._end)  # no half record left behind
                raise StorageError(
                    _("cannot append to the trail: {value}.").format(value=exc.strerror or exc),
                    hint=_("Free some disk space; the trail is intact up to the last record."),
                ) from exc
            self._end += len(frame)
            self._head_seq, self._head_mac = seq, mac
        return seq

    def _catch_up(self, fd: int) -> None:
        """Take in records another process appended since we last looked (lock held)."""
        size = os.fstat(fd).st_size
        if size == self._end:
            return
        if size < self._end:
            raise TrailTampered(
                [
                    Problem(
                        None,
                        _("the log shrank from {before} to {size} bytes while open").format(
                            before=self._end, size=size
                        ),
                    )
                ]
            )
        data = fsio.read_at(fd, size - self._end, self._end)
        result = Scan(header_ok=True, header_mac=self._head_mac)
        log.scan_frames(
            data,
            0,
            self._keys,
            result,
            index=self._head_seq + 1,
            prev_mac=self._head_mac,
            base=self._end,
        )
        if result.problems:
            raise TrailTampered(result.problems)
        if result.tail is not None:
            whole = _read_all(fd)
            self.warnings.append(_cut_tail(self.directory, fd, whole, result))
            self.cut_tails.append(result.tail)
        if result.frames:
            self._head_seq, self._head_mac = result.head
        self._end = result.end

    def _save_anchor(self) -> None:
        if self._anchor is not None:
            self._anchor.save(
                AnchorState(self._master.trail_id.hex(), self._head_seq, self._head_mac.hex())
            )

    # -- reading ---------------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        """Every record, decrypted, in order. TamperedError if the log no longer checks out."""
        result = self._scan_now()
        if result.problems:
            raise TrailTampered(result.problems)
        for frame in result.frames:
            try:
                plaintext = self._aead.decrypt(
                    frame.nonce,
                    frame.ciphertext,
                    log.record_ad(self._keys.trail_id, frame.seq, frame.type),
                )
                yield records.decode(frame.seq, RecordType(frame.type), plaintext)
            except (InvalidTag, ValueError, KeyError, TypeError):
                raise TrailTampered(
                    [Problem(frame.position, _("its content does not decrypt to a record"))]
                ) from None

    def runs(self) -> list[RunSummary]:
        """Every run with its counts, oldest first."""
        starts: dict[int, Record] = {}
        counts: dict[int, dict[RecordType, int]] = {}
        seals: dict[int, Record] = {}
        for record in self.records():
            if record.type == RecordType.RUN_START:
                starts[record.seq] = record
                counts[record.seq] = {}
            elif record.run in counts:
                per = counts[record.run]
                per[record.type] = per.get(record.type, 0) + 1
                if record.type == RecordType.RUN_SEAL:
                    seals[record.run] = record
        summaries = []
        for run_id, start in starts.items():
            per = counts[run_id]
            phone = start.payload.get("phone") or {}
            new_phone = start.payload.get("new_phone") or {}
            seal = seals.get(run_id)
            summaries.append(
                RunSummary(
                    id=run_id,
                    kind=str(start.payload.get("kind", "")),
                    started=start.time,
                    masked=phone.get("masked"),
                    phone_ref=phone.get("ref"),
                    new_masked=new_phone.get("masked"),
                    new_phone_ref=new_phone.get("ref"),
                    sealed=seal is not None,
                    status=str(seal.payload.get("status")) if seal else None,
                    records=1 + sum(n for t, n in per.items() if t != RecordType.RUN_SEAL),
                    findings=per.get(RecordType.FINDING, 0),
                    actions=per.get(RecordType.ACTION, 0),
                    results=per.get(RecordType.RESULT, 0),
                    blobs=per.get(RecordType.BLOB, 0),
                )
            )
        return summaries

    def read_blob(self, blob_id: str) -> bytes:
        """An evidence file, decrypted and authenticated."""
        return blobs.load(self.directory / BLOB_DIR, self._keys, blob_id)

    def verify(self) -> VerifyReport:
        """Re-read and check everything (no KDF run): chain, records, seals, blobs, anchor."""
        self._require_open()
        report = verify_unlocked(self.directory, self._master, anchor=self._anchor)
        report.warnings[:0] = self.warnings
        return report

    def head(self) -> tuple[int, str]:
        """(sequence number, chain MAC hex) of the last record."""
        fd = self._require_open()
        with self._lock, lock.exclusive(fd):
            self._catch_up(fd)
            return self._head_seq, self._head_mac.hex()

    @property
    def trail_id(self) -> str:
        return self._master.trail_id.hex()

    # -- keys and lifetime -----------------------------------------------------------------

    def change_passphrase(self, old: str, new: str) -> None:
        """Re-wrap the master key for `new`; rewrites only the key file, atomically."""
        change_passphrase(self.directory, old, new, expect=self._master)

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self._save_anchor()
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Trail:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _require_open(self) -> int:
        if self._fd is None:
            raise ValueError("the trail is closed")
        return self._fd

    def _scan_now(self) -> Scan:
        fd = self._require_open()
        with self._lock, lock.shared(fd):
            data = _read_all(fd)
        return log.scan(data, self._keys)


class Run:
    """The records of one audit or unbind run. Seal it when done (or use it as a context)."""

    def __init__(self, trail: Trail, run_id: int) -> None:
        self._trail = trail
        self._id = run_id
        self._count = 1  # the run-start record
        self._sealed = False

    @property
    def id(self) -> int:
        """The sequence number of the run's start record."""
        return self._id

    @property
    def sealed(self) -> bool:
        return self._sealed

    def finding(self, platform: str, outcome: Mapping[str, Any]) -> int:
        """A platform's check outcome (JSON-able: status, kind, evidence, timings...)."""
        return self._add(
            RecordType.FINDING, {"platform": platform, "outcome": redact.redact_deep(outcome)}
        )

    def action(
        self,
        platform: str,
        what: str,
        *,
        by: str = "tool",
        details: Mapping[str, Any] | None = None,
    ) -> int:
        """Something changed on a platform, by the user or by the tool."""
        if by not in ("user", "tool"):
            raise ValueError(f"by must be 'user' or 'tool', not {by!r}")
        payload = {
            "platform": platform,
            "what": redact.redact_deep(what),
            "by": by,
            "details": redact.redact_deep(dict(details or {})),
        }
        return self._add(RecordType.ACTION, payload)

    def result(self, platform: str, result: Mapping[str, Any]) -> int:
        return self._add(
            RecordType.RESULT, {"platform": platform, "result": redact.redact_deep(result)}
        )

    def blob(
        self,
        data: bytes,
        *,
        media_type: str = "image/png",
        platform: str = "",
        name: str = "",
    ) -> str:
        """Encrypt and store evidence, record a reference to it; return the blob id."""
        self._check_open()
        blob_id = blobs.store(self._trail.directory / BLOB_DIR, self._trail._keys, data)
        payload = {
            "blob": blob_id,
            "media_type": media_type,
            "platform": platform,
            "name": redact.redact_deep(name),
            "size": len(data),
        }
        self._add(RecordType.BLOB, payload)
        return blob_id

    def seal(self, status: str = "complete") -> int:
        """Close the run: its record count and the head MAC it follows. Advances the anchor."""
        self._check_open()
        count = self._count

        def payload(_head_seq: int, head_mac: bytes) -> dict[str, Any]:
            return {"records": count, "head_mac": head_mac.hex(), "status": status}

        seq = self._trail._append(RecordType.RUN_SEAL, self._id, payload)
        self._sealed = True
        self._trail._save_anchor()
        return seq

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._sealed:
            self.seal("complete" if exc_type is None else f"stopped: {exc_type.__name__}")

    def _add(self, rtype: RecordType, payload: dict[str, Any]) -> int:
        self._check_open()
        seq = self._trail._append(rtype, self._id, payload)
        self._count += 1
        return seq

    def _check_open(self) -> None:
        if self._sealed:
            raise ValueError(f"run {self._id} is sealed")


def open_or_create(
    paths: Paths,
    passphrase: str,
    create_if_missing: bool = True,
    *,
    anchor: Anchor | None = None,
    recovery_code: str | None = None,
) -> Trail:
    """The user's trail (`paths.trail_dir`); the first audit creates it.

    The anchor defaults to `default_anchor()` (UNBINDER_ANCHOR's, else the OS keyring or the
    config folder's), so every command keeps it current.
    """
    directory = paths.trail_dir
    choice: AnchorChoice = anchor if anchor is not None else "default"
    if Trail.exists(directory):
        return Trail.open(directory, passphrase, anchor=choice)
    if not create_if_missing:
        raise _no_trail(directory)
    paths.ensure()
    return Trail.create(directory, passphrase, anchor=choice, recovery_code=recovery_code)


def change_passphrase(
    directory: Path, old: str, new: str, *, expect: MasterKey | None = None
) -> None:
    """Re-wrap the master key of the trail in `directory` for `new`. The log is not touched.

    The key file is replaced atomically (temp, fsync, rename, fsync dir): a crash leaves the
    old key file or the new one, both usable with their passphrase.
    """
    directory = Path(directory)
    if not new:
        raise BadInput(_("the new passphrase is empty."), hint=_("Choose one you can remember."))
    path = directory / KEY_NAME
    if not Trail.exists(directory):
        raise _no_trail(directory)
    current = keyfile.load(path)
    master, index = current.unlock(old)
    if expect is not None and master.secret != expect.secret:
        raise AuthError(_("the key file was replaced while the trail was open."))
    target: int | None = index
    if current.slots[index].label == keyfile.RECOVERY:
        # Opened with the recovery code: the new passphrase replaces the lost one, and the
        # recovery code keeps working.
        target = next(
            (i for i, s in enumerate(current.slots) if s.label == keyfile.PASSPHRASE), None
        )
    keyfile.save(path, current.with_slot(target, new, master))


def verify_unlocked(
    directory: Path, master: MasterKey, *, anchor: AnchorChoice = "default"
) -> VerifyReport:
    """The full check of `directory`'s trail with an unlocked key (read-only)."""
    _check_private(directory)
    keys = master.subkeys()
    path = directory / LOG_NAME
    try:
        fd = os.open(path, os.O_RDONLY | _BINARY)
    except FileNotFoundError:
        result = Scan(problems=[_missing(path)])
    except OSError as exc:
        raise StorageError(
            _("cannot read {path}: {strerror}.").format(path=path, strerror=exc.strerror)
        ) from exc
    else:
        try:
            with lock.shared(fd):
                data = _read_all(fd)
        except OSError as exc:  # e.g. trail.log is a directory
            raise StorageError(
                _("cannot read {path}: {strerror}.").format(path=path, strerror=exc.strerror)
            ) from exc
        finally:
            os.close(fd)
        result = log.scan(data, keys)
        _check_key_matches(result, master)
    side_files = sorted(p.name for p in directory.glob(f"{SIDE_PREFIX}*"))
    kept = _resolve_anchor(anchor, result.unanchored)
    return build_report(directory, keys, result, anchor=kept, warnings=[], side_files=side_files)


def _check_private(directory: Path) -> None:
    """A trail whose folder (or the data folder holding it) another user owns or may write to
    could have been replaced by them: refused (paths.check_private), before it is read."""
    check_private(directory.parent)
    check_private(directory)


def _check_key_matches(result: Scan, master: MasterKey) -> None:
    """Nothing authenticates and the header names another trail: the wrong key file."""
    if (
        not result.header_ok
        and not result.any_authentic
        and result.header_trail_id
        and result.header_trail_id != master.trail_id
    ):
        raise AuthError(
            _("the key file does not belong to this trail log."),
            hint=_("Put back the trail's own key.json (from a backup)."),
        )


def _cut_tail(directory: Path, fd: int, data: bytes, result: Scan) -> str:
    """Move a torn tail into a side file and truncate the log (lock held)."""
    tail = result.tail
    assert tail is not None
    stamp = records.now().strftime("%Y%m%dT%H%M%S%fZ")
    side = directory / f"{SIDE_PREFIX}{stamp}-{tail.offset}"
    try:
        fsio.write_new(side, data[tail.offset :])
        os.ftruncate(fd, tail.offset)
        os.fsync(fd)
    except OSError as exc:
        raise StorageError(
            _("cannot repair the trail's torn tail: {value}.").format(value=exc.strerror or exc),
            hint=_("Free some disk space and try again."),
        ) from exc
    kept = (
        _("records 0 to {last} are intact").format(last=tail.index - 1)
        if tail.index
        else _("no record was lost")
    )
    return _(
        "the last record (#{index}) was incomplete ({reason}), left by an "
        "interrupted write; it was moved to {side}; {kept}."
    ).format(index=tail.index, reason=tail.reason, side=side.name, kept=kept)


def _open_read_only(path: Path, refused: OSError) -> int:
    """The log opened for reading, after opening it for writing was `refused`."""
    if refused.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
        raise StorageError(
            _("cannot open {path}: {strerror}.").format(path=path, strerror=refused.strerror)
        ) from refused
    try:
        return os.open(path, os.O_RDONLY | _BINARY)
    except OSError as exc:
        raise StorageError(
            _("cannot open {path}: {strerror}.").format(path=path, strerror=exc.strerror)
        ) from exc


def _tail_left(result: Scan) -> str:
    """The warning for a torn tail that cannot be cut off (the trail is read-only)."""
    tail = result.tail
    assert tail is not None
    return _(
        "the last record (#{index}) is incomplete ({reason}), left by an interrupted "
        "write; it stays in place until the trail can be written."
    ).format(index=tail.index, reason=tail.reason)


def _missing(path: Path) -> Problem:
    return Problem(None, _("the log file {path} is missing").format(path=path))


def _move_into_place(staging: Path, directory: Path) -> None:
    try:
        os.rename(staging, directory)  # also replaces an empty directory
        return
    except OSError:
        if not directory.is_dir():
            raise
    # The directory exists with other files in it: move ours in, the key file last.
    for name in (BLOB_DIR, LOG_NAME, KEY_NAME):
        os.rename(staging / name, directory / name)
    staging.rmdir()
    fsio.fsync_dir(directory)


def require_trail(directory: Path) -> Path:
    """`directory`, if it holds a trail; else the error that says how to create one."""
    if not Trail.exists(directory):
        raise _no_trail(directory)
    return directory


def _no_trail(directory: Path) -> BadInput:
    return BadInput(
        _("there is no trail in {directory} yet.").format(directory=directory),
        hint=_("Create one with `unbinder trail init` (the first audit also creates it)."),
    )


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks = []
    offset = 0
    while offset < size:
        chunk = fsio.read_at(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)
