"""The person at the terminal: reminders while a hand-off waits, why they are asked again, and
the confirmation showing the number the platform shows beside the number given."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from unbinder.engine.human import ConfirmRequest, ConsoleHuman, Handoff
from unbinder.recipe.model import Localized, Step

T = TypeVar("T")
PROMPT = Localized.model_validate(
    {"en": "Type the code sent to +86 138****8000 into the page.", "zh-CN": "请输入验证码。"}
)
AGAIN = Localized.model_validate(
    {"en": "The code field is still empty: type the code into the page first.", "zh-CN": "空的"}
)


def run_alone(coro: Coroutine[Any, Any, T]) -> T:
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


class NoPage:
    async def evaluate(self, *args: object) -> None:
        return None


async def no_steps(steps: list[Step]) -> None:
    return None


def test_a_waiting_handoff_reminds_the_person_and_says_why_it_asks_again(
    pipe: tuple[Any, int], capsys: pytest.CaptureFixture[str]
) -> None:
    stream, write_fd = pipe
    human = ConsoleHuman(stream=stream, remind_every=0.2)
    request = Handoff("p", "Platform", "sms_code", PROMPT, timeout=600, again=AGAIN, attempt=2)

    async def scenario() -> None:
        asked = asyncio.ensure_future(human.handoff(request, NoPage(), no_steps))  # type: ignore[arg-type]
        await asyncio.sleep(0.7)  # the person takes a while: reminders
        assert not asked.done()
        os.write(write_fd, b"\n")
        await asked

    run_alone(scenario())
    err = capsys.readouterr().err
    assert err.index(AGAIN.en) < err.index(PROMPT.en)
    reminders = [line for line in err.splitlines() if "Still waiting for you" in line]
    assert len(reminders) >= 2
    assert (
        "Type the code sent to +86 138****8000 into the page. (about 10 min left)" in (reminders[0])
    )


def test_the_confirmation_shows_the_number_given_and_the_number_shown(
    pipe: tuple[Any, int], capsys: pytest.CaptureFixture[str]
) -> None:
    stream, write_fd = pipe
    os.write(write_fd, b"yes\n")
    human = ConsoleHuman(stream=stream)
    action = Localized.model_validate({"en": "Change the number.", "zh-CN": "更换手机号。"})
    request = ConfirmRequest(
        "p", "Platform", action, "+86 138****8000", "+86 139****9000", shown="138****8000"
    )
    assert run_alone(human.confirm(request)) is True
    err = capsys.readouterr().err
    assert "old number: +86 138****8000" in err
    assert "the platform shows: 138****8000" in err
    assert "new number: +86 139****9000" in err
