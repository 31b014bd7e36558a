"""Every closed set of words the tool uses, defined once, typed for mypy.

Each vocabulary is a `Literal` type; the tuple beside it is derived from the type, never written
again, so a new word is added in one place and `mypy --strict` rejects a word that is not in it.
The words are identifiers (in recipes, the trail, JSON); what a person reads is in `i18n/`.
"""

from __future__ import annotations

from typing import Literal, get_args

# What a check or verify flow ends with. `bound` / `not_bound` need a rule's evidence (promise 3).
CheckStatus = Literal["bound", "not_bound", "needs_human", "rate_limited", "unknown", "error"]
# A change or unbind flow ends `done` (its result is then read back) or `not_done`.
ChangeStatus = Literal["done", "not_done", "needs_human", "rate_limited", "unknown", "error"]
FlowStatus = Literal[CheckStatus, ChangeStatus]
Verdict = Literal["bound", "not_bound"]
# Outcomes that stop a flow whatever else matches: a person or patience is needed.
Blocker = Literal["needs_human", "rate_limited"]

# Why a person is needed (an outcome's `kind`, a `human` step's kind).
HumanKind = Literal["captcha", "sms_code", "login", "risk_control", "identity", "bot_wall", "other"]
# An outcome's kind: why a person is needed, or `network` (DNS, connection, TLS: no answer at all).
OutcomeKind = Literal[HumanKind, "network"]

# A platform's line in an audit: an engine outcome, or why no check ran.
AuditStatus = Literal[
    "bound",
    "not_bound",
    "needs_human",
    "rate_limited",
    "unknown",
    "error",
    "manual",  # no automated check: the person follows the recipe's steps
    "skipped",  # the check has side effects and they were not allowed
    "throttled",  # checked too recently (the recipe's min_interval)
]
# Audit outcomes that are the platform's own answer (what "checked" counts), those that came back
# without one, and those that wait for a person.
AUTOMATIC: tuple[AuditStatus, ...] = ("bound", "not_bound")
NO_ANSWER: tuple[AuditStatus, ...] = ("unknown", "error")
NEEDS_PERSON: tuple[AuditStatus, ...] = ("needs_human", "rate_limited")
# The order an audit's table lists them: still bound, then what needs the person, what got no
# answer, what is left to do by hand or skipped, and last what is fine.
URGENCY: tuple[AuditStatus, ...] = (
    "bound",
    *NEEDS_PERSON,
    *NO_ANSWER,
    "manual",
    "skipped",
    "throttled",
    "not_bound",
)
# Audit outcomes a login may improve on (`audit --login` runs the recipe's verify flow for them).
LOGIN_WORTHY: tuple[AuditStatus, ...] = ("manual", "skipped", "needs_human", "rate_limited")
# How a platform was checked: its anonymous page, or the person's login (`audit --login`).
CheckedVia = Literal["check", "login"]
# Answers that start a recipe's minimum interval: the platform was asked and said something.
# A failure, a timeout, the network or a hand-off to a person leave it checkable at once.
THROTTLING: tuple[CheckStatus, ...] = ("bound", "not_bound", "rate_limited")

# What `unbinder unbind` reports for one platform.
UnbindResult = Literal["changed", "unbound", "not_done", "needs_human", "error"]
UnbindMode = Literal["change", "unbind"]
# What a person may record by hand with `unbinder mark`.
MarkStatus = Literal["changed", "unbound", "not_bound", "bound"]

# A platform's state in the report, in the order it lists them (what needs doing first).
PlatformState = Literal[
    "bound",
    "needs_human",
    "rate_limited",
    "unknown",
    "error",
    "not_done",
    "manual",
    "skipped",
    "throttled",
    "changed",
    "unbound",
    "not_bound",
]
# Which states end the matter for a platform, and which are a platform's answer either way.
DONE_STATES: tuple[PlatformState, ...] = ("not_bound", "changed", "unbound")
CONCLUSIVE_STATES: tuple[PlatformState, ...] = ("bound", "not_bound", "changed", "unbound")
# A platform's state in `unbinder status`: the report's, or not checked by any run yet.
StatusState = Literal[PlatformState, "not_checked"]

# How much of a recipe rests on public sources (recipe/confidence.py decides).
Confidence = Literal["sourced", "partly", "assumed"]

# A recipe's own state, and what it is about.
RecipeStatus = Literal["working", "degraded", "broken", "unverified"]
FlowName = Literal["check", "verify", "change", "unbind"]
Category = Literal[
    "payment",
    "bank",
    "shopping",
    "delivery",
    "social",
    "messaging",
    "travel",
    "government",
    "email",
    "search",
    "video",
    "work",
    "other",
]
# How hard a platform makes it to change or remove the bound number (rated as JustDeleteMe rates
# deleting an account): `impossible` when the number cannot be changed or removed at all.
Difficulty = Literal["easy", "medium", "hard", "impossible"]
# Where the verification codes go when the number is changed: the old number, the new one, both,
# none (no code, e.g. a password or an ID check), or unknown (no source says).
CodesTo = Literal["old", "new", "both", "none", "unknown"]

CHECK_STATUSES: tuple[CheckStatus, ...] = get_args(CheckStatus)
CHANGE_STATUSES: tuple[ChangeStatus, ...] = get_args(ChangeStatus)
FLOW_STATUSES: tuple[FlowStatus, ...] = get_args(FlowStatus)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
BLOCKERS: tuple[Blocker, ...] = get_args(Blocker)
AUDIT_STATUSES: tuple[AuditStatus, ...] = get_args(AuditStatus)
UNBIND_MODES: tuple[UnbindMode, ...] = get_args(UnbindMode)
MARK_STATUSES: tuple[MarkStatus, ...] = get_args(MarkStatus)
PLATFORM_STATES: tuple[PlatformState, ...] = get_args(PlatformState)
RECIPE_STATUSES: tuple[RecipeStatus, ...] = get_args(RecipeStatus)
CONFIDENCES: tuple[Confidence, ...] = get_args(Confidence)
FLOW_NAMES: tuple[FlowName, ...] = get_args(FlowName)
CATEGORIES: tuple[Category, ...] = get_args(Category)
DIFFICULTIES: tuple[Difficulty, ...] = get_args(Difficulty)
CODES_TO: tuple[CodesTo, ...] = get_args(CodesTo)


def check_status(status: FlowStatus) -> CheckStatus:
    """A check or verify flow's status as a CheckStatus (a change flow's words read as error)."""
    for word in CHECK_STATUSES:
        if word == status:
            return word
    return "error"
