"""Trail benchmark: append throughput with fsync, verify time for 100k records, kill -9 harness.

    python -m bench.trail_bench [--quick]

Writes bench/results/trail.json (not with --quick) and prints a short table. `main()` returns
the same dict (bench/__main__.py calls it). Everything runs in a temporary directory on the
file system of the system temp dir, with the real (calibrated) key derivation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cryptography

from unbinder import __version__
from unbinder.trail import Trail
from unbinder.trail import trail as trail_module

RESULTS = Path(__file__).resolve().parent / "results" / "trail.json"
PASSPHRASE = "bench passphrase"
FINDING = {
    "status": "bound",
    "kind": "text",
    "evidence": [{"rule": "registered", "text": "该手机号已注册", "url": "https://example.test/"}],
    "timings": {"total_ms": 1834, "detect_ms": 212},
}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": model or platform.processor(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "unbinder": __version__,
        # Other work on the machine slows the KDF and fsync figures: record how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def bench_kdf(base: Path) -> dict[str, Any]:
    start = time.perf_counter()
    Trail.create(base / "kdf", PASSPHRASE).close()
    create = time.perf_counter() - start
    unlocks, wrong = [], []
    for _ in range(3):
        start = time.perf_counter()
        Trail.unlock(base / "kdf", PASSPHRASE)
        unlocks.append(time.perf_counter() - start)
        start = time.perf_counter()
        try:
            Trail.unlock(base / "kdf", "wrong")
        except Exception:
            wrong.append(time.perf_counter() - start)
    params = json.loads((base / "kdf" / "key.json").read_text())["slots"][0]["kdf"]
    params.pop("salt")
    return {
        "params": params,
        "create_s": round(create, 3),
        "unlock_s_median": round(statistics.median(unlocks), 3),
        "wrong_passphrase_s_median": round(statistics.median(wrong), 3),
    }


def bench_append(base: Path, *, runs: int, records: int) -> dict[str, Any]:
    rates = []
    for i in range(runs):
        with Trail.create(base / f"append-{i}", PASSPHRASE) as trail:
            run = trail.start_run("audit", None)
            start = time.perf_counter()
            for _ in range(records):
                run.finding("demo-shop", FINDING)
            rates.append(records / (time.perf_counter() - start))
    return {
        "records_per_run": records,
        "runs": runs,
        "records_per_s": [round(r) for r in rates],
        "records_per_s_median": round(statistics.median(rates)),
        "fsync": "fdatasync per record" if hasattr(os, "fdatasync") else "fsync per record",
    }


def bench_verify(base: Path, *, records: int, repeats: int) -> dict[str, Any]:
    directory = base / "verify"
    real_sync = trail_module._datasync
    # Building 100k records is not what is measured: skip their fsyncs to save time.
    trail_module._datasync = lambda fd: None
    try:
        with Trail.create(directory, PASSPHRASE) as trail:
            count = 1
            while count < records:
                run = trail.start_run("audit", None)
                count += 1
                for _ in range(min(48, records - count - 1)):
                    run.finding("demo-shop", FINDING)
                    count += 1
                run.seal()
                count += 1
    finally:
        trail_module._datasync = real_sync
    master = Trail.unlock(directory, PASSPHRASE)
    opens, verifies, cpu = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        trail = Trail.open_unlocked(directory, master)
        opens.append(time.perf_counter() - start)
        start, start_cpu = time.perf_counter(), time.process_time()
        report = trail.verify()
        verifies.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        trail.close()
        assert report.status == "ok", report.problems[:3]
    return {
        "records": report.records,
        "log_bytes": (directory / "trail.log").stat().st_size,
        "verify_s": [round(v, 3) for v in verifies],
        "verify_s_median": round(statistics.median(verifies), 3),
        # CPU time is what a busy machine does not inflate.
        "verify_cpu_s_median": round(statistics.median(cpu), 3),
        "open_s_median": round(statistics.median(opens), 3),
        "goal_s": 3.0,
    }


def bench_crash(base: Path, *, kills: int) -> dict[str, Any]:
    # The harness forks: run it in a process of its own.
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "unbinder.trail.crashcheck",
            "--kills",
            str(kills),
            "--seed",
            "2024",
            "--dir",
            str(base / "crash"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report: dict[str, Any] = json.loads(completed.stdout)
    report["corrupted_trails"] = report["corrupted"]
    report["seconds"] = round(report["seconds"], 1)
    return report


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="Trail benchmark")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv if argv is not None else [])
    quick = args.quick
    with tempfile.TemporaryDirectory(prefix="unbinder-bench-trail-") as tmp:
        base = Path(tmp)
        results = {
            "machine": machine(),
            "kdf": bench_kdf(base),
            "append": bench_append(base, runs=3 if quick else 5, records=200 if quick else 2000),
            "verify": bench_verify(base, records=5_000 if quick else 100_000, repeats=3),
            "crash": bench_crash(base, kills=50 if quick else 1000),
        }
    if not quick:  # a smoke run does not replace the recorded figures
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    _print_table(results, written=not quick)
    return results


def _print_table(r: dict[str, Any], *, written: bool) -> None:
    m, k, a, v, c = r["machine"], r["kdf"], r["append"], r["verify"], r["crash"]
    rows = [
        (
            "machine",
            f"{m['cpus']} CPUs, {m['cpu']}, Python {m['python']}, load {m['load_average_1m']}",
        ),
        ("kdf", f"{k['params']}; unlock {k['unlock_s_median']} s"),
        ("wrong passphrase", f"{k['wrong_passphrase_s_median']} s"),
        ("append (fsync)", f"{a['records_per_s_median']} records/s (median of {a['runs']})"),
        (
            f"verify {v['records']:,} records",
            f"{v['verify_s_median']} s (CPU {v['verify_cpu_s_median']} s; goal < {v['goal_s']} s); "
            f"open {v['open_s_median']} s",
        ),
        (
            f"kill -9 x {c['kills']}",
            f"{c['corrupted']} corrupted, {c['lost']} acknowledged lost, "
            f"{c['acked']} acknowledged, {c['torn_tails']} torn tails cut, {c['seconds']} s",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print("Trail benchmark")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if written:
        print(f"Results: {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
