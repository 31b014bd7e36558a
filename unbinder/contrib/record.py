"""Record a contributor walking through a platform, and turn it into scrubbed fixtures and steps.

`unbinder recipes record` opens a visible, guarded browser on the platform; the contributor does
the check as a person would. Meanwhile an injected listener (templates/record/listener.js) reports
each click, fill, select and Enter as the element's role, accessible name, label, placeholder,
text, test id and css. What the pages were (HTML snapshots) and what went over the wire (a HAR
built in memory from the context's requests: no raw file ever reaches disk) are kept in memory.

When the contributor is done, `save_recording` scrubs everything with unbinder/contrib/scrub.py (the
contributor's number in every form, anything typed, cookies, tokens, emails...), checks each file
again with `find_leaks`, and writes `recorded/` next to the replica: `NN-page.html` snapshots,
`session.har` and `steps.yaml`, the drafted selectors and steps ready to paste into the recipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import re
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from unbinder.contrib.scrub import Scrubber, find_har_leaks, find_leaks
from unbinder.errors import BadInput, UnknownPlatform
from unbinder.phone import PhoneNumber, parse_phone

if TYPE_CHECKING:
    from playwright.async_api import Frame, Page, Request

    from unbinder.browser.guard import BlockedRequest, RequestHandler
    from unbinder.browser.launch import BrowserSession

SNAPSHOT_DELAY = 0.6  # seconds after an action before the page is saved (let it render)
TEXT_TYPES = ("html", "json", "text/plain", "xml", "x-www-form-urlencoded")
MAX_BODY = 2 * 1024 * 1024  # a bigger response body is noted, not kept

# Stops the recording: given the first page and an event set once every page is closed.
Until = Callable[["Page", asyncio.Event], Awaitable[None]]


def listener_script() -> str:
    """The JS injected into every frame (a package file, not a string here)."""
    return (
        resources.files("unbinder")
        .joinpath("templates/record/listener.js")
        .read_text(encoding="utf-8")
    )


# --------------------------------------------------------------------------- what was seen


@dataclass(frozen=True)
class Element:
    """An element the person used, described the ways a recipe can find it."""

    tag: str
    role: str | None = None
    name: str = ""
    label: str = ""
    placeholder: str = ""
    text: str = ""
    testid: str = ""
    css: str = ""
    type: str = ""
    autocomplete: str = ""
    field_name: str = ""
    frame: str | None = None  # CSS selector of the iframe, when not in the main frame

    @classmethod
    def from_report(cls, data: dict[str, Any], frame: str | None) -> Element:
        def text(key: str) -> str:
            value = data.get(key)
            return str(value) if value else ""

        return cls(
            tag=text("tag") or "element",
            role=text("role") or None,
            name=text("name"),
            label=text("label"),
            placeholder=text("placeholder"),
            text=text("text"),
            testid=text("testid"),
            css=text("css"),
            type=text("type"),
            autocomplete=text("autocomplete"),
            field_name=text("field_name"),
            frame=frame,
        )

    def alternatives(self) -> list[dict[str, Any]]:
        """Selector alternatives in the house order: role+name, label, placeholder, text, ..."""
        alts: list[dict[str, Any]] = []
        if self.role and self.name:
            alts.append({"role": self.role, "name": self.name})
        if self.label:
            alts.append({"label": self.label})
        if self.placeholder:
            alts.append({"placeholder": self.placeholder})
        if self.text and self.tag not in ("input", "textarea", "select"):
            alts.append({"text": self.text})
        if self.testid:
            alts.append({"testid": self.testid})
        if self.css and (self.css != self.tag or not alts):
            alts.append({"css": self.css})
        if self.frame:
            alts = [{"frame": self.frame, **alt} for alt in alts]
        return alts

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.frame, self.role, self.name, self.label, self.placeholder, self.css)


@dataclass
class Action:
    """One thing the person did. `kind`: click, fill, select or press."""

    kind: str
    element: Element
    element_id: tuple[str, int]  # (page url, listener id): the same field typed into again
    value_kind: str | None = None  # fill: "phone.national_digits", "password", "code", "text"
    value: str | None = None  # select: the option value (scrubbed before it is shown)
    key: str | None = None  # press


@dataclass(frozen=True)
class Snapshot:
    """A page (or frame) as it looked, in memory until scrubbed."""

    url: str
    html: str
    frame: bool = False


@dataclass
class Recording:
    """Everything one recording saw. Raw: never write it without `save_recording`."""

    start_url: str
    domains: tuple[str, ...]
    region: str | None = None
    phones: list[PhoneNumber] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)
    blocked: list[BlockedRequest] = field(default_factory=list)
    typed: set[str] = field(default_factory=set)  # what was typed (not passwords): scrubbed away
    _seen: set[str] = field(default_factory=set)

    def add_snapshot(self, url: str, html: str, *, frame: bool = False) -> None:
        digest = hashlib.sha256(f"{url}\n{html}".encode("utf-8", "replace")).hexdigest()
        if digest not in self._seen:
            self._seen.add(digest)
            self.snapshots.append(Snapshot(url, html, frame))

    def add_typed(self, value: str) -> None:
        """Remember a typed value (to scrub it) and what it was, as a placeholder name."""
        self.typed.add(value)
        phone = _as_phone(value, self.region)
        if phone is not None and all(p.e164 != phone.e164 for p in self.phones):
            self.phones.append(phone)

    def har(self) -> dict[str, Any]:
        """The requests seen, as a HAR 1.2 log (raw)."""
        from unbinder import __version__

        return {
            "log": {
                "version": "1.2",
                "creator": {"name": "unbinder recipes record", "version": __version__},
                "pages": [],
                "entries": self.entries,
            }
        }


def _as_phone(value: str, region: str | None) -> PhoneNumber | None:
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15 or not re.fullmatch(r"[\d\s+\-().]+", value.strip()):
        return None
    try:
        return parse_phone(value, region, require_mobile=False)
    except Exception:
        return None


def classify_value(value: str, element: Element, phones: Sequence[PhoneNumber]) -> str:
    """What a typed value was, as the placeholder a recipe would use (never the value itself)."""
    stripped = value.strip()
    for phone in phones:
        forms = phone.placeholders()
        for name in ("e164", "national", "national_digits"):
            if stripped == forms[name]:
                return f"phone.{name}"
        if re.sub(r"\D", "", stripped) in (phone.national_digits, phone.e164[1:]):
            return "phone.e164" if stripped.startswith("+") else "phone.national_digits"
    hints = " ".join((element.autocomplete, element.field_name, element.name, element.label))
    if re.fullmatch(r"\d{4,8}", stripped) and re.search(
        r"(?i)one-time|code|otp|验证码|captcha", hints
    ):
        return "code"
    return "text"


# --------------------------------------------------------------------------- recording


@dataclass
class _Recorder:
    recording: Recording
    allows: Callable[[str], bool]
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    pages: list[Page] = field(default_factory=list)

    def spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self, timeout: float = 10) -> None:
        """Let pending snapshots and HAR entries finish."""
        end = asyncio.get_running_loop().time() + timeout
        while self.tasks and asyncio.get_running_loop().time() < end:
            await asyncio.wait(
                set(self.tasks), timeout=max(0.1, end - asyncio.get_running_loop().time())
            )

    # ------------------------------------------------------------------ pages

    def watch(self, page: Page) -> None:
        self.pages.append(page)
        page.on("load", lambda _: self.spawn(self.snapshot(page, 0.2)))
        page.on("framenavigated", lambda frame: self._navigated(page, frame))
        page.on("close", lambda _: self._page_closed(page))

    def _navigated(self, page: Page, frame: Frame) -> None:
        if frame == page.main_frame:
            self.recording.navigations.append(frame.url)

    def _page_closed(self, page: Page) -> None:
        if all(p.is_closed() for p in self.pages):
            self.closed.set()

    async def snapshot(self, page: Page, delay: float) -> None:
        from playwright.async_api import Error as PlaywrightError

        await asyncio.sleep(delay)
        for _ in range(5):  # a page in the middle of navigating cannot answer: try again
            if page.is_closed():
                return
            try:
                html = await page.content()  # first: the URL is read after the page answers
                self.recording.add_snapshot(page.url, html)
                for frame in page.frames[1:]:
                    host = urlsplit(frame.url).hostname or ""
                    if self.allows(host):
                        html = await frame.content()
                        self.recording.add_snapshot(frame.url, html, frame=True)
                return
            except PlaywrightError:
                await asyncio.sleep(0.2)

    # ------------------------------------------------------------------ actions

    async def on_report(self, source: dict[str, Any], data: dict[str, Any]) -> None:
        """Called by the listener in the page (through an exposed binding)."""
        page: Page = source["page"]
        frame: Frame = source["frame"]
        frame_css = None if frame == page.main_frame else await _frame_selector(frame)
        element = Element.from_report(data, frame_css)
        kind = str(data.get("kind"))
        if data.get("html") and frame == page.main_frame:
            self.recording.add_snapshot(str(data.get("url", page.url)), str(data["html"]))
        element_id = (str(data.get("url", "")), int(data.get("id") or 0))
        actions = self.recording.actions
        if kind == "fill":
            if data.get("secret"):
                value_kind = "password"
            else:
                value = str(data.get("value") or "")
                self.recording.add_typed(value)
                value_kind = classify_value(value, element, self.recording.phones)
            last = actions[-1] if actions else None
            if last is not None and last.kind == "fill" and last.element_id == element_id:
                last.value_kind = value_kind  # still typing into the same field
                return
            actions.append(Action("fill", element, element_id, value_kind=value_kind))
        elif kind == "select":
            actions.append(Action("select", element, element_id, value=str(data.get("value"))))
        elif kind == "press":
            actions.append(Action("press", element, element_id, key=str(data.get("key"))))
        else:
            actions.append(Action("click", element, element_id))
        self.spawn(self.snapshot(page, SNAPSHOT_DELAY))

    # ------------------------------------------------------------------ network

    def on_request_done(self, request: Request) -> None:
        self.spawn(self._entry(request, failed=False))

    def on_request_failed(self, request: Request) -> None:
        self.spawn(self._entry(request, failed=True))

    async def _entry(self, request: Request, *, failed: bool) -> None:
        from playwright.async_api import Error as PlaywrightError

        try:
            entry = await _har_entry(request, failed=failed)
        except PlaywrightError:
            return
        self.recording.entries.append(entry)


async def _frame_selector(frame: Frame) -> str | None:
    from playwright.async_api import Error as PlaywrightError

    try:
        element = await frame.frame_element()
        for attr in ("id", "name", "title"):
            value = await element.get_attribute(attr)
            if value and re.fullmatch(r"[\w\-]+", value):
                return f"#{value}" if attr == "id" else f'iframe[{attr}="{value}"]'
            if value and attr == "title":
                return f'iframe[title="{value}"]'
    except PlaywrightError:
        return None
    return "iframe"


def _pairs(headers: Sequence[Any]) -> list[dict[str, str]]:
    return [{"name": str(h["name"]), "value": str(h["value"])} for h in headers]


def _cookies(header: str) -> list[dict[str, str]]:
    out = []
    for part in header.split(";"):
        if "=" in part:
            name, value = part.split("=", 1)
            out.append({"name": name.strip(), "value": value.strip()})
    return out


async def _har_entry(request: Request, *, failed: bool) -> dict[str, Any]:
    from urllib.parse import parse_qsl

    parts = urlsplit(request.url)
    headers = _pairs(await request.headers_array())
    cookie = next((h["value"] for h in headers if h["name"].lower() == "cookie"), "")
    req: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "httpVersion": "HTTP/1.1",
        "headers": headers,
        "cookies": _cookies(cookie),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(parts.query)],
        "headersSize": -1,
        "bodySize": len(request.post_data_buffer or b""),
    }
    if request.post_data is not None:
        mime = next((h["value"] for h in headers if h["name"].lower() == "content-type"), "")
        req["postData"] = {"mimeType": mime, "text": request.post_data}
    response = None if failed else await request.response()
    resp: dict[str, Any] = {
        "status": 0,
        "statusText": request.failure or "",
        "httpVersion": "HTTP/1.1",
        "headers": [],
        "cookies": [],
        "content": {"size": 0, "mimeType": ""},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": -1,
    }
    if response is not None:
        rheaders = _pairs(await response.headers_array())
        mime = next((h["value"] for h in rheaders if h["name"].lower() == "content-type"), "")
        content: dict[str, Any] = {"size": 0, "mimeType": mime}
        if any(t in mime.lower() for t in TEXT_TYPES) and not 300 <= response.status < 400:
            with contextlib.suppress(Exception):
                body = await response.body()
                content["size"] = len(body)
                if len(body) <= MAX_BODY:
                    content["text"] = body.decode("utf-8", "replace")
                else:
                    content["comment"] = "body larger than 2 MiB, not kept"
        set_cookies = [h["value"] for h in rheaders if h["name"].lower() == "set-cookie"]
        resp.update(
            status=response.status,
            statusText=response.status_text,
            headers=rheaders,
            cookies=[c for line in set_cookies for c in _cookies(line.split(";", 1)[0])],
            content=content,
            redirectURL=next((h["value"] for h in rheaders if h["name"].lower() == "location"), ""),
        )
    timing = request.timing
    return {
        "startedDateTime": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
        "time": max(0.0, float(timing.get("responseEnd", 0) or 0)),
        "request": req,
        "response": resp,
        "cache": {},
        "timings": {
            "send": 0,
            "wait": max(0.0, float(timing.get("responseStart", 0) or 0)),
            "receive": 0,
        },
    }


async def record_flow(
    session: BrowserSession,
    url: str,
    domains: Sequence[str],
    *,
    until: Until,
    serve: RequestHandler | None = None,
    region: str | None = None,
    phones: Sequence[PhoneNumber] = (),
    locale: str = "en-US",
) -> Recording:
    """Open `url` in a guarded context, record until `until` returns, then close the context.

    `serve` answers requests offline (a replica; tests). Live, only `domains` are reachable.
    """
    from playwright.async_api import Error as PlaywrightError

    recording = Recording(url, tuple(domains), region, list(phones))
    guarded = await session.open_context(tuple(domains), serve=serve, locale=locale)
    recorder = _Recorder(recording, guarded.guard.allows)
    context = guarded.context
    try:
        await context.expose_binding("__unbinderRecord", recorder.on_report)
        await context.add_init_script(script=listener_script())
        context.on("page", recorder.watch)
        context.on("requestfinished", recorder.on_request_done)
        context.on("requestfailed", recorder.on_request_failed)
        page = await context.new_page()
        try:
            await page.goto(url, wait_until="domcontentloaded", timeout=30_000)
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BadInput(
                f"could not open {_short(url)}: {first}",
                hint="Check the URL and your internet connection.",
            ) from None
        await until(page, recorder.closed)
        for open_page in [p for p in recorder.pages if not p.is_closed()]:
            await recorder.snapshot(open_page, 0)
        await recorder.drain()
    finally:
        recording.blocked = list(guarded.guard.blocked)
        for task in list(recorder.tasks):
            task.cancel()
        await guarded.close()
    return recording


def _short(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


# --------------------------------------------------------------------------- drafting


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    slug = "_".join(words)[:30].strip("_")
    return slug if slug and slug[0].isalpha() else ""


def _selector_name(element: Element, taken: set[str]) -> str:
    candidates = (
        element.testid,
        element.field_name,
        element.css[1:] if element.css.startswith("#") else "",
        element.label,
        element.name,
        element.placeholder,
        element.text,
    )
    base = next((s for s in map(_slug, candidates) if s), "") or (
        f"{element.role or element.tag}".replace("-", "_")
    )
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


class _Dumper(yaml.SafeDumper):
    """Indent lists under their key, as the recipes do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def draft_steps(recording: Recording, scrubber: Scrubber) -> str:
    """Selectors and steps drafted from the actions, as YAML ready to paste (scrubbed)."""
    names: dict[tuple[Any, ...], str] = {}
    selectors: dict[str, list[dict[str, Any]]] = {}
    taken: set[str] = set()
    steps = [f"      - goto: {_short(recording.start_url)}", "        source: recorded"]
    for action in recording.actions:
        element = action.element
        if element.key not in names:
            names[element.key] = _selector_name(element, taken)
            selectors[names[element.key]] = [
                {k: scrubber.text(v) if isinstance(v, str) else v for k, v in alt.items()}
                for alt in element.alternatives()
            ]
        target = names[element.key]
        if action.kind == "click":
            steps.append(f"      - click: {target}")
        elif action.kind == "press":
            steps.append(f"      - press: {{target: {target}, key: {action.key or 'Enter'}}}")
        elif action.kind == "select":
            value = scrubber.text(action.value or "")
            steps.append(f"      - select: {{target: {target}, value: {_q(value)}}}")
        elif action.value_kind and action.value_kind.startswith("phone."):
            steps.append(f'      - fill: {{target: {target}, value: "{{{action.value_kind}}}"}}')
        elif action.value_kind == "password":
            steps.append(
                f"      # a password was typed into `{target}`: a person does that, never the "
                "recipe (a `human: {kind: login}` step in a logged-in flow)"
            )
        elif action.value_kind == "code":
            steps.append(
                f"      # a code was typed into `{target}`: a person does that "
                "(a `human: {kind: sms_code}` step)"
            )
        else:
            steps.append(
                f'      - fill: {{target: {target}, value: "TODO"}}  # EDIT: the recording '
                "keeps no typed text"
            )
    later = [u for u in dict.fromkeys(recording.navigations) if u != recording.start_url]
    lines = [
        "# Drafted by `unbinder recipes record` from what was done in the browser.",
        "# Paste `selectors` and the steps into the recipe, then review each selector: keep the",
        "# alternatives that name what a person sees (role + name, label, text) and drop the rest.",
        yaml.dump(
            {"selectors": selectors}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100
        ).rstrip()
        if selectors
        else "selectors: {}",
        "# What you saw yourself is a source too: cite it (and add the public scripts and help",
        "# pages you find) so the recipe shows what it rests on (docs/recipes.md, Sources).",
        "sources:",
        "  recorded:",
        f"    url: {_q(scrubber.text(_short(recording.start_url)))}",
        f"    read: {dt.date.today().isoformat()}",
        "    shows: the pages, fields and answers recorded with `unbinder recipes record`",
        "flows:",
        "  check:",
        "    steps:",
        *steps,
    ]
    if later:
        lines.append(
            "    # the page then went to (useful for wait_for_url and the replica's routes):"
        )
        lines += [f"    #   {scrubber.text(_short(u))}" for u in later]
    lines += [
        "    detect:  # EDIT: what the page shows for each outcome (see the recorded pages), e.g.",
        "      - when: {text: TODO the words shown for an existing account}",
        "        outcome: bound",
        "        evidence: the platform says an account uses this number",
        "      - when: {text: TODO the words shown when there is none}",
        "        outcome: not_bound",
        "        evidence: the platform says no account uses this number",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- saving


@dataclass
class Saved:
    """What `save_recording` wrote, and what it refused to write."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, list[str]]] = field(default_factory=list)  # (file, leaks)
    steps: str = ""
    blocked_hosts: list[str] = field(default_factory=list)


def _file_slug(url: str) -> str:
    parts = urlsplit(url)
    slug = re.sub(r"[^a-z0-9]+", "-", f"{parts.hostname or ''}{parts.path}".lower()).strip("-")
    return slug[:60] or "page"


def save_recording(
    recording: Recording, folder: Path, *, extra_secrets: Sequence[str] = (), force: bool = False
) -> Saved:
    """Scrub the recording and write it into `folder` (fixtures/<id>/recorded)."""
    if folder.exists() and any(folder.iterdir()) and not force:
        raise BadInput(
            f"{folder} already holds a recording.",
            hint="Move it away, or pass --force to replace it.",
        )
    phones = list(recording.phones)
    secrets = sorted(recording.typed | set(extra_secrets))
    scrubber = Scrubber(phones, secrets)
    saved = Saved(folder)
    saved.blocked_hosts = sorted({b.host for b in recording.blocked})
    outputs: list[tuple[str, str, list[str]]] = []
    stamp = dt.date.today().isoformat()
    for index, snap in enumerate(recording.snapshots, start=1):
        name = f"{index:02d}-{'frame-' if snap.frame else ''}{_file_slug(snap.url)}.html"
        body = scrubber.html(snap.html)
        header = (
            f"<!-- recorded by `unbinder recipes record` on {stamp} from "
            f"{scrubber.text(_short(snap.url))}; personal data replaced by [scrubbed:...] -->\n"
        )
        outputs.append((name, header + body, find_leaks(body, phones, secrets)))
    har = scrubber.har(recording.har())
    outputs.append(
        (
            "session.har",
            json.dumps(har, indent=1, ensure_ascii=False),
            find_har_leaks(har, phones, secrets),
        )
    )
    saved.steps = draft_steps(recording, scrubber)
    outputs.append(("steps.yaml", saved.steps, find_leaks(saved.steps, phones, secrets)))
    if force and folder.exists():
        for old in folder.iterdir():
            if old.is_file():
                old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    for name, text, leaks in outputs:
        if leaks:
            saved.skipped.append((name, leaks))
            continue
        path = folder / name
        path.write_text(text, encoding="utf-8")
        saved.files.append(path)
    return saved


# --------------------------------------------------------------------------- the command


def recording_domains(
    platform_id: str, url: str, extra: Sequence[str] = (), recipes: Path | None = None
) -> tuple[tuple[str, ...], str | None]:
    """The hosts the recording browser may reach, and the region of the platform's numbers.

    The recipe's domains when it exists (the URL must be inside them), else the URL's host.
    """
    from unbinder.browser.guard import host_allowed
    from unbinder.contrib.scaffold import check_domain, check_id
    from unbinder.recipe.load import find_recipe

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"{url!r} is not a web address.", hint="Give one like https://example.com/.")
    host = parts.hostname.lower()
    more = [check_domain(d) for d in extra]
    try:
        loaded = find_recipe(platform_id, recipes)
    except UnknownPlatform:
        check_id(platform_id)
        return (host, *more), None
    domains = (*loaded.recipe.domains, *more)
    if not host_allowed(host, domains):
        raise BadInput(
            f"{host} is not in the domains of recipes/{platform_id}.yaml {list(domains)}.",
            hint=f"Add it to `domains`, or pass --domain {host}.",
        )
    region = next((r for r in loaded.recipe.regions if r != "GLOBAL"), None)
    return domains, region


async def wait_for_person(page: Page, closed: asyncio.Event, ask: Callable[[str], str]) -> None:
    """Until the person presses Enter in the terminal or closes the browser."""
    loop = asyncio.get_running_loop()
    entered: asyncio.Future[None] = loop.create_future()

    def read() -> None:
        with contextlib.suppress(EOFError, OSError):
            ask("  Press Enter here when you are done (or close the browser). ")
        loop.call_soon_threadsafe(_resolve, entered)

    # A daemon thread: if the browser is closed first, nothing waits for this read to end.
    threading.Thread(target=read, name="unbinder-record-enter", daemon=True).start()
    waiter: asyncio.Future[Any] = asyncio.ensure_future(closed.wait())
    try:
        await asyncio.wait({entered, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def record_interactively(
    platform_id: str,
    url: str,
    *,
    out: Path,
    phone: str | None = None,
    region: str | None = None,
    extra_domains: Sequence[str] = (),
    force: bool = False,
    say: Callable[[str], None] = print,
    ask: Callable[[str], str] = input,
) -> Saved:
    """`unbinder recipes record`: a visible browser, a person doing the flow, scrubbed files."""
    from unbinder.browser.launch import BrowserSession
    from unbinder.redact import register

    domains, recipe_region = recording_domains(platform_id, url, extra_domains)
    host = urlsplit(url).hostname or ""
    region = (region or recipe_region or ("CN" if host.endswith(".cn") else "")).upper() or None
    folder = out / "recorded"
    if folder.exists() and any(folder.iterdir()) and not force:
        raise BadInput(
            f"{folder} already holds a recording.",
            hint="Move it away, or pass --force to replace it.",
        )
    phones = []
    if phone:
        number = parse_phone(phone, region, require_mobile=False)
        register(number)
        phones.append(number)
    say(
        f"A browser opens on {_short(url)} (it can reach only {', '.join(domains)}).\n"
        "  Do the check as a person would: type the number, press the buttons, until the page\n"
        "  says whether an account exists. Nothing you type is saved; passwords are never read."
    )

    async def go() -> Recording:
        async with BrowserSession(headless=False) as session:
            return await record_flow(
                session,
                url,
                domains,
                until=lambda page, closed: wait_for_person(page, closed, ask),
                region=region,
                phones=phones,
                locale="zh-CN" if region == "CN" else "en-US",
            )

    recording = asyncio.run(go())
    return save_recording(recording, folder, force=force)


__all__ = [
    "Action",
    "Element",
    "Recording",
    "Saved",
    "draft_steps",
    "record_flow",
    "record_interactively",
    "recording_domains",
    "save_recording",
]
