"""Phone numbers as people type them, parsed once into every form a recipe or a report needs.

Parsing is done by Google's libphonenumber port (`phonenumbers`). A `PhoneNumber` never
keeps the raw input; it offers the forms recipes type (`e164`, `national`, `national_digits`,
`country_code`), a masked form for display, and `forms()` for redaction and leak checks.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

from unbinder.errors import InvalidPhone
from unbinder.i18n.translate import _

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_ALLOWED = re.compile(r"^[+\d\s().\-/]*$")
_MOBILE_TYPES = {"MOBILE", "FIXED_LINE_OR_MOBILE"}


@dataclass(frozen=True)
class PhoneNumber:
    """One parsed, valid number. Compare and store it only through `e164` or a keyed `ref`."""

    e164: str  # +8613800138000
    national: str  # 138 0013 8000
    national_digits: str  # 13800138000
    country_code: int  # 86
    region: str  # CN

    def __repr__(self) -> str:  # never print the number by accident (tracebacks, logs)
        return f"PhoneNumber({self.masked})"

    __str__ = __repr__

    @property
    def masked(self) -> str:
        """`+86 138****8000`: enough to recognise one's own number, not enough to use it."""
        return f"+{self.country_code} {mask_digits(self.national_digits)}"

    def placeholders(self) -> dict[str, str]:
        """The values recipes may use as `{phone.NAME}`."""
        return {
            "e164": self.e164,
            "national": self.national,
            "national_digits": self.national_digits,
            "country_code": str(self.country_code),
            "masked": self.masked,
        }

    def forms(self) -> list[str]:
        """Every common written form of the number (for redaction and leak searches)."""
        digits = self.national_digits
        cc = str(self.country_code)
        groups = self.national.replace("(", "").replace(")", "").replace("-", " ").split()
        forms = {
            self.e164,
            self.e164[1:],
            digits,
            self.national,
            " ".join(groups),
            "-".join(groups),
            "".join(groups),
            f"+{cc} {self.national}",
            f"+{cc} {' '.join(groups)}",
            f"+{cc}-{'-'.join(groups)}",
            f"00{cc}{digits}",
        }
        return sorted((f for f in forms if len(re.sub(r"\D", "", f)) >= 7), key=len, reverse=True)

    def ref(self, key: bytes) -> str:
        """A keyed reference: HMAC-SHA256 of the E.164 form (what storage keeps instead)."""
        return hmac.new(key, self.e164.encode(), hashlib.sha256).hexdigest()


def mask_digits(digits: str) -> str:
    """Keep the first 3 and last 4 digits of long numbers, fewer of short ones."""
    n = len(digits)
    if n >= 10:
        head, tail = 3, 4
    elif n >= 7:
        head, tail = 2, 3
    else:
        head, tail = 1, 1
    return digits[:head] + "*" * (n - head - tail) + digits[-tail:]


