"""Offline replicas: answer a recipe's requests from `fixtures/<id>/` with a small fake backend.

A replica is declared in `fixtures/<id>/replica.yaml`:

- `routes`: each matches a method and a URL (exact or glob, no query), and optionally fields of
  the request (`when: {body: {scene: bind_new}}`), and either serves a `page` (a file of the
  fixture folder) or runs a built-in backend `action` (lookup, login, send_code, check_code,
  change_phone, unbind_phone, me, ...) whose named result picks a response from `respond`.
  The first route that matches answers, so one endpoint can act by what the page posts.
- `scenarios`: the world the replica starts in: which accounts exist (and their numbers), who is
  logged in, and `gates` that put obstacles in front of routes (captcha, rate limit, risk control,
  an HTTP status, latency, a hang).

Pages are plain HTML+JS in the platform's language that call these routes like the real site calls
its API. Nothing here runs recipe-supplied code: actions are a fixed vocabulary.
A replica's state lives in memory only (numbers never reach disk); tests read it after a flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import mimetypes
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import parse_qs, urljoin, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from unbinder.errors import RecipeError
from unbinder.paths import fixtures_dir
from unbinder.phone import PhoneNumber, mask_digits, parse_phone

if TYPE_CHECKING:
    from playwright.async_api import Route

MAX_DELAY_MS = 60_000
MAX_REDIRECTS = 20  # Chromium gives up after 20 hops too
Action = Literal[
    "lookup",
    "login",
    "login_code",
    "send_code",
    "check_code",
    "change_phone",
    "unbind_phone",
    "me",
    "logout",
    "solve_captcha",
    "clear_risk",
    "reauth",
    "redirect",
    "close_context",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Response(_Model):
    """What the replica answers: a page file, JSON, or a body; with status and headers."""

    status: int = Field(default=200, ge=100, le=599)
    page: str | None = None
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    content_type: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    location: str | None = Field(default=None, description="for 3xx: where to send the browser")


class RouteWhen(_Model):
    """Fields the request must carry for a route to answer it (values compared as text)."""

    body: dict[str, Any] = Field(
        default_factory=dict, description="JSON (dotted paths: data.scene) or form fields"
    )
    query: dict[str, Any] = Field(default_factory=dict, description="query-string fields")


class RouteSpec(_Model):
    url: str = Field(description="https://host/path, exact or with * globs (no query)")
    method: str = "GET"
    when: RouteWhen | None = Field(
        default=None, description="answer only requests with these field values"
    )
    page: str | None = None
    action: Action | None = None
    phone: str = Field(default="phone", description="request field holding a number")
    password: str = "password"  # noqa: S105 - the name of a form field, not a secret
    code: str | None = Field(
        default="code", description="field with the code; unbind_phone: null if none is asked"
    )
    old_code: str | None = Field(
        default=None, description="field with the code sent to the old number"
    )
    to: Literal["field", "session"] = Field(
        default="field",
        description="send_code, check_code: the number in the field, or the session's",
    )
    old_checked: bool = Field(
        default=False,
        description="change_phone, unbind_phone: a check_code route must have accepted the code "
        "sent to the account's number first (the page checks it on a step of its own)",
    )
    gate: str | None = Field(default=None, description="name scenarios use to put gates here")
    reauth: bool = Field(
        default=False,
        description="answer reauth_required until the signed-in person re-entered their password",
    )
    respond: dict[str, Response] = Field(default_factory=dict)
    target: str | None = Field(default=None, description="redirect: the Location")


class Gate(_Model):
    """Obstacles a scenario puts in front of the routes of one gate name."""

    captcha: Literal["always", "never"] | int | None = Field(
        default=None, description="always, or from the Nth request on (1-based)"
    )
    captcha_once: bool = Field(default=False, description="a solved captcha stays solved")
    rate_limit: bool = False
    risk: bool = False
    status: int | None = Field(default=None, ge=100, le=599)
    delay_ms: int = Field(default=0, ge=0, le=MAX_DELAY_MS)
    hang: bool = False


class AccountSpec(_Model):
    phone: str | None
    password: str = "demo-password"  # noqa: S105 - a replica's made-up account
    name: str = "demo"


class Scenario(_Model):
    extends: str | None = None
    accounts: list[AccountSpec] | None = None
    logged_in: int | None = Field(default=None, description="index of the account logged in")
    recent_login: bool | None = Field(
        default=None, description="the session is fresh: `reauth: true` routes let it through"
    )
    gates: dict[str, Gate] = Field(default_factory=dict)
    latency_ms: int = Field(default=0, ge=0, le=MAX_DELAY_MS, description="on every request")
    offline: bool = Field(
        default=False, description="no network: every request fails as a DNS lookup would"
    )
    pages: dict[str, str] = Field(
        default_factory=dict, description="serve another page file instead (a redesign)"
    )


class ReplicaSpec(_Model):
    region: str = "CN"
    routes: list[RouteSpec]
    scenarios: dict[str, Scenario] = Field(default_factory=lambda: {"default": Scenario()})


@dataclass
class Account:
    """An account of the fake platform. Its number lives in memory only."""

    phone: str | None  # E.164
    password: str
    name: str

    @property
    def masked(self) -> str:
        if not self.phone:
            return ""
        return mask_digits(_national_digits(self.phone))


def _national_digits(e164: str) -> str:
    return parse_phone(e164, require_mobile=False).national_digits


@dataclass
class ReplicaState:
    """The fake platform's world, as tests inspect it."""

    accounts: list[Account]
    session: int | None = None
    codes: dict[str, str] = field(default_factory=dict)  # E.164 -> last code sent
    attempts: dict[str, int] = field(default_factory=dict)  # gate -> requests seen
    captcha_solved: bool = False
    risk_cleared: bool = False  # a `clear_risk` route ran: the person passed the identity check
    checked: set[str] = field(default_factory=set)  # E.164 numbers whose code check_code accepted
    reauthenticated: bool = False  # the session's password was typed since it began
    log: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, result

    def snapshot(self) -> dict[str, Any]:
        return {
            "accounts": [
                {"phone": a.phone, "name": a.name, "password": a.password} for a in self.accounts
            ],
            "session": self.session,
            "captcha_solved": self.captcha_solved,
            "risk_cleared": self.risk_cleared,
            "reauthenticated": self.reauthenticated,
            "results": [r for _, _, r in self.log],
            "codes_sent": len(self.codes),
        }

    def get(self, dotted: str) -> Any:
        """A value of the snapshot by dotted path: `accounts.0.phone`."""
        value: Any = self.snapshot()
        for part in dotted.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value


