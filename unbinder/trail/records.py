"""What a record says once decrypted: its type, time, run and JSON payload."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any


class RecordType(IntEnum):
    """The type byte of a frame (stored in the clear, authenticated by the chain MAC)."""

    CREATED = 0  # record 0: the trail was created (tool version, cipher, KDF name)
    RUN_START = 1  # tool version, recipe versions, masked number(s) + keyed reference(s)
    FINDING = 2  # a platform's check outcome: status, kind, evidence, timings
    ACTION = 3  # something changed on a platform, by the user or by the tool
    RESULT = 4  # the end state of a platform after a change
    BLOB = 5  # an encrypted evidence file (screenshot...) was stored: id, media type, size
    RUN_SEAL = 6  # the run is complete: its record count and the head MAC before the seal

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class Record:
    """One decrypted record."""

    seq: int
    type: RecordType
    time: datetime  # UTC
    run: int | None
    payload: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type.label,
            "time": format_time(self.time),
            "run": self.run,
            "payload": self.payload,
        }


def encode(time: datetime, run: int | None, payload: dict[str, Any]) -> bytes:
    body = {"t": format_time(time), "run": run, "p": payload}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def decode(seq: int, rtype: RecordType, plaintext: bytes) -> Record:
    """Parse a decrypted payload; ValueError when it is not what encode() writes."""
    body = json.loads(plaintext)
    if not isinstance(body, dict) or not isinstance(body.get("p"), dict):
        raise ValueError("not a record body")
    run = body.get("run")
    if run is not None and (not isinstance(run, int) or isinstance(run, bool)):
        raise ValueError("bad run id")
    return Record(seq, rtype, parse_time(str(body["t"])), run, body["p"])


def format_time(time: datetime) -> str:
    return time.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("time without a zone")
    return parsed.astimezone(timezone.utc)


def now() -> datetime:
    return datetime.now(timezone.utc)
