"""The key file: passphrases, the real KDF profile, edited costs, passwd and crashes during it."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from trail_helpers import PASSPHRASE, build_trail

from unbinder import fsio
from unbinder.errors import AuthError, ExitCode, StorageError
from unbinder.trail import Trail, change_passphrase, kdf


def _key(directory: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((directory / "key.json").read_text())


def _edit_kdf(directory: Path, **changes: int) -> None:
    doc = _key(directory)
    doc["slots"][0]["kdf"].update(changes)
    (directory / "key.json").write_text(json.dumps(doc))


def test_wrong_passphrase_is_an_auth_error_with_exit_code_6(trail_dir: Path) -> None:
    build_trail(trail_dir, 3).close()
    with pytest.raises(AuthError) as info:
        Trail.open(trail_dir, "not the passphrase")
    assert info.value.exit_code == ExitCode.AUTH == 6
    assert "wrong passphrase" in str(info.value)
    assert "\n" not in str(info.value)


def test_the_real_profile_is_argon2id_64_mib_calibrated_and_bound(
    trail_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(kdf.TEST_ENV)
    Trail.create(trail_dir, PASSPHRASE).close()
    params = _key(trail_dir)["slots"][0]["kdf"]
    assert params["alg"] == "argon2id"
    assert params["memory_kib"] == 64 * 1024
    assert kdf.ARGON2_MIN_PASSES <= params["passes"] <= kdf.ARGON2_MAX_PASSES
    with Trail.open(trail_dir, PASSPHRASE) as trail:
        assert trail.head()[0] == 0
    with pytest.raises(AuthError, match="wrong passphrase"):
        Trail.open(trail_dir, PASSPHRASE + "!")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"memory_kib": 1024}, "below the minimum"),
        ({"passes": 1}, "below the minimum"),
        ({"memory_kib": 4 * 1024 * 1024}, "above the maximum"),
        ({"passes": 1000}, "above the maximum"),
    ],
)
def test_a_key_file_edited_to_change_the_kdf_cost_is_rejected(
    trail_dir: Path, monkeypatch: pytest.MonkeyPatch, changes: dict[str, int], message: str
) -> None:
    # Made with the cheap profile, read with the real floor: a lowered cost as an attacker
    # would leave it. The bounds are checked before any derivation runs.
    build_trail(trail_dir, 3).close()
    _edit_kdf(trail_dir, memory_kib=64 * 1024, passes=3)
    _edit_kdf(trail_dir, **changes)
    monkeypatch.delenv(kdf.TEST_ENV)
    with pytest.raises(AuthError, match=message) as info:
        Trail.open(trail_dir, PASSPHRASE)
    assert info.value.exit_code == 6


def test_kdf_parameters_are_bound_to_the_wrapped_key(trail_dir: Path) -> None:
    build_trail(trail_dir, 3).close()
    _edit_kdf(trail_dir, passes=2)  # within bounds, but not what the key was wrapped with
    with pytest.raises(AuthError, match="wrong passphrase"):
        Trail.open(trail_dir, PASSPHRASE)


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: text.replace('"argon2id"', '"md5"'),
        lambda text: text.replace('"slots"', '"slotz"'),
        lambda text: "",
    ],
)
def test_a_damaged_key_file_is_an_auth_error(trail_dir: Path, damage: object) -> None:
    build_trail(trail_dir, 3).close()
    path = trail_dir / "key.json"
    path.write_text(damage(path.read_text()))  # type: ignore[operator]
    with pytest.raises(AuthError, match="damaged"):
        Trail.open(trail_dir, PASSPHRASE)


def test_a_missing_key_file_is_an_auth_error(trail_dir: Path) -> None:
    build_trail(trail_dir, 3).close()
    (trail_dir / "key.json").unlink()
    with pytest.raises(AuthError, match="missing"):
        Trail.open(trail_dir, PASSPHRASE)


def test_passwd_rewrites_only_the_key_file(trail_dir: Path) -> None:
    with build_trail(trail_dir, 20) as trail, trail.start_run("audit", None) as run:
        run.blob(b"evidence")
    before = {p: p.read_bytes() for p in trail_dir.rglob("*") if p.is_file()}
    change_passphrase(trail_dir, PASSPHRASE, "a new passphrase")
    after = {p: p.read_bytes() for p in trail_dir.rglob("*") if p.is_file()}
    assert set(after) == set(before)
    changed = [p.name for p in before if before[p] != after[p]]
    assert changed == ["key.json"]
    with pytest.raises(AuthError):
        Trail.open(trail_dir, PASSPHRASE)
    with Trail.open(trail_dir, "a new passphrase") as trail:
        assert trail.verify().status == "ok"


def test_passwd_with_the_wrong_old_passphrase_changes_nothing(trail_dir: Path) -> None:
    build_trail(trail_dir, 3).close()
    before = (trail_dir / "key.json").read_bytes()
    with pytest.raises(AuthError):
        change_passphrase(trail_dir, "wrong", "new one")
    assert (trail_dir / "key.json").read_bytes() == before


def test_a_failure_between_temp_write_and_rename_leaves_the_old_key_file(
    trail_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_trail(trail_dir, 3).close()
    before = (trail_dir / "key.json").read_bytes()

    def crash(src: Path, dst: Path) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(fsio, "_rename", crash)
    with pytest.raises(StorageError):
        change_passphrase(trail_dir, PASSPHRASE, "new one")
    assert (trail_dir / "key.json").read_bytes() == before
    assert sorted(p.name for p in trail_dir.iterdir()) == ["blobs", "key.json", "trail.log"]
    Trail.open(trail_dir, PASSPHRASE, anchor=None).close()  # renames still fail here


_PASSWD_LOOP = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from unbinder.trail import change_passphrase
    directory, a, b = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    print("ready", flush=True)
    while True:
        change_passphrase(directory, a, b)
        a, b = b, a
    """
)


def test_kill_9_during_passwd_always_leaves_a_usable_key_file(trail_dir: Path) -> None:
    build_trail(trail_dir, 5).close()
    log_before = (trail_dir / "trail.log").read_bytes()
    other = "the other passphrase"
    rng = random.Random(5)
    seen = {(trail_dir / "key.json").read_bytes()}
    env = {**os.environ, kdf.TEST_ENV: "1"}
    for _ in range(12):
        try:
            Trail.unlock(trail_dir, PASSPHRASE)
            current, after = PASSPHRASE, other
        except AuthError:
            current, after = other, PASSPHRASE
        child = subprocess.Popen(
            [sys.executable, "-c", _PASSWD_LOOP, str(trail_dir), current, after],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert child.stdout is not None
        with child.stdout:
            assert child.stdout.readline().strip() == b"ready"
            try:
                child.wait(timeout=rng.uniform(0.0, 0.05))
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
                child.wait()
        assert child.returncode == -signal.SIGKILL  # killed mid-loop, not failed
        usable = []
        for candidate in (PASSPHRASE, other):
            try:
                Trail.open(trail_dir, candidate).close()
                usable.append(candidate)
            except AuthError:
                pass
        assert len(usable) == 1
        seen.add((trail_dir / "key.json").read_bytes())
    assert len(seen) > 1  # the loop really rewrote the key file between kills
    assert (trail_dir / "trail.log").read_bytes() == log_before
