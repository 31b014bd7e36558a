r"""Find a Chromium, Chrome or Edge on this machine and launch it through Playwright.

Discovery order (the Makefile's set-up uses the same order, through
`python -m unbinder.browser.launch`; README, "Supported systems"):
1. `UNBINDER_BROWSER` (a path to a Chromium, Chrome or Edge executable);
2. Playwright's own downloaded Chromium (`PLAYWRIGHT_BROWSERS_PATH`, else its default cache:
   `~/.cache/ms-playwright`, `~/Library/Caches/ms-playwright`, `%LOCALAPPDATA%\ms-playwright`),
   newest revision first;
3. Chromium, Chrome and Edge on PATH (`PATH_NAMES`);
4. the places each system's installers use: Windows: Program Files, Program Files (x86) and the
   per-user `%LOCALAPPDATA%` (Chrome, Edge, Chromium), then the registry's App Paths; macOS:
   `/Applications` and `~/Applications`; Linux: `/usr/bin`, `/opt` (Chrome, Edge), snap and
   flatpak Chromium.
`Host` describes the system looked at, so tests run each system's logic on a fake file tree.
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

from unbinder.errors import NoBrowser
from unbinder.i18n.translate import _

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
    # A recipe's `regex` (selectors, text conditions) runs in the page's JavaScript engine, which
    # backtracks: past V8's backtrack limit it falls back to its linear-time engine, so a pattern
    # such as (a+)+$ cannot freeze a page either (in Python, RE2 matches: recipe/patterns.py).
    "--js-flags=--enable-experimental-regexp-engine-on-excessive-backtracks",
]


@dataclass(frozen=True)
class BrowserInfo:
    """A Chromium executable and where we found it."""

    path: Path
    source: str  # "UNBINDER_BROWSER", "playwright", "PATH", "system" (install places), "registry"

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


# --------------------------------------------------------------------------- discovery

# Executable names looked up on PATH, per system.
PATH_NAMES = {
    "Windows": ("chrome.exe", "msedge.exe", "chromium.exe"),
    "Darwin": ("chromium", "google-chrome", "microsoft-edge"),
    "Linux": (
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
        "chrome",
        "microsoft-edge",
        "microsoft-edge-stable",
    ),
}
# Where each system's installers put a browser (after PATH). `~` is the home folder; on
# Windows each entry is below Program Files, Program Files (x86) and the per-user
# %LOCALAPPDATA%, in that order.
WINDOWS_APPS = (
    r"Google\Chrome\Application\chrome.exe",
    r"Microsoft\Edge\Application\msedge.exe",
    r"Chromium\Application\chrome.exe",
)
MAC_APPS = (
    "Google Chrome.app/Contents/MacOS/Google Chrome",
    "Chromium.app/Contents/MacOS/Chromium",
    "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
)
LINUX_PLACES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
    "/usr/bin/microsoft-edge",
    "/usr/bin/microsoft-edge-stable",
    "/opt/microsoft/msedge/msedge",
    "/snap/bin/chromium",
    "/var/lib/snapd/snap/bin/chromium",
    "/var/lib/flatpak/exports/bin/org.chromium.Chromium",
    "~/.local/share/flatpak/exports/bin/org.chromium.Chromium",
)
# Inside one Playwright download (`<cache>/chromium-<revision>/`), newest layouts first.
PLAYWRIGHT_LAYOUTS = {
    "Windows": ("chrome-win64/chrome.exe", "chrome-win/chrome.exe"),
    "Darwin": (
        "chrome-mac-arm64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
        "chrome-mac-x64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
        "chrome-mac-arm64/Chromium.app/Contents/MacOS/Chromium",
        "chrome-mac/Chromium.app/Contents/MacOS/Chromium",
    ),
    "Linux": ("chrome-linux64/chrome", "chrome-linux-arm64/chrome", "chrome-linux/chrome"),
}
REGISTRY_NAMES = ("chrome.exe", "msedge.exe")


@dataclass(frozen=True)
class Host:
    """The system that discovery looks at: this machine, or (tests) another on a fake file tree.

    `system` is what platform.system() says ("Linux", "Darwin", "Windows"; anything else is
    treated as Linux). With `root`, every absolute path of that system is looked up below it
    (`C:\\Program Files` becomes `<root>/C/Program Files`). `app_paths(name)` answers the
    Windows registry's App Paths for an executable name (winreg, imported only when asked).
    """

    system: str
    environ: Mapping[str, str]
    home: str
    root: Path | None = None
    app_paths: Callable[[str], list[str]] | None = None

    @classmethod
    def current(cls) -> Host:
        return cls(platform.system(), os.environ, str(Path.home()), None, None)

    @property
    def windows(self) -> bool:
        return self.system == "Windows"

    @property
    def local_app_data(self) -> str:
        """Windows' per-user program and cache folder (`%LOCALAPPDATA%`)."""
        return self.environ.get("LOCALAPPDATA") or self.home + r"\AppData\Local"

    @property
    def family(self) -> str:
        return self.system if self.system in ("Windows", "Darwin") else "Linux"

    def path(self, text: str) -> Path:
        """A path of this system, where it is on the file tree we can look at."""
        if text.startswith("~"):
            text = self.home + text[1:]
        if self.root is None:
            return Path(text)
        if self.windows:
            win = PureWindowsPath(text)
            return self.root.joinpath(win.drive.rstrip(":") or "C", *win.parts[1:])
        return self.root.joinpath(*PurePosixPath(text).parts[1:])

    def usable(self, path: Path) -> bool:
        # Windows has no executable bit; a file with the right name is a program there.
        return path.is_file() and (self.windows or os.access(path, os.X_OK))

    def on_path(self, name: str) -> Path | None:
        """`name` in one of PATH's absolute folders (never the current folder)."""
        separator = ";" if self.windows else ":"
        for entry in self.environ.get("PATH", "").split(separator):
            folder = entry.strip().strip('"')
            absolute = PureWindowsPath(folder).is_absolute() if self.windows else folder[:1] == "/"
            if absolute and self.usable(self.path(folder) / name):
                return self.path(folder) / name
        return None

    def registry(self, name: str) -> list[str]:
        if self.app_paths is not None:
            return self.app_paths(name)
        return _registry_app_paths(name) if self.windows and self.root is None else []


