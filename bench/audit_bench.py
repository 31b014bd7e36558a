"""Audit throughput: unbinder's audit against a naive sequential Playwright script, same run.

30 generated replica platforms, each a 4-step flow (fill, click, wait for the answer, screenshot),
with a latency on every request (and a small render delay), served offline by the same replica
backend for every contender. The naive baseline launches a new browser per platform, one after the
other; a plain pooled script (one browser, a fresh context per platform, 4 at a time, no guard or
detect race) shows the floor for isolated checks. unbinder runs one browser and a bounded pool of fresh, isolated contexts (concurrency 1, 2,
4, 8). We report median wall time over several runs, per-platform time, the speed-up against the
baseline, and the peak memory of all browser processes together.

    python -m bench audit            # full run (a few minutes)
    python -m bench.audit_bench --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.trail_bench import machine
from unbinder.browser.launch import BrowserSession, find_browser, launch_args
from unbinder.browser.replica import Replica
from unbinder.jobs.audit import AuditOptions, run_audit
from unbinder.phone import parse_phone
from unbinder.recipe.load import LoadedRecipe, load_recipe_file

if TYPE_CHECKING:
    from playwright.async_api import Page

RESULTS = Path(__file__).parent / "results"
PHONE = "+86 138 0013 8000"
RENDER_DELAY_MS = 50

RECIPE = """\
id: {id}
name: {{en: Bench {n}, zh-CN: 基准 {n}}}
regions: [CN]
homepage: https://www.{id}.test/
domains: [{id}.test]
selectors:
  phone: [{{role: textbox, name: 手机号}}, {{placeholder: 请输入手机号}}]
  go: [{{role: button, name: 下一步}}]
flows:
  check:
    steps:
      - goto: https://www.{id}.test/
      - fill: {{target: phone, value: "{{phone.national_digits}}"}}
      - click: go
    detect:
      - when: {{text: 该手机号已注册}}
        outcome: bound
        evidence: registered
      - when: {{text: 该手机号未注册}}
        outcome: not_bound
        evidence: not registered
"""

REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
  - url: https://www.{id}.test/api/check
    method: POST
    action: lookup
    phone: mobile
    respond:
      found: {{json: {{exists: true}}}}
      missing: {{json: {{exists: false}}}}
scenarios:
  default:
    accounts: [{{phone: "{phone}"}}]
    latency_ms: {latency}
"""

PAGE = """\
<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>基准 {n}</title>
<style>body{{font:15px sans-serif;max-width:420px;margin:40px auto}}input{{width:100%;padding:8px}}</style></head>
<body><h1>找回密码</h1><label for="m">手机号</label><input id="m" placeholder="请输入手机号">
<button type="button">下一步</button><p id="out" role="status"></p>
<script>
document.querySelector('button').onclick = async () => {{
  const r = await fetch('/api/check', {{method: 'POST', headers: {{'content-type': 'application/json'}},
    body: JSON.stringify({{mobile: document.getElementById('m').value}})}});
  const b = await r.json();
  setTimeout(() => {{ document.getElementById('out').textContent = b.exists ? '该手机号已注册' : '该手机号未注册'; }}, {delay});
}};
</script></body></html>
"""


def generate(root: Path, count: int, latency: int) -> list[LoadedRecipe]:
    """Write `count` platforms (recipes/ + fixtures/) under `root`; half have the number."""
    recipes, fixtures = root / "recipes", root / "fixtures"
    recipes.mkdir(parents=True, exist_ok=True)
    loaded = []
    for n in range(count):
        pid = f"bench-{n:02d}"
        folder = fixtures / pid
        folder.mkdir(parents=True, exist_ok=True)
        phone = PHONE if n % 2 == 0 else "+86 139 0013 9000"
        (folder / "replica.yaml").write_text(
            REPLICA.format(id=pid, phone=phone, latency=latency), "utf-8"
        )
        (folder / "index.html").write_text(PAGE.format(n=n, delay=RENDER_DELAY_MS), "utf-8")
        path = recipes / f"{pid}.yaml"
        path.write_text(RECIPE.format(id=pid, n=n), "utf-8")
        loaded.append(load_recipe_file(path))
    return loaded


# --------------------------------------------------------------------------- contenders


async def plain_check(page: Page, loaded: LoadedRecipe, fixtures: Path) -> None:
    """The four steps as a plain script writes them, against the platform's replica."""
    replica = Replica.load(loaded.id, "default", fixtures)
    await page.route("**/*", replica.serve)
    await page.goto(f"https://www.{loaded.id}.test/")
    await page.get_by_placeholder("请输入手机号").fill("13800138000")
    await page.get_by_role("button", name="下一步").click()
    await page.get_by_text("该手机号").wait_for()
    await page.screenshot()


async def naive(recipes: list[LoadedRecipe], fixtures: Path) -> None:
    """What a plain script does: a new browser per platform, one platform after the other."""
    from playwright.async_api import async_playwright

    info = find_browser()
    async with async_playwright() as pw:
        for loaded in recipes:
            browser = await pw.chromium.launch(
                executable_path=str(info.path), args=launch_args(headless=True)
            )
            await plain_check(await browser.new_page(), loaded, fixtures)
            await browser.close()


