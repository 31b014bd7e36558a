"""The key file (`key.json`): a random master key wrapped once per passphrase slot.

Restic-style: the master key never changes, so changing a passphrase rewrites only this file
(atomically) and never the log. Each slot wraps the master key with ChaCha20-Poly1305 under a
key derived from its passphrase; the slot's KDF parameters, the trail id and the slot's creation
time are the associated data, so editing any of them makes the slot fail to open. The bounds
check in kdf.py runs before any derivation, so an edited cost is rejected with a clear message
rather than merely failing.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from unbinder import fsio
from unbinder.errors import AuthError, BadInput, UnbinderError
from unbinder.i18n.translate import _
from unbinder.trail import kdf
from unbinder.trail.keys import MASTER_LENGTH, NONCE_LENGTH, TRAIL_ID_LENGTH, MasterKey

FORMAT = "unbinder.trail.key/1"
CIPHER = "chacha20-poly1305"
MAX_SLOTS = 8
MAX_KEYFILE_BYTES = 64 * 1024


PASSPHRASE = "passphrase"  # noqa: S105 (a slot label, not a secret)
RECOVERY = "recovery"  # a slot opened by the printed recovery code
_RECOVERY_GROUPS = 8  # 8 groups of 4 base32 characters: 160 bits


def new_recovery_code() -> str:
    """A random code to print and keep on paper: `ABCD-EFGH-...` (160 bits, base32)."""
    text = base64.b32encode(os.urandom(_RECOVERY_GROUPS * 5 // 2)).decode().rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalize_recovery(text: str) -> str:
    """The code as typed back: case, spaces and dashes do not matter; 0/1/8 read as O/I/B."""
    kept = "".join(ch for ch in text.upper() if ch.isalnum())
    kept = kept.translate(str.maketrans("018", "OIB"))
    return "-".join(kept[i : i + 4] for i in range(0, len(kept), 4))


@dataclass(frozen=True)
class Slot:
    """One wrapping of the master key: by a passphrase, or by the recovery code."""

    kdf: kdf.KdfParams
    created: str
    nonce: bytes
    wrapped: bytes
    label: str = PASSPHRASE

    def to_json(self) -> dict[str, Any]:
        doc = {
            "kdf": self.kdf.to_json(),
            "created": self.created,
            "nonce": _b64(self.nonce),
            "wrapped": _b64(self.wrapped),
        }
        if self.label != PASSPHRASE:
            doc["label"] = self.label
        return doc


@dataclass(frozen=True)
class KeyFile:
    trail_id: bytes
    slots: tuple[Slot, ...]

    def to_bytes(self) -> bytes:
        doc = {
            "format": FORMAT,
            "trail_id": self.trail_id.hex(),
            "cipher": CIPHER,
            "slots": [s.to_json() for s in self.slots],
        }
        return (json.dumps(doc, indent=2) + "\n").encode()

    def unlock(self, passphrase: str) -> tuple[MasterKey, int]:
        """The master key and the index of the slot `passphrase` opens.

        Raises AuthError: wrong passphrase, or every matching slot's parameters out of bounds.
        """
        rejected: AuthError | None = None
        for index, slot in enumerate(self.slots):
            try:
                kdf.check_bounds(slot.kdf)
            except AuthError as exc:
                rejected = rejected or exc
                continue
            secret_text = normalize_recovery(passphrase) if slot.label == RECOVERY else passphrase
            kek = kdf.derive(secret_text, slot.kdf)
            try:
                secret = ChaCha20Poly1305(kek).decrypt(
                    slot.nonce, slot.wrapped, _slot_ad(self.trail_id, slot)
                )
            except InvalidTag:
                continue
            if len(secret) == MASTER_LENGTH:
                return MasterKey(self.trail_id, secret), index
        if rejected is not None:
            raise rejected
        raise AuthError(
            _("wrong passphrase for this trail (or its key file is damaged)."),
            hint=_("Type it again; check UNBINDER_PASSPHRASE if it is set."),
        )

    def with_slot(
        self, index: int | None, passphrase: str, master: MasterKey, *, label: str = PASSPHRASE
    ) -> KeyFile:
        """A copy where slot `index` (or a new slot when None) wraps `master` for `passphrase`."""
        params = kdf.calibrate()
        slot = wrap(master, passphrase, params, label=label)
        slots = list(self.slots)
        if index is None:
            if len(slots) >= MAX_SLOTS:
                raise BadInput(
                    _("the key file already has {MAX_SLOTS} passphrase slots.").format(
                        MAX_SLOTS=MAX_SLOTS
                    )
                )
            slots.append(slot)
        else:
            slots[index] = slot
        return replace(self, slots=tuple(slots))


def new_master() -> MasterKey:
    return MasterKey(os.urandom(TRAIL_ID_LENGTH), os.urandom(MASTER_LENGTH))


def wrap(
    master: MasterKey, passphrase: str, params: kdf.KdfParams, *, label: str = PASSPHRASE
) -> Slot:
    if not passphrase:
        raise BadInput(
            _("the passphrase is empty."), hint=_("Choose a passphrase you can remember.")
        )
    created = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    nonce = os.urandom(NONCE_LENGTH)
    unsealed = Slot(params, created, nonce, b"", label)
    kek = kdf.derive(normalize_recovery(passphrase) if label == RECOVERY else passphrase, params)
    wrapped = ChaCha20Poly1305(kek).encrypt(
        nonce, master.secret, _slot_ad(master.trail_id, unsealed)
    )
    return replace(unsealed, wrapped=wrapped)


def load(path: Path) -> KeyFile:
    """Read and parse the key file; AuthError (exit 6) when it is unreadable or malformed."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_KEYFILE_BYTES + 1)
    except FileNotFoundError:
        raise AuthError(
            _("the trail's key file {path} is missing.").format(path=path),
            hint=_("Restore it from a backup; without it the trail cannot be read."),
        ) from None
    except OSError as exc:
        raise AuthError(
            _("cannot read the trail's key file {path}: {strerror}.").format(
                path=path, strerror=exc.strerror
            )
        ) from exc
    try:
        if len(raw) > MAX_KEYFILE_BYTES:
            raise ValueError("too large")
        doc = json.loads(raw)
        return _parse(doc)
    except UnbinderError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise AuthError(
            _("the trail's key file {path} is damaged ({exc}).").format(path=path, exc=exc),
            hint=_("Restore it from a backup; without it the trail cannot be read."),
        ) from None


