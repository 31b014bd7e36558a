"""How long to wait before checking the same number on the same platform again (across runs).

Platforms punish bursts of lookups, and the person whose number it is deserves restraint too.
Each recipe's `limits.min_interval` is enforced with a small state file that holds, per platform,
a keyed hash of the number (never the number) and the time of the last check. The key is random,
local and private (0600), so the file alone cannot be tested against candidate numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from unbinder.errors import StorageError
from unbinder.i18n.translate import _
from unbinder.paths import private_dir
from unbinder.phone import PhoneNumber

KEY_FILE = "throttle.key"
STATE_FILE = "throttle.json"


@dataclass(frozen=True)
class Wait:
    """A check that must wait: when the last one ran and when the next may."""

    last: dt.datetime
    next_allowed: dt.datetime


class Throttle:
    """Minimum intervals between checks of one number, kept in the data directory."""

    def __init__(self, state_dir: Path, *, now: dt.datetime | None = None) -> None:
        self.dir = state_dir
        self._now = now
        self._key: bytes | None = None
        self._state: dict[str, str] | None = None

    def now(self) -> dt.datetime:
        return self._now or dt.datetime.now(dt.timezone.utc)

    def _ref(self, platform: str, phone: PhoneNumber) -> str:
        if self._key is None:
            self._key = self._load_key()
        message = f"{platform}\x00{phone.e164}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def wait_for(self, platform: str, phone: PhoneNumber, min_interval: float) -> Wait | None:
        """When the check must wait, say until when; None when it may run now."""
        if min_interval <= 0:
            return None
        stamp = self._load().get(self._ref(platform, phone))
        if stamp is None:
            return None
        last = dt.datetime.fromisoformat(stamp)
        next_allowed = last + dt.timedelta(seconds=min_interval)
        return Wait(last, next_allowed) if next_allowed > self.now() else None

    def answered(self, platform: str, phone: PhoneNumber) -> None:
        """Remember that the platform just answered a check of this number."""
        state = self._load()
        state[self._ref(platform, phone)] = self.now().isoformat(timespec="seconds")
        self._write(state)

    # ------------------------------------------------------------------ files

    def _load_key(self) -> bytes:
        path = self.dir / KEY_FILE
        try:
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            raise StorageError(
                _("cannot read {path}: {exc}").format(path=path, exc=exc),
                hint=_("Delete it to start afresh."),
            ) from exc
        key = secrets.token_bytes(32)
        _write_private(path, key.hex())
        return key

    def _load(self) -> dict[str, str]:
        if self._state is None:
            path = self.dir / STATE_FILE
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self._state = (
                    {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
                )
            except FileNotFoundError:
                self._state = {}
            except (OSError, ValueError):
                self._state = {}  # a damaged throttle file only costs restraint, never data
        return self._state

    def _write(self, state: dict[str, str]) -> None:
        _write_private(self.dir / STATE_FILE, json.dumps(state, sort_keys=True))


def _write_private(path: Path, text: str) -> None:
    """Write a 0600 file atomically (temp file, fsync, rename) in a private directory."""
    from unbinder.fsio import replace_atomically

    private_dir(path.parent)
    replace_atomically(path, text.encode("utf-8"))
