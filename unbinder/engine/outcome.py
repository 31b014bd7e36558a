"""What a flow run ends with: a status backed by evidence (promise 3)."""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from unbinder.browser.guard import BlockedRequest
from unbinder.vocab import FlowName, FlowStatus, OutcomeKind

# Chromium's words for a request that never reached a server: no name, no route, no connection,
# no TLS. The platform said nothing, so the outcome is `unknown` of kind `network`.
_NETWORK_ERRORS = re.compile(
    r"net::ERR_(NAME_NOT_RESOLVED|NAME_RESOLUTION_FAILED|INTERNET_DISCONNECTED|"
    r"ADDRESS_UNREACHABLE|NETWORK_CHANGED|NETWORK_ACCESS_DENIED|CONNECTION_(REFUSED|RESET|"
    r"CLOSED|FAILED|TIMED_OUT|ABORTED)|TIMED_OUT|SSL_\w+|CERT_\w+|QUIC_PROTOCOL_ERROR|"
    r"PROXY_CONNECTION_FAILED)\b"
)


def network_failure(message: str) -> bool:
    """Does this browser error say the network failed (not the page, not the recipe)?"""
    return _NETWORK_ERRORS.search(message) is not None


@dataclass(frozen=True)
class Evidence:
    """Why the flow ended as it did: the rule and what matched, where."""

    rule: str  # the recipe's words: what the match proves
    matched: str  # what was seen: "text '已注册'", "response .../api/check data.exists == true"
    url: str  # page URL, redacted
    selector: str | None = None  # "result_text, alternative 2 (placeholder='...')"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "matched": self.matched,
            "url": self.url,
            "selector": self.selector,
        }


@dataclass(frozen=True)
class Screenshot:
    """A PNG kept in memory; it reaches disk only encrypted (trail blobs)."""

    name: str
    png: bytes
    url: str


@dataclass(frozen=True)
class StepFailure:
    """The step that could not be done: where in the flow, which selector, what happened."""

    path: str  # "3", "2.then.1"
    step: str
    selector: str | None
    error: str

    def describe(self) -> str:
        sel = f" (selector {self.selector})" if self.selector else ""
        return f"step {self.path} `{self.step}`{sel}: {self.error}"


@dataclass(frozen=True)
class Outcome:
    """The result of running one flow of one recipe."""

    platform: str
    flow: FlowName
    status: FlowStatus  # check/verify: a CheckStatus; change/unbind: a ChangeStatus
    kind: OutcomeKind | None = None
    evidence: Evidence | None = None
    degraded: bool = False
    warnings: tuple[str, ...] = ()
    blocked: tuple[BlockedRequest, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)
    screenshots: tuple[Screenshot, ...] = ()
    failure: StepFailure | None = None
    steps_ms: tuple[tuple[str, float], ...] = ()
    total_ms: float = 0.0
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    reason: str | None = None  # for not_done / unknown: why, in words
    # A change or unbind: the verify flow run in the same page before the steps (what the
    # platform showed) and after them (the read-back that decides `done`).
    before: Outcome | None = None
    readback: Outcome | None = None

    def summary(self) -> str:
        """One line for tables: the evidence, the failure or the reason."""
        if self.evidence is not None:
            return f"{self.evidence.rule}: {self.evidence.matched}"
        if self.failure is not None:
            return self.failure.describe()
        return self.reason or ""

    def to_dict(self, *, screenshots: bool = False) -> dict[str, Any]:
        """A JSON-able form (screenshots as names unless asked for base64)."""
        data: dict[str, Any] = {
            "platform": self.platform,
            "flow": self.flow,
            "status": self.status,
            "kind": self.kind,
            "evidence": self.evidence.to_dict() if self.evidence else None,
            "degraded": self.degraded,
            "warnings": list(self.warnings),
            "blocked": [
                {"host": b.host, "reason": b.reason, "via": b.via, "url": b.url}
                for b in self.blocked
            ],
            "variables": dict(self.variables),
            "failure": None
            if self.failure is None
            else {
                "step": self.failure.path,
                "description": self.failure.step,
                "selector": self.failure.selector,
                "error": self.failure.error,
            },
            "reason": self.reason,
            "timings": {
                "total_ms": round(self.total_ms, 1),
                "steps": [{"step": s, "ms": round(ms, 1)} for s, ms in self.steps_ms],
            },
            "started_at": self.started_at.isoformat(timespec="seconds"),
        }
        if screenshots:
            data["screenshots"] = [
                {"name": s.name, "url": s.url, "png_base64": base64.b64encode(s.png).decode()}
                for s in self.screenshots
            ]
        else:
            data["screenshots"] = [s.name for s in self.screenshots]
        return data
