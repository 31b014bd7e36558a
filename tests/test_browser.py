"""Browser discovery and launch, with the real Chromium."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from unbinder.browser.launch import find_browser, launch
from unbinder.errors import ExitCode, NoBrowser


def test_env_override_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "my-chrome"
    fake.write_text("#!/bin/sh\necho 'Chromium 1.2.3'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("UNBINDER_BROWSER", str(fake))
    info = find_browser()
    assert info.path == fake
    assert info.source == "UNBINDER_BROWSER"
    assert info.version() == "Chromium 1.2.3"


def test_env_override_that_is_not_executable_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNBINDER_BROWSER", str(tmp_path / "missing"))
    with pytest.raises(NoBrowser) as info:
        find_browser()
    assert "UNBINDER_BROWSER" in str(info.value)
    assert info.value.exit_code == ExitCode.NO_BROWSER


def test_nothing_found_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("UNBINDER_BROWSER", raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "none"))
    monkeypatch.setattr("unbinder.browser.launch.shutil.which", lambda name: None)
    monkeypatch.setattr("unbinder.browser.launch._APP_PATHS", ())
    with pytest.raises(NoBrowser) as info:
        find_browser()
    assert "apt-get install chromium" in str(info.value)
    assert "UNBINDER_BROWSER" in str(info.value)


def test_launches_found_chromium_and_reads_a_local_page(tmp_path: Path) -> None:
    page_file = tmp_path / "hello.html"
    page_file.write_text("<title>t</title><p id=msg>你好, local page</p>", encoding="utf-8")

    async def read() -> str:
        from playwright.async_api import async_playwright

        async with async_playwright() as pw:
            browser = await launch(pw)
            try:
                page = await browser.new_page()
                await page.goto(page_file.as_uri())
                return await page.locator("#msg").inner_text()
            finally:
                await browser.close()

    assert asyncio.run(read()) == "你好, local page"


def test_broken_executable_gives_no_browser_error(tmp_path: Path) -> None:
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    from unbinder.browser.launch import BrowserInfo

    async def start() -> None:
        from playwright.async_api import async_playwright

        async with async_playwright() as pw:
            await launch(pw, info=BrowserInfo(fake, "test"))

    with pytest.raises(NoBrowser) as info:
        asyncio.run(start())
    assert "did not start" in str(info.value)
    assert os.fspath(fake) in str(info.value)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], list(children.get(root, []))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_our_disabled_features_keep_playwrights() -> None:
    """Chromium keeps only the last --disable-features switch; ours comes after Playwright's, so it
    must name every feature Playwright disables (a Playwright upgrade may add some)."""

    async def browser_command_line() -> list[str]:
        from playwright.async_api import async_playwright

        async with async_playwright() as pw:
            browser = await launch(pw)
            try:
                for pid in _descendants(os.getpid()):
                    try:
                        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                    except OSError:
                        continue
                    args = [a.decode() for a in argv]
                    if "--remote-debugging-pipe" in args:
                        return args
                return []
            finally:
                await browser.close()

    args = asyncio.run(browser_command_line())
    switches = [a.split("=", 1)[1].split(",") for a in args if a.startswith("--disable-features=")]
    assert len(switches) >= 2, args  # Playwright's, then ours
    effective, earlier = set(switches[-1]), {f for s in switches[:-1] for f in s}
    lost = sorted(earlier - effective)
    assert not lost, f"add to PLAYWRIGHT_DISABLED_FEATURES in unbinder/browser/launch.py: {lost}"
    assert "SpareRendererForSitePerProcess" in effective
