"""The log file: a MACed header, then framed, encrypted, hash-chained records.

Layout (docs/trail.md has the full table):

    header  = magic "UNBTRAIL" | version u16 | cipher u8 | reserved u8 | trail id (16)
              | HMAC(chain key, "H" | the 28 bytes before)
    frame   = marker 0xA7 | body length u32 | CRC32(body) u32 | CRC32(previous 9 bytes) u32 | body
    body    = seq u64 | type u8 | nonce (12) | ChaCha20-Poly1305 ciphertext+tag
              | HMAC(chain key, "R" | previous MAC | seq | type | nonce | ciphertext)

The first record's previous MAC is the header MAC. The ciphertext's associated data is the trail
id, seq and type, so a record decrypts only in its own trail at its own place.

Reading classifies what is wrong. A *torn tail* is what an interrupted append can leave: the
file ends inside a frame whose (self-checked) prefix is intact, or ends in zero bytes (a size
extended before its data reached the disk). Anything else that does not check out is tampering,
reported at the position of the record where it starts. The prefix check (the second CRC) is
what tells a frame cut short by a crash from a frame whose length field was edited.
"""

from __future__ import annotations

import hmac
import os
import struct
import zlib
from dataclasses import dataclass, field
from typing import NamedTuple

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from unbinder.errors import BadInput
from unbinder.i18n.translate import _
from unbinder.trail.keys import MAC_LENGTH, NONCE_LENGTH, TAG_LENGTH, TrailKeys
from unbinder.trail.records import RecordType

MAGIC = b"UNBTRAIL"
VERSION = 1
CIPHER_CHACHA20_POLY1305 = 1
_HEADER_FIELDS = struct.Struct(">8sHBB16s")
HEADER_SIZE = _HEADER_FIELDS.size + MAC_LENGTH  # 60

MARKER = 0xA7  # five bits set: no single bit flip turns it into 0 (which reads as a zero tail)
_PREFIX = struct.Struct(">BII")  # marker, body length, body CRC
_HEAD_CRC = struct.Struct(">I")  # CRC32 of the 9 bytes before
_FULL_PREFIX = struct.Struct(">BIII")
PREFIX_SIZE = _FULL_PREFIX.size  # 13
_BODY_HEAD = struct.Struct(">QB")  # seq, type
MIN_BODY = _BODY_HEAD.size + NONCE_LENGTH + TAG_LENGTH + MAC_LENGTH
MAX_BODY = 16 * 1024 * 1024  # evidence files are blobs; a record is a small JSON document
ZERO_FILL_MIN = 16  # a crash-zeroed end is at least this long; a bit flip cannot make one

_TYPES = frozenset(int(t) for t in RecordType)
_AD_PREFIX = b"unbinder.trail/1 record "


class Frame(NamedTuple):
    """One frame as found in the file (checked or not). A tuple: verify builds 100k of these."""

    position: int  # in the log, counting from 0; equals seq in an intact log
    seq: int
    type: int
    offset: int
    end: int
    nonce: bytes
    ciphertext: bytes
    mac: bytes
    ok: bool  # checksums, sequence and chain MAC all good


@dataclass(frozen=True)
class Problem:
    """Something that is not as written: `index` is the record position, None for the header."""

    index: int | None
    message: str
    scope: str = ""  # names the place when it is neither a record nor the header (the anchor)

    @property
    def where(self) -> str:
        if self.scope:
            return self.scope
        if self.index is None:
            return _("log header")
        return _("record {index}").format(index=self.index)

    def __str__(self) -> str:
        return _("{where}: {problem}").format(where=self.where, problem=self.message)


@dataclass(frozen=True)
class Tail:
    """The end of a log left by an interrupted append."""

    offset: int
    size: int
    index: int  # the position the record would have had
    reason: str


@dataclass
class Scan:
    header_ok: bool = False
    header_trail_id: bytes = b""
    header_mac: bytes = b""
    frames: list[Frame] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    tail: Tail | None = None
    end: int = 0  # where the next frame goes (the start of the tail, if any)
    any_authentic: bool = False  # some record's chain MAC checked out (tells key from tamper)
    flags: int = 0  # the header's (FLAG_UNANCHORED); trust them only when header_ok

    @property
    def unanchored(self) -> bool:
        return self.header_ok and bool(self.flags & FLAG_UNANCHORED)

    @property
    def head(self) -> tuple[int, bytes]:
        """(seq, MAC) of the last frame, or (-1, header MAC) for an empty log."""
        if self.frames:
            last = self.frames[-1]
            return last.seq, last.mac
        return -1, self.header_mac


