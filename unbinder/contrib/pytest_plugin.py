"""pytest plugin: `pytest recipes/` runs every recipe's embedded tests offline.

Each `tests:` entry of `recipes/<id>.yaml` becomes a test item. All items share one Chromium,
driven from a background event loop (the `unbinder_browser` fixture, also usable by other tests).
A failure shows the problems and what was observed, ready to paste into the recipe.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


class BrowserThread:
    """A BrowserSession living on its own event loop thread, callable from sync code."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="unbinder-browser", daemon=True
        )
        self._thread.start()
        self._session: Any = None

    def run(self, make: Callable[[Any], Awaitable[T]], timeout: float = 600) -> T:
        """Run `make(session)` on the browser loop and return its result."""

        async def call() -> T:
            if self._session is None:
                from unbinder.browser.launch import BrowserSession

                session = BrowserSession()
                await session.start()
                self._session = session
            return await make(self._session)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout)

    def close(self) -> None:
        async def stop() -> None:
            if self._session is not None:
                await self._session.close()
                self._session = None
            # Replica handlers still waiting (a page that "never loads") end with the loop.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(60)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()


_shared: BrowserThread | None = None


def shared_browser() -> BrowserThread:
    global _shared  # noqa: PLW0603 - one browser per test session, created on first use
    if _shared is None:
        _shared = BrowserThread()
    return _shared


@pytest.fixture(scope="session")
def unbinder_browser() -> BrowserThread:
    """One Chromium for the whole test session: `unbinder_browser.run(async_fn)`."""
    return shared_browser()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _shared  # noqa: PLW0603
    if _shared is not None:
        _shared.close()
        _shared = None


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if (
        file_path.suffix == ".yaml"
        and file_path.parent.name == "recipes"
        and not file_path.name.startswith("_")
    ):
        return RecipeFile.from_parent(parent, path=file_path)
    return None


class RecipeFile(pytest.File):
    """A recipe file: one item per embedded test."""

    def collect(self) -> Iterator[pytest.Item]:
        from unbinder.errors import RecipeError
        from unbinder.recipe.load import load_recipe_file

        try:
            loaded = load_recipe_file(self.path)
        except RecipeError as exc:
            yield RecipeLoadItem.from_parent(self, name="load", message=str(exc))
            return
        for index, test in enumerate(loaded.recipe.tests):
            yield RecipeItem.from_parent(self, name=test.name, loaded=loaded, index=index)


class RecipeLoadItem(pytest.Item):
    """A recipe that does not load is a failing test, not a collection crash."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def runtest(self) -> None:
        raise RecipeTestFailure(self.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}: load"


class RecipeTestFailure(Exception):
    """An embedded recipe test did not get what it expected."""


class RecipeItem(pytest.Item):
    """One embedded test of one recipe, run against its replica."""

    def __init__(self, *, loaded: Any, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded = loaded
        self.index = index

    def runtest(self) -> None:
        from unbinder.contrib.recipe_tests import run_test

        test = self.loaded.recipe.tests[self.index]
        result = shared_browser().run(
            lambda session: run_test(session, self.loaded, test, self.index)
        )
        if not result.passed:
            raise RecipeTestFailure("\n".join(result.report()))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RecipeTestFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        line = self.loaded.line_of(("tests", self.index))
        return self.path, line - 1, f"{self.loaded.id}: {self.name}"
