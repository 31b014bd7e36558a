"""Encrypted evidence files (screenshots...), named by a keyed hash of their contents.

Evidence is captured to memory, encrypted, and only then written: the plaintext never touches
the disk. The name is HMAC(blob-name key, plaintext), so equal evidence is stored once and the
name says nothing about the content to someone without the key. A blob authenticates twice:
its AEAD tag (associated data: trail id and name) and its name, recomputed after decryption.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.exceptions import InvalidTag

from unbinder import fsio
from unbinder.errors import BadInput, StorageError, TamperedError
from unbinder.i18n.translate import _
from unbinder.trail.keys import NONCE_LENGTH, TrailKeys

MAGIC = b"UNBBLOB1"
SUFFIX = ".blob"
_ID = re.compile(r"^[0-9a-f]{64}$")
_AD_PREFIX = b"unbinder.trail/1 blob "


def path_for(blob_dir: Path, blob_id: str) -> Path:
    if not _ID.match(blob_id):
        raise BadInput(_("{blob_id!r} is not a blob id (64 hex digits).").format(blob_id=blob_id))
    return blob_dir / f"{blob_id}{SUFFIX}"


def store(blob_dir: Path, keys: TrailKeys, data: bytes) -> str:
    """Encrypt and write `data` (once per content); return its id."""
    blob_id = keys.blob_id(data)
    path = path_for(blob_dir, blob_id)
    if path.exists():
        try:
            if load(blob_dir, keys, blob_id) == data:
                return blob_id
        except TamperedError:
            pass  # a damaged copy: write a good one over it
    nonce = os.urandom(NONCE_LENGTH)
    sealed = keys.blob_aead().encrypt(nonce, data, _ad(keys, blob_id))
    fsio.replace_atomically(path, MAGIC + nonce + sealed)
    return blob_id


def load(blob_dir: Path, keys: TrailKeys, blob_id: str) -> bytes:
    """Decrypt and authenticate one blob. BadInput if absent, TamperedError if not authentic."""
    path = path_for(blob_dir, blob_id)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(
            _("blob {value}... is not in the trail.").format(value=blob_id[:12])
        ) from None
    except OSError as exc:
        raise StorageError(
            _("cannot read {path}: {strerror}.").format(path=path, strerror=exc.strerror)
        ) from exc
    head = len(MAGIC) + NONCE_LENGTH
    if len(raw) < head or not raw.startswith(MAGIC):
        raise _tampered(blob_id, "it is not an unbinder blob")
    try:
        data = keys.blob_aead().decrypt(raw[len(MAGIC) : head], raw[head:], _ad(keys, blob_id))
    except InvalidTag:
        raise _tampered(blob_id, "it does not authenticate") from None
    if keys.blob_id(data) != blob_id:
        raise _tampered(blob_id, "its content does not match its name")
    return data


def listing(blob_dir: Path) -> set[str]:
    """Ids of the blob files present."""
    if not blob_dir.is_dir():
        return set()
    return {p.name[: -len(SUFFIX)] for p in blob_dir.iterdir() if p.name.endswith(SUFFIX)}


def _ad(keys: TrailKeys, blob_id: str) -> bytes:
    return _AD_PREFIX + keys.trail_id + blob_id.encode()


def _tampered(blob_id: str, why: str) -> TamperedError:
    return TamperedError(
        _("blob {value}... was altered: {why}.").format(value=blob_id[:12], why=why),
        hint=_("Keep a copy of the trail directory as evidence."),
    )
