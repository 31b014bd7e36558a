"""`unbinder demo` end to end, as `make demo` runs it (goal: well under a minute on 2 cores).

    python -m bench.demo_bench [--runs N]

Each run is a fresh process with its own temp dir and the real (calibrated) key derivation.
Wall time, the CPU time of the whole process tree (Chromium included) and the load average
are recorded in bench/results/demo.json, with the stage the demo printed last.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.trail_bench import machine

RESULTS = Path(__file__).resolve().parent / "results" / "demo.json"
GOAL_S = 60


def one_run() -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="ub-bench-"))
    env = {**os.environ, "TMPDIR": str(tmp), "LANG": "C.UTF-8", "COLUMNS": "120"}
    for name in ("UNBINDER_TEST_FAST_KDF", "UNBINDER_PASSPHRASE", "UNBINDER_ANCHOR"):
        env.pop(name, None)
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "unbinder", "demo"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
    finally:
        wall = time.perf_counter() - start
        shutil.rmtree(tmp, ignore_errors=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    said = [line for line in done.stdout.splitlines() if line.startswith("Done in")]
    return {
        "ok": done.returncode == 0,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "load_average_1m_before": round(load, 2),
        "demo_says": said[-1] if said else done.stderr.strip().splitlines()[-1:],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="unbinder demo benchmark")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv if argv is not None else [])
    runs = [one_run() for _ in range(args.runs)]
    walls = [r["wall_s"] for r in runs]
    results = {
        "machine": machine(),
        "goal_s": GOAL_S,
        "wall_s_median": round(statistics.median(walls), 2),
        "cpu_s_median": round(statistics.median(r["cpu_s"] for r in runs), 2),
        "runs": runs,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print("Demo benchmark (`unbinder demo`, fresh process, real key derivation)")
    for run in runs:
        print(
            f"  {'ok  ' if run['ok'] else 'FAIL'} {run['wall_s']:6.1f} s wall, "
            f"{run['cpu_s']:5.1f} s CPU, load {run['load_average_1m_before']}"
        )
    print(f"  median {results['wall_s_median']} s wall (goal < {GOAL_S} s); results: {RESULTS}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