@dataclass
class Replica:
    """One platform's replica in one scenario: serves routes and keeps state."""

    platform: str
    directory: Path
    spec: ReplicaSpec
    scenario_name: str
    scenario: Scenario
    state: ReplicaState
    unserved: list[str] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(1234))
    # Told of every code the fake backend "sends": (masked recipient, code). `unbind --fixtures`
    # shows them in the terminal, so a person can walk a replica whose pages never show codes.
    on_code: Callable[[str, str], None] | None = None
    # The end of a redirect chain, kept for the navigation the browser makes to it.
    _replays: dict[str, tuple[Response, dict[str, str]]] = field(default_factory=dict)

    @classmethod
    def load(
        cls, platform: str, scenario: str = "default", directory: Path | None = None
    ) -> Replica:
        base = (directory or fixtures_dir()).resolve()
        folder = (base / platform).resolve()
        if not folder.is_relative_to(base):
            raise RecipeError(f"fixture folder for {platform!r} escapes {base}")
        spec = load_spec(folder / "replica.yaml")
        scen = _resolve_scenario(spec, scenario, folder / "replica.yaml")
        accounts = [
            Account(
                phone=parse_phone(a.phone, spec.region, require_mobile=False).e164
                if a.phone
                else None,
                password=a.password,
                name=a.name,
            )
            for a in (scen.accounts or [])
        ]
        state = ReplicaState(
            accounts=accounts,
            session=scen.logged_in,
            reauthenticated=bool(scen.recent_login and scen.logged_in is not None),
        )
        return cls(platform, folder, spec, scenario, scen, state)

    # ------------------------------------------------------------------ serving

    async def serve(self, route: Route) -> None:
        """Answer one intercepted request (the guard already checked its host).

        Playwright routes only the first request of a redirect chain: the browser's follow-up
        would bypass the replica and end at the guard's blackhole proxy. So the replica follows
        its own redirects, as a browser would (at most MAX_REDIRECTS hops, then the request
        fails like a redirect loop does). A navigation that ends elsewhere is sent there by a
        tiny page that replaces the location, and the final answer is kept for that request, so
        the page's URL is the one a real redirect leads to. A redirect to a URL the replica does
        not serve (an outside host) goes to the browser as it is, and the guard stops it.
        """
        from playwright.async_api import Error as PlaywrightError

        request = route.request
        if self.scenario.offline:
            with contextlib.suppress(PlaywrightError):
                await route.abort("namenotresolved")
            return
        replay = self._replays.pop(request.url, None) if request.method == "GET" else None
        if replay is not None:
            await _fulfill(route, replay[0], self.directory, replay[1])
            return
        asked: _Request = request
        for _hop in range(MAX_REDIRECTS + 1):
            answer = await self._answer(asked)
            if answer is None:  # the gate hangs: never answer
                return
            response, extra = answer
            if response is _CLOSE_CONTEXT:
                try:
                    await route.abort("failed")
                    await request.frame.page.context.close()
                except PlaywrightError:
                    pass
                return
            target = _redirect_target(asked.url, response)
            if target is None or self._match(_FollowUp(target)) is None:
                break
            asked = _FollowUp(target)
        else:
            with contextlib.suppress(PlaywrightError):  # a redirect loop
                await route.abort("failed")
            return
        if asked.url != request.url and request.is_navigation_request():
            self._replays[asked.url] = (response, extra)
            response, extra = _location_replace(asked.url), {}
        await _fulfill(route, response, self.directory, extra)

    async def _answer(self, request: _Request) -> tuple[Response, dict[str, str]] | None:
        """The replica's response to one request (None: the gate makes it hang)."""
        method, url = request.method, request.url
        parts = urlsplit(url)
        spec = self._match(request)
        if spec is None:
            if parts.path != "/favicon.ico":
                self.unserved.append(f"{method} {_without_query(url)}")
            return Response(status=404, body=f"replica has no route for {parts.path}"), {}
        gate = self.scenario.gates.get(spec.gate or "") if spec.gate else None
        delay = self.scenario.latency_ms + (gate.delay_ms if gate else 0)
        if delay:
            await asyncio.sleep(delay / 1000)
        if gate is not None and gate.hang:
            await asyncio.sleep(MAX_DELAY_MS / 1000)  # longer than any step may wait
            return None
        result, extra = self._gate_result(spec, gate)
        if result is None:
            result, extra = self._act(spec, request)
        self.state.log.append((method, parts.path, result))
        if result == "close_context":
            return _CLOSE_CONTEXT, {}
        return self._response(spec, result, extra), extra

    def _match(self, request: _Request) -> RouteSpec | None:
        """The first route for the request's method and URL whose `when` fields it carries."""
        url = _without_query(request.url)
        for spec in self.spec.routes:
            if spec.method.upper() != request.method.upper():
                continue
            if spec.url != url and not ("*" in spec.url and fnmatch.fnmatchcase(url, spec.url)):
                continue
            if spec.when is None or _carries(request, spec.when):
                return spec
        return None

    def _gate_result(self, spec: RouteSpec, gate: Gate | None) -> tuple[str | None, dict[str, str]]:
        if gate is None or spec.gate is None:
            return None, {}
        count = self.state.attempts.get(spec.gate, 0) + 1
        self.state.attempts[spec.gate] = count
        if gate.status is not None:
            return str(gate.status), {}
        if gate.rate_limit:
            return "rate_limited", {}
        if gate.risk and not self.state.risk_cleared:
            return "risk", {}
        wants_captcha = gate.captcha == "always" or (
            isinstance(gate.captcha, int) and count >= gate.captcha
        )
        if wants_captcha and not self.state.captcha_solved:
            return "captcha", {}
        if wants_captcha and not gate.captcha_once:
            self.state.captcha_solved = False  # one solve lets one request through
        return None, {}

    def _act(self, spec: RouteSpec, request: _Request) -> tuple[str, dict[str, str]]:
        if spec.page is not None or spec.action is None:
            return "page", {}
        fields = _request_fields(request)
        action = spec.action
        account = self._session_account()
        if spec.reauth:
            # Sensitive pages ask a signed-in person for their password again first.
            if account is None:
                return "not_logged_in", {}
            if not self.state.reauthenticated:
                return "reauth_required", {}
        if action == "lookup":
            phone = self._phone(fields.get(spec.phone))
            if phone is None:
                return "invalid", {}
            found = self._account_by_phone(phone)
            return ("found", _account_vars(found)) if found else ("missing", {})
        if action == "login":
            phone = self._phone(fields.get(spec.phone))
            found = self._account_by_phone(phone) if phone else None
            if found is None:
                return "no_account", {}
            if fields.get(spec.password) != found.password:
                return "bad_password", {}
            self.state.session = self.state.accounts.index(found)
            self.state.reauthenticated = True
            return "ok", _account_vars(found)
        if action == "reauth":
            if account is None:
                return "not_logged_in", {}
            if spec.password in fields:
                if fields[spec.password] != account.password:
                    return "bad_password", {}
            elif not self._code_ok(account.phone or "", fields.get(spec.code or "code")):
                return "bad_code", {}  # a security code sent to the account's number
            self.state.reauthenticated = True
            return "ok", _account_vars(account)
        if action == "login_code":
            phone = self._phone(fields.get(spec.phone))
            found = self._account_by_phone(phone) if phone else None
            if found is None or phone is None:
                return "no_account", {}
            if not self._code_ok(phone.e164, fields.get(spec.code or "code")):
                return "bad_code", {}
            self.state.session = self.state.accounts.index(found)
            self.state.reauthenticated = True
            return "ok", _account_vars(found)
        if action in ("send_code", "check_code"):
            if spec.to == "session":
                if account is None or not account.phone:
                    return "not_logged_in", {}
                e164 = account.phone
            else:
                phone = self._phone(fields.get(spec.phone))
                if phone is None:
                    return "invalid", {}
                e164 = phone.e164
            if action == "check_code":
                if not self._code_ok(e164, fields.get(spec.code or "code")):
                    return "bad_code", {}
                self.state.checked.add(e164)
                return "ok", {}
            code = f"{self.rng.randrange(10**6):06d}"
            self.state.codes[e164] = code
            if self.on_code is not None:
                self.on_code(_masked(e164), code)
            return "sent", {"code": code, "to_masked": mask_digits(_national_digits(e164))}
        if action == "change_phone":
            if account is None:
                return "not_logged_in", {}
            phone = self._phone(fields.get(spec.phone))
            if phone is None:
                return "invalid", {}
            if spec.old_checked and (account.phone or "") not in self.state.checked:
                return "old_not_checked", {}
            if not self._code_ok(phone.e164, fields.get(spec.code or "code")):
                return "bad_code", {}
            if spec.old_code and not self._code_ok(account.phone or "", fields.get(spec.old_code)):
                return "bad_old_code", {}
            if self._account_by_phone(phone) not in (None, account):
                return "taken", {}
            account.phone = phone.e164
            return "changed", _account_vars(account)
        if action == "unbind_phone":
            if account is None:
                return "not_logged_in", {}
            if spec.old_checked and (account.phone or "") not in self.state.checked:
                return "old_not_checked", {}
            if spec.code is not None and not self._code_ok(
                account.phone or "", fields.get(spec.code)
            ):
                return "bad_code", {}
            account.phone = None
            return "unbound", _account_vars(account)
        if action == "me":
            if account is None:
                return "not_logged_in", {}
            return ("ok" if account.phone else "no_phone"), _account_vars(account)
        if action == "logout":
            self.state.session = None
            return "ok", {}
        if action == "solve_captcha":
            self.state.captcha_solved = True
            return "ok", {}
        if action == "clear_risk":
            self.state.risk_cleared = True
            return "ok", {}
        if action == "redirect":
            return "redirect", {}
        if action == "close_context":
            return "close_context", {}
        raise AssertionError(f"unhandled replica action {action}")

    def _response(self, spec: RouteSpec, result: str, extra: dict[str, str]) -> Response:
        if result == "page":
            page = spec.page or ""
            return Response(page=self.scenario.pages.get(page, page))
        if result == "redirect":
            return spec.respond.get(result) or Response(status=302, location=spec.target)
        chosen = spec.respond.get(result)
        if chosen is not None:
            return chosen
        if result.isdigit():
            return Response(status=int(result), body=f"HTTP {result}")
        defaults = {"rate_limited": 429, "captcha": 200, "risk": 200}
        return Response(status=defaults.get(result, 200), json={"result": result, **extra})

    # ------------------------------------------------------------------ helpers

    def _phone(self, raw: str | None) -> PhoneNumber | None:
        if not raw:
            return None
        try:
            return parse_phone(raw, self.spec.region, require_mobile=False)
        except RecipeError:
            return None
        except Exception:
            return None

    def _account_by_phone(self, phone: PhoneNumber) -> Account | None:
        return next((a for a in self.state.accounts if a.phone == phone.e164), None)

    def _session_account(self) -> Account | None:
        index = self.state.session
        if index is None or not 0 <= index < len(self.state.accounts):
            return None
        return self.state.accounts[index]

    def _code_ok(self, e164: str, given: str | None) -> bool:
        expected = self.state.codes.get(e164)
        return bool(expected) and (given or "").strip() == expected


