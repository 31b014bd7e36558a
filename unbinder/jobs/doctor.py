"""Health checks behind `unbinder doctor`: one line per check, one fix per problem."""

from __future__ import annotations

import asyncio
import platform
import sys
from dataclasses import dataclass

from unbinder.i18n.translate import N_, _, id_words
from unbinder.paths import (
    Paths,
    describe_permissions,
    has_file_modes,
    install_kind,
    recipe_sources,
    repair_hint,
)


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
    version = info.version() or _("version unknown")
    checks = [Check("browser", True, f"{info.path} ({info.source}; {version})")]
    try:
        asyncio.run(_launch_once(info))
        checks.append(Check("browser launch", True, _("starts headless and renders a page")))
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
    # Windows has no 0700: the folder in the user's profile is private through its access list.
    private = _("mode 700") if has_file_modes() else _("in your user profile")
    if not paths.home.exists():
        return Check(
            "data directory",
            True,
            _("{home} (will be created, {private})").format(home=paths.home, private=private),
        )
    problem = describe_permissions(paths.home)
    if problem:
        return Check("data directory", False, problem, "")
    return Check("data directory", True, _("{home} (private, writable)").format(home=paths.home))


def _install_check() -> Check:
    kind = id_words(install_kind(), INSTALL_KINDS)
    return Check("installed as", True, f"{kind} ({sys.prefix})")


# How this copy was installed (paths.install_kind), as a person reads it in another language.
INSTALL_KINDS = {
    "checkout": N_("a source checkout"),
    "virtualenv": N_("a virtual environment"),
    "system": N_("the system's Python"),
}


def _recipe_checks() -> list[Check]:
    from unbinder.recipe.load import load_all_report

    sources = recipe_sources()
    loaded, failures = load_all_report()
    where = f"{sources.shipped}"
    if sources.user is not None:
        where += f" and UNBINDER_RECIPES={sources.user}"
    if not loaded:
        fix = repair_hint()
        if sources.user is None:
            fix += " " + _("(or point UNBINDER_RECIPES at a folder of your own recipes)")
        return [Check("recipes", False, _("no recipe loads from {where}").format(where=where), fix)]
    checks = [
        Check(
            "recipes",
            not failures,
            _("{loaded} load, {failed} fail validation (from {where})").format(
                loaded=len(loaded), failed=len(failures), where=where
            ),
        )
    ]
    for yours, shipped in sources.overridden:
        checks.append(
            Check(
                f"recipe {yours.stem}",
                True,
                _("yours ({yours}) is used instead of {shipped}").format(
                    yours=yours, shipped=shipped
                ),
            )
        )
    for path, message in failures:
        checks.append(
            Check(
                f"recipe {path.name}",
                False,
                message,
                _("run: unbinder recipes lint {path}").format(path=path),
            )
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
            _("unbinder needs Python 3.10 or newer"),
        ),
        Check("playwright", True, str(pw_version)),
        _install_check(),
    ]
    checks += _browser_checks()
    checks.append(_data_dir_check())
    checks += _recipe_checks()
    return checks
