"""CLI start-up: `unbinder --help` (goal under 0.3 s) and `unbinder recipes list` (under 0.5 s).

    python -m bench.startup_bench [--runs N]

Each command runs as a fresh process, the way a person types it (the venv's `unbinder` script),
after warm-up runs so that Python's bytecode caches exist (as after a pip install; this runs
without PYTHONDONTWRITEBYTECODE). With hyperfine installed it does the timing (`-N`, no shell);
otherwise a subprocess loop measures the same: wall time per run, and the CPU time (user +
system) of the children, which a busy machine does not inflate. The 1-minute load average is
recorded with the figures. `python -X importtime` then says where the import time goes: the
slowest modules (least of several runs) and the total per top-level package.

Writes bench/results/startup.json and prints a short table. `main()` is what `make bench` runs.
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
from collections import Counter
from pathlib import Path
from typing import Any

from bench.trail_bench import machine

RESULTS = Path(__file__).resolve().parent / "results" / "startup.json"
UNBINDER = str(Path(sys.executable).with_name("unbinder"))
GOALS = {"unbinder --help": 0.3, "unbinder recipes list": 0.5}
COMMANDS = {
    "unbinder --help": [UNBINDER, "--help"],
    "unbinder recipes list": [UNBINDER, "recipes", "list"],
    # References: the interpreter alone, and the version flag (the group, no command's help).
    "python -c pass": [sys.executable, "-c", "pass"],
    "unbinder --version": [UNBINDER, "--version"],
}
WARMUP = 3
IMPORT_RUNS = 5


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"LANG": "C.UTF-8", "UNBINDER_HOME": str(home), "COLUMNS": "100"})
    return env


def _load() -> float:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else -1.0


def _with_hyperfine(argv: list[str], runs: int, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [
                "hyperfine",
                "-N",
                "--warmup",
                str(WARMUP),
                "--runs",
                str(runs),
                "--export-json",
                out.name,
                "--",
                " ".join(argv),
            ],
            env=env,
            capture_output=True,
            check=True,
        )
        result = json.loads(Path(out.name).read_text())["results"][0]
    times = result["times"]
    return {
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "mean_s": round(result["mean"], 4),
        "stddev_s": round(result["stddev"] or 0.0, 4),
        "cpu_s": round(result["user"] + result["system"], 4),
        "tool": "hyperfine",
    }


def _with_loop(argv: list[str], runs: int, env: dict[str, str]) -> dict[str, Any]:
    for _ in range(WARMUP):
        subprocess.run(argv, env=env, capture_output=True, check=False)
    times: list[float] = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "mean_s": round(statistics.fmean(times), 4),
        "stddev_s": round(statistics.stdev(times), 4) if len(times) > 1 else 0.0,
        "cpu_s": round(cpu / runs, 4),
        "tool": "subprocess loop",
    }


def _imports(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Where import time goes: least self time of several runs, per module and per package."""
    best: dict[str, int] = {}
    for _ in range(IMPORT_RUNS):
        # `unbinder` is a Python script: run it with the interpreter and its -X option.
        err = subprocess.run(
            [sys.executable, "-X", "importtime", *argv],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        ).stderr
        for line in err.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _cumulative, name = line.split(":", 1)[1].split("|")
            module = name.strip()
            best[module] = min(best.get(module, 1 << 40), int(self_us))
    packages: Counter[str] = Counter()
    for module, us in best.items():
        packages[module.split(".")[0]] += us
    slowest = sorted(best.items(), key=lambda item: item[1], reverse=True)[:10]
    return {
        "modules": len(best),
        "total_ms": round(sum(best.values()) / 1000, 1),
        "by_package_ms": {p: round(us / 1000, 1) for p, us in packages.most_common(8)},
        "slowest_ms": {m: round(us / 1000, 1) for m, us in slowest},
    }


def run(runs: int) -> dict[str, Any]:
    hyperfine = shutil.which("hyperfine") is not None
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ub-bench-") as tmp:
        env = _env(Path(tmp) / "home")
        load_before = _load()
        for name, argv in COMMANDS.items():
            timing = _with_hyperfine(argv, runs, env) if hyperfine else _with_loop(argv, runs, env)
            results[name] = {**timing, "load": _load()}
            if name in GOALS:
                results[name]["goal_s"] = GOALS[name]
                results[name]["goal_met"] = timing["median_s"] <= GOALS[name]
                results[name]["imports"] = _imports(argv, env)
    return {
        "runs": runs,
        "load_before": load_before,
        "commands": results,
        "machine": machine(),
        "taken_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def table(doc: dict[str, Any]) -> list[str]:
    lines = [
        f"{'command':<24} {'median':>8} {'min':>8} {'CPU':>8}  {'goal':>6}  load",
    ]
    for name, r in doc["commands"].items():
        goal = ""
        if "goal_s" in r:
            goal = f"{r['goal_s']:.1f} " + ("ok" if r["goal_met"] else "MISSED")
        lines.append(
            f"{name:<24} {r['median_s']:>7.3f}s {r['min_s']:>7.3f}s {r['cpu_s']:>7.3f}s  "
            f"{goal:>6}  {r['load']}"
        )
    tool = next(iter(doc["commands"].values()))["tool"]
    lines.append(f"({doc['runs']} runs each with {tool}; CPU = user + system per run)")
    for name, r in doc["commands"].items():
        if "imports" in r:
            packages = list(r["imports"]["by_package_ms"].items())[:5]
            top = ", ".join(f"{p} {ms}" for p, ms in packages)
            lines.append(f"imports of `{name}`: {r['imports']['total_ms']} ms ({top})")
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv or [])
    doc = run(args.runs)
    for line in table(doc):
        print(line)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return doc


if __name__ == "__main__":
    main(sys.argv[1:])
