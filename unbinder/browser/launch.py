"""Find a Chromium on this machine and launch it through Playwright.

Discovery order (the Makefile's set-up uses the same order, through
`python -m unbinder.browser.launch`):
1. `UNBINDER_BROWSER` (a path to a Chromium or Chrome executable),
2. Playwright's own downloaded Chromium (`PLAYWRIGHT_BROWSERS_PATH` or its default cache),
3. the system's Chromium or Chrome (`chromium`, `chromium-browser`, `google-chrome`, app bundles).
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from unbinder.errors import NoBrowser

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Playwright

    from unbinder.browser.guard import DomainGuard

# Playwright disables Chromium features with one --disable-features switch, and Chromium keeps only
# the last such switch: ours must repeat Playwright's list (1.65) to add to it.
# tests/test_browser.py checks on the real command line that none of Playwright's is lost.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
DISABLED_FEATURES = (
    *PLAYWRIGHT_DISABLED_FEATURES,
    "Translate",
    "AutofillServerCommunication",
    # Chromium starts a spare renderer ahead of the next navigation. With a fresh context per
    # check it is started for a context that never uses it: half of all renderer launches in an
    # audit (docs/performance.md).
    "SpareRendererForSitePerProcess",
)

# Quiet, offline-friendly flags: no background traffic to Google, no first-run UI.
BASE_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-features=" + ",".join(DISABLED_FEATURES),
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--password-store=basic",
    # WebRTC sends STUN/TURN over UDP straight to any host a page names, around the guard's
    # proxy (promise 1). This policy keeps WebRTC on proxied connections, which the guard refuses.
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
]

INSTALL_HINT = (
    "Install Chromium (Debian/Ubuntu: sudo apt-get install chromium; macOS: brew install --cask "
    "chromium; or: .venv/bin/playwright install chromium), or set UNBINDER_BROWSER to the path "
    "of a Chromium or Chrome executable."
)

_SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_APP_PATHS = (
    "/usr/bin/chromium",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
)


@dataclass(frozen=True)
class BrowserInfo:
    """A Chromium executable and where we found it."""

    path: Path
    source: str  # "UNBINDER_BROWSER", "playwright", "system"

    def version(self) -> str | None:
        """Ask the executable for its version (None if it does not answer)."""
        try:
            out = subprocess.run(
                [str(self.path), "--version"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        text = out.stdout.strip().splitlines()
        return text[0] if text else None


def _playwright_cache() -> Path:
    override = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if override and override != "0":
        return Path(override)
    system = platform.system()
    if system == "Darwin":
        return Path.home() / "Library" / "Caches" / "ms-playwright"
    if system == "Windows":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "ms-playwright"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ms-playwright"


def _playwright_candidates() -> Iterator[Path]:
    cache = _playwright_cache()
    if not cache.is_dir():
        return
    relative = (
        "chrome-linux/chrome",
        "chrome-linux64/chrome",
        "chrome-mac/Chromium.app/Contents/MacOS/Chromium",
        "chrome-mac-arm64/Chromium.app/Contents/MacOS/Chromium",
        "chrome-win/chrome.exe",
        "chrome-win64/chrome.exe",
    )
    # Newest revision first.
    for build in sorted(cache.glob("chromium-*"), reverse=True):
        for rel in relative:
            yield build / rel


def candidates() -> Iterator[BrowserInfo]:
    """Every place a browser may be, in discovery order (existing or not)."""
    env = os.environ.get("UNBINDER_BROWSER")
    if env:
        yield BrowserInfo(Path(env).expanduser(), "UNBINDER_BROWSER")
    for path in _playwright_candidates():
        yield BrowserInfo(path, "playwright")
    for name in _SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            yield BrowserInfo(Path(found), "system")
    for app in _APP_PATHS:
        yield BrowserInfo(Path(app), "system")


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_browser() -> BrowserInfo:
    """The first usable browser in discovery order, or NoBrowser with what to install."""
    env = os.environ.get("UNBINDER_BROWSER")
    if env and not _usable(Path(env).expanduser()):
        raise NoBrowser(
            f"UNBINDER_BROWSER points to {env}, which is not an executable file.",
            hint="Fix the path or unset UNBINDER_BROWSER.",
        )
    for info in candidates():
        if _usable(info.path):
            return info
    raise NoBrowser("no Chromium or Chrome was found on this machine.", hint=INSTALL_HINT)


def launch_args(*, headless: bool) -> list[str]:
    """Chromium flags for our launches."""
    args = list(BASE_ARGS)
    # Chromium refuses its sandbox as root (CI, containers); a normal user keeps it.
    if (hasattr(os, "geteuid") and os.geteuid() == 0) or os.environ.get("UNBINDER_NO_SANDBOX"):
        args.append("--no-sandbox")
    if not headless:
        args.append("--start-maximized")
    return args


async def launch(
    pw: Playwright, *, headless: bool = True, info: BrowserInfo | None = None
) -> Browser:
    """Launch the found Chromium. Raise NoBrowser with a fix when it does not start."""
    from playwright.async_api import Error as PlaywrightError

    info = info or find_browser()
    try:
        return await pw.chromium.launch(
            executable_path=str(info.path),
            headless=headless,
            args=launch_args(headless=headless),
            handle_sigint=False,
        )
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = INSTALL_HINT
        if not headless and not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
            hint = (
                "A visible browser needs a display: run it in a desktop session (DISPLAY is unset)."
            )
        raise NoBrowser(f"the browser at {info.path} did not start: {first}", hint=hint) from exc


def _main(argv: list[str]) -> int:
    """`python -m unbinder.browser.launch`: print the browser found, for the Makefile's set-up."""
    try:
        info = find_browser()
    except NoBrowser as exc:
        print(f"unbinder: {exc}", file=sys.stderr)
        return 3
    if "--quiet" not in argv:
        print(f"{info.path} ({info.source})")
    return 0