def _registry_app_paths(name: str) -> list[str]:
    """The Windows registry's App Paths entry for `name`, per user first, then per machine."""
    import importlib

    winreg: Any = importlib.import_module("winreg")
    found = []
    key_name = rf"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\{name}"
    for hive in (winreg.HKEY_CURRENT_USER, winreg.HKEY_LOCAL_MACHINE):
        try:
            with winreg.OpenKey(hive, key_name) as key:
                value, kind = winreg.QueryValueEx(key, "")
        except OSError:
            continue
        if isinstance(value, str) and value.strip():
            if kind == winreg.REG_EXPAND_SZ:
                value = winreg.ExpandEnvironmentStrings(value)
            found.append(value.strip().strip('"'))
    return found


def _playwright_cache(host: Host) -> Path | None:
    override = host.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if override == "0":  # browsers kept inside the playwright package
        if host.root is not None:
            return None
        import importlib.util

        spec = importlib.util.find_spec("playwright")
        origin = spec.origin if spec else None
        return Path(origin).parent / "driver" / "package" / ".local-browsers" if origin else None
    if override:
        return host.path(override)
    if host.family == "Darwin":
        return host.path("~/Library/Caches/ms-playwright")
    if host.windows:
        return host.path(host.local_app_data) / "ms-playwright"
    cache = host.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return host.path(cache) / "ms-playwright"


def _revision(build: Path) -> int:
    digits = build.name.rpartition("-")[2]
    return int(digits) if digits.isdigit() else -1