_CLOSE_CONTEXT = Response(status=204)  # marker: the action closes the browser context


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class _Request(Protocol):
    """What the replica reads of a request: Playwright's, or a redirect's follow-up."""

    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def post_data(self) -> str | None: ...
    @property
    def headers(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class _FollowUp:
    """The GET a browser makes after a redirect (no body)."""

    url: str
    method: str = "GET"
    post_data: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _redirect_target(url: str, response: Response) -> str | None:
    """Where a 3xx response sends the browser (absolute), or None."""
    location = response.location or response.headers.get("location")
    if not (300 <= response.status < 400) or not location:
        return None
    return urljoin(url, location)


def _location_replace(url: str) -> Response:
    """A page that sends the browser on to `url`, as the end of a redirect chain."""
    target = json.dumps(url).replace("<", "\\u003c")
    return Response(
        body=f"<!doctype html><meta charset=utf-8><script>location.replace({target})</script>"
    )


def _masked(e164: str) -> str:
    return parse_phone(e164, require_mobile=False).masked


def _carries(request: _Request, when: RouteWhen) -> bool:
    """Does the request hold every field value `when` names (JSON by dotted path, or form)?"""
    query = {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}
    if any(query.get(k) != _as_text(v) for k, v in when.query.items()):
        return False
    if not when.body:
        return True
    body = request.post_data or ""
    data: Any = None
    if body.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    form = {k: v[-1] for k, v in parse_qs(body).items()} if data is None else {}
    for path, wanted in when.body.items():
        if data is not None:
            value: Any = data
            for part in path.split("."):
                if isinstance(value, dict) and part in value:
                    value = value[part]
                elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                    value = value[int(part)]
                else:
                    return False
        elif path in form:
            value = form[path]
        else:
            return False
        if _as_text(value) != _as_text(wanted):
            return False
    return True


def _as_text(value: Any) -> str:
    """A field value as the page would send it: `true`, `3`, `bind_new`."""
    return value if isinstance(value, str) else json.dumps(value)


def _account_vars(account: Account) -> dict[str, str]:
    return {"masked": account.masked, "name": account.name}


def _request_fields(request: _Request) -> dict[str, str]:
    fields: dict[str, str] = {}
    for key, values in parse_qs(urlsplit(request.url).query).items():
        fields[key] = values[-1]
    body = request.post_data
    if body:
        content_type = (request.headers.get("content-type") or "").lower()
        if "json" in content_type or body.lstrip().startswith("{"):
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                fields.update({str(k): str(v) for k, v in data.items() if v is not None})
        else:
            for key, values in parse_qs(body).items():
                fields[key] = values[-1]
    return fields


def _substitute(value: Any, extra: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in extra.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, list):
        return [_substitute(v, extra) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, extra) for k, v in value.items()}
    return value


