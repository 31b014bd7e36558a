"""The trail's master key and the subkeys derived from it (HKDF-SHA256, one per purpose).

Separate subkeys keep each use independent: learning a phone reference or a blob name says
nothing about the record or chain keys.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_LENGTH = 32
TRAIL_ID_LENGTH = 16
NONCE_LENGTH = 12
TAG_LENGTH = 16
MAC_LENGTH = 32

_INFO = b"unbinder.trail/1 "


@dataclass(frozen=True)
class MasterKey:
    """The unwrapped master key of one trail. Opaque; never printed."""

    trail_id: bytes
    secret: bytes = field(repr=False)

    def subkeys(self) -> TrailKeys:
        return TrailKeys(
            trail_id=self.trail_id,
            record=self._hkdf(b"record"),
            chain=self._hkdf(b"chain"),
            phone=self._hkdf(b"phone-ref"),
            blob_name=self._hkdf(b"blob-name"),
            blob=self._hkdf(b"blob"),
        )

    def derive(self, purpose: bytes) -> bytes:
        """A 32-byte subkey for `purpose` (HKDF-SHA256 salted with the trail id)."""
        return self._hkdf(purpose)

    def _hkdf(self, purpose: bytes) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=self.trail_id, info=_INFO + purpose
        ).derive(self.secret)


@dataclass(frozen=True)
class TrailKeys:
    """Subkeys: record encryption, chain MAC, phone references, blob names, blob encryption."""

    trail_id: bytes
    record: bytes = field(repr=False)
    chain: bytes = field(repr=False)
    phone: bytes = field(repr=False)
    blob_name: bytes = field(repr=False)
    blob: bytes = field(repr=False)

    def record_aead(self) -> ChaCha20Poly1305:
        return ChaCha20Poly1305(self.record)

    def blob_aead(self) -> ChaCha20Poly1305:
        return ChaCha20Poly1305(self.blob)

    def mac(self, *parts: bytes) -> bytes:
        return hmac.digest(self.chain, b"".join(parts), hashlib.sha256)

    def blob_id(self, data: bytes) -> str:
        return hmac.new(self.blob_name, data, hashlib.sha256).hexdigest()
