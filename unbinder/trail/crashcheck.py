"""Kill -9 a process appending to a trail, many times, and check that nothing acknowledged is lost.

    python -m unbinder.trail.crashcheck --kills 200 [--dir DIR] [--seed N]

Each round forks a child that opens the trail and appends records in a loop (findings of
random sizes, blobs, run starts and seals), reporting each sequence number on a pipe only
after the append returned (the record is on disk). The parent kills it with SIGKILL at a random
moment, then reopens the trail and checks: it opens (no tampering), every acknowledged record
is there, at most one record beyond the last acknowledged one survived, at most one partial
record was cut off. The tests run it at 200 kills, the benchmark at 1000.

This forks, so it runs in its own single-threaded process (the tests start it as a
subprocess). One trail is created (one KDF run) and a fresh copy of it is used every `--rotate`
kills, to keep each round's reopen short.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import struct
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from unbinder.errors import UnbinderError
from unbinder.trail.keys import MasterKey
from unbinder.trail.trail import Trail

_ACK = struct.Struct(">Q")
PASSPHRASE = "crash-check"  # noqa: S105 (a throwaway trail made for this check)


@dataclass
class CrashReport:
    kills: int = 0
    acked: int = 0  # acknowledged records over all rounds
    rounds_appending: int = 0  # rounds killed after at least one acknowledged append
    lost: int = 0  # acknowledged records missing after a kill (must be 0)
    extra: int = 0  # rounds where the one unacknowledged record in flight survived
    too_many_extra: int = 0  # rounds where more than one unacknowledged record survived
    torn_tails: int = 0  # rounds where a partial record was cut off at reopen
    multi_torn: int = 0  # rounds where more than one partial record was cut (must be 0)
    corrupted: int = 0  # rounds where the trail did not open or verify (must be 0)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.too_many_extra or self.multi_torn or self.corrupted)


def run(
    base: Path, kills: int, *, seed: int = 0, rotate: int = 25, max_delay: float = 0.02
) -> CrashReport:
    """`kills` rounds of fork, append, SIGKILL, reopen and check, in trails under `base`."""
    rng = random.Random(seed)
    report = CrashReport()
    start = time.perf_counter()
    # One real trail (one KDF run), copied fresh every `rotate` kills.
    template = base / "template"
    with Trail.create(template, PASSPHRASE, anchor=None) as created:  # never a real anchor
        created.start_run("crash-check", None).seal()
    master = Trail.unlock(template, PASSPHRASE)
    directory = template
    for round_no in range(kills):
        if round_no % rotate == 0:
            directory = base / f"trail-{round_no // rotate:04d}"
            shutil.copytree(template, directory)
        _one_round(directory, master, rng, max_delay, report)
    report.seconds = time.perf_counter() - start
    return report


def _one_round(
    directory: Path, master: MasterKey, rng: random.Random, max_delay: float, report: CrashReport
) -> None:
    seed = rng.getrandbits(32)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: append until killed
        os.close(read_end)
        try:
            _append_forever(directory, master, write_end, seed)
        finally:
            os._exit(1)
    os.close(write_end)
    # Every other round waits until the child acknowledged its run start, so that many kills
    # land amid appends however slow the machine is; the others may land while it opens.
    early = b""
    if rng.random() < 0.5:
        early = os.read(read_end, _ACK.size)
    time.sleep(rng.uniform(0, max_delay))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    acked = _read_acks(read_end, early)
    report.kills += 1
    report.acked += len(acked)
    report.rounds_appending += len(acked) > 0
    check_round(directory, master, acked, report)


def check_round(directory: Path, master: MasterKey, acked: list[int], report: CrashReport) -> None:
    """Reopen after a kill: no tampering, nothing acknowledged lost, at most one more record."""
    where = f"round {report.kills}"
    try:
        with Trail.open_unlocked(directory, master) as reopened:
            torn = len(reopened.cut_tails)
            head, _mac = reopened.head()
            seqs = {r.seq for r in reopened.records()}
            problems = reopened.verify().problems
    except UnbinderError as exc:
        report.corrupted += 1
        report.failures.append(f"{where}: {exc}")
        return
    if problems:
        report.corrupted += 1
        report.failures.append(f"{where}: {problems[0]}")
    missing = [s for s in acked if s not in seqs]
    report.lost += len(missing)
    if missing:
        report.failures.append(f"{where}: acknowledged records {missing[:5]} are missing")
    beyond = head - max(acked, default=head)
    report.extra += beyond == 1
    if beyond > 1:
        report.too_many_extra += 1
        report.failures.append(f"{where}: {beyond} unacknowledged records survived")
    report.torn_tails += torn >= 1
    report.multi_torn += torn > 1


def _append_forever(directory: Path, master: MasterKey, ack: int, seed: int) -> None:
    rng = random.Random(seed)
    with Trail.open_unlocked(directory, master) as trail:
        run = trail.start_run("crash-check", None)
        os.write(ack, _ACK.pack(run.id))
        while True:
            roll = rng.random()
            if roll < 0.05:
                run.seal()
                seq, _mac = trail.head()
                os.write(ack, _ACK.pack(seq))
                run = trail.start_run("crash-check", None)
                seq = run.id
            elif roll < 0.10:
                run.blob(os.urandom(rng.randint(1, 20_000)), name="evidence.bin")
                seq, _mac = trail.head()
            else:
                # Sizes across page boundaries, so a kill can land inside a multi-page write.
                seq = run.finding(
                    "crash",
                    {
                        "status": "bound",
                        "pad": "x" * rng.choice((rng.randint(0, 900), rng.randint(0, 60_000))),
                    },
                )
            os.write(ack, _ACK.pack(seq))


def _read_acks(fd: int, data: bytes = b"") -> list[int]:
    while chunk := os.read(fd, 65536):
        data += chunk
    os.close(fd)
    usable = len(data) - len(data) % _ACK.size
    return [s for (s,) in _ACK.iter_unpack(data[:usable])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rotate", type=int, default=25)
    parser.add_argument("--dir", type=Path, help="where to put the trails (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        report = run(args.dir, args.kills, seed=args.seed, rotate=args.rotate)
    else:
        with tempfile.TemporaryDirectory(prefix="unbinder-crashcheck-") as tmp:
            report = run(Path(tmp), args.kills, seed=args.seed, rotate=args.rotate)
    print(json.dumps(asdict(report) | {"ok": report.ok}))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