async def _fulfill(
    route: Route,
    response: Response,
    directory: Path | None = None,
    extra: dict[str, str] | None = None,
) -> None:
    from playwright.async_api import Error as PlaywrightError

    extra = extra or {}
    headers = dict(response.headers)
    body: bytes | str
    content_type = response.content_type
    if response.page is not None and directory is not None:
        path = (directory / response.page).resolve()
        if not path.is_relative_to(directory) or not path.is_file():
            body, content_type = f"replica page {response.page} is missing", "text/plain"
            response = Response(status=500)
        else:
            body = path.read_bytes()
            content_type = content_type or (
                mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            )
            if content_type.startswith("text/"):
                content_type += "; charset=utf-8"
    elif response.json_body is not None:
        body = json.dumps(_substitute(response.json_body, extra), ensure_ascii=False)
        content_type = content_type or "application/json; charset=utf-8"
    else:
        body = _substitute(response.body or "", extra)
        content_type = content_type or "text/html; charset=utf-8"
    if response.location:
        headers["location"] = response.location
    headers["content-type"] = content_type or "text/plain"
    with contextlib.suppress(PlaywrightError):  # the page went away while we answered
        await route.fulfill(status=response.status, headers=headers, body=body)


def load_spec(path: Path) -> ReplicaSpec:
    """Load and validate a replica.yaml."""
    return load_spec_with_lines(path)[0]