def _playwright_candidates(host: Host) -> Iterator[Path]:
    cache = _playwright_cache(host)
    if cache is None or not cache.is_dir():
        return
    for build in sorted(cache.glob("chromium-*"), key=_revision, reverse=True):  # newest first
        for relative in PLAYWRIGHT_LAYOUTS[host.family]:
            yield build.joinpath(*relative.split("/"))


def _installed_places(host: Host) -> Iterator[BrowserInfo]:
    if host.windows:
        bases = (
            host.environ.get("ProgramFiles") or r"C:\Program Files",
            host.environ.get("ProgramFiles(x86)") or r"C:\Program Files (x86)",
            host.local_app_data,
        )
        for base in dict.fromkeys(bases):
            for app in WINDOWS_APPS:
                yield BrowserInfo(host.path(f"{base}\\{app}"), "system")
        for name in REGISTRY_NAMES:
            for found in host.registry(name):
                yield BrowserInfo(host.path(found), "registry")
    elif host.family == "Darwin":
        for folder in ("/Applications", "~/Applications"):
            for app in MAC_APPS:
                yield BrowserInfo(host.path(f"{folder}/{app}"), "system")
    else:
        for place in LINUX_PLACES:
            yield BrowserInfo(host.path(place), "system")


def candidates(host: Host | None = None) -> Iterator[BrowserInfo]:
    """Every place a browser may be, in discovery order (existing or not); see the module doc."""
    host = host or Host.current()
    env = host.environ.get("UNBINDER_BROWSER")
    if env:
        yield BrowserInfo(Path(env).expanduser(), "UNBINDER_BROWSER")
    for path in _playwright_candidates(host):
        yield BrowserInfo(path, "playwright")
    for name in PATH_NAMES[host.family]:
        found = host.on_path(name)
        if found is not None:
            yield BrowserInfo(found, "PATH")
    yield from _installed_places(host)


def install_hint(host: Host | None = None) -> str:
    """What to install on this system, with the Playwright command of this installation."""
    from unbinder.paths import playwright_install

    host = host or Host.current()
    playwright = playwright_install(environ=host.environ)
    if host.windows:
        system = "Install Google Chrome or Microsoft Edge"
        variable = "the path of chrome.exe or msedge.exe"
    elif host.family == "Darwin":
        system = (
            "Install Google Chrome, Microsoft Edge or Chromium (brew install --cask chromium) "
            "in /Applications or ~/Applications"
        )
        variable = "the path of a Chromium, Chrome or Edge executable"
    else:
        system = (
            "Install Chromium (Debian/Ubuntu: sudo apt-get install chromium; Fedora: sudo dnf "
            "install chromium), Google Chrome or Microsoft Edge"
        )
        variable = "the path of a Chromium, Chrome or Edge executable"
    return (
        f"{system}; or let Playwright download its Chromium: {playwright}; or set "
        f"UNBINDER_BROWSER to {variable}."
    )


def find_browser(host: Host | None = None) -> BrowserInfo:
    """The first usable browser in discovery order, or NoBrowser with what to install."""
    host = host or Host.current()
    env = host.environ.get("UNBINDER_BROWSER")
    if env and not host.usable(Path(env).expanduser()):
        raise NoBrowser(
            _("UNBINDER_BROWSER points to {env}, which is not an executable file.").format(env=env),
            hint=_("Fix the path or unset UNBINDER_BROWSER."),
        )
    for info in candidates(host):
        if host.usable(info.path):
            return info
    raise NoBrowser(
        _("no Chromium, Chrome or Edge was found on this machine."), hint=install_hint(host)
    )


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
        hint = install_hint()
        if not headless and not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
            hint = (
                "A visible browser needs a display: run it in a desktop session (DISPLAY is unset)."
            )
        raise NoBrowser(
            _("the browser at {path} did not start: {first}").format(path=info.path, first=first),
            hint=hint,
        ) from exc


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
