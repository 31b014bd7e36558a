"""Passphrase -> key-encryption key, with parameters that an edited key file cannot bend.

Argon2id (RFC 9106, 64 MiB) is the default; scrypt is the fallback for `cryptography` builds
without Argon2. The cost is calibrated once at init (about half a second on the machine), stored
in the key file, and on every read checked against a floor and a ceiling: a lowered cost would
make a stolen key file cheaper to attack, an inflated one would make opening hang or run out of
memory. The parameters are also bound into the wrapping's associated data (see keyfile.py).

`UNBINDER_TEST_FAST_KDF=1` selects a cheap profile and lowers the floor. It exists for the test
suite only, which would otherwise spend most of its time deriving keys.
"""

from __future__ import annotations

import base64
import os
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from unbinder.errors import AuthError
from unbinder.i18n.translate import _

TEST_ENV = "UNBINDER_TEST_FAST_KDF"
TARGET_SECONDS = 0.5
KEY_LENGTH = 32
SALT_LENGTH = 16

ARGON2 = "argon2id"
SCRYPT = "scrypt"

# Argon2id: RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes) is the floor;
# calibration only adds passes.
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_LANES = 4
ARGON2_MIN_PASSES = 3
ARGON2_MAX_PASSES = 32
ARGON2_MAX_MEMORY_KIB = 256 * 1024
ARGON2_MAX_WORK = ARGON2_MEMORY_KIB * ARGON2_MAX_PASSES  # KiB x passes, bounds time and memory
ARGON2_MAX_LANES = 8

# scrypt: r = 8, and N between 32 MiB and 1 GiB of memory.
SCRYPT_R = 8
SCRYPT_MIN_LOG_N = 15
SCRYPT_MAX_LOG_N = 20
SCRYPT_MAX_P = 4

# The test profile: still real Argon2id / scrypt, just cheap.
_TEST_ARGON2 = {"memory_kib": 64, "passes": 1, "lanes": 1}  # ~0.1 ms
_TEST_SCRYPT_LOG_N = 4


@dataclass(frozen=True)
class KdfParams:
    """One key derivation's algorithm, salt and cost, as stored in a key slot."""

    alg: str
    salt: bytes
    memory_kib: int = 0  # argon2id
    passes: int = 0  # argon2id
    lanes: int = 0  # argon2id
    log_n: int = 0  # scrypt: N = 2**log_n
    r: int = 0  # scrypt
    p: int = 0  # scrypt

    def to_json(self) -> dict[str, Any]:
        salt = base64.b64encode(self.salt).decode()
        if self.alg == ARGON2:
            return {
                "alg": ARGON2,
                "salt": salt,
                "memory_kib": self.memory_kib,
                "passes": self.passes,
                "lanes": self.lanes,
            }
        return {"alg": SCRYPT, "salt": salt, "log_n": self.log_n, "r": self.r, "p": self.p}

    @classmethod
    def from_json(cls, data: object) -> KdfParams:
        """Parse a slot's `kdf` object; AuthError when it is malformed."""
        if not isinstance(data, dict):
            raise _damaged(_("the key derivation parameters are missing"))
        alg = data.get("alg")
        try:
            salt = base64.b64decode(str(data.get("salt", "")), validate=True)
        except ValueError:
            raise _damaged(_("the salt is not base64")) from None
        if len(salt) != SALT_LENGTH:
            raise _damaged(_("the salt has the wrong length"))
        names = ("memory_kib", "passes", "lanes") if alg == ARGON2 else ("log_n", "r", "p")
        if alg not in (ARGON2, SCRYPT):
            raise _damaged(_("unknown key derivation {alg!r}").format(alg=alg))
        if set(data) != {"alg", "salt", *names}:
            raise _damaged(_("the key derivation parameters have unexpected fields"))
        ints: dict[str, int] = {}
        for name in names:
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise _damaged(
                    _("the key derivation parameter {name} is not an integer").format(name=name)
                )
            ints[name] = value
        if alg == ARGON2:
            return cls(
                ARGON2,
                salt,
                memory_kib=ints["memory_kib"],
                passes=ints["passes"],
                lanes=ints["lanes"],
            )
        return cls(SCRYPT, salt, log_n=ints["log_n"], r=ints["r"], p=ints["p"])

    def describe(self) -> str:
        if self.alg == ARGON2:
            memory = (
                f"{self.memory_kib // 1024} MiB"
                if self.memory_kib % 1024 == 0
                else f"{self.memory_kib} KiB"
            )
            return f"argon2id, {memory}, {self.passes} passes, {self.lanes} lanes"
        return f"scrypt, N=2^{self.log_n}, r={self.r}, p={self.p}"


def test_profile() -> bool:
    """Is the cheap profile for the test suite selected?"""
    return os.environ.get(TEST_ENV) == "1"


def argon2_available() -> bool:
    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        Argon2id(salt=b"\0" * SALT_LENGTH, length=KEY_LENGTH, iterations=1, lanes=1, memory_cost=8)
    except Exception:  # ImportError (cryptography < 44) or UnsupportedAlgorithm (this build)
        return False
    return True


