"""Phone parsing: the ways people type numbers, and every bad input as a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unbinder.errors import ExitCode, InvalidPhone
from unbinder.phone import mask_digits, masked_matches, parse_phone


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("+86 138 0013 8000", None, "+8613800138000"),
        ("138-0013-8000", "CN", "+8613800138000"),
        ("138 0013 8000", "cn", "+8613800138000"),
        ("１３８－００１３－８０００", "CN", "+8613800138000"),  # full-width digits and dash
        ("＋８６ １３８ ００１３ ８０００", None, "+8613800138000"),
        ("0086 13800138000", None, "+8613800138000"),
        ("(202) 555-0123", "US", "+12025550123"),
        ("+1 202 555 0123", None, "+12025550123"),
        ("+44 7911 123456", None, "+447911123456"),
    ],
)
def test_parses_numbers_as_people_type_them(text: str, region: str | None, e164: str) -> None:
    assert parse_phone(text, region).e164 == e164


def test_forms_and_mask() -> None:
    phone = parse_phone("+86 138 0013 8000")
    assert phone.national == "138 0013 8000"
    assert phone.national_digits == "13800138000"
    assert phone.country_code == 86
    assert phone.region == "CN"
    assert phone.masked == "+86 138****8000"
    assert parse_phone("(202) 555-0123", "US").masked == "+1 202***0123"


def test_repr_never_shows_the_number() -> None:
    phone = parse_phone("+86 138 0013 8000")
    assert "13800138000" not in repr(phone)
    assert "13800138000" not in f"{phone}"


@pytest.mark.parametrize(
    ("text", "region", "fragment"),
    [
        ("1-800-FLOWERS", "US", "letters"),
        ("138abc00138000", "CN", "letters"),
        ("12345", "CN", "not a valid phone number"),
        ("+86 138", None, "not a valid phone number"),
        ("138 0013 8000", "XX", "unknown region"),
        ("138 0013 8000", None, "no country code"),
        ("", "CN", "empty"),
        ("+86 10 6552 9988", None, "not a mobile"),  # a Beijing landline
        ("138;0013;8000", "CN", "characters other than"),
        ("+999 1234 5678", None, "country code"),
    ],
)
def test_bad_input_is_a_clear_error(text: str, region: str | None, fragment: str) -> None:
    with pytest.raises(InvalidPhone) as info:
        parse_phone(text, region)
    assert fragment in str(info.value)
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_landline_allowed_when_mobile_not_required() -> None:
    assert parse_phone("+86 10 6552 9988", require_mobile=False).e164 == "+861065529988"


def test_error_does_not_echo_the_number() -> None:
    with pytest.raises(InvalidPhone) as info:
        parse_phone("+86 10 6552 9988")
    assert "65529988" not in str(info.value)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mask_hides_the_middle_of_every_cn_mobile(digits: str) -> None:
    masked = mask_digits(digits)
    assert masked[:3] == digits[:3]
    assert masked[-4:] == digits[-4:]
    assert masked[3:-4] == "****"


def test_masked_matches_platform_styles() -> None:
    phone = parse_phone("+86 139 0013 9000")
    assert masked_matches("139****9000", phone)
    assert masked_matches("+86 139****9000", phone)
    assert masked_matches("139 **** 9000", phone)
    assert masked_matches("+86-13*******00", phone)
    assert not masked_matches("138****9000", phone)
    assert not masked_matches("139****8000", phone)
    assert not masked_matches("*******", phone)


@pytest.mark.parametrize(
    ("environ", "region"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "CN"),
        ({"LANG": "en_US.UTF-8"}, "US"),
        ({"LC_ALL": "en_GB", "LANG": "zh_CN.UTF-8"}, "GB"),
        ({"LANG": "C.UTF-8"}, None),
        ({"LANG": "POSIX"}, None),
        ({}, None),
    ],
)
def test_the_locale_names_the_region_of_a_local_number(
    environ: dict[str, str], region: str | None
) -> None:
    from unbinder.i18n.lang import locale_region

    assert locale_region(environ) == region


def test_a_local_number_in_a_chinese_locale_parses_as_cn(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from unbinder.cli import cli

    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    result = CliRunner().invoke(cli, ["plan", "13800138000", "--json"])
    assert result.exit_code == 0, result.output
    assert "CN" in result.stderr
    assert '"+86 138****8000"' in result.stdout
    # --region still wins: the same digits as a US number are refused as not a US mobile.
    other = CliRunner().invoke(cli, ["plan", "13800138000", "--region", "US"])
    assert other.exit_code == 2