class BrowserSession:
    """One Playwright, one browser, one blackhole proxy; guarded contexts on demand.

    Use as `async with BrowserSession() as session:`. Every context it opens is isolated (its own
    cookies and storage) and can reach only its recipe's domains (see unbinder/browser/guard.py).
    """

    def __init__(self, *, headless: bool = True, info: BrowserInfo | None = None) -> None:
        from unbinder.browser.guard import Blackhole

        self.headless = headless
        self.info = info
        self.blackhole = Blackhole()
        self._pw_manager: object | None = None
        self._pw: Playwright | None = None
        self.browser: Browser | None = None

    async def __aenter__(self) -> BrowserSession:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        from playwright.async_api import async_playwright

        info = self.info or find_browser()  # fail fast, before anything starts
        await self.blackhole.start()
        manager = async_playwright()
        self._pw_manager = manager
        self._pw = await manager.start()
        try:
            self.browser = await launch(self._pw, headless=self.headless, info=info)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        from playwright.async_api import Error as PlaywrightError

        if self.browser is not None:
            with contextlib.suppress(PlaywrightError):
                await self.browser.close()
            self.browser = None
        if self._pw is not None:
            await self._pw.stop()
            self._pw = None
        await self.blackhole.close()

    async def open_context(
        self,
        domains: tuple[str, ...] | list[str],
        *,
        serve: object | None = None,
        locale: str = "en-US",
        storage_state: dict[str, object] | None = None,
    ) -> GuardedContext:
        """A fresh context that may reach only `domains`; `serve` answers requests offline."""
        from unbinder.browser.guard import DomainGuard, install_route_guard

        if self.browser is None:
            raise RuntimeError("BrowserSession.open_context before start()")
        guard = DomainGuard(tuple(domains), fixture_mode=serve is not None)
        self.blackhole.attach(guard)
        context = await self.browser.new_context(
            proxy=guard.proxy_settings(self.blackhole.server_url),  # type: ignore[arg-type]
            service_workers="block",
            locale=locale,
            timezone_id="Asia/Shanghai" if locale.startswith("zh") else "UTC",
            viewport={"width": 1280, "height": 800},
            accept_downloads=False,
            storage_state=storage_state,  # type: ignore[arg-type]
        )
        await install_route_guard(context, guard, serve)  # type: ignore[arg-type]
        return GuardedContext(self, context, guard)


@dataclass
class GuardedContext:
    """A browser context with the guard that watches it."""

    session: BrowserSession
    context: BrowserContext
    guard: DomainGuard

    async def close(self) -> None:
        from playwright.async_api import Error as PlaywrightError

        self.session.blackhole.detach(self.guard)
        with contextlib.suppress(PlaywrightError):
            await self.context.close()


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
