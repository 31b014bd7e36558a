"""The human hand-off: what only a person may do (log in, type an SMS code, solve a captcha,
confirm an irreversible change), behind one interface with two implementations.

`ConsoleHuman` asks the person at the terminal (and shows a banner in the page).
`ScriptedHuman` plays the person's part on an offline replica, for tests and the demo.
Neither ever reads what the person types into the page.

A person's time is not the flow's time: the engine stops a flow's clock while a hand-off or a
confirmation waits, and gives the person the hand-off's own, generous limit instead;
`ConsoleHuman` reminds them while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TextIO

from unbinder.i18n.translate import say
from unbinder.recipe.load import LoadedRecipe
from unbinder.recipe.model import HumanScript, Localized, Step

if TYPE_CHECKING:
    from playwright.async_api import Page


@dataclass(frozen=True)
class Handoff:
    """Control handed to the person: what is needed, on which platform, in words."""

    platform: str
    platform_name: str
    kind: str  # captcha, sms_code, login, risk_control, identity, bot_wall, other
    prompt: Localized
    timeout: float | None = None  # seconds the person has left for this step
    again: Localized | None = None  # why they are asked again (field still empty, wrong code)
    attempt: int = 1


@dataclass(frozen=True)
class ConfirmRequest:
    """An irreversible step waiting for an explicit yes."""

    platform: str
    platform_name: str
    action: Localized
    old_masked: str  # the number the person gave, masked
    new_masked: str | None
    shown: str | None = None  # the number the platform shows for the account, as it masks it


# The engine gives a hand-off a way to run recipe steps on the page (used by ScriptedHuman).
StepRunner = Callable[[list[Step]], Awaitable[None]]


class Human(Protocol):
    """Someone who can do what the tool may not."""

    @property
    def lang(self) -> str:
        """The language prompts are shown in (en, zh-CN)."""
        ...

    async def handoff(self, request: Handoff, page: Page, run_steps: StepRunner) -> None:
        """Return once the person says they are done (the engine also watches the page)."""
        ...

    async def confirm(self, request: ConfirmRequest) -> bool:
        """True only for an explicit yes."""
        ...

    def scripted_steps(self) -> list[Step]:
        """The steps this human runs on pages (a scripted human's script; none for a person).

        The engine keeps the bodies of the responses these steps read, so that a script can
        `extract` from a response the flow itself never names.
        """
        ...


class NoScript(Exception):
    """No one can do this hand-off: the scripted human has no steps for it, or input closed."""


@dataclass
class ScriptedHuman:
    """Plays the person on a replica: follows the recipe test's `human:` script."""

    script: HumanScript
    lang: str = "en"
    handoffs: list[Handoff] = field(default_factory=list)
    confirmations: list[ConfirmRequest] = field(default_factory=list)

    async def handoff(self, request: Handoff, page: Page, run_steps: StepRunner) -> None:
        self.handoffs.append(request)
        steps = getattr(self.script, request.kind, None)
        if not steps:
            raise NoScript(f"the scripted human has no steps for a {request.kind} hand-off")
        await run_steps(list(steps))

    async def confirm(self, request: ConfirmRequest) -> bool:
        self.confirmations.append(request)
        return self.script.confirm

    def scripted_steps(self) -> list[Step]:
        return [step for steps in self.script.scripts().values() for step in steps]


@dataclass
class SerialHuman:
    """One person, many platforms in flight: hand-offs and confirmations wait their turn."""

    inner: Human
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def lang(self) -> str:
        return self.inner.lang

    async def handoff(self, request: Handoff, page: Page, run_steps: StepRunner) -> None:
        async with self._lock:
            await self.inner.handoff(request, page, run_steps)

    async def confirm(self, request: ConfirmRequest) -> bool:
        async with self._lock:
            return await self.inner.confirm(request)

    def scripted_steps(self) -> list[Step]:
        return self.inner.scripted_steps()


def recipe_script(loaded: LoadedRecipe, flow: str) -> HumanScript | None:
    """The scripted human of the recipe's first embedded test of `flow` that has one.

    Lets the demo and tests play a platform's change or unbind flow on its replica.
    """
    for test in loaded.recipe.tests:
        if test.flow == flow and test.human is not None:
            return test.human
    return None


_BANNER_JS = """
(text) => {
  let el = document.getElementById('__unbinder_banner');
  if (!el) {
    el = document.createElement('div');
    el.id = '__unbinder_banner';
    el.style.cssText = 'position:fixed;top:0;left:0;right:0;z-index:2147483647;padding:10px 16px;' +
      'background:#1d4ed8;color:#fff;font:15px/1.4 system-ui,sans-serif;text-align:center;' +
      'box-shadow:0 2px 8px rgba(0,0,0,.3)';
    document.documentElement.appendChild(el);
  }
  el.textContent = text;
}
"""


class _LineReader:
    """Reads the terminal one line per question, on a daemon thread.

    `asyncio.to_thread(input)` would leave a thread blocked on stdin whenever a hand-off ends
    because the page showed it was done (the `until` condition), and `asyncio.run` would then wait
    for that thread at exit. A daemon thread that reads only while a question is open avoids both
    that hang and a stale Enter answering the next question.
    """

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._want = threading.Event()
        self._lock = threading.Lock()
        self._asking = False
        self._answers: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def _read(self) -> None:
        while True:
            self._want.wait()
            stream = self._stream or sys.stdin
            try:
                line: str | None = stream.readline()
            except (OSError, ValueError):
                line = ""
            with self._lock:
                self._want.clear()
                if not line:
                    self._answers.put(None)  # end of input: every later question gets None
                    return
                if self._asking:
                    self._answers.put(line)
                # else: typed while nobody asked (the page already showed it was done): dropped

    async def line(self) -> str | None:
        """The next line typed after now; None once the input is closed."""
        while True:  # answers that arrived for a question that was given up
            try:
                if self._answers.get_nowait() is None:
                    self._answers.put(None)
                    return None
            except queue.Empty:
                break
        with self._lock:
            self._asking = True
            self._want.set()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._read, name="unbinder-stdin", daemon=True
                )
                self._thread.start()
        try:
            while True:
                try:
                    answer = self._answers.get_nowait()
                except queue.Empty:
                    await asyncio.sleep(0.05)
                    continue
                if answer is None:
                    self._answers.put(None)
                return answer
        finally:
            with self._lock:
                self._asking = False


