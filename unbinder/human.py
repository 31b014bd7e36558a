"""The human hand-off: what only a person may do (log in, type an SMS code, solve a captcha,
confirm an irreversible change), behind one interface with two implementations.

`ConsoleHuman` asks the person at the terminal (and shows a banner in the page).
`ScriptedHuman` plays the person's part on an offline replica, for tests and the demo.
Neither ever reads what the person types into the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from unbinder.recipe import HumanScript, Localized, Step

if TYPE_CHECKING:
    from playwright.async_api import Page


@dataclass(frozen=True)
class Handoff:
    """Control handed to the person: what is needed, on which platform, in words."""

    platform: str
    platform_name: str
    kind: str  # captcha, sms_code, login, risk_control, identity, bot_wall, other
    prompt: Localized


@dataclass(frozen=True)
class ConfirmRequest:
    """An irreversible step waiting for an explicit yes."""

    platform: str
    platform_name: str
    action: Localized
    old_masked: str
    new_masked: str | None


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


class NoScript(Exception):
    """The scripted human has no steps for this kind of hand-off."""


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


@dataclass
class ConsoleHuman:
    """The person at the terminal. Prompts go to stderr; answers come from stdin."""

    lang: str = "en"
    ask: Callable[[str], str] = input

    async def handoff(self, request: Handoff, page: Page, run_steps: StepRunner) -> None:
        text = request.prompt.get(self.lang)
        await show_banner(page, f"unbinder: {text}")
        print(f"\n[{request.platform_name}] {text}", file=sys.stderr)
        done = "按回车继续。" if self.lang.startswith("zh") else "Press Enter when done."
        await asyncio.to_thread(self.ask, f"  {done} ")

    async def confirm(self, request: ConfirmRequest) -> bool:
        zh = self.lang.startswith("zh")
        action = request.action.get(self.lang)
        lines = [
            f"\n[{request.platform_name}] {action}",
            f"  {'原号码' if zh else 'old number'}: {request.old_masked}",
        ]
        if request.new_masked:
            lines.append(f"  {'新号码' if zh else 'new number'}: {request.new_masked}")
        print("\n".join(lines), file=sys.stderr)
        question = (
            "输入 yes 确认，其他任何输入取消："
            if zh
            else "Type yes to go ahead, anything else to stop: "
        )
        answer = await asyncio.to_thread(self.ask, f"  {question}")
        return answer.strip().lower() in ("yes", "是")


async def show_banner(page: Page, text: str) -> None:
    """Best effort: tell the person in the page itself what is expected of them."""
    from playwright.async_api import Error as PlaywrightError

    with contextlib.suppress(PlaywrightError):
        await page.evaluate(_BANNER_JS, text)
