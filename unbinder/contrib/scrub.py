"""Scrub recorded pages and HAR logs of personal data before they reach disk.

`unbinder recipes record` saves what a contributor saw on a real site as fixtures that may be
committed. Before anything is written, everything personal is replaced by an obvious placeholder
such as `[scrubbed:phone]`:

- phone numbers: the contributor's own in every written form (separators, `+CC`, `00CC`, URL
  encoding), and anything shaped like a CN mobile, a North American or an international number;
- cookies, and the values of Cookie, Set-Cookie, Authorization and token-like headers;
- tokens: JWT-like strings, long hex and base64 strings, csrf/session/ticket fields, hidden
  inputs' values, and every value of a request body (field names are kept);
- emails, ID and card numbers, and any literal the caller names (what the person typed).

`find_leaks` then looks again with independent checks (digits with every separator and tag
removed), and the recorder refuses to write a file in which it still finds something.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from unbinder.phone import PhoneNumber

PHONE = "[scrubbed:phone]"
EMAIL = "[scrubbed:email]"
TOKEN = "[scrubbed:token]"  # noqa: S105 - a placeholder, not a secret
COOKIE = "[scrubbed:cookie]"
SECRET = "[scrubbed:secret]"  # noqa: S105 - a placeholder, not a secret
NUMBER = "[scrubbed:number]"
TYPED = "[scrubbed:typed]"
VALUE = "[scrubbed:value]"
PERSONAL = "[scrubbed:personal]"

# What pages and people put between the digits of a number (URL-encoded ones included).
_SEP = r"(?:[\s\-.()\u00a0\u3000]|%20|%2[dD]|\+)"
_PLUS = r"(?:\+|%2[bB]|00)"

_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
_CN_MOBILE = re.compile(
    rf"(?<![\d.])(?=[\d+%])(?:{_PLUS}?86{_SEP}{{0,2}})?1[3-9]\d(?:{_SEP}{{0,2}}\d){{8}}(?!\d)"
)
_NANP = re.compile(
    rf"(?<![\d.])(?=[\d+%(])(?:{_PLUS}?1{_SEP}{{0,2}})?\(?[2-9]\d{{2}}\)?{_SEP}{{0,2}}[2-9]\d{{2}}"
    rf"{_SEP}{{0,2}}\d{{4}}(?!\d)"
)
_INTL = re.compile(
    rf"(?<![\w.+%])(?=[+%0]){_PLUS}[1-9]\d{{0,2}}{_SEP}{{0,2}}\(?(?:\d\)?{_SEP}{{0,2}}){{6,13}}\d(?!\d)"
)
_GROUPED = re.compile(r"(?<![\w.])\d{2,4}(?:[\s\-]\d{3,4}){1,2}[\s\-]\d{4}(?![\w])")
_CARD = re.compile(r"(?<![\w.])\d{4}(?:[\s\-]\d{4}){2,3}(?:[\s\-]\d{1,4})?(?![\w])")
_ID_NUMBER = re.compile(r"(?<![\w])\d{17}[\dXx](?![\w])")
_LONG_DIGITS = re.compile(r"(?<![\w])\d{15,19}(?![\w])")
_HEX = re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])")
_B64 = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{32,}={0,2}(?![A-Za-z0-9+/_\-=])")

_CREDENTIAL_WORDS = (
    r"csrf|xsrf|token|sess|auth|secret|passw(?:or)?d|pwd|ticket|nonce|"
    r"signature|sign|apikey|api_key|access_?key|cookie|otp|captcha|verify_?code|sms_?code|vcode"
)
_PERSONAL_WORDS = (
    r"phone|mobile|msisdn|tel|email|e-mail|mail|account|user_?name|username|login|nick_?name|"
    r"real_?name|id_?card|idno|birth"
)
_SECRET_KEY = re.compile(
    rf"(?i)^(?:[\w\-.]*(?:{_CREDENTIAL_WORDS})[\w\-.]*|(?:[\w.]*[_\-.])?(?:sid|sig|sk|ak|st))$"
)
_PERSONAL_KEY = re.compile(rf"(?i)^[\w\-.]*(?:{_PERSONAL_WORDS})[\w\-.]*$")
_KEY = r"[A-Za-z_$][\w\-$.]*"
# "key": "value" and key: 'value' / key = "value" (JSON, JS objects and assignments)
_QUOTED_PAIR = re.compile(rf"""(["']?)({_KEY})\1(\s*[:=]\s*)(["'])((?:\\.|(?!\4).)*)\4""")
# key=value in URLs, form bodies and cookie strings
_URL_PAIR = re.compile(r"(?<![\w\-.%])([\w\-.%\[\]]+)=([^&#;\s\"'<>]*)")
_COOKIE_JS = re.compile(r"""(document\.cookie\s*=\s*)(["'`])(.*?)\2""")
_TAG = re.compile(r"<(input|meta|textarea|option)\b([^>]*)>", re.I)
_ATTR = re.compile(r"""([^\s=/>"']+)(?:(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_KEEP_INPUT_TYPES = {"submit", "button", "reset", "image", "checkbox", "radio"}

SENSITIVE_HEADERS = {
    "cookie",
    "set-cookie",
    "authorization",
    "proxy-authorization",
    "x-csrf-token",
    "x-xsrf-token",
    "x-auth-token",
    "x-api-key",
}


def _looks_random(candidate: str) -> bool:
    """A base64-ish run that is a token, not a word or a path."""
    body = candidate.rstrip("=")
    digits = sum(c.isdigit() for c in body)
    upper = sum(c.isupper() for c in body)
    lower = sum(c.islower() for c in body)
    if body.count("/") > len(body) // 8:
        return False  # a path such as /static/js/..., not a token
    if digits and upper and lower:
        return True
    return digits >= len(body) // 4 and (upper or lower) > 0


def _number_pattern(phone: PhoneNumber) -> re.Pattern[str]:
    """Every written form of one number: any separators, with or without +CC/00CC/trunk 0."""
    cc = str(phone.country_code)
    digits = f"{_SEP}{{0,3}}".join(phone.national_digits)
    return re.compile(
        rf"(?<!\d)(?=[\d+%(])(?:{_PLUS}?{cc}{_SEP}{{0,3}})?(?:\(?0\)?{_SEP}{{0,2}})?\(?{digits}(?!\d)"
    )


def _quote_attr(value: str, quote_char: str) -> str:
    return f"{quote_char}{value}{quote_char}"


@dataclass
class Scrubber:
    """Replaces personal data in text, HTML, JSON and HAR; keeps structure and field names."""

    phones: Sequence[PhoneNumber] = ()
    secrets: Sequence[str] = ()  # literals to remove wherever they appear (what was typed)
    _phone_patterns: list[re.Pattern[str]] = field(default_factory=list, init=False, repr=False)
    _literals: list[str] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self._phone_patterns = [_number_pattern(p) for p in self.phones]
        literals: set[str] = set()
        for raw in self.secrets:
            secret = raw.strip()
            if len(secret) >= 4:  # shorter ones would eat ordinary words and digits
                literals |= {secret, quote(secret, safe=""), quote_plus(secret)}
        self._literals = sorted(literals, key=len, reverse=True)

    # ------------------------------------------------------------------ text

    def text(self, text: str) -> str:
        """Plain text, scripts, URLs: every rule, the most specific first."""
        for literal in self._literals:
            text = text.replace(literal, TYPED)
        for pattern in self._phone_patterns:
            text = pattern.sub(PHONE, text)
        text = _JWT.sub(TOKEN, text)
        text = _EMAIL.sub(EMAIL, text)
        text = _COOKIE_JS.sub(lambda m: f"{m.group(1)}{m.group(2)}{COOKIE}{m.group(2)}", text)
        text = _QUOTED_PAIR.sub(self._quoted_pair, text)
        text = _URL_PAIR.sub(self._url_pair, text)
        text = _ID_NUMBER.sub(NUMBER, text)
        text = _CARD.sub(NUMBER, text)
        for pattern in (_CN_MOBILE, _INTL, _NANP, _GROUPED):
            text = pattern.sub(PHONE, text)
        text = _LONG_DIGITS.sub(NUMBER, text)
        text = _HEX.sub(TOKEN, text)
        return _B64.sub(lambda m: TOKEN if _looks_random(m.group(0)) else m.group(0), text)

    @staticmethod
    def _placeholder_for_key(key: str) -> str | None:
        name = key.strip("\"'[]")
        if _SECRET_KEY.match(name):
            return SECRET
        if _PERSONAL_KEY.match(name):
            return PERSONAL
        return None

    def _quoted_pair(self, m: re.Match[str]) -> str:
        placeholder = self._placeholder_for_key(m.group(2))
        if placeholder is None or not m.group(5) or m.group(5).startswith("[scrubbed:"):
            return m.group(0)
        q = m.group(4)
        return f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{q}{placeholder}{q}"

    def _url_pair(self, m: re.Match[str]) -> str:
        placeholder = self._placeholder_for_key(m.group(1))
        if placeholder is None or not m.group(2) or m.group(2).startswith("[scrubbed:"):
            return m.group(0)
        return f"{m.group(1)}={placeholder}"

    # ------------------------------------------------------------------ HTML

    def html(self, html: str) -> str:
        """An HTML document: input values, meta tokens and sensitive attributes, then text."""
        return self.text(_TAG.sub(self._tag, html))

    def _tag(self, m: re.Match[str]) -> str:
        tag, attrs = m.group(1).lower(), m.group(2)
        parsed = {a.group(1).lower(): a for a in _ATTR.finditer(attrs)}
        input_type = _unquote(parsed["type"].group(3)) if "type" in parsed else "text"
        meta_name = ""
        for key in ("name", "property", "http-equiv"):
            if key in parsed and parsed[key].group(3):
                meta_name = _unquote(parsed[key].group(3))
        out, last = [], 0
        for name, a in parsed.items():
            value = a.group(3)
            if value is None:
                continue
            scrub = (
                (tag == "input" and name == "value" and input_type.lower() not in _KEEP_INPUT_TYPES)
                or (tag == "meta" and name == "content" and self._placeholder_for_key(meta_name))
                or name in ("nonce",)
                or (name.startswith("data-") and self._placeholder_for_key(name[5:]))
            )
            if scrub and _unquote(value):
                q = value[0] if value[0] in "\"'" else '"'
                out.append(attrs[last : a.start(3)] + _quote_attr(SECRET, q))
                last = a.end(3)
        out.append(attrs[last:])
        return f"<{m.group(1)}{''.join(out)}>"

    # ------------------------------------------------------------------ JSON and bodies

    def json_value(self, value: Any, key: str | None = None) -> Any:
        """A parsed JSON document: sensitive keys lose their values, strings are scrubbed."""
        if isinstance(value, dict):
            return {k: self.json_value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json_value(v, key) for v in value]
        placeholder = self._placeholder_for_key(key) if key else None
        if isinstance(value, bool) or value is None:
            return value
        if placeholder is not None and value != "":
            return placeholder
        if isinstance(value, int | float):
            as_text = str(value)
            return PHONE if self.text(as_text) != as_text else value
        if isinstance(value, str):
            return self.text(value)
        return value

    def body(self, text: str, mime: str) -> str:
        """A response body by its type (HTML, JSON, else text)."""
        mime = mime.lower()
        if "json" in mime or text.lstrip().startswith(("{", "[")):
            try:
                return json.dumps(self.json_value(json.loads(text)), ensure_ascii=False)
            except ValueError:
                pass
        if "html" in mime or "<html" in text[:500].lower():
            return self.html(text)
        return self.text(text)

    @staticmethod
    def request_body(text: str, mime: str) -> str:
        """What the person sent: keep the field names, never the values (passwords hide here)."""
        stripped = text.strip()
        if "json" in mime.lower() or stripped.startswith(("{", "[")):
            try:
                return json.dumps(_blank_values(json.loads(text)), ensure_ascii=False)
            except ValueError:
                pass
        if "=" in stripped and not stripped.startswith("<"):
            return "&".join(
                f"{pair.split('=', 1)[0]}={VALUE}" if "=" in pair else VALUE
                for pair in stripped.split("&")
            )
        return VALUE if stripped else text

    def param(self, name: str, value: str) -> str:
        """One named value (query parameter, form field): by its name, then by its shape."""
        placeholder = self._placeholder_for_key(name)
        if placeholder is not None and value:
            return placeholder
        return self.text(value)

    # ------------------------------------------------------------------ HAR

    def headers(self, headers: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """HAR headers: cookies and credentials lose their values, the rest is scrubbed."""
        out = []
        for header in headers:
            name = str(header.get("name", ""))
            value = str(header.get("value", ""))
            lower = name.lower()
            if lower == "cookie":
                value = "; ".join(
                    f"{part.split('=', 1)[0].strip()}={COOKIE}" for part in value.split(";") if part
                )
            elif lower == "set-cookie":
                value = "\n".join(_scrub_set_cookie(line) for line in value.split("\n"))
            elif lower in SENSITIVE_HEADERS or self._placeholder_for_key(lower):
                value = SECRET
            else:
                value = self.text(value)
            out.append({**header, "name": name, "value": value})
        return out

    def har(self, har: dict[str, Any]) -> dict[str, Any]:
        """A HAR 1.2 log, scrubbed; the input is left untouched."""
        data = copy.deepcopy(har)
        log = data.get("log", {})
        for page in log.get("pages", []):
            page["title"] = self.text(str(page.get("title", "")))
        for entry in log.get("entries", []):
            request = entry.get("request", {})
            request["url"] = self.text(str(request.get("url", "")))
            request["headers"] = self.headers(request.get("headers", []))
            request["cookies"] = [{**c, "value": COOKIE} for c in request.get("cookies", [])]
            request["queryString"] = [
                {**q, "value": self.param(str(q.get("name", "")), str(q.get("value", "")))}
                for q in request.get("queryString", [])
            ]
            post = request.get("postData")
            if isinstance(post, dict):
                mime = str(post.get("mimeType", ""))
                if "text" in post:
                    post["text"] = self.request_body(str(post["text"]), mime)
                post["params"] = [{**p, "value": VALUE} for p in post.get("params", [])]
            response = entry.get("response", {})
            response["headers"] = self.headers(response.get("headers", []))
            response["cookies"] = [{**c, "value": COOKIE} for c in response.get("cookies", [])]
            response["redirectURL"] = self.text(str(response.get("redirectURL", "")))
            content = response.get("content", {})
            if "text" in content:
                if content.get("encoding") == "base64":
                    content.pop("text")  # binary bodies are not needed to write a recipe
                    content.pop("encoding")
                    content["comment"] = "binary body dropped by unbinder"
                else:
                    content["text"] = self.body(
                        str(content["text"]), str(content.get("mimeType", ""))
                    )
        return data


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else value


def _blank_values(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _blank_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank_values(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    return VALUE


def _scrub_set_cookie(line: str) -> str:
    """`sid=abc; Path=/; HttpOnly` -> `sid=[scrubbed:cookie]; Path=/; HttpOnly`."""
    first, _, rest = line.partition(";")
    name = first.split("=", 1)[0].strip()
    attributes = [a.strip() for a in rest.split(";") if a.strip()]
    return "; ".join([f"{name}={COOKIE}", *attributes])


# ---------------------------------------------------------------------- looking again

_COOKIE_ATTRIBUTES = {"path", "expires", "max-age", "samesite", "domain", "priority"}
_SQUASH = re.compile(r"(?:<[^>]*>|[\s\-.()\u00a0\u3000+]|%20|%2[bBdD]|&nbsp;)")
_LEAK_PATTERNS = (
    ("a mobile number", _CN_MOBILE),
    ("a phone number", _INTL),
    ("a phone number", _NANP),
    ("a JWT-like token", _JWT),
    ("an email address", _EMAIL),
    ("a long hex token", _HEX),
)


def find_leaks(
    text: str, phones: Sequence[PhoneNumber] = (), secrets: Sequence[str] = ()
) -> list[str]:
    """What personal data `text` still holds, described without repeating it ([] when clean).

    The contributor's numbers are searched for as bare digits after removing every separator and
    HTML tag, so a number split across `<span>`s or typed with odd spacing is still found.
    """
    found: list[str] = []
    squashed = _SQUASH.sub("", text)
    for phone in phones:
        if phone.national_digits in squashed or phone.e164[1:] in squashed:
            found.append(f"the number {phone.masked}")
    for description, pattern in _LEAK_PATTERNS:
        if pattern.search(text):
            found.append(description)
    for secret in secrets:
        if len(secret.strip()) >= 4 and secret.strip() in text:
            found.append("a value that was typed into the page")
    return list(dict.fromkeys(found))


def find_har_leaks(
    har: dict[str, Any], phones: Sequence[PhoneNumber] = (), secrets: Sequence[str] = ()
) -> list[str]:
    """`find_leaks` over a HAR, plus any cookie or credential header that kept its value."""
    found = find_leaks(json.dumps(har, ensure_ascii=False), phones, secrets)
    for entry in har.get("log", {}).get("entries", []):
        for part in ("request", "response"):
            message = entry.get(part, {})
            for cookie in message.get("cookies", []):
                if cookie.get("value") not in (COOKIE, ""):
                    found.append(f"a cookie in a {part}")
            for header in message.get("headers", []):
                name = str(header.get("name", "")).lower()
                value = str(header.get("value", ""))
                if name in SENSITIVE_HEADERS and value and "[scrubbed:" not in value:
                    found.append(f"a {name} header")
                if name in ("cookie", "set-cookie"):
                    for pair in re.split(r"[;\n]", value):
                        if "=" in pair and pair.split("=", 1)[1].strip() not in (COOKIE, ""):
                            key = pair.split("=", 1)[0].strip().lower()
                            if key not in _COOKIE_ATTRIBUTES:
                                found.append(f"a {name} header")
    return list(dict.fromkeys(found))
