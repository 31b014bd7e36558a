"""The terminal human: answers come one line per question, stale lines are dropped, and a
question given up (the page showed the step was done) leaves nothing behind that blocks exit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from unbinder.engine.human import ConfirmRequest, ConsoleHuman, Handoff, NoScript
from unbinder.recipe.model import Localized

ACTION = Localized.model_validate({"en": "Remove the number.", "zh-CN": "解除绑定。"})
T = TypeVar("T")
REQUEST = ConfirmRequest("p", "Platform", ACTION, "+86 138****8000", None)


def run_alone(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own (pytest-playwright's sync API may hold the main one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture
def pipe() -> Iterator[tuple[Any, int]]:
    read_fd, write_fd = os.pipe()
    stream = os.fdopen(read_fd, "r")
    yield stream, write_fd
    stream.close()
    with contextlib.suppress(OSError):
        os.close(write_fd)


def test_a_stale_enter_does_not_answer_the_next_question(pipe: tuple[Any, int]) -> None:
    stream, write_fd = pipe
    human = ConsoleHuman(stream=stream)

    async def scenario() -> bool:
        # A hand-off the page finished by itself: the question is given up before any Enter.
        asked = asyncio.ensure_future(human._ask("done? "))
        await asyncio.sleep(0.1)
        asked.cancel()
        os.write(write_fd, b"\n")  # the person presses Enter late
        reader = human._reader
        assert reader is not None
        while reader._want.is_set():  # until the reader thread has taken (and dropped) it
            await asyncio.sleep(0.01)
        confirm = asyncio.ensure_future(human.confirm(REQUEST))
        await asyncio.sleep(0.1)
        assert not confirm.done()  # the stale Enter did not answer it
        os.write(write_fd, b"yes\n")
        return await confirm

    assert run_alone(scenario()) is True


def test_closed_input_declines_and_ends_a_handoff(pipe: tuple[Any, int]) -> None:
    stream, write_fd = pipe
    os.close(write_fd)
    human = ConsoleHuman(stream=stream)
    assert run_alone(human.confirm(REQUEST)) is False

    class NoPage:
        async def evaluate(self, *args: object) -> None:
            return None

    handoff = Handoff("p", "Platform", "sms_code", ACTION)

    async def run_steps(steps: object) -> None:
        return None

    with pytest.raises(NoScript, match="input closed"):
        run_alone(human.handoff(handoff, NoPage(), run_steps))  # type: ignore[arg-type]


def test_a_question_given_up_does_not_keep_the_program_from_exiting() -> None:
    # Before: asyncio.to_thread(input) kept a thread blocked on stdin, and asyncio.run waited for it.
    code = textwrap.dedent(
        """
        import asyncio
        from unbinder.engine.human import ConsoleHuman

        async def main():
            human = ConsoleHuman()
            try:
                await asyncio.wait_for(human._ask("done? "), 0.2)
            except asyncio.TimeoutError:
                print("gave up")

        asyncio.run(main())
        """
    )
    read_fd, write_fd = os.pipe()  # stdin that stays open and silent
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            stdin=read_fd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(read_fd)
        os.close(write_fd)
    assert done.returncode == 0, done.stderr
    assert "gave up" in done.stdout
