"""Browser discovery and launch, with the real Chromium."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from unbinder import paths
from unbinder.browser.launch import BrowserInfo, Host, find_browser, install_hint, launch
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


def test_nothing_found_says_what_to_install(tmp_path: Path) -> None:
    host = Host("Linux", {"PATH": "/usr/bin:/bin"}, "/home/ann", root=tmp_path)
    with pytest.raises(NoBrowser) as info:
        find_browser(host)
    assert "apt-get install chromium" in str(info.value)
    assert "UNBINDER_BROWSER" in str(info.value)
    assert "playwright install chromium" in str(info.value)


# --------------------------------------------------------------------------- each system's places
# Discovery runs each system's logic on a fake file tree (`Host(root=...)`): the paths are the
# ones that system's installers use, the files are empty stand-ins.


def _put(root: Path, *paths: str, executable: bool = True) -> list[Path]:
    """Stand-in executables at these paths of the fake system (Windows drives become folders)."""
    made = []
    for text in paths:
        path = Host("Windows" if ":" in text[:3] else "Linux", {}, "", root=root).path(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("stand-in")
        path.chmod(0o755 if executable else 0o644)
        made.append(path)
    return made


def _order(host: Host, paths: list[Path]) -> list[tuple[str, str]]:
    """What discovery finds as each found browser is taken away in turn: (path, source)."""
    root = host.root
    assert root is not None
    found = []
    for _ in paths:
        info = find_browser(host)
        found.append(("/" + info.path.relative_to(root).as_posix(), info.source))
        info.path.unlink()
    with pytest.raises(NoBrowser):
        find_browser(host)
    return found


WINDOWS_ENV = {
    "PATH": r"C:\Windows\system32;C:\Tools",
    "ProgramFiles": r"C:\Program Files",
    "ProgramFiles(x86)": r"C:\Program Files (x86)",
    "LOCALAPPDATA": r"C:\Users\ann\AppData\Local",
}


def test_windows_order_playwright_path_program_files_per_user_registry(tmp_path: Path) -> None:
    made = _put(
        tmp_path,
        r"C:\Users\ann\AppData\Local\ms-playwright\chromium-999\chrome-win64\chrome.exe",
        r"C:\Users\ann\AppData\Local\ms-playwright\chromium-1200\chrome-win64\chrome.exe",
        r"C:\Tools\msedge.exe",
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
        r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
        r"C:\Users\ann\AppData\Local\Google\Chrome\Application\chrome.exe",
        r"D:\Portable\Chrome\chrome.exe",
        executable=False,  # Windows has no executable bit
    )
    registry = {"chrome.exe": [r"D:\Portable\Chrome\chrome.exe"]}
    host = Host(
        "Windows",
        WINDOWS_ENV,
        r"C:\Users\ann",
        root=tmp_path,
        app_paths=lambda name: registry.get(name, []),
    )
    assert _order(host, made) == [
        (
            "/C/Users/ann/AppData/Local/ms-playwright/chromium-1200/chrome-win64/chrome.exe",
            "playwright",
        ),
        (
            "/C/Users/ann/AppData/Local/ms-playwright/chromium-999/chrome-win64/chrome.exe",
            "playwright",
        ),
        ("/C/Tools/msedge.exe", "PATH"),
        ("/C/Program Files/Google/Chrome/Application/chrome.exe", "system"),
        ("/C/Program Files (x86)/Microsoft/Edge/Application/msedge.exe", "system"),
        ("/C/Users/ann/AppData/Local/Google/Chrome/Application/chrome.exe", "system"),
        ("/D/Portable/Chrome/chrome.exe", "registry"),
    ]


def test_windows_finds_edge_alone_and_a_per_user_chrome_alone(tmp_path: Path) -> None:
    host = Host("Windows", WINDOWS_ENV, r"C:\Users\ann", root=tmp_path, app_paths=lambda _: [])
    (edge,) = _put(tmp_path, r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe")
    assert find_browser(host).path == edge
    edge.unlink()
    (chrome,) = _put(tmp_path, r"C:\Users\ann\AppData\Local\Google\Chrome\Application\chrome.exe")
    assert find_browser(host).path == chrome
    assert "Microsoft Edge" in install_hint(host)


def test_windows_defaults_when_the_environment_names_no_folders(tmp_path: Path) -> None:
    host = Host("Windows", {}, r"C:\Users\bo", root=tmp_path, app_paths=lambda _: [])
    (chrome,) = _put(tmp_path, r"C:\Users\bo\AppData\Local\Google\Chrome\Application\chrome.exe")
    assert find_browser(host).path == chrome


def test_macos_order_applications_then_the_users_applications(tmp_path: Path) -> None:
    cache = "/Users/ann/Library/Caches/ms-playwright/chromium-1200/chrome-mac-arm64"
    made = _put(
        tmp_path,
        f"{cache}/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
        "/opt/homebrew/bin/chromium",
        "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
        "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
        "/Users/ann/Applications/Chromium.app/Contents/MacOS/Chromium",
        "/Users/ann/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    )
    host = Host("Darwin", {"PATH": "/usr/bin:/opt/homebrew/bin"}, "/Users/ann", root=tmp_path)
    assert [source for _, source in _order(host, made)] == [
        "playwright",
        "PATH",
        "system",
        "system",
        "system",
        "system",
    ]


def test_macos_finds_a_chrome_in_the_users_applications_only(tmp_path: Path) -> None:
    host = Host("Darwin", {"PATH": "/usr/bin"}, "/Users/ann", root=tmp_path)
    (chrome,) = _put(
        tmp_path, "/Users/ann/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
    )
    _put(tmp_path, "/Applications/Chromium.app/Contents/MacOS/Chromium", executable=False)
    info = find_browser(host)
    assert info.path == chrome  # the other one cannot be run
    assert "/Applications or ~/Applications" in install_hint(host)


def test_linux_order_path_then_chrome_edge_snap_flatpak(tmp_path: Path) -> None:
    made = _put(
        tmp_path,
        "/home/ann/.cache/ms-playwright/chromium-1200/chrome-linux64/chrome",
        "/usr/local/bin/microsoft-edge",
        "/opt/google/chrome/chrome",
        "/opt/microsoft/msedge/msedge",
        "/snap/bin/chromium",
        "/var/lib/flatpak/exports/bin/org.chromium.Chromium",
        "/home/ann/.local/share/flatpak/exports/bin/org.chromium.Chromium",
    )
    host = Host("Linux", {"PATH": "relative/bin:/usr/local/bin"}, "/home/ann", root=tmp_path)
    assert _order(host, made) == [
        ("/home/ann/.cache/ms-playwright/chromium-1200/chrome-linux64/chrome", "playwright"),
        ("/usr/local/bin/microsoft-edge", "PATH"),
        ("/opt/google/chrome/chrome", "system"),
        ("/opt/microsoft/msedge/msedge", "system"),
        ("/snap/bin/chromium", "system"),
        ("/var/lib/flatpak/exports/bin/org.chromium.Chromium", "system"),
        ("/home/ann/.local/share/flatpak/exports/bin/org.chromium.Chromium", "system"),
    ]


def test_linux_playwright_cache_follows_its_variables(tmp_path: Path) -> None:
    (xdg,) = _put(tmp_path, "/xdg/ms-playwright/chromium-1100/chrome-linux/chrome")
    host = Host("Linux", {"XDG_CACHE_HOME": "/xdg"}, "/home/ann", root=tmp_path)
    assert find_browser(host).path == xdg
    (own,) = _put(tmp_path, "/srv/browsers/chromium-1000/chrome-linux64/chrome")
    moved = Host("Linux", {"PLAYWRIGHT_BROWSERS_PATH": "/srv/browsers"}, "/home/ann", root=tmp_path)
    assert find_browser(moved).path == own
    assert find_browser(moved).source == "playwright"


def test_unbinder_browser_comes_first(tmp_path: Path) -> None:
    _put(tmp_path, "/usr/bin/chromium")
    (mine,) = _put(tmp_path, "/mine/chrome")
    host = Host("Linux", {"UNBINDER_BROWSER": str(mine), "PATH": "/usr/bin"}, "/h", root=tmp_path)
    assert find_browser(host) == BrowserInfo(mine, "UNBINDER_BROWSER")


# --------------------------------------------------------------------------- the hint's command


def _script(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    return script


def test_the_hint_names_playwright_as_this_installation_runs_it(tmp_path: Path) -> None:
    # A pipx install: only `unbinder` is on PATH, the environment's playwright is not.
    pipx_bin = tmp_path / "home" / ".local" / "share" / "pipx" / "venvs" / "unbinder" / "bin"
    _script(pipx_bin, "playwright")
    exposed = _script(tmp_path / "home" / ".local" / "bin", "unbinder")
    env = {"PATH": str(exposed.parent), "HOME": str(tmp_path / "home")}
    shown = paths.playwright_install(environ=env, cwd=tmp_path / "work", scripts=pipx_bin)
    assert shown == "~/.local/share/pipx/venvs/unbinder/bin/playwright install chromium"
    assert ".venv/bin" not in shown
    # The checkout's venv, seen from the checkout (make demo): the relative path.
    venv_bin = _script(tmp_path / "checkout" / ".venv" / "bin", "playwright").parent
    shown = paths.playwright_install(environ=env, cwd=tmp_path / "checkout", scripts=venv_bin)
    assert shown == ".venv/bin/playwright install chromium"
    # An activated environment: its bin is on PATH, so the bare command works.
    on_path = {**env, "PATH": f"{venv_bin}:{env['PATH']}"}
    shown = paths.playwright_install(environ=on_path, cwd=tmp_path, scripts=venv_bin)
    assert shown == "playwright install chromium"
    # No script at all (python -m): the interpreter runs the module.
    shown = paths.playwright_install(environ=env, cwd=tmp_path, scripts=tmp_path / "none")
    assert shown.endswith(" -m playwright install chromium")


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
