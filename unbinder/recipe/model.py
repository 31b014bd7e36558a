"""The recipe models: what a recipe may say, as frozen pydantic models.

A recipe is a YAML file (`recipes/<id>.yaml`) describing, for one platform, how to find out
whether a number is still bound and how to change or remove the binding. `load.py` reads the file
safely and validates it against these models (errors name `file:line`); `schema.py` publishes
them as the JSON Schema editors use. Everything downstream gets these frozen models, never dicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from unbinder.recipe import hosts
from unbinder.recipe.confidence import Sourcing
from unbinder.recipe.names import (
    DATE_RE,
    ID_PATTERN,
    REGION_RE,
    SOURCE_ID_RE,
    did_you_mean,
)
from unbinder.recipe.patterns import check_regex, check_url_pattern
from unbinder.vocab import (
    BLOCKERS,
    CODES_TO,
    DIFFICULTIES,
    FLOW_NAMES,
    VERDICTS,
    Category,
    CheckStatus,
    CodesTo,
    Difficulty,
    FlowName,
    HumanKind,
    RecipeStatus,
)

MAX_STEP_TIMEOUT = 120.0
MAX_FLOW_TIMEOUT = 900.0
MAX_HUMAN_TIMEOUT = 1800.0
MAX_RETRIES = 5
MAX_TOTAL_BACKOFF = 600.0  # seconds an audit may wait on one platform's rate limits
LOCAL_SUFFIXES = hosts.LOCAL_SUFFIXES
DOMAIN_PATTERN = hosts.DOMAIN_PATTERN

LOCALES = ("en", "zh-CN")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\.([a-zA-Z0-9_]+)\}")
PHONE_FIELDS = ("e164", "national", "national_digits", "country_code", "masked")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Loc = tuple[Any, ...]  # a key path as the file spells it: ("flows", "check", "detect", 0)


def _date(value: Any, *, nullable: bool = False) -> Any:
    """A date as people write it (YAML reads an unquoted 2025-06-01 as a date) -> YYYY-MM-DD."""
    import datetime as dt

    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and not DATE_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a date: write YYYY-MM-DD" + (" (or null)" if nullable else "")
        )
    return value


# --------------------------------------------------------------------------- sources


class Source(_Model):
    """A public page or file that shows what the recipe relies on, and when it was read.

    Exactly one of `url`, or `repo` + `path` (+ `commit`): a help-center article, a public script
    that drives the platform's page, an issue thread.
    """

    url: str | None = Field(default=None, description="the page, http(s)://...")
    repo: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9_.\-]+$",
        description="a public repository, owner/name (with `path`)",
    )
    path: str | None = Field(default=None, description="a file of `repo`")
    commit: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{7,40}$", description="the commit of `repo` read"
    )
    read: str = Field(description="the date it was read, YYYY-MM-DD")
    shows: str = Field(min_length=1, description="one line: what it shows")

    @field_validator("read", mode="before")
    @classmethod
    def _read(cls, value: Any) -> Any:
        return _date(value)

    @field_validator("shows")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if not value.strip() or "\n" in value.strip():
            raise ValueError("`shows` is one line saying what the source shows")
        return value

    @model_validator(mode="after")
    def _one_place(self) -> Source:
        if (self.url is None) == (self.repo is None and self.path is None):
            raise ValueError("a source has exactly one of `url`, or `repo` with `path`")
        if self.url is not None and not self.url.startswith(("https://", "http://")):
            raise ValueError(f"{self.url!r} is not a page address (https://...)")
        if (self.repo is None) != (self.path is None):
            raise ValueError("`repo` and `path` go together (owner/name, and a file in it)")
        if self.commit is not None and self.repo is None:
            raise ValueError("`commit` goes with `repo` and `path`")
        return self

    def describe(self) -> str:
        if self.url is not None:
            return self.url
        return f"{self.repo}/{self.path}" + (f"@{self.commit}" if self.commit else "")


class _Cited(_Model):
    """What can say where it comes from: a detect rule, a step, a selector alternative, a manual
    flow. Either `source` (ids of `sources:`) or `assumed: true` (no public source shows it)."""

    source: str | list[str] | None = Field(
        default=None, description="the id (or ids) under `sources:` that show this"
    )
    assumed: bool = Field(default=False, description="no public source shows this (yet)")

    @model_validator(mode="after")
    def _source_or_assumed(self) -> _Cited:
        if self.source is not None and self.assumed:
            raise ValueError(
                "`source` and `assumed: true` exclude each other: cite a source, or mark it assumed"
            )
        if self.source == []:
            raise ValueError("`source` names at least one id of `sources:`")
        return self

    @property
    def cites(self) -> tuple[str, ...]:
        """The source ids cited (none when assumed or unsaid)."""
        if self.source is None:
            return ()
        return (self.source,) if isinstance(self.source, str) else tuple(self.source)


# --------------------------------------------------------------------------- text


class Localized(_Model):
    """A text in English and (optionally) Simplified Chinese."""

    en: str
    zh_CN: str | None = Field(default=None, alias="zh-CN")

    def get(self, lang: str) -> str:
        if lang.lower().startswith("zh") and self.zh_CN:
            return self.zh_CN
        return self.en


class LocalizedList(_Model):
    """A list of lines (steps) in English and (optionally) Simplified Chinese."""

    en: list[str]
    zh_CN: list[str] | None = Field(default=None, alias="zh-CN")

    def get(self, lang: str) -> list[str]:
        if lang.lower().startswith("zh") and self.zh_CN:
            return self.zh_CN
        return self.en


# --------------------------------------------------------------------------- selectors

_LOCATOR_KINDS = ("role", "label", "placeholder", "text", "regex", "testid", "css", "xpath")


class Alternative(_Cited):
    """One way to find an element. Exactly one locator kind; `frame` looks inside an iframe."""

    role: str | None = None
    name: str | None = Field(default=None, description="accessible name, with `role`")
    exact: bool = False
    label: str | None = None
    placeholder: str | None = None
    text: str | list[str] | None = None
    regex: str | None = Field(default=None, description="text matching this regular expression")
    testid: str | None = None
    css: str | None = None
    xpath: str | None = None
    frame: str | None = Field(default=None, description="CSS selector of the iframe to look in")
    nth: int | None = Field(default=None, ge=0, le=50)

    @model_validator(mode="after")
    def _one_kind(self) -> Alternative:
        kinds = [k for k in _LOCATOR_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "a selector alternative needs exactly one of "
                + ", ".join(_LOCATOR_KINDS)
                + (f" (found {', '.join(kinds)})" if kinds else "")
            )
        if self.name is not None and self.role is None:
            raise ValueError("`name` goes with `role`")
        if self.regex is not None:
            check_regex(self.regex, in_page=True)
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _LOCATOR_KINDS if getattr(self, k) is not None)

    def describe(self) -> str:
        kind = self.kind
        value = getattr(self, kind)
        text = f"{kind}={value!r}"
        if kind == "role" and self.name:
            text += f" name={self.name!r}"
        if self.frame:
            text += f" in frame {self.frame!r}"
        return text


def _url_pattern(value: str | None) -> str | None:
    """A URL glob or `re:` regex the engine can run (RE2: linear time), checked at load."""
    return check_url_pattern(value) if value is not None else None


def _regex(value: str | None) -> str | None:
    return check_regex(value) if value is not None else None


# --------------------------------------------------------------------------- conditions


class ResponseMatch(_Model):
    """A network response: URL pattern, and optionally its status and a JSON value."""

    url: str = Field(description="glob (`**/api/check*`) or regex (`re:...`) of the URL")
    status: int | list[int] | None = None
    json_path: str | None = Field(
        default=None, alias="json", description="dotted path, e.g. data.exists"
    )
    equals: Any = None
    one_of: list[Any] | None = Field(default=None, alias="in")
    matches: str | None = None
    exists: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url_pattern(value)

    @field_validator("matches")
    @classmethod
    def _matches(cls, value: str | None) -> str | None:
        return _regex(value)


class VarMatch(_Model):
    """A variable extracted earlier in the flow."""

    name: str
    equals: str | None = None
    matches: str | None = None
    exists: bool | None = None

    @field_validator("matches")
    @classmethod
    def _matches(cls, value: str | None) -> str | None:
        return _regex(value)


class Condition(_Model):
    """Something that holds on the page now: exactly one kind."""

    visible: str | None = Field(default=None, description="selector name")
    hidden: str | None = Field(default=None, description="selector name")
    text: str | list[str] | None = Field(default=None, description="text on the page (any of)")
    regex: str | None = None
    frame: str | None = Field(default=None, description="with text/regex: the iframe to look in")
    url: str | None = Field(default=None, description="glob or `re:` regex of the page URL")
    response: ResponseMatch | None = None
    var: VarMatch | None = None
    status: int | list[int] | None = Field(default=None, description="HTTP status of the page")
    any: list[Condition] | None = None
    all: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [k for k in CONDITION_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "a condition needs exactly one of visible, hidden, text, regex, url, response, "
                "var, status, any, all, not" + (f" (found {', '.join(kinds)})" if kinds else "")
            )
        if self.frame is not None and kinds[0] not in ("text", "regex"):
            raise ValueError("`frame` goes with `text` or `regex`")
        if self.regex is not None:
            check_regex(self.regex, in_page=True)
        _url_pattern(self.url)
        return self

    @property
    def kind(self) -> str:
        return next(k for k in CONDITION_KINDS if getattr(self, k) is not None)


CONDITION_KINDS = (
    "visible",
    "hidden",
    "text",
    "regex",
    "url",
    "response",
    "var",
    "status",
    "any",
    "all",
    "not_",
)


# --------------------------------------------------------------------------- steps


class _StepBase(_Cited):
    optional: bool = Field(default=False, description="a failure of this step is not an error")
    label: str | None = Field(default=None, description="shown in progress and errors")
    timeout: float | None = Field(default=None, gt=0, le=MAX_STEP_TIMEOUT, description="seconds")
    sends: Literal["sms", "email"] | None = Field(
        default=None,
        description="this step makes the platform send an SMS or email: --dry-run stops before it",
    )


class Target(_Model):
    target: str = Field(description="selector name")


class GotoArgs(_Model):
    url: str
    wait_until: Literal["commit", "domcontentloaded", "load", "networkidle"] = "domcontentloaded"


class FillArgs(_Model):
    target: str
    value: str


class ClickArgs(_Model):
    target: str
    destructive: bool = Field(default=False, description="irreversible: needs a confirm before it")
    popup: bool = Field(default=False, description="the click opens a window; continue in it")
    force: bool = False


class PressArgs(_Model):
    key: str
    target: str | None = None


class SelectArgs(_Model):
    target: str
    value: str


class ExtractArgs(_Model):
    into: str
    target: str | None = None
    attribute: str | None = None
    regex: str | None = Field(default=None, description="keep group 1 (or the whole match)")
    response: ResponseMatch | None = None

    @model_validator(mode="after")
    def _source(self) -> ExtractArgs:
        if (self.target is None) == (self.response is None):
            raise ValueError("extract needs exactly one of `target` or `response`")
        _regex(self.regex)
        return self


class WaitResponseArgs(_Model):
    url: str
    status: int | list[int] | None = None
    json_path: str | None = Field(default=None, alias="json")
    into: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url_pattern(value)


class IfArgs(_Model):
    condition: Condition
    then: list[Step] = Field(min_length=1)
    else_: list[Step] = Field(default_factory=list, alias="else")


class RetryArgs(_Model):
    times: int = Field(ge=1, le=MAX_RETRIES)
    steps: list[Step] = Field(min_length=1)
    until: Condition
    delay: float = Field(default=1.0, ge=0, le=30)


class HumanArgs(_Model):
    kind: HumanKind
    prompt: Localized
    until: Condition | None = Field(default=None, description="resume when this holds")
    timeout: float = Field(default=600, gt=0, le=MAX_HUMAN_TIMEOUT)
    field: str | None = Field(
        default=None, description="selector of the input typed into: Enter while empty asks again"
    )
    submit: str | None = Field(
        default=None, description="selector the tool clicks once the person is done (Next)"
    )
    wrong: Condition | None = Field(
        default=None, description="the page says the code was wrong: ask again (needs `until`)"
    )
    attempts: int = Field(
        default=3, ge=1, le=MAX_RETRIES, description="with `wrong`: tries before `not_done`"
    )

    @model_validator(mode="after")
    def _wrong_needs_until(self) -> HumanArgs:
        if self.wrong is not None and self.until is None:
            raise ValueError(
                "`wrong` needs `until`: what the page shows once the code was accepted"
            )
        return self


class ConfirmArgs(_Model):
    action: Localized


class ScreenshotArgs(_Model):
    name: str = Field(pattern=r"^[a-z0-9_\-]{1,40}$")
    full_page: bool = False


class ExpectArgs(_Model):
    condition: Condition
    message: str | None = None


class OutcomeArgs(_Model):
    status: str
    kind: HumanKind | None = None
    note: str | None = None


# Each step is a mapping with exactly one of these action keys plus the common keys.
STEP_KINDS = (
    "goto",
    "fill",
    "click",
    "press",
    "select",
    "check",
    "wait_for",
    "wait_for_url",
    "wait_for_response",
    "extract",
    "if",
    "retry",
    "human",
    "confirm",
    "screenshot",
    "expect",
    "outcome",
)


class Step(_StepBase):
    """One step: exactly one of the action keys, plus `optional`, `label`, `timeout`."""

    goto: str | GotoArgs | None = None
    fill: FillArgs | None = None
    click: str | ClickArgs | None = None
    press: PressArgs | None = None
    select: SelectArgs | None = None
    check: str | Target | None = None
    wait_for: Condition | None = None
    wait_for_url: str | None = None
    wait_for_response: WaitResponseArgs | None = None
    extract: ExtractArgs | None = None
    if_: IfArgs | None = Field(default=None, alias="if")
    retry: RetryArgs | None = None
    human: HumanArgs | None = None
    confirm: ConfirmArgs | None = None
    screenshot: str | ScreenshotArgs | None = None
    expect: ExpectArgs | None = None
    outcome: OutcomeArgs | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_action(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("a step is a mapping with one action key, e.g. {click: submit}")
        actions = [k for k in data if k in STEP_KINDS]
        unknown = [k for k in data if k not in STEP_KINDS and k not in _StepBase.model_fields]
        if unknown:
            hint = did_you_mean(str(unknown[0]), STEP_KINDS)
            raise ValueError(f"unknown step {unknown[0]!r}{hint}")
        if len(actions) != 1:
            raise ValueError(
                "a step needs exactly one action key"
                + (f" (found {', '.join(actions)})" if actions else f" ({', '.join(STEP_KINDS)})")
            )
        return data

    @field_validator("wait_for_url")
    @classmethod
    def _wait_url(cls, value: str | None) -> str | None:
        return _url_pattern(value)

    @property
    def action(self) -> str:
        for key in STEP_KINDS:
            if getattr(self, "if_" if key == "if" else key) is not None:
                return key
        raise AssertionError("validated step without an action")

    @property
    def args(self) -> Any:
        return getattr(self, "if_" if self.action == "if" else self.action)

    def describe(self) -> str:
        if self.label:
            return self.label
        args = self.args
        if isinstance(args, str):
            return f"{self.action} {args}"
        target = getattr(args, "target", None) or getattr(args, "url", None) or ""
        return f"{self.action} {target}".strip()


# --------------------------------------------------------------------------- flows


class SideEffects(_Model):
    """What running a flow does to the world besides reading."""

    sends_sms: bool = False
    notifies_owner: bool = False
    destructive: bool = False

    def any(self) -> bool:
        return self.sends_sms or self.notifies_owner or self.destructive

    def names(self) -> list[str]:
        return [n for n in ("sends_sms", "notifies_owner", "destructive") if getattr(self, n)]


class Rule(_Cited):
    """A detect rule: when the condition holds, the flow ends with this outcome."""

    when: Condition
    # A change or unbind flow's rules may say `not_done` (or `unknown`) with their own evidence;
    # `done` comes only from the read-back (the verify flow), never from a rule.
    outcome: CheckStatus | Literal["not_done"]
    kind: HumanKind | None = None
    evidence: str = Field(description="what the match proves, for the report")

    @property
    def is_blocker(self) -> bool:
        """Captchas, risk control, rate limits and bot walls win over verdicts."""
        return self.outcome in BLOCKERS


class Flow(_Model):
    """A browser flow: steps, then a race of detect rules."""

    description: Localized | None = None
    side_effects: SideEffects = SideEffects()
    requires_login: bool = False
    timeout: float = Field(default=90, gt=0, le=MAX_FLOW_TIMEOUT, description="seconds, whole flow")
    detect_timeout: float = Field(default=15, gt=0, le=MAX_STEP_TIMEOUT)
    steps: list[Step] = Field(default_factory=list)
    detect: list[Rule] = Field(default_factory=list)

    def walk(self) -> Iterator[Step]:
        """Every step, nested ones included, in order."""
        for _, step in walk_steps(self.steps, ()):
            yield step


def walk_steps(steps: Iterable[Step], base: Loc) -> Iterator[tuple[Loc, Step]]:
    """Every step with its key path under `base`, nested ones (if, retry) included, in order."""
    for index, step in enumerate(steps):
        loc = (*base, index)
        yield loc, step
        if step.if_ is not None:
            yield from walk_steps(step.if_.then, (*loc, "if", "then"))
            yield from walk_steps(step.if_.else_, (*loc, "if", "else"))
        if step.retry is not None:
            yield from walk_steps(step.retry.steps, (*loc, "retry", "steps"))


class ManualFlow(_Cited):
    """Steps a person follows where the web offers no way (app-only platforms)."""

    why: Localized | None = None
    url: str | None = None
    steps: LocalizedList


class NoUnbind(_Cited):
    """The platform cannot remove the number from an account (every account keeps one)."""

    why: Localized


class Flows(_Model):
    check: Flow | None = None
    verify: Flow | None = None
    change: Flow | None = None
    unbind: Flow | None = None
    manual: ManualFlow | None = None
    no_unbind: NoUnbind | None = Field(
        default=None, description="the platform has no way to remove a number, and why"
    )

    @model_validator(mode="after")
    def _unbind_or_not(self) -> Flows:
        if self.unbind is not None and self.no_unbind is not None:
            raise ValueError("`unbind` and `no_unbind` exclude each other: keep the one that holds")
        return self

    def automated(self) -> dict[str, Flow]:
        return {n: f for n in FLOW_NAMES if (f := getattr(self, n)) is not None}


class Limits(_Model):
    min_interval: float = Field(
        default=3600, ge=0, le=30 * 86400, description="seconds between checks of one number"
    )
    max_retries: int = Field(default=2, ge=0, le=MAX_RETRIES, description="on rate_limited")
    backoff: float = Field(default=5, ge=0, le=300, description="seconds, doubled each retry")

    @model_validator(mode="after")
    def _bounded_waiting(self) -> Limits:
        # Each retry doubles the wait; what they add up to is what holds up an audit.
        total = self.backoff * (2**self.max_retries - 1)
        if total > MAX_TOTAL_BACKOFF:
            raise ValueError(
                f"max_retries {self.max_retries} with backoff {self.backoff:g}s would wait "
                f"{total:g}s in all (the wait doubles each retry); keep it within "
                f"{MAX_TOTAL_BACKOFF:g}s"
            )
        return self


class NumberChange(_Cited):
    """How hard the platform makes it to change or remove the number, where, and what it takes:
    what `recipes list|show`, `plan` and the report tell a person about to give up a number."""

    difficulty: Difficulty = Field(
        description="easy, medium, hard or impossible: changing or removing the number"
    )
    settings_url: str | None = Field(
        default=None, description="the settings page where the number is changed, http(s)://..."
    )
    codes_to: CodesTo = Field(
        description="where the verification codes go when changing: old, new, both, none, unknown"
    )
    waiting: Localized | None = Field(
        default=None, description="waiting periods and review times, if any"
    )

    @field_validator("difficulty", mode="before")
    @classmethod
    def _difficulty(cls, value: Any) -> Any:
        return _word(value, "difficulty", DIFFICULTIES)

    @field_validator("codes_to", mode="before")
    @classmethod
    def _codes_to(cls, value: Any) -> Any:
        return _word(value, "codes_to", CODES_TO)

    @field_validator("settings_url")
    @classmethod
    def _settings_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not a page address (https://...)")
        return value


def _word(value: Any, key: str, words: tuple[str, ...]) -> Any:
    """A word of a closed list, or a ValueError naming the closest one (did you mean...)."""
    if isinstance(value, str) and value not in words:
        hint = did_you_mean(value, words)
        raise ValueError(f"unknown {key} {value!r}{hint}; use one of {', '.join(words)}")
    return value


class TestExpect(_Model):
    outcome: str
    kind: HumanKind | None = None
    evidence: str | None = Field(default=None, description="substring of the evidence")
    degraded: bool | None = None
    vars: dict[str, str] | None = None
    blocked: list[str] | None = Field(default=None, description="hosts the guard must block")
    state: dict[str, Any] | None = Field(default=None, description="replica state after the flow")


class HumanScript(_Model):
    """What the scripted human does at each hand-off in a test (steps on the replica)."""

    login: list[Step] | None = None
    sms_code: list[Step] | None = None
    captcha: list[Step] | None = None
    identity: list[Step] | None = None
    risk_control: list[Step] | None = None
    other: list[Step] | None = None
    confirm: bool = True

    def scripts(self) -> dict[str, list[Step]]:
        """The steps for each kind of hand-off that has some, by kind."""
        return {
            name: steps
            for name in type(self).model_fields
            if name != "confirm" and (steps := getattr(self, name))
        }


class RecipeTest(_Model):
    name: str
    flow: FlowName = "check"
    scenario: str = "default"
    phone: str
    new_phone: str | None = None
    region: str | None = None
    human: HumanScript | None = None
    expect: TestExpect


class Recipe(_Model):
    """One platform."""

    schema_ref: str | None = Field(default=None, alias="$schema")
    id: str = Field(pattern=ID_PATTERN)
    name: Localized
    regions: list[str] = Field(min_length=1)
    category: Category = "other"
    harm: int = Field(default=3, ge=1, le=5, description="5: money or identity at stake")
    homepage: str
    domains: list[str] = Field(default_factory=list)
    status: RecipeStatus = "unverified"
    last_verified: str | None = None
    maintainers: list[str] = Field(default_factory=list)
    demo: bool = Field(default=False, description="a built-in offline demo platform")
    notes: Localized | None = None
    sources: dict[str, Source] = Field(
        default_factory=dict,
        description="the public pages and files this recipe rests on, by a short id",
    )
    selectors: dict[str, list[Alternative]] = Field(default_factory=dict)
    flows: Flows
    limits: Limits = Limits()
    number_change: NumberChange | None = Field(
        default=None,
        description="how hard it is to change or remove the number, where, and what it takes",
    )
    tests: list[RecipeTest] = Field(default_factory=list)

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        # Their shape and what they may be: _public_domains, with recipe/hosts.py.
        return value

    @field_validator("last_verified", mode="before")
    @classmethod
    def _last_verified(cls, value: Any) -> Any:
        return _date(value, nullable=True)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for r in value:
            if not REGION_RE.fullmatch(r):
                raise ValueError(f"{r!r} is not a region (use CN, US, GB... or GLOBAL)")
        return value

    @field_validator("selectors")
    @classmethod
    def _selectors(cls, value: dict[str, list[Alternative]]) -> dict[str, list[Alternative]]:
        for name, alts in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name):
                raise ValueError(f"selector name {name!r} must be lower_snake_case")
            if not alts:
                raise ValueError(f"selector {name!r} has no alternatives")
        return value

    @field_validator("sources")
    @classmethod
    def _source_ids(cls, value: dict[str, Source]) -> dict[str, Source]:
        for name in value:
            if not SOURCE_ID_RE.fullmatch(name):
                raise ValueError(
                    f"source id {name!r} must be short lower_snake or kebab case (github_help)"
                )
        return value

    @field_validator("domains")
    @classmethod
    def _public_domains(cls, value: list[str]) -> list[str]:
        # Live checks reach the recipe's domains directly (they bypass the guard's proxy): an IP
        # address or a local name would let a recipe reach this machine or the local network,
        # and a public suffix would allow every site under it (recipe/hosts.py).
        for d in value:
            problem = hosts.host_problem(d)
            if problem:
                raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _has_flow(self) -> Recipe:
        if not self.flows.automated() and self.flows.manual is None:
            raise ValueError(
                "a recipe needs at least one flow (check, verify, change, unbind, manual)"
            )
        if self.domains == [] and self.flows.automated():
            raise ValueError("a recipe with browser flows must list its `domains`")
        return self

    def allows_host(self, host: str) -> bool:
        """Is `host` one of the recipe's domains or a subdomain of one?"""
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def verdict_rules(self) -> Iterator[tuple[Loc, Rule]]:
        """Every detect rule giving `bound` or `not_bound`, with its key path."""
        for name, flow in self.flows.automated().items():
            for index, rule in enumerate(flow.detect):
                if rule.outcome in VERDICTS:
                    yield ("flows", name, "detect", index), rule

    def sourcing(self) -> Sourcing:
        """How many verdict rules cite a source: what the recipe's confidence says."""
        rules = [rule for _, rule in self.verdict_rules()]
        manual = self.flows.manual
        return Sourcing(
            verdict_rules=len(rules),
            sourced_rules=sum(bool(rule.cites) for rule in rules),
            manual_sourced=manual is not None and bool(manual.cites),
        )

    def citations(self) -> Iterator[tuple[Loc, tuple[str, ...]]]:
        """Every `source:` of the recipe: its key path and the source ids it names."""
        cited: list[tuple[Loc, _Cited]] = []
        for name, alts in self.selectors.items():
            cited += [(("selectors", name, index), alt) for index, alt in enumerate(alts)]
        for name, flow in self.flows.automated().items():
            cited += walk_steps(flow.steps, ("flows", name, "steps"))
            cited += [(("flows", name, "detect", i), rule) for i, rule in enumerate(flow.detect)]
        if self.flows.manual is not None:
            cited.append((("flows", "manual"), self.flows.manual))
        if self.flows.no_unbind is not None:
            cited.append((("flows", "no_unbind"), self.flows.no_unbind))
        if self.number_change is not None:
            cited.append((("number_change",), self.number_change))
        for index, test in enumerate(self.tests):
            for kind, steps in (test.human.scripts() if test.human else {}).items():
                cited += walk_steps(steps, ("tests", index, "human", kind))
        for loc, item in cited:
            if item.cites:
                yield (*loc, "source"), item.cites


# Recursive models need their forward references resolved.
for _model in (Condition, IfArgs, RetryArgs, Step, Flow, HumanScript):
    _model.model_rebuild()