REMIND_EVERY = 120.0  # seconds between reminders while a hand-off waits for the person


@dataclass
class ConsoleHuman:
    """The person at the terminal. Prompts go to stderr; answers come from stdin (or `stream`)."""

    lang: str = "en"
    stream: TextIO | None = None
    remind_every: float = REMIND_EVERY
    _reader: _LineReader | None = field(default=None, init=False, repr=False)

    async def _ask(
        self, question: str, reminder: Callable[[float], str] | None = None
    ) -> str | None:
        """One line from the person; `reminder(waited)` is printed every `remind_every` s."""
        if self._reader is None:
            self._reader = _LineReader(self.stream)
        print(question, end="", file=sys.stderr, flush=True)
        answer = asyncio.ensure_future(self._reader.line())
        waited = 0.0
        try:
            while True:
                done, _ = await asyncio.wait({answer}, timeout=self.remind_every)
                if answer in done:
                    return answer.result()
                waited += self.remind_every
                if reminder is not None:
                    print(f"\n{reminder(waited)}", end=" ", file=sys.stderr, flush=True)
        finally:
            if not answer.done():
                answer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await answer

    async def handoff(self, request: Handoff, page: Page, run_steps: StepRunner) -> None:
        text = request.prompt.get(self.lang)
        await show_banner(page, f"unbinder: {text}")
        if request.again is not None:
            print(f"\n[{request.platform_name}] {request.again.get(self.lang)}", file=sys.stderr)
        print(f"\n[{request.platform_name}] {text}", file=sys.stderr)
        done = say("Press Enter when done.", self.lang)

        def reminder(waited: float) -> str:
            left = None if request.timeout is None else max(0.0, request.timeout - waited)
            if left is None:
                line = say("Still waiting for you: {text}", self.lang, text=text)
            else:
                line = say(
                    "Still waiting for you: {text} (about {minutes} min left)",
                    self.lang,
                    text=text,
                    minutes=_minutes(left),
                )
            return f"  [{request.platform_name}] {line} {done}"

        if await self._ask(f"  {done} ", reminder) is None:
            raise NoScript(f"the input closed before the {request.kind} step was done")

    async def confirm(self, request: ConfirmRequest) -> bool:
        action = request.action.get(self.lang)
        lines = [
            f"\n[{request.platform_name}] {action}",
            "  " + say("old number: {number}", self.lang, number=request.old_masked),
        ]
        if request.shown:
            lines.append("  " + say("the platform shows: {text}", self.lang, text=request.shown))
        if request.new_masked:
            lines.append("  " + say("new number: {number}", self.lang, number=request.new_masked))
        print("\n".join(lines), file=sys.stderr)
        question = say("Type yes to go ahead, anything else to stop: ", self.lang)
        answer = await self._ask(f"  {question}")
        # "yes" is typed in every language; a translation may add its own word for it.
        accepted = {"yes", say("yes", self.lang).strip().lower()}
        return answer is not None and answer.strip().lower() in accepted

    def scripted_steps(self) -> list[Step]:
        return []


def _minutes(seconds: float | None) -> int:
    return max(1, round((seconds or 0) / 60))


async def show_banner(page: Page, text: str) -> None:
    """Best effort: tell the person in the page itself what is expected of them."""
    from playwright.async_api import Error as PlaywrightError

    with contextlib.suppress(PlaywrightError):
        await page.evaluate(_BANNER_JS, text)
