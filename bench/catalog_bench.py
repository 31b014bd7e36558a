"""Start-up time of the catalog commands (goal: `unbinder recipes list` under 0.5 s).

Each command runs as a fresh process, as a user types it; the median of several runs is kept.
For comparison, the same recipes loaded through the pydantic models (what `list` avoids).
"""

from __future__ import annotations

import json
import os
import platform
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
    "validate every recipe (pydantic)": [
        sys.executable,
        "-c",
        "from unbinder.recipe import load_all; load_all()",
    ],
}


def _median(argv: list[str]) -> float:
    times = []
    env = {**os.environ, "LANG": "C.UTF-8"}
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, check=False, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    from unbinder.catalog import load_catalog

    count = len(load_catalog().entries)
    results = {name: round(_median(argv), 3) for name, argv in COMMANDS.items()}
    for name, seconds in results.items():
        print(f"{seconds:6.3f} s  {name}")
    print(f"({count} recipes, median of {RUNS} runs)")
    out = Path(__file__).parent / "results" / "catalog.json"
    doc = {
        "recipes": count,
        "runs": RUNS,
        "median_seconds": results,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
