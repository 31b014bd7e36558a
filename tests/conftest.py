"""Shared fixtures: a private data dir per test, and pytest-playwright pointed at our browser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from unbinder import redact
from unbinder.browser.launch import find_browser, launch_args

# The suite's own numbers: after the whole session no data directory of any test, and no
# browser leftover in the temp directory, may hold one of them in any written form (promise 2).
SUITE_NUMBERS = ("+86 138 0013 8000", "+86 139 0013 9000", "+1 202 555 0123", "+1 202 555 0199")
_homes: list[Path] = []


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own UNBINDER_HOME so nothing touches the user's data."""
    home = tmp_path / "unbinder-home"
    _homes.append(home)
    monkeypatch.setenv("UNBINDER_HOME", str(home))
    monkeypatch.delenv("UNBINDER_PASSPHRASE", raising=False)
    monkeypatch.delenv("UNBINDER_ANCHOR", raising=False)
    # The default anchor lives outside the data directory (the OS keyring or the config
    # folder): point it at this test's own folder, so no test touches the person's anchors.
    monkeypatch.setenv("UNBINDER_ANCHOR_DIR", str(tmp_path / "anchors"))
    # Cheap trail key derivation; tests of the real profile remove this (tests/trail/).
    monkeypatch.setenv("UNBINDER_TEST_FAST_KDF", "1")
    yield home
    redact.clear()


@pytest.fixture(scope="session", autouse=True)
def _session_anchor_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module- and session-scoped fixtures run before `home`: their trails' default anchor goes
    to a folder of the session too, never to the keyring or the person's config folder."""
    import os

    before = os.environ.get("UNBINDER_ANCHOR_DIR")
    os.environ["UNBINDER_ANCHOR_DIR"] = str(tmp_path_factory.mktemp("anchors"))
    yield
    if before is None:
        os.environ.pop("UNBINDER_ANCHOR_DIR", None)
    else:
        os.environ["UNBINDER_ANCHOR_DIR"] = before


_started = pytest.StashKey[float]()


def pytest_sessionstart(session: pytest.Session) -> None:
    import time

    session.config.stash[_started] = time.time()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The whole-suite leak check: every test's data directory, and whatever Chromium or
    Playwright left in the temp directory during the run, searched for the suite's numbers."""
    import tempfile
    import time

    from leaks import scan

    from unbinder.phone import parse_phone

    if not _homes:
        return
    started = session.config.stash.get(_started, time.time())
    leftovers = [
        entry
        for entry in Path(tempfile.gettempdir()).glob("*")
        if entry.name.startswith(("playwright", ".org.chromium"))
        and entry.stat().st_mtime >= started
    ]
    hits = scan([*_homes, *leftovers], [parse_phone(n) for n in SUITE_NUMBERS])
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if reporter is None:
        return
    reporter.write("\n")
    reporter.write_sep("-", "leak check", red=bool(hits))
    for hit in hits[:20]:
        reporter.write_line(f"a test number in plain text: {hit}", red=True)
    if not hits:
        reporter.write_line(
            f"{len(_homes)} data directories and {len(leftovers)} browser temp entries "
            "hold none of the suite's numbers"
        )


@pytest.fixture(autouse=True)
def _no_inherited_event_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """pytest-playwright's sync fixtures (`page`) leave their event loop marked as running in the
    main thread for the rest of the session. Code under test that starts its own loop (every CLI
    command, through asyncio.run) would then fail in whichever test happens to run later, so
    other tests do not see that loop."""
    import asyncio

    sync_playwright = {"page", "context", "new_context", "browser", "browser_type", "playwright"}
    inherited = asyncio.events._get_running_loop()
    if inherited is None or sync_playwright & set(request.fixturenames):
        yield
        return
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(inherited)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temp dir with a short path: Chromium keeps sockets in TMPDIR, and socket paths are short."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="ub-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright launches the same Chromium the tool finds, with the same flags."""
    return {"executable_path": str(find_browser().path), "args": launch_args(headless=True)}


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """Replaces pytest-playwright 0.10's fallback `base_url`, a fixture defined as an instance
    method, which pytest 9 deprecates (a warning, hence an error here). Our browser tests open
    file:// URLs and need no base URL."""
    return None


@dataclass(frozen=True)
class DemoRun:
    """`unbinder demo` run once per session in a child process (its output and what it made)."""

    returncode: int
    stdout: str
    stderr: str
    home: Path  # the throwaway data directory it printed
    passphrase: str  # the throwaway passphrase it printed
    report: Path  # the report path it printed
    tmp: Path  # the child's TMPDIR
    unused_home: Path  # UNBINDER_HOME of the child: the demo must not touch it
    roots: list[Path]  # the child's HOME, data directory and TMPDIR: every place it may write


@pytest.fixture(scope="session")
def demo_run() -> Iterator[DemoRun]:
    import re
    import shutil
    import tempfile

    from leaks import Sandbox

    box = Sandbox(Path(tempfile.mkdtemp(prefix="ub-")))  # short: Chromium keeps sockets in TMPDIR
    done = box.run("demo")

    def printed(label: str) -> str:
        found = re.search(rf"{label}: (\S+)", done.stdout)
        return found.group(1) if found else ""

    yield DemoRun(
        returncode=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        home=Path(printed(r"data directory \(throwaway\)")),
        passphrase=printed(r"trail passphrase \(throwaway\)"),
        report=Path(printed("Evidence report")),
        tmp=box.tmp,
        unused_home=box.data,
        roots=box.roots,
    )
    shutil.rmtree(box.root, ignore_errors=True)
