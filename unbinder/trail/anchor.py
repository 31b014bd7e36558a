"""The external anchor: the trail's head (sequence number + MAC) kept outside the trail.

A chain proves that nothing *inside* the log was changed, but not that nothing was cut off the
end, nor that the whole directory was not swapped for an older copy. A head recorded elsewhere
(the OS keyring, or a file the user keeps on another device) catches both: the anchored record
must still be in the chain, with the same MAC.

The anchor is advanced only to heads that are already durable and verified (at run seal and
close), so a crash never leaves an anchor ahead of the log.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from unbinder import fsio
from unbinder.errors import BadInput, StorageError
from unbinder.trail.log import Frame

ANCHOR_ENV = "UNBINDER_ANCHOR"
SCHEMA = "unbinder.anchor/1"
KEYRING_SERVICE = "unbinder"


@dataclass(frozen=True)
class AnchorState:
    trail_id: str  # hex
    seq: int
    head_mac: str  # hex

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "trail_id": self.trail_id,
            "seq": self.seq,
            "head_mac": self.head_mac,
        }

    @classmethod
    def from_json(cls, doc: object, where: str) -> AnchorState:
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise BadInput(f"{where} is not an unbinder anchor.")
        seq, trail_id, mac = doc.get("seq"), doc.get("trail_id"), doc.get("head_mac")
        if not isinstance(seq, int) or not isinstance(trail_id, str) or not isinstance(mac, str):
            raise BadInput(f"the anchor {where} is damaged.")
        return cls(trail_id=trail_id, seq=seq, head_mac=mac)


class Anchor(Protocol):
    """Somewhere outside the trail that remembers its head."""

    @property
    def description(self) -> str: ...

    def load(self, trail_id: str) -> AnchorState | None: ...

    def save(self, state: AnchorState) -> None: ...


class FileAnchor:
    """A small JSON file, ideally on another device (a USB stick, a synced folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def description(self) -> str:
        return f"file {self.path}"

    def load(self, trail_id: str) -> AnchorState | None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise BadInput(f"cannot read the anchor file {self.path}: {exc}.") from None
        return AnchorState.from_json(doc, str(self.path))

    def save(self, state: AnchorState) -> None:
        data = (json.dumps(state.to_json(), indent=2) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {self.path.parent}: {exc.strerror}.") from exc
        fsio.replace_atomically(self.path, data)


class KeyringAnchor:
    """The OS keyring (needs the optional `keyring` package: pip install 'unbinder[keyring]')."""

    def __init__(self) -> None:
        try:
            import keyring  # noqa: F401
        except ImportError:
            raise BadInput(
                "the keyring anchor needs the optional `keyring` package.",
                hint="Install it with: pip install 'unbinder[keyring]', or use an anchor file.",
            ) from None

    @property
    def description(self) -> str:
        return "the OS keyring"

    def load(self, trail_id: str) -> AnchorState | None:
        import keyring

        try:
            raw = keyring.get_password(KEYRING_SERVICE, _keyring_user(trail_id))
        except Exception as exc:  # keyring backends raise their own error types
            raise StorageError(f"cannot read the OS keyring: {exc}.") from None
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
        except ValueError:
            raise BadInput("the anchor in the OS keyring is damaged.") from None
        return AnchorState.from_json(doc, "the OS keyring entry")

    def save(self, state: AnchorState) -> None:
        import keyring

        try:
            keyring.set_password(
                KEYRING_SERVICE, _keyring_user(state.trail_id), json.dumps(state.to_json())
            )
        except Exception as exc:
            raise StorageError(f"cannot write to the OS keyring: {exc}.") from None


def parse_anchor(spec: str) -> Anchor:
    """`keyring` or a path, as given to --anchor or UNBINDER_ANCHOR."""
    if spec == "keyring":
        return KeyringAnchor()
    return FileAnchor(Path(spec).expanduser())


def default_anchor() -> Anchor | None:
    """The anchor named by UNBINDER_ANCHOR, if any (so every command keeps it up to date)."""
    spec = os.environ.get(ANCHOR_ENV)
    return parse_anchor(spec) if spec else None


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool | None  # None: nothing stored yet
    message: str


def check(state: AnchorState | None, trail_id: str, frames: list[Frame]) -> AnchorCheck:
    """Compare a stored head with the chain (`frames` of an intact log)."""
    if state is None:
        return AnchorCheck(None, "no head stored yet")
    if state.trail_id != trail_id:
        return AnchorCheck(False, "the anchor belongs to another trail")
    head = frames[-1].seq if frames else -1
    anchored = next((f for f in frames if f.seq == state.seq and f.ok), None)
    if state.seq > head:
        return AnchorCheck(
            False,
            f"the trail ends at record {head} but the anchor holds record {state.seq}: "
            "records were cut off the end or an older copy was restored",
        )
    if anchored is None or anchored.mac.hex() != state.head_mac:
        return AnchorCheck(
            False,
            f"record {state.seq} is not the one anchored: the trail was replaced by another copy",
        )
    if state.seq == head:
        return AnchorCheck(True, f"matches record {head}")
    return AnchorCheck(
        True, f"anchored record {state.seq} is in the chain ({head - state.seq} newer since)"
    )


def _keyring_user(trail_id: str) -> str:
    return f"trail-anchor-{trail_id}"
