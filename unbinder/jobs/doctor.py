"""Health checks behind `unbinder doctor`: one line per check, one fix per problem."""

from __future__ import annotations

import asyncio
import platform
import sys
from dataclasses import dataclass

from unbinder.paths import Paths, describe_permissions


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _browser_checks() -> list[Check]:
    from unbinder.browser.launch import find_browser
    from unbinder.errors import NoBrowser

    try:
        info = find_browser()
    except NoBrowser as exc:
        return [Check("browser", False, exc.message, exc.hint or "")]
    version = info.version() or "version unknown"
    checks = [Check("browser", True, f"{info.path} ({info.source}; {version})")]
    try:
        asyncio.run(_launch_once(info))
        checks.append(Check("browser launch", True, "starts headless and renders a page"))
    except NoBrowser as exc:
        checks.append(Check("browser launch", False, exc.message, exc.hint or ""))
    return checks


async def _launch_once(info: object) -> None:
    from playwright.async_api import async_playwright

    from unbinder.browser.launch import BrowserInfo, launch

    assert isinstance(info, BrowserInfo)
    async with async_playwright() as pw:
        browser = await launch(pw, info=info)
        try:
            page = await browser.new_page()
            await page.set_content("<p id=ok>ok</p>")
            await page.locator("#ok").wait_for()
        finally:
            await browser.close()


def _data_dir_check() -> Check:
    paths = Paths.from_env()
    if not paths.home.exists():
        return Check("data directory", True, f"{paths.home} (will be created, mode 700)")
    problem = describe_permissions(paths.home)
    if problem:
        return Check("data directory", False, problem, "")
    return Check("data directory", True, f"{paths.home} (private, writable)")


def _recipe_checks() -> list[Check]:
    from unbinder.recipe.load import load_all_report

    loaded, failures = load_all_report()
    checks = [
        Check("recipes", not failures, f"{len(loaded)} load, {len(failures)} fail validation")
    ]
    for path, message in failures:
        checks.append(
            Check(f"recipe {path.name}", False, message, f"run: unbinder recipes lint {path}")
        )
    return checks


def run_checks() -> list[Check]:
    """Every check, in the order the report shows them."""
    import playwright

    pw_version = getattr(playwright, "__version__", None)
    if pw_version is None:
        from importlib.metadata import version

        pw_version = version("playwright")
    checks = [
        Check(
            "python",
            sys.version_info >= (3, 10),
            f"{platform.python_version()} ({sys.executable})",
            "unbinder needs Python 3.10 or newer",
        ),
        Check("playwright", True, str(pw_version)),
    ]
    checks += _browser_checks()
    checks.append(_data_dir_check())
    checks += _recipe_checks()
    return checks
