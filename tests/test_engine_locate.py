"""Selector resolution on a real Chromium: which alternative wins, and when a run is degraded."""

from __future__ import annotations

from typing import Any

import pytest

from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.engine import locate
from unbinder.recipe.model import Alternative

PAGE = '<p id="bound" data-testid="bound-phone" hidden>138****8000</p>'


def test_an_element_shown_mid_lookup_is_found_by_its_primary_alternative(
    unbinder_browser: BrowserThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page shows the element right after the primary alternative was counted (a page that
    # renders the answer of a request does exactly that): the fallback must not win, or every
    # such run would be reported as degraded.
    selectors = {"bound": [Alternative(testid="bound-phone"), Alternative(css="#bound")]}
    real_count = locate._count

    async def scenario(session: Any) -> tuple[int | None, list[str]]:
        guarded = await session.open_context(["tp.test"])
        try:
            page = await guarded.context.new_page()
            await page.set_content(PAGE)
            shown = False

            async def count_then_show(locator: Any) -> int:
                nonlocal shown
                result = await real_count(locator)
                if not shown:
                    shown = True
                    await page.evaluate("document.getElementById('bound').hidden = false")
                return result

            monkeypatch.setattr(locate, "_count", count_then_show)
            finder = locate.Locate(selectors, lambda: page)
            found = await finder.now("bound")
            return (found.index if found else None), finder.degraded()
        finally:
            await guarded.close()

    index, warnings = unbinder_browser.run(scenario)
    assert index == 0
    assert warnings == []