# Header flags (byte 11, reserved 0 before them; under the header MAC, so nobody without the key
# can set or clear one).
FLAG_UNANCHORED = 0x01  # created without an anchor on purpose (the demo's throwaway trail)


def build_header(keys: TrailKeys, flags: int = 0) -> bytes:
    fields = _HEADER_FIELDS.pack(MAGIC, VERSION, CIPHER_CHACHA20_POLY1305, flags, keys.trail_id)
    return fields + keys.mac(b"H", fields)


def record_ad(trail_id: bytes, seq: int, rtype: int) -> bytes:
    return _AD_PREFIX + trail_id + _BODY_HEAD.pack(seq, rtype)


def build_frame(
    keys: TrailKeys,
    aead: ChaCha20Poly1305,
    *,
    seq: int,
    rtype: int,
    plaintext: bytes,
    prev_mac: bytes,
) -> tuple[bytes, bytes]:
    """The frame bytes for one record, and its chain MAC."""
    nonce = os.urandom(NONCE_LENGTH)
    head = _BODY_HEAD.pack(seq, rtype)
    ciphertext = aead.encrypt(nonce, plaintext, _AD_PREFIX + keys.trail_id + head)
    unsigned = head + nonce + ciphertext
    mac = keys.mac(b"R", prev_mac, unsigned)
    body = unsigned + mac
    if len(body) > MAX_BODY:
        raise BadInput(
            _("a trail record may hold at most {value} MiB.").format(
                value=MAX_BODY // (1024 * 1024)
            ),
            hint=_("Store large evidence with run.blob()."),
        )
    prefix = _PREFIX.pack(MARKER, len(body), zlib.crc32(body))
    return prefix + _HEAD_CRC.pack(zlib.crc32(prefix)) + body, mac


def scan(data: bytes, keys: TrailKeys) -> Scan:
    """Check the header and every frame of a whole log file's bytes."""
    result = Scan()
    if len(data) < HEADER_SIZE:
        result.problems.append(
            Problem(
                None,
                _("the log is {size} bytes, shorter than its header").format(size=len(data)),
            )
        )
        return result
    fields = data[: _HEADER_FIELDS.size]
    magic, version, cipher, flags, trail_id = _HEADER_FIELDS.unpack(fields)
    result.header_trail_id = trail_id
    result.flags = flags
    result.header_mac = data[_HEADER_FIELDS.size : HEADER_SIZE]
    result.header_ok = hmac.compare_digest(keys.mac(b"H", fields), result.header_mac)
    if not result.header_ok:
        what = (
            _("not an unbinder trail log (the header was edited or replaced)")
            if magic != MAGIC
            else _("authentication failed (the header was edited or replaced)")
        )
        result.problems.append(Problem(None, what))
    elif version != VERSION or cipher != CIPHER_CHACHA20_POLY1305:
        raise BadInput(
            _("this trail was written by a newer unbinder (log format {version}).").format(
                version=version
            ),
            hint=_("Upgrade unbinder to read it."),
        )
    scan_frames(data, HEADER_SIZE, keys, result, index=0, prev_mac=result.header_mac)
    return result