def load_spec_with_lines(path: Path) -> tuple[ReplicaSpec, dict[tuple[Any, ...], int]]:
    """A validated replica.yaml and its key paths' lines; errors name `file:line`."""
    from unbinder.recipe.load import nearest_line, yaml_with_lines
    from unbinder.recipe.safe_yaml import FileProblem, read_text

    try:
        text = read_text(path)  # a regular file only, its size checked before reading
    except FileProblem as problem:
        raise RecipeError(f"{path}:1: replica {problem.message}") from None
    except FileNotFoundError:
        raise RecipeError(
            f"{path}: no replica found.",
            hint="Create it: CONTRIBUTING.md, step 2 (docs/recipes.md, 'Replicas', has every key).",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: cannot read replica: {exc}") from None
    data, lines = yaml_with_lines(text, path)
    try:
        spec = ReplicaSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and "[" in p))
        where = ".".join(str(p) for p in loc) or "(top level)"
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif first["type"] == "missing":
            message = f"required key {loc[-1]!r} is missing"
        raise RecipeError(f"{path}:{nearest_line(lines, loc)}: {where}: {message}") from None

    def refuse(loc: tuple[Any, ...], page: str) -> None:
        raise RecipeError(
            f"{path}:{nearest_line(lines, loc)}: page {page!r} escapes the fixture folder"
        )

    for name, scenario in spec.scenarios.items():
        for key, page in scenario.pages.items():
            if ".." in Path(page).parts:
                refuse(("scenarios", name, "pages", key), page)
    for index, route in enumerate(spec.routes):
        if route.page and ".." in Path(route.page).parts:
            refuse(("routes", index, "page"), route.page)
        for result, resp in route.respond.items():
            if resp.page and ".." in Path(resp.page).parts:
                refuse(("routes", index, "respond", result), resp.page)
    return spec, lines