def calibrate(target: float = TARGET_SECONDS) -> KdfParams:
    """Fresh parameters (new salt) costing about `target` seconds here, never below the floor."""
    salt = os.urandom(SALT_LENGTH)
    use_argon2 = argon2_available()
    if test_profile():
        if use_argon2:
            return KdfParams(ARGON2, salt, **_TEST_ARGON2)
        return KdfParams(SCRYPT, salt, log_n=_TEST_SCRYPT_LOG_N, r=SCRYPT_R, p=1)
    if use_argon2:

        def cost(passes: int) -> KdfParams:
            return KdfParams(
                ARGON2, salt, memory_kib=ARGON2_MEMORY_KIB, passes=passes, lanes=ARGON2_LANES
            )

        # time = setup + passes x per-pass (lanes run in threads). The first call also pays
        # for warming up, so it is not measured; the fastest of a few runs is the one least
        # disturbed by other work on the machine.
        _time(cost(1))
        one = min(_time(cost(1)) for _attempt in range(3))
        five = min(_time(cost(5)) for _attempt in range(2))
        per_pass = max((five - one) / 4, 1e-4)
        passes = round((target - (one - per_pass)) / per_pass)
        return cost(min(max(passes, ARGON2_MIN_PASSES), ARGON2_MAX_PASSES))
    log_n = SCRYPT_MIN_LOG_N
    elapsed = _time(KdfParams(SCRYPT, salt, log_n=log_n, r=SCRYPT_R, p=1))
    # Each step doubles the time; stop at the step closest to the target.
    while log_n < SCRYPT_MAX_LOG_N and elapsed * 1.5 < target:
        log_n += 1
        elapsed *= 2
    return KdfParams(SCRYPT, salt, log_n=log_n, r=SCRYPT_R, p=1)


def check_bounds(params: KdfParams) -> None:
    """Reject parameters outside [floor, ceiling] before spending any time on them."""
    fast = test_profile()
    if params.alg == ARGON2:
        min_memory = _TEST_ARGON2["memory_kib"] if fast else ARGON2_MEMORY_KIB
        min_passes = _TEST_ARGON2["passes"] if fast else ARGON2_MIN_PASSES
        if params.memory_kib < min_memory or params.passes < min_passes:
            raise _weakened(
                _(
                    "argon2id memory {memory_kib} KiB / {passes} passes, minimum "
                    "{min_memory} KiB / {min_passes} passes"
                ).format(
                    memory_kib=params.memory_kib,
                    passes=params.passes,
                    min_memory=min_memory,
                    min_passes=min_passes,
                )
            )
        if not 1 <= params.lanes <= ARGON2_MAX_LANES or params.memory_kib < 8 * params.lanes:
            raise _damaged(_("argon2id lanes {lanes} are out of range").format(lanes=params.lanes))
        if (
            params.memory_kib > ARGON2_MAX_MEMORY_KIB
            or params.passes > ARGON2_MAX_PASSES
            or params.memory_kib * params.passes > ARGON2_MAX_WORK
        ):
            raise _inflated(
                _("argon2id memory {memory_kib} KiB x {passes} passes").format(
                    memory_kib=params.memory_kib, passes=params.passes
                )
            )
        return
    if params.alg == SCRYPT:
        min_log_n = _TEST_SCRYPT_LOG_N if fast else SCRYPT_MIN_LOG_N
        if params.log_n < min_log_n or params.r < SCRYPT_R:
            raise _weakened(
                _("scrypt N=2^{log_n}, r={r}, minimum N=2^{min_log_n}, r={SCRYPT_R}").format(
                    log_n=params.log_n, r=params.r, min_log_n=min_log_n, SCRYPT_R=SCRYPT_R
                )
            )
        if (
            params.log_n > SCRYPT_MAX_LOG_N
            or params.r > SCRYPT_R
            or not 1 <= params.p <= SCRYPT_MAX_P
        ):
            raise _inflated(
                _("scrypt N=2^{log_n}, r={r}, p={p}").format(
                    log_n=params.log_n, r=params.r, p=params.p
                )
            )
        return
    raise _damaged(_("unknown key derivation {alg!r}").format(alg=params.alg))


def derive(passphrase: str, params: KdfParams) -> bytes:
    """The 256-bit key-encryption key for `passphrase` (checked parameters only)."""
    check_bounds(params)
    return _derive(normalize_passphrase(passphrase), params)


def _derive(secret: bytes, params: KdfParams) -> bytes:
    if params.alg == ARGON2:
        try:
            from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

            kdf = Argon2id(
                salt=params.salt,
                length=KEY_LENGTH,
                iterations=params.passes,
                lanes=params.lanes,
                memory_cost=params.memory_kib,
            )
        except Exception:
            raise AuthError(
                _(
                    "this trail's key file needs Argon2id, which this installation's "
                    "`cryptography` lacks."
                ),
                hint=_("Install cryptography 44 or newer (pip install -U cryptography)."),
            ) from None
        return kdf.derive(secret)
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(
        salt=params.salt, length=KEY_LENGTH, n=2**params.log_n, r=params.r, p=params.p
    ).derive(secret)


def normalize_passphrase(passphrase: str) -> bytes:
    """NFC, so the same passphrase typed through different input methods gives the same key."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _time(params: KdfParams) -> float:
    start = time.perf_counter()
    _derive(b"calibration", params)
    return time.perf_counter() - start


def _damaged(what: str) -> AuthError:
    return AuthError(
        _("the trail's key file is damaged ({what}).").format(what=what),
        hint=_("Restore key.json from a backup; without it the trail cannot be read."),
    )


def _weakened(what: str) -> AuthError:
    return AuthError(
        _(
            "the trail's key file asks for a key derivation below the minimum cost ({what}); "
            "it was edited to weaken it."
        ).format(what=what),
        hint=_("Restore key.json from a backup and keep the edited file as evidence."),
    )


def _inflated(what: str) -> AuthError:
    return AuthError(
        _(
            "the trail's key file asks for a key derivation above the maximum cost ({what}); "
            "it was edited or is damaged."
        ).format(what=what),
        hint=_("Restore key.json from a backup."),
    )