def scan_frames(
    data: bytes,
    pos: int,
    keys: TrailKeys,
    result: Scan,
    *,
    index: int,
    prev_mac: bytes,
    base: int = 0,
) -> None:
    """Check frames from `pos` (record position `index`, chained to `prev_mac`) to the end.

    `data` may be a slice of the file starting at byte `base` (catching up after another
    process appended); offsets in the result are file offsets.
    """
    n = len(data)
    expected = index  # the seq this position should have
    prev_seq = index - 1
    compare = hmac.compare_digest
    digest = hmac.digest
    chain_key = keys.chain
    crc32 = zlib.crc32
    unpack_prefix = _FULL_PREFIX.unpack_from
    unpack_head = _BODY_HEAD.unpack_from
    head_size = _PREFIX.size
    nonce_at, cipher_at = _BODY_HEAD.size, _BODY_HEAD.size + NONCE_LENGTH
    frames = result.frames
    while pos < n:
        if data[pos] == 0 and not data[pos:].strip(b"\0"):
            if n - pos > PREFIX_SIZE + MAX_BODY:
                # An append is one write, synced before the next: a crash zeroes at most the
                # record being written, never more than the largest record can be.
                least = -(-(n - pos) // (PREFIX_SIZE + MAX_BODY))
                result.problems.append(
                    Problem(
                        index,
                        _(
                            "{size} zero bytes at the end, more than one record can hold: at "
                            "least {least} records were overwritten with zeroes"
                        ).format(size=n - pos, least=least),
                    )
                )
                break
            result.tail = Tail(
                base + pos, n - pos, index, _("{size} zero bytes").format(size=n - pos)
            )
            break
        if n - pos < PREFIX_SIZE:
            if data[pos] == MARKER:
                result.tail = Tail(base + pos, n - pos, index, _cut_short(n - pos))
            else:
                result.problems.append(
                    Problem(index, _("{size} unreadable bytes").format(size=n - pos))
                )
            break
        marker, length, body_crc, head_crc = unpack_prefix(data, pos)
        head_ok = (
            marker == MARKER
            and head_crc == crc32(data[pos : pos + head_size])
            and MIN_BODY <= length <= MAX_BODY
        )
        end = pos + PREFIX_SIZE + length
        if not head_ok:
            if data[pos] == MARKER and len(data[pos:].rstrip(b"\0")) < PREFIX_SIZE:
                result.tail = Tail(
                    base + pos, n - pos, index, _("a frame cut short and zero-filled")
                )
                break
            if not MIN_BODY <= length <= MAX_BODY or not _frame_boundary(data, end):
                result.problems.append(
                    Problem(
                        index,
                        _(
                            "the frame header was altered; the remaining {size} bytes "
                            "cannot be read"
                        ).format(size=n - pos),
                    )
                )
                break
        elif end > n:
            result.tail = Tail(base + pos, n - pos, index, _cut_short(n - pos))
            break
        body = data[pos + PREFIX_SIZE : end]
        unsigned = body[:-MAC_LENGTH]
        mac = body[-MAC_LENGTH:]
        seq, rtype = unpack_head(body)
        crc_ok = crc32(body) == body_crc
        mac_ok = compare(digest(chain_key, b"R" + prev_mac + unsigned, "sha256"), mac)
        if head_ok and crc_ok and mac_ok and seq == expected and rtype in _TYPES:
            problem = None  # the common case, kept cheap
        else:
            if head_ok and not (crc_ok and mac_ok) and end == n and _zero_filled_end(body):
                result.tail = Tail(
                    base + pos, n - pos, index, _("a frame whose end was zero-filled")
                )
                break
            problem = _frame_problem(
                head_ok=head_ok,
                crc_ok=crc_ok,
                mac_ok=mac_ok,
                seq_ok=seq in (expected, prev_seq + 1),
                seq=seq,
                expected=expected,
                rtype=rtype,
            )
            if problem is not None:
                result.problems.append(Problem(index, problem))
        if mac_ok:
            result.any_authentic = True
        frames.append(
            Frame(
                index,
                seq,
                rtype,
                base + pos,
                base + end,
                unsigned[nonce_at:cipher_at],
                unsigned[cipher_at:],
                mac,
                problem is None,
            )
        )
        # After a bad record keep checking the rest against what is actually stored, so one
        # edit is reported once and records after it still count as intact.
        expected = seq + 1 if seq in (expected, prev_seq + 1) else expected + 1
        prev_seq = seq
        prev_mac = mac
        index += 1
        pos = end
    result.end = result.tail.offset if result.tail else base + min(pos, n)


def _frame_problem(
    *,
    head_ok: bool,
    crc_ok: bool,
    mac_ok: bool,
    seq_ok: bool,
    seq: int,
    expected: int,
    rtype: int,
) -> str | None:
    if not seq_ok:
        if seq < expected:
            return _(
                "it carries sequence number {seq}, already used: a record was duplicated "
                "or moved here"
            ).format(seq=seq)
        return _(
            "it carries sequence number {seq} where {expected} was expected: records were "
            "deleted or moved"
        ).format(seq=seq, expected=expected)
    if not head_ok:
        return _("the frame header was altered")
    if not crc_ok and mac_ok:
        return _("its checksum field was altered")
    if not crc_ok:
        return _("its bytes were changed (checksum and authentication fail)")
    if not mac_ok:
        return _(
            "authentication failed: it was edited, re-created, or copied from another trail "
            "(its checksum was recomputed)"
        )
    if rtype not in _TYPES:
        return _("unknown record type {type}").format(type=rtype)
    return None


def _cut_short(size: int) -> str:
    return _("a frame cut short ({size} bytes)").format(size=size)


def _frame_boundary(data: bytes, pos: int) -> bool:
    """Does a frame (or the end of the file) start at `pos`? Used to step over a bad header."""
    if pos == len(data):
        return True
    if pos + PREFIX_SIZE > len(data):
        return False
    marker, _length, _body_crc, head_crc = _FULL_PREFIX.unpack_from(data, pos)
    return bool(marker == MARKER and head_crc == zlib.crc32(data[pos : pos + _PREFIX.size]))


def _zero_filled_end(body: bytes) -> bool:
    """Does the frame end in a run of zeros long enough to be a crash, not an edit?"""
    return len(body) - len(body.rstrip(b"\0")) >= ZERO_FILL_MIN
