"""Is a verdict's condition specific? A rule that can match any page proves nothing (promise 3).

`bound` and `not_bound` need positive evidence: a text, URL or response that the recipe names.
A condition that holds on every page (an empty `all`, a blank text, a pattern that matches the
empty string or every URL, a bare HTTP status, a selector such as `css: body`) would turn any
page, an error page included, into a verdict. `match_all_reason` says why a condition is such a
one (None: it names something); lint and load refuse verdict rules for which it says anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from unbinder.recipe.model import Alternative, Condition, ResponseMatch, VarMatch
from unbinder.recipe.patterns import PatternError, matches_empty, url_matches

# Addresses of unrelated pages (every page a flow visits is http(s)): a URL pattern matching
# all of them, or the empty string, matches any page.
PROBE_URLS = (
    "",
    "https://unbinder.invalid/",
    "https://probe.invalid/some/path?query=1#fragment",
    "http://other.invalid:8080/x",
)
_ANY_CSS = {"*", "html", "body", ":root", "html > body", "html body", "body *", "head", "div"}
_ANY_XPATH = {"/*", "//*", "/html", "//html", "//body", "/html/body", "//div", "."}


def match_all_reason(
    cond: Condition, selectors: Mapping[str, Sequence[Alternative]] = {}
) -> str | None:
    """Why `cond` can hold on any page, or None when it names something specific."""
    kind = cond.kind
    if kind == "text":
        texts = [cond.text] if isinstance(cond.text, str) else list(cond.text or [])
        if not texts:
            return "an empty `text` list matches any page"
        if any(not t.strip() for t in texts):
            return "an empty or blank `text` matches any page"
        return None
    if kind == "regex":
        return _regex_reason(cond.regex or "", "`regex`")
    if kind == "url":
        return _url_reason(cond.url or "")
    if kind == "response":
        assert cond.response is not None
        return _response_reason(cond.response)
    if kind == "status":
        return (
            "a bare HTTP status holds on any page with that status: combine it with a URL, "
            "text or response in `all`"
        )
    if kind == "var":
        assert cond.var is not None
        return _var_reason(cond.var)
    if kind in ("hidden", "not_"):
        return "the absence of something is no evidence (it holds on almost any page)"
    if kind == "visible":
        return _selector_reason(cond.visible or "", selectors)
    if kind == "any":
        if not cond.any:
            return "an empty `any` never holds"
        for sub in cond.any:
            reason = match_all_reason(sub, selectors)
            if reason:
                return f"one branch of `any` can match any page: {reason}"
        return None
    # all: specific as soon as one member names something.
    if not cond.all:
        return "an empty `all` holds on any page"
    reasons = [match_all_reason(sub, selectors) for sub in cond.all]
    if all(reasons):
        return "no member of `all` names something specific: " + "; ".join(
            dict.fromkeys(r for r in reasons if r)
        )
    return None


def _regex_reason(pattern: str, what: str) -> str | None:
    try:
        empty = matches_empty(pattern)
    except PatternError:
        return None  # refused at load for its own reason
    return f"{what} {pattern!r} matches the empty string, so any text" if empty else None


def _url_reason(pattern: str) -> str | None:
    try:
        if url_matches(pattern, "") or all(url_matches(pattern, url) for url in PROBE_URLS[1:]):
            return f"the URL pattern {pattern!r} matches any URL"
    except PatternError:
        return None
    return None


def _response_reason(spec: ResponseMatch) -> str | None:
    url = _url_reason(spec.url)
    if url is None:
        return None
    if spec.matches is not None:
        reason = _regex_reason(spec.matches, "`matches`")
        return f"{url}, and {reason}" if reason else None
    values = (spec.json_path, spec.equals, spec.one_of, spec.exists)
    if all(v is None for v in values):
        extra = " with only a status" if spec.status is not None else ""
        return f"a response{extra} from any URL ({url})"
    return None


def _var_reason(spec: VarMatch) -> str | None:
    if spec.matches is not None:
        return _regex_reason(spec.matches, "`matches`")
    if spec.exists is False:
        return "the absence of a variable is no evidence"
    return None


def _selector_reason(name: str, selectors: Mapping[str, Sequence[Alternative]]) -> str | None:
    for index, alt in enumerate(selectors.get(name, ())):
        reason = _alternative_reason(alt)
        if reason:
            return f"selector {name!r}, alternative {index + 1}: {reason}"
    return None


def _alternative_reason(alt: Alternative) -> str | None:
    kind = alt.kind
    if kind == "text":
        texts = [alt.text] if isinstance(alt.text, str) else list(alt.text or [])
        if not texts or any(not t.strip() for t in texts):
            return "an empty or blank text matches any element"
    if kind == "regex":
        return _regex_reason(alt.regex or "", "`regex`")
    if kind in ("label", "placeholder", "testid") and not (getattr(alt, kind) or "").strip():
        return f"an empty `{kind}` matches any element"
    if kind == "css" and " ".join((alt.css or "").split()).lower() in _ANY_CSS:
        return f"css {alt.css!r} is on every page"
    if kind == "xpath" and (alt.xpath or "").strip() in _ANY_XPATH:
        return f"xpath {alt.xpath!r} is on every page"
    if kind == "role" and alt.role in ("document", "generic", "main") and not alt.name:
        return f"role {alt.role!r} without a name is on every page"
    return None


__all__ = ["PROBE_URLS", "match_all_reason"]