def pages_used(spec: ReplicaSpec) -> list[tuple[tuple[Any, ...], str]]:
    """Every page file the replica serves, with where in replica.yaml it is named."""
    used: list[tuple[tuple[Any, ...], str]] = []
    for index, route in enumerate(spec.routes):
        if route.page:
            used.append((("routes", index, "page"), route.page))
        for result, resp in route.respond.items():
            if resp.page:
                used.append((("routes", index, "respond", result), resp.page))
    for name, scenario in spec.scenarios.items():
        for key, page in scenario.pages.items():
            used.append((("scenarios", name, "pages", key), page))
    return used


def _resolve_scenario(spec: ReplicaSpec, name: str, path: Path) -> Scenario:
    if name not in spec.scenarios:
        known = ", ".join(sorted(spec.scenarios))
        raise RecipeError(f"{path}: no scenario {name!r} (known: {known})")
    scenario = spec.scenarios[name]
    seen = {name}
    while scenario.extends:
        parent_name = scenario.extends
        if parent_name in seen or parent_name not in spec.scenarios:
            raise RecipeError(
                f"{path}: scenario {name!r} extends unknown or circular {parent_name!r}"
            )
        seen.add(parent_name)
        parent = spec.scenarios[parent_name]
        scenario = Scenario(
            extends=parent.extends,
            accounts=scenario.accounts if scenario.accounts is not None else parent.accounts,
            logged_in=scenario.logged_in if scenario.logged_in is not None else parent.logged_in,
            recent_login=scenario.recent_login
            if scenario.recent_login is not None
            else parent.recent_login,
            gates={**parent.gates, **scenario.gates},
            latency_ms=scenario.latency_ms or parent.latency_ms,
            pages={**parent.pages, **scenario.pages},
        )
    return scenario