async def pooled(recipes: list[LoadedRecipe], fixtures: Path, concurrency: int = 4) -> None:
    """A plain pooled script: one browser, a fresh context per platform, `concurrency` at a time.
    No guard, no evidence beyond the screenshot, no detect race: the floor for isolated checks."""
    from playwright.async_api import async_playwright

    info = find_browser()
    gate = asyncio.Semaphore(concurrency)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(info.path), args=launch_args(headless=True)
        )

        async def one(loaded: LoadedRecipe) -> None:
            async with gate:
                context = await browser.new_context()
                await plain_check(await context.new_page(), loaded, fixtures)
                await context.close()

        await asyncio.gather(*(one(loaded) for loaded in recipes))
        await browser.close()


async def unbinder_audit(recipes: list[LoadedRecipe], fixtures: Path, concurrency: int) -> None:
    phone = parse_phone(PHONE)
    async with BrowserSession() as session:
        result = await run_audit(
            session,
            recipes,
            phone,
            options=AuditOptions(concurrency=concurrency),
            replicas=lambda loaded: Replica.load(loaded.id, "default", fixtures),
        )
    wrong = [r.id for r in result.results if r.status not in ("bound", "not_bound")]
    if wrong:
        raise RuntimeError(f"benchmark platforms did not reach a verdict: {wrong}")


# --------------------------------------------------------------------------- measuring


class BrowserMemory:
    """Peak resident memory of every process below this one (the browsers), sampled."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> BrowserMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _descendants_rss(os.getpid()))
            self._stop.wait(0.1)


def _descendants_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(stat[1]), []).append(pid)
        rss[pid] = int(statm[1]) * page
    total, stack = 0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def measure(make: Callable[[], Awaitable[None]], runs: int) -> dict[str, Any]:
    times, peaks = [], []
    for _ in range(runs):
        with BrowserMemory() as memory:
            began = time.perf_counter()
            asyncio.run(make())  # type: ignore[arg-type]
            times.append(time.perf_counter() - began)
        peaks.append(memory.peak)
    return {
        "median_s": round(statistics.median(times), 3),
        "runs_s": [round(t, 3) for t in times],
        "peak_browser_rss_mib": round(max(peaks) / 2**20, 1),
    }


def compare(count: int, latency: int, runs: int) -> list[dict[str, Any]]:
    """The naive script and unbinder at each concurrency, on freshly generated platforms."""
    with tempfile.TemporaryDirectory(prefix="ub-bench-") as tmp:
        root = Path(tmp)
        recipes = generate(root, count, latency)
        fixtures = root / "fixtures"
        base = measure(lambda: naive(recipes, fixtures), runs)
        rows = [
            {
                "contender": "naive: new browser per platform, sequential",
                "latency_ms": latency,
                **base,
            }
        ]
        rows.append(
            {
                "contender": "plain pooled script, fresh context each, 4 at once",
                "latency_ms": latency,
                **measure(lambda: pooled(recipes, fixtures), runs),
            }
        )
        for concurrency in (1, 2, 4, 8):

            def audit(c: int = concurrency) -> Awaitable[None]:
                return unbinder_audit(recipes, fixtures, c)

            rows.append(
                {
                    "contender": f"unbinder audit, concurrency {concurrency}",
                    "latency_ms": latency,
                    **measure(audit, runs),
                }
            )
    for row in rows:
        row["per_platform_s"] = round(row["median_s"] / count, 3)
        row["speedup_vs_naive"] = round(base["median_s"] / row["median_s"], 2)
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench.audit_bench")
    parser.add_argument("--quick", action="store_true", help="fewer runs and platforms")
    parser.add_argument("--platforms", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=int, default=400, help="ms on every request")
    args = parser.parse_args(argv if argv is not None else [])
    count = 10 if args.quick else args.platforms
    runs = 1 if args.quick else args.runs
    report: dict[str, Any] = {
        "benchmark": "audit",
        "machine": machine(),
        "platforms": count,
        "flow": "goto, fill, click, wait for the answer, screenshot",
        "render_delay_ms": RENDER_DELAY_MS,
        "runs_per_config": runs,
        "configs": [],
    }
    for latency in (args.latency, 0):
        report["configs"] += compare(count, latency, runs)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "audit.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    _print_table(report)
    return report


def _print_table(report: dict[str, Any]) -> None:
    print(
        f"audit throughput, {report['platforms']} platforms, medians of {report['runs_per_config']} runs"
    )
    print(
        f"{'contender':54} {'latency':>8} {'median s':>9} {'s/platf':>8} {'speed-up':>9} {'peak MiB':>9}"
    )
    for row in report["configs"]:
        print(
            f"{row['contender']:54} {row['latency_ms']:>6}ms {row['median_s']:>9.2f} "
            f"{row['per_platform_s']:>8.3f} {row['speedup_vs_naive']:>8.2f}x {row['peak_browser_rss_mib']:>9.0f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