def parse_phone(
    text: str, region: str | None = None, *, require_mobile: bool = True
) -> PhoneNumber:
    """Parse `text` as typed by a person; `region` (ISO code) applies when there is no `+CC`.

    Raises InvalidPhone with a message that names the problem and the fix.
    """
    import phonenumbers
    from phonenumbers import PhoneNumberType, phonenumberutil

    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned:
        raise InvalidPhone(
            _("the phone number is empty."), hint=_("Type it like +86 138 0013 8000.")
        )
    if _LETTERS.search(cleaned):
        raise InvalidPhone(
            _("the phone number contains letters."),
            hint=_("Type digits only, like +86 138 0013 8000."),
        )
    if not _ALLOWED.match(cleaned):
        raise InvalidPhone(
            _("the phone number contains characters other than digits, spaces, +, -, ( and )."),
            hint=_("Type it like +86 138 0013 8000."),
        )
    if region is not None:
        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise InvalidPhone(
                _("unknown region {region!r}.").format(region=region),
                hint=_("Use a two-letter country code such as CN, US or GB."),
            )
    if not cleaned.startswith("+") and not cleaned.startswith("00") and region is None:
        raise InvalidPhone(
            _("the number has no country code."),
            hint=_("Start it with + and the country code (+86 ...), or pass --region CN."),
        )
    if cleaned.startswith("00") and region is None:
        cleaned = "+" + cleaned[2:]  # the international prefix most of the world dials
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumberutil.NumberParseException as exc:
        raise InvalidPhone(
            _("cannot read {input} as a phone number ({reason}).").format(
                input=_describe(cleaned), reason=_parse_reason(exc)
            ),
            hint=_("Type it like +86 138 0013 8000, or pass --region for a national number."),
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        reason = {
            phonenumberutil.ValidationResult.TOO_SHORT: _("too short"),
            phonenumberutil.ValidationResult.TOO_LONG: _("too long"),
            phonenumberutil.ValidationResult.INVALID_COUNTRY_CODE: _("unknown country code"),
        }.get(phonenumbers.is_possible_number_with_reason(parsed), _("not a valid number"))
        raise InvalidPhone(
            _("{input} is not a valid phone number ({reason}).").format(
                input=_describe(cleaned), reason=reason
            ),
            hint=_("Check the digits and the country code."),
        )
    number_region = phonenumbers.region_code_for_number(parsed) or (region or "ZZ")
    if require_mobile:
        kind = phonenumbers.number_type(parsed)
        names = {getattr(PhoneNumberType, n): n for n in dir(PhoneNumberType) if n.isupper()}
        if names.get(kind) not in _MOBILE_TYPES:
            raise InvalidPhone(
                _("{input} is not a mobile number.").format(input=_describe(cleaned)),
                hint=_("Accounts are bound to mobile numbers; give the mobile number."),
            )
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return PhoneNumber(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        national=national,
        national_digits=phonenumbers.national_significant_number(parsed),
        country_code=int(parsed.country_code or 0),
        region=number_region,
    )


def _describe(text: str) -> str:
    """Name the input in an error without echoing a whole (possibly valid) number."""
    digits = re.sub(r"\D", "", text)
    return _("the input ({count} digits)").format(count=len(digits))


def _parse_reason(exc: Exception) -> str:
    from phonenumbers import phonenumberutil

    code = getattr(exc, "error_type", -1)
    return {
        phonenumberutil.NumberParseException.INVALID_COUNTRY_CODE: _("unknown country code"),
        phonenumberutil.NumberParseException.NOT_A_NUMBER: _("not a number"),
        phonenumberutil.NumberParseException.TOO_SHORT_NSN: _("too short"),
        phonenumberutil.NumberParseException.TOO_SHORT_AFTER_IDD: _("too short"),
        phonenumberutil.NumberParseException.TOO_LONG: _("too long"),
    }.get(code, _("not a number"))


def masked_matches(shown: str, phone: PhoneNumber) -> bool:
    """Does a platform's masked display (`139****9000`, `+86 139******00`) fit `phone`?

    The visible digits must sit at the same places as in the national (or international) digits;
    `*`, `•`, `x` and similar stand for hidden digits.
    """
    pattern = unicodedata.normalize("NFKC", shown)
    pattern = re.sub(r"[\s\-().]", "", pattern)
    pattern = re.sub(r"[*•●xX#]", "*", pattern)
    if "+" in pattern:
        pattern = pattern[pattern.index("+") + 1 :]
        candidates = [phone.e164[1:]]
    else:
        candidates = [phone.national_digits, phone.e164[1:], "0" + phone.national_digits]
    pattern = re.sub(r"[^\d*]", "", pattern)
    if not pattern or pattern.count("*") == len(pattern):
        return False
    regex = re.compile(
        "^" + "".join(r"\d+" if c == "*" else re.escape(c) for c in _squash(pattern)) + "$"
    )
    return any(regex.match(c) for c in candidates)


def _squash(pattern: str) -> str:
    """Collapse runs of `*` (platforms do not always show one star per digit)."""
    return re.sub(r"\*+", "*", pattern)