def save(path: Path, keyfile: KeyFile) -> None:
    fsio.replace_atomically(path, keyfile.to_bytes())


def _parse(doc: object) -> KeyFile:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} document")
    if doc.get("cipher") != CIPHER:
        raise ValueError(f"unknown cipher {doc.get('cipher')!r}")
    trail_id = bytes.fromhex(str(doc["trail_id"]))
    if len(trail_id) != TRAIL_ID_LENGTH:
        raise ValueError("the trail id has the wrong length")
    raw_slots = doc["slots"]
    if not isinstance(raw_slots, list) or not 1 <= len(raw_slots) <= MAX_SLOTS:
        raise ValueError("no usable slot list")
    slots = []
    for raw in raw_slots:
        if not isinstance(raw, dict):
            raise ValueError("a slot is not an object")
        nonce = base64.b64decode(str(raw["nonce"]), validate=True)
        wrapped = base64.b64decode(str(raw["wrapped"]), validate=True)
        if len(nonce) != NONCE_LENGTH or len(wrapped) != MASTER_LENGTH + 16:
            raise ValueError("a slot has the wrong size")
        label = str(raw.get("label", PASSPHRASE))
        if label not in (PASSPHRASE, RECOVERY):
            raise ValueError(f"a slot has an unknown label {label!r}")
        slots.append(
            Slot(kdf.KdfParams.from_json(raw["kdf"]), str(raw["created"]), nonce, wrapped, label)
        )
    return KeyFile(trail_id, tuple(slots))


def _slot_ad(trail_id: bytes, slot: Slot) -> bytes:
    bound = {
        "format": FORMAT,
        "trail_id": trail_id.hex(),
        "cipher": CIPHER,
        "kdf": slot.kdf.to_json(),
        "created": slot.created,
    }
    if slot.label != PASSPHRASE:  # bound, so a recovery slot cannot pass for a passphrase one
        bound["label"] = slot.label
    return json.dumps(bound, sort_keys=True, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
