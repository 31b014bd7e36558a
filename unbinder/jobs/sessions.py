"""Kept logins: a platform's browser state (cookies + local storage), encrypted at rest.

`unbinder unbind --keep-session` saves Playwright's `storage_state` of the platform's context so
that the next run starts logged in. We keep this instead of a Chromium profile directory because
Chromium writes history, caches and form data (typed numbers included) in plaintext there, which
would break promise 2. The state is sealed with ChaCha20-Poly1305 under a key derived from the
trail's master key, in `sessions/<platform>.session` (dir 0700, file 0600); without the trail's
passphrase it cannot be read. Nothing is kept unless asked, and `unbinder sessions wipe` removes
what was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from unbinder.errors import BadInput, StorageError, UnbinderError
from unbinder.i18n.translate import _
from unbinder.paths import private_dir
from unbinder.recipe.names import ID_RE

SUFFIX = ".session"
MAGIC = b"unbinder-session/1\n"
KEY_PURPOSE = "browser-session"  # the trail derives the session key for this purpose
NONCE_LENGTH = 12


class SessionError(UnbinderError):
    """A kept session that cannot be read (another trail's key, or a damaged file)."""


@dataclass(frozen=True)
class KeptSession:
    """A kept session as `unbinder sessions list` shows it (no decryption needed)."""

    platform: str
    path: Path
    saved: dt.datetime
    size: int


class SessionStore:
    """The encrypted kept sessions in one directory."""

    def __init__(self, directory: Path, key: bytes | None = None) -> None:
        self.directory = directory
        self._aead = ChaCha20Poly1305(key) if key is not None else None

    def path(self, platform: str) -> Path:
        if not ID_RE.fullmatch(platform):
            raise BadInput(
                _("{platform!r} is not a platform id.").format(platform=platform),
                hint=_("Use an id like alipay."),
            )
        return self.directory / f"{platform}{SUFFIX}"

    def exists(self, platform: str) -> bool:
        return self.path(platform).is_file()

    def load(self, platform: str) -> dict[str, Any] | None:
        """The kept storage state of `platform`, or None when nothing was kept."""
        path = self.path(platform)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(
                _("cannot read {path}: {value}.").format(path=path, value=exc.strerror or exc)
            ) from exc
        nonce = data[len(MAGIC) : len(MAGIC) + NONCE_LENGTH]
        try:
            if not data.startswith(MAGIC) or len(nonce) != NONCE_LENGTH:
                raise ValueError("not a session file")
            plain = self._cipher().decrypt(nonce, data[len(MAGIC) + NONCE_LENGTH :], _ad(platform))
            state = json.loads(plain)
            if not isinstance(state, dict):
                raise ValueError("not a storage state")
        except (InvalidTag, ValueError):
            raise SessionError(
                _(
                    "the kept session of {platform} cannot be read (it belongs to another "
                    "trail, or the file is damaged)."
                ).format(platform=platform),
                hint=_(
                    "Remove it with `unbinder sessions wipe {platform}` and log in again."
                ).format(platform=platform),
            ) from None
        return state

    def save(self, platform: str, state: dict[str, Any]) -> Path:
        """Encrypt and write `state` (atomically: temp file, fsync, rename)."""
        from unbinder.fsio import replace_atomically

        path = self.path(platform)
        private_dir(self.directory)
        nonce = secrets.token_bytes(NONCE_LENGTH)
        plain = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
        blob = MAGIC + nonce + self._cipher().encrypt(nonce, plain, _ad(platform))
        replace_atomically(path, blob, action="save the session in")
        return path

    def wipe(self, platform: str) -> bool:
        """Remove `platform`'s kept session; False when there was none.

        A plain unlink suffices: the file holds ciphertext only.
        """
        try:
            self.path(platform).unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageError(
                _("cannot remove the session of {platform}: {exc}.").format(
                    platform=platform, exc=exc
                )
            ) from exc
        return True

    def wipe_all(self) -> list[str]:
        """Remove every kept session; return the platforms they were for."""
        removed = [kept.platform for kept in self.kept() if self.wipe(kept.platform)]
        for stray in self.directory.glob(f".*{SUFFIX}.*.tmp"):  # left by a crash mid-save
            with contextlib.suppress(OSError):
                stray.unlink()
        return removed

    def kept(self) -> list[KeptSession]:
        """Every kept session, by platform id."""
        if not self.directory.is_dir():
            return []
        kept = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            platform = path.name[: -len(SUFFIX)]
            if not ID_RE.fullmatch(platform):
                continue
            info = path.stat()
            saved = dt.datetime.fromtimestamp(info.st_mtime, dt.timezone.utc)
            kept.append(KeptSession(platform, path, saved, info.st_size))
        return kept

    def _cipher(self) -> ChaCha20Poly1305:
        if self._aead is None:
            raise ValueError("this SessionStore was opened without a key")
        return self._aead


def _ad(platform: str) -> bytes:
    # Binds a file to its platform: a session renamed to another platform does not decrypt.
    return MAGIC + platform.encode()
