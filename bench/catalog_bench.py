"""Start-up time of the catalog commands (goal: `unbinder recipes list` under 0.5 s).

Each command runs as a fresh process, as a user types it; the median of several runs is kept,
both wall time and CPU time (user + system of the child: what the command costs, even on a
machine busy with other work). For comparison, the same recipes loaded through the pydantic
models (what `list` avoids).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 15
UNBINDER = [sys.executable, "-m", "unbinder"]
COMMANDS = {
    "unbinder --help": [*UNBINDER, "--help"],
    "unbinder recipes list": [*UNBINDER, "recipes", "list"],
    "unbinder recipes list --json": [*UNBINDER, "recipes", "list", "--json"],
    "unbinder recipes show google": [*UNBINDER, "recipes", "show", "google"],
    "unbinder plan +86 138 0013 8000": [*UNBINDER, "plan", "+86", "138", "0013", "8000"],
    # What `recipes list` would cost if it validated every recipe through the models.
    "CLI + validate every recipe (pydantic)": [
        sys.executable,
        "-c",
        "import unbinder.cli.app; from unbinder.recipe.load import load_all; load_all()",
    ],
}


def _median(argv: list[str]) -> tuple[float, float]:
    """Median (wall seconds, CPU seconds) of RUNS runs."""
    walls, cpus = [], []
    env = {**os.environ, "LANG": "C.UTF-8"}
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=False, capture_output=True, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    from unbinder.recipe.catalog import load_catalog

    count = len(load_catalog().entries)
    results = {name: _median(argv) for name, argv in COMMANDS.items()}
    print("  wall     cpu")
    for name, (wall, cpu) in results.items():
        print(f"{wall:6.3f} s {cpu:6.3f} s  {name}")
    load = os.getloadavg()[0]
    print(f"({count} recipes, median of {RUNS} runs, load average {load:.1f})")
    out = Path(__file__).parent / "results" / "catalog.json"
    doc = {
        "recipes": count,
        "runs": RUNS,
        "median_wall_seconds": {k: round(v[0], 3) for k, v in results.items()},
        "median_cpu_seconds": {k: round(v[1], 3) for k, v in results.items()},
        "load_average": round(load, 2),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
