"""Evidence in the person's language: a sentence of ours around what the page itself said.

The engine records its evidence as data, in English (`Evidence.rule` / `.matched`, a step's
failure, a reason, an audit's note); the JSON and the trail keep it so. For a table or a report
in another language, `evidence_text` says the same in that language: what was seen (`text
'已注册'` becomes 页面显示“已注册”: the page's own words stay as they were, quoted), and our own
rules and reasons; a recipe's rule is the recipe author's English, so it is left out there.
What it does not recognise is shown as recorded. English gets the recorded summary unchanged.
Ids, selector names and values read from a response are put in `backticks`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import Any

from unbinder.i18n.translate import N_, SOURCE_LANG, say

_QUOTED = r"(?P<quote>'.*'|\".*\")"
Said = Callable[[re.Match[str], str], str]

# The outcome kinds a person is needed for (vocab.HumanKind), as a person reads them.
KINDS = {
    "captcha": N_("captcha"),
    "sms_code": N_("SMS code"),
    "login": N_("login"),
    "risk_control": N_("security check"),
    "identity": N_("identity check"),
    "bot_wall": N_("bot wall"),
    "other": N_("another check"),
    "network": N_("network"),
}


def _kind(kind: str, lang: str) -> str:
    return say(KINDS[kind], lang) if kind in KINDS else f"`{kind}`"


def _quote(match: re.Match[str]) -> str:
    try:
        return str(ast.literal_eval(match["quote"]))
    except (ValueError, SyntaxError):
        return match["quote"][1:-1]


# What was seen (engine/conditions.py, engine/runner.py), in recorded form -> in words.
SEEN: list[tuple[str, Said]] = [
    (
        rf"text {_QUOTED}",
        lambda m, lang: say("the page shows “{quote}”", lang, quote=_quote(m)),
    ),
    (r"URL (?P<url>\S+)", lambda m, lang: say("the page's address is {url}", lang, url=m["url"])),
    (
        r"HTTP status (?P<status>\d+)",
        lambda m, lang: say("the platform answered HTTP {status}", lang, status=m["status"]),
    ),
    (
        r"(?P<name>[\w.-]+) is visible",
        lambda m, lang: say("`{name}` appears on the page", lang, name=m["name"]),
    ),
    (
        r"(?P<name>[\w.-]+) is not visible",
        lambda m, lang: say("`{name}` is not on the page", lang, name=m["name"]),
    ),
    (
        rf"variable (?P<name>\S+) = {_QUOTED}",
        lambda m, lang: say("`{name}` reads “{quote}”", lang, name=m["name"], quote=_quote(m)),
    ),
    (
        r"response (?P<method>[A-Z]+) (?P<url>\S+) HTTP (?P<status>\d+)",
        lambda m, lang: say(
            "the platform's answer to {method} {url} was HTTP {status}",
            lang,
            method=m["method"],
            url=m["url"],
            status=m["status"],
        ),
    ),
    (
        r"response (?P<method>[A-Z]+) (?P<url>\S+): (?P<value>.+)",
        lambda m, lang: say(
            "the platform's answer to {method} {url} holds `{value}`",
            lang,
            method=m["method"],
            url=m["url"],
            value=m["value"],
        ),
    ),
    (r"negated condition holds", lambda m, lang: say("the opposite condition holds", lang)),
    (
        r"the platform shows (?P<number>\S+)",
        lambda m, lang: say("the platform shows {number}", lang, number=m["number"]),
    ),
]

# Our own rules, reasons and notes (engine/runner.py, jobs/audit.py, jobs/unbind.py) -> in
# words, the more specific first. A recipe's own rule matches none of them.
OURS: list[tuple[str, Said]] = [
    (
        r"the platform now shows (?P<number>\S+)",
        lambda m, lang: say("the platform now shows {number}", lang, number=m["number"]),
    ),
    (
        r"the platform shows (?P<number>\S+), which fits both numbers: check by hand, then "
        r"record it with `unbinder mark`",
        lambda m, lang: say(
            "the platform shows {number}, which fits both numbers: check by hand, then record "
            "it with `unbinder mark`",
            lang,
            number=m["number"],
        ),
    ),
    (
        r"the platform shows (?P<number>\S+), which is neither number: check by hand",
        lambda m, lang: say(
            "the platform shows {number}, which is neither number: check by hand",
            lang,
            number=m["number"],
        ),
    ),
    (
        r"(?P<why>.+); the platform still shows the old number \((?P<number>\S+)\)",
        lambda m, lang: say(
            "{why}; the platform still shows the old number ({number})",
            lang,
            why=_said(OURS, m["why"], lang) or m["why"],
            number=m["number"],
        ),
    ),
    (
        r"the platform still shows the old number \((?P<number>\S+)\)",
        lambda m, lang: say(
            "the platform still shows the old number ({number})", lang, number=m["number"]
        ),
    ),
    (
        r"(?P<why>.+); the platform still shows (?P<number>\S+)",
        lambda m, lang: say(
            "{why}; the platform still shows {number}",
            lang,
            why=_said(OURS, m["why"], lang) or m["why"],
            number=m["number"],
        ),
    ),
    (
        r"the platform shows no number bound any more",
        lambda m, lang: say("the platform shows no number bound any more", lang),
    ),
    (
        r"the platform shows no number at all after the change: check by hand",
        lambda m, lang: say(
            "the platform shows no number at all after the change: check by hand", lang
        ),
    ),
    (
        r"the platform shows no number bound to this account, so (?P<old>\S+ \S+) is not bound "
        r"to it: nothing was sent or changed",
        lambda m, lang: say(
            "the platform shows no number bound to this account, so {old} is not bound to it: "
            "nothing was sent or changed",
            lang,
            old=m["old"],
        ),
    ),
    (
        r"mask mismatch: the platform shows (?P<shown>\S+), which cannot be (?P<old>\S+ \S+): "
        r"check that you are logged in to the right account and gave the number bound to it; "
        r"nothing was changed",
        lambda m, lang: say(
            "the platform shows {shown}, which cannot be {old}: check that you are logged in to "
            "the right account and gave the number bound to it; nothing was changed",
            lang,
            shown=m["shown"],
            old=m["old"],
        ),
    ),
    (
        r"(?P<name>.+) has no unbind: the recipe says so",
        lambda m, lang: say(
            "{name} offers no way to remove the number (the recipe says so)", lang, name=m["name"]
        ),
    ),
    (
        r"the number the platform shows cannot be the number given \(mask mismatch\)",
        lambda m, lang: say(
            "the number the platform shows cannot be the number given (the masks differ)", lang
        ),
    ),
    (
        r"the flow needs a person: (?P<kind>\w+)",
        lambda m, lang: say("a person is needed: {kind}", lang, kind=_kind(m["kind"], lang)),
    ),
    (
        r"the page said the code was wrong (?P<count>\d+) time\(s\)",
        lambda m, lang: say(
            "the page said the code was wrong {count} time(s)", lang, count=m["count"]
        ),
    ),
    (
        r"the platform answered with an error page, which is never a verdict",
        lambda m, lang: say(
            "the platform answered with an error page, which never proves anything", lang
        ),
    ),
    (
        r"no detect rule matched within (?P<seconds>[\d.]+)s.*",
        lambda m, lang: say(
            "the page said nothing the recipe knows within {seconds} s", lang, seconds=m["seconds"]
        ),
    ),
    (
        r"the page did not load: .*",
        lambda m, lang: say("the page did not load", lang),
    ),
    (
        r"HTTP (?P<status>\d+)",
        lambda m, lang: say("the platform answered HTTP {status}", lang, status=m["status"]),
    ),
    (
        r"no one finished the (?P<kind>\w+) step in time",
        lambda m, lang: say(
            "no one finished the {kind} step in time", lang, kind=_kind(m["kind"], lang)
        ),
    ),
    (
        r"the (?P<kind>\w+) field stayed empty",
        lambda m, lang: say("the {kind} field stayed empty", lang, kind=_kind(m["kind"], lang)),
    ),
    (
        r"the (?P<kind>\w+) step was not completed",
        lambda m, lang: say("the {kind} step was not completed", lang, kind=_kind(m["kind"], lang)),
    ),
    (r"every step ran", lambda m, lang: say("every step ran", lang)),
    (
        r"the user declined the confirmation",
        lambda m, lang: say("you declined the confirmation", lang),
    ),
    (r"no one to confirm the change", lambda m, lang: say("no one was there to confirm", lang)),
    (
        r"no automated check on the web",
        lambda m, lang: say("no automated check on the web", lang),
    ),
    (
        r"skipped: this check (?P<what>.+)",
        lambda m, lang: say("skipped: this check {what}", lang, what=_effects(m["what"], lang)),
    ),
    (
        r"checked recently; next check allowed after (?P<when>.+)",
        lambda m, lang: say(
            "checked recently; the next check is allowed after {when}", lang, when=m["when"]
        ),
    ),
]

EFFECTS = {
    "sends an SMS to the number": N_("sends an SMS to the number"),
    "notifies the account owner": N_("notifies the account owner"),
}


def _effects(what: str, lang: str) -> str:
    parts = [say(EFFECTS[p], lang) if p in EFFECTS else p for p in what.split(" and ")]
    return say(" and ", lang).join(parts)


def _said(table: list[tuple[str, Said]], text: str, lang: str) -> str | None:
    for pattern, words in table:
        match = re.fullmatch(pattern, text.strip(), flags=re.DOTALL)
        if match:
            return words(match, lang)
    return None


def seen_text(matched: str, lang: str) -> str | None:
    """What was seen, in `lang` (None: not a form we know)."""
    whole = _said(SEEN, matched, lang)
    if whole is not None or " and " not in matched:
        return whole
    parts = [_said(SEEN, part, lang) for part in matched.split(" and ")]
    return say(" and ", lang).join(p for p in parts if p) if all(parts) else None


def failure_text(failure: Mapping[str, Any], lang: str) -> str:
    """A step that could not be done, in `lang`."""
    error = str(failure.get("error") or "")
    timeout = re.fullmatch(
        r"no alternative of selector '(?P<name>[^']+)' became visible within (?P<s>[\d.]+)s.*",
        error,
        flags=re.DOTALL,
    )
    step = say(
        "step {step} (`{description}`) could not be done",
        lang,
        step=failure.get("step", "?"),
        description=failure.get("description", ""),
    )
    if timeout:
        why = say(
            "`{name}` did not appear on the page within {seconds} s",
            lang,
            name=timeout["name"],
            seconds=timeout["s"],
        )
        return say("{what}: {why}", lang, what=step, why=why)
    return step


def evidence_text(
    recorded: str,
    lang: str,
    *,
    evidence: Mapping[str, Any] | None = None,
    failure: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> str:
    """The evidence of one outcome in `lang`; `recorded` is its summary as recorded (English).

    `evidence` is `Evidence.to_dict()` (rule, matched), `failure` the outcome's failure dict,
    `reason` its reason or an audit's note: whichever decided the summary.
    """
    if lang == SOURCE_LANG:
        return recorded
    if evidence and evidence.get("matched") is not None:
        rule = _said(OURS, str(evidence.get("rule") or ""), lang)
        seen = seen_text(str(evidence["matched"]), lang)
        if seen is None:
            seen = _said(OURS, str(evidence["matched"]), lang)
        if rule and seen:
            return say("{what}: {why}", lang, what=rule, why=seen)
        return rule or seen or recorded
    if failure:
        return failure_text(failure, lang)
    if reason:
        return _said(OURS, reason, lang) or recorded
    return recorded


def recipe_text(english: str, loaded: Any, lang: str) -> str:
    """A recipe's text the trail recorded in English (a hand-off's prompt, a confirmation), in
    `lang` when the recipe (`LoadedRecipe`) says it there; the masked numbers it named kept."""
    if lang == SOURCE_LANG or loaded is None:
        return english
    for text in _localized(loaded.recipe):
        if not text.zh_CN:
            continue
        pattern = re.escape(text.en)
        for name in ("phone", "new_phone"):
            pattern = pattern.replace(re.escape(f"{{{name}.masked}}"), f"(?P<{name}>.+?)")
        match = re.fullmatch(pattern, english)
        if match:
            said: str = text.get(lang)
            for name, value in match.groupdict().items():
                said = said.replace(f"{{{name}.masked}}", value)
            return said
    return english


def _localized(node: Any) -> Any:
    from pydantic import BaseModel

    from unbinder.recipe.model import Localized

    if isinstance(node, Localized):
        yield node
    elif isinstance(node, BaseModel):
        for value in node.__dict__.values():
            yield from _localized(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _localized(value)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _localized(value)
