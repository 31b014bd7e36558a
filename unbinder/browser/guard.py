"""The domain guard: a browser context may reach only its recipe's domains (promise 1).

Two layers, because Playwright's `route()` sees only the first request of a redirect chain:

1. `install_route_guard` adds a route handler to the context: a request to a host outside the
   recipe's domains is aborted and recorded; allowed requests go to the replica (fixture mode) or on
   to the network.
2. Every context is created with a proxy that points at `Blackhole`, a local proxy in this process
   that refuses everything. Only the recipe's domains bypass it (none in fixture mode), so redirect
   follow-ups, beacons and preconnects to any other host end there, without a DNS lookup.
   The page's failed requests (and the proxy's 403 answers to plain-http ones) are recorded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from unbinder.redact import redact

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Request, Route, WebSocket
    from playwright.async_api import Response as PlaywrightResponse

MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True)
class BlockedRequest:
    """A request the guard refused."""

    host: str
    reason: str  # "outside the recipe's domains"
    via: str  # "route" (first hop), "proxy" (redirect, beacon, preconnect...), "websocket"
    url: str | None = None  # redacted; None when only the host is known

    def describe(self) -> str:
        where = self.url or self.host
        return f"blocked {where} ({self.reason}, via {self.via})"


def host_allowed(host: str, domains: Sequence[str]) -> bool:
    """Is `host` one of `domains` or a subdomain of one?"""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def without_query(url: str) -> str:
    """The URL's scheme, host and path; `?…` where a query was (the fragment goes too)."""
    parts = urlsplit(url)
    tail = "?…" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}{tail}"


def _redacted_url(url: str) -> str:
    """The URL without its query and fragment (numbers hide there), then redacted."""
    return redact(without_query(url))


@dataclass
class DomainGuard:
    """What one context may reach, and what it was refused."""

    domains: tuple[str, ...]
    fixture_mode: bool = False
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    blocked: list[BlockedRequest] = field(default_factory=list)

    def allows(self, host: str | None) -> bool:
        return bool(host) and host_allowed(host or "", self.domains)

    def record(self, host: str, via: str, url: str | None = None) -> None:
        entry = BlockedRequest(
            host=host,
            reason="outside the recipe's domains",
            via=via,
            url=_redacted_url(url) if url else None,
        )
        if all((b.host, b.url) != (entry.host, entry.url) for b in self.blocked):
            self.blocked.append(entry)

    def proxy_settings(self, server: str) -> dict[str, str]:
        """Playwright `proxy=` for a context guarded by this guard."""
        settings = {"server": server, "username": self.token, "password": "unbinder"}
        if not self.fixture_mode and self.domains:
            settings["bypass"] = ",".join(f"{d},.{d}" for d in self.domains)
        return settings


class Blackhole:
    """A local HTTP proxy that refuses every request and records which context asked for what."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._guards: dict[str, DomainGuard] = {}
        self.refused: list[str] = []  # every host refused, for diagnostics
        self.port = 0

    @property
    def server_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def attach(self, guard: DomainGuard) -> None:
        self._guards[guard.token] = guard

    def detach(self, guard: DomainGuard) -> None:
        self._guards.pop(guard.token, None)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            asyncio.TimeoutError,
            OSError,
        ):
            writer.close()
            return
        lines = head[:MAX_HEADER_BYTES].decode("latin-1").split("\r\n")
        request_line = lines[0].split(" ")
        target = request_line[1] if len(request_line) > 1 else ""
        host = _proxy_target_host(target)
        token = _proxy_token(lines[1:])
        if token is None:
            # Chromium sends the context's credentials only after a 407 challenge.
            response = (
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="unbinder"\r\nContent-Length: 0\r\n\r\n'
            )
        else:
            # Refused; the page's own request events record it (see install_route_guard).
            # Chromium's internal probes (captive-portal checks after a failure) end here too.
            self.refused.append(host)
            response = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        try:
            writer.write(response)
            await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


def _proxy_target_host(target: str) -> str:
    if target.startswith("http://") or target.startswith("https://"):
        return (urlsplit(target).hostname or "").lower()
    return target.rsplit(":", 1)[0].strip("[]").lower()  # CONNECT host:port


def _proxy_token(header_lines: list[str]) -> str | None:
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "proxy-authorization":
            scheme, _, encoded = value.strip().partition(" ")
            if scheme.lower() != "basic":
                return None
            try:
                user = base64.b64decode(encoded).decode("utf-8", "replace")
            except ValueError:
                return None
            return user.split(":", 1)[0]
    return None


# A replica (fixture mode) answers allowed requests; live mode lets them through.
RequestHandler = Callable[["Route"], Awaitable[None]]


async def install_route_guard(
    context: BrowserContext, guard: DomainGuard, serve: RequestHandler | None
) -> None:
    """Route every request of `context` through the guard (and the replica, if `serve`)."""

    async def on_route(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            await route.continue_()
            return
        host = (parts.hostname or "").lower()
        if not guard.allows(host):
            guard.record(host, "route", url)
            await _quietly(route.abort("blockedbyclient"))
            return
        if serve is not None:
            await serve(route)
        else:
            await _quietly(route.continue_())

    def on_websocket(ws: WebSocket) -> None:
        # A websocket to an outside host goes to the blackhole like any other connection (the
        # proxy refuses its CONNECT); the page's event gives its URL for the record. Not
        # `route_web_socket`: that injects a websocket mock and a binding into every page, 2-3 %
        # of an audit's CPU (docs/performance.md).
        host = (urlsplit(ws.url).hostname or "").lower()
        if host and not guard.allows(host):
            guard.record(host, "websocket", ws.url)

    def on_request_failed(request: Request) -> None:
        # Redirect follow-ups and beacons to outside hosts fail at the blackhole proxy.
        host = (urlsplit(request.url).hostname or "").lower()
        if host and not guard.allows(host):
            guard.record(host, "proxy", request.url)

    def on_response(response: PlaywrightResponse) -> None:
        # A plain-http request through the proxy gets the blackhole's 403 as its response.
        host = (urlsplit(response.url).hostname or "").lower()
        if host and not guard.allows(host):
            guard.record(host, "proxy", response.url)

    await context.route("**/*", on_route)
    context.on("page", lambda page: page.on("websocket", on_websocket))
    context.on("requestfailed", on_request_failed)
    context.on("response", on_response)


async def _quietly(action: Awaitable[None]) -> None:
    """Route calls fail once the page or context has gone; that is not the guard's problem."""
    from playwright.async_api import Error as PlaywrightError

    with contextlib.suppress(PlaywrightError):
        await action
