"""At 80 columns (issue #19): every table fits, nothing a person must copy is cut, and the
audit puts what needs doing first and names it."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner, Result

from unbinder.cli import cli
from unbinder.i18n.lang import display_width
from unbinder.i18n.wrap import fill, wrap

PHONE = ["+86", "138", "0013", "8000"]
DEMO = [
    "example-intl",
    "demo-chat",
    "demo-video",
    "example-cn",
    "demo-social",
    "demo-food",
    "demo-travel",
]
COMMAND = re.compile(r"unbinder [a-z]+(?: [^\s()（）]+)*")


def _run(*args: str, columns: int = 80) -> Result:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


def _too_wide(text: str, width: int) -> list[str]:
    """Lines wider than `width` that are not a command or an address alone on its line."""
    return [
        line
        for line in text.splitlines()
        if display_width(line) > width
        and not re.fullmatch(r"\s*(?:\[\d+\] |\S+[:：] ?)?(?:unbinder \S.*|https?://\S+)", line)
    ]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_audit_at_80_columns_fits_sorts_names_and_prints_commands_whole(lang: str) -> None:
    platforms = [a for p in DEMO for a in ("--platform", p)]
    result = _run("audit", *PHONE, "--fixtures", "--yes", "--no-trail", "--lang", lang, *platforms)
    out = result.stdout
    assert _too_wide(out, 80) == []
    assert "…" not in out
    doc = json.loads(
        _run(
            "audit",
            *PHONE,
            "--fixtures",
            "--yes",
            "--no-trail",
            "--json",
            "--lang",
            lang,
            *platforms,
        ).stdout
    )
    name = {p["id"]: p["name"] for p in doc["platforms"]}
    # Bound first, then what needs the person, and "not bound" last, whatever the planned order.
    order = ["example-cn", "demo-social", "demo-food", "demo-travel", "example-intl"]
    rows = [
        pid for line in out.splitlines() for pid in order if line.lstrip().startswith(name[pid])
    ]
    assert rows == order
    # The summary names them.
    colon, comma = ("：", "、") if lang == "zh-CN" else (": ", ", ")
    assert f"{colon}{name['example-cn']}" in out
    assert f"{colon}{name['demo-social']}{comma}{name['demo-food']}" in out
    # Every command is whole on one line, below the table, numbered from the table's cells.
    expected = [
        "unbinder unbind example-cn --phone OLD --new-phone NEW",
        "unbinder audit PHONE --platform demo-social --headed",
        "unbinder recipes show demo-travel",
        "unbinder mark demo-chat --phone OLD --status changed",
        "unbinder audit PHONE --platform demo-video --allow-side-effects",
    ]
    lines = out.splitlines()
    for number, command in enumerate(expected, start=1):
        assert f"  [{number}] {command}" in lines
        assert f"[{number}]" in out.split("[1] unbinder")[0]  # the cell refers to it
    for platform in doc["platforms"]:  # the JSON keeps the whole sentence, command included
        for command in COMMAND.findall(platform["next_step"]):
            assert command.rstrip(".。") in expected


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_recipes_list_fits_80_columns_with_every_id_whole(lang: str) -> None:
    out = _run("recipes", "list", "--lang", lang).stdout
    assert _too_wide(out, 80) == []
    ids = [e["id"] for e in json.loads(_run("recipes", "list", "--json").stdout)["recipes"]]
    starts = {line.split("  ", 1)[0] for line in out.splitlines() if not line.startswith(" ")}
    assert set(ids) <= starts
    # A pipe without COLUMNS still gets the whole table, one line per platform, for grep.
    whole = CliRunner().invoke(cli, ["recipes", "list"]).stdout
    assert len([line for line in whole.splitlines() if line.split(" ", 1)[0] in ids]) == len(ids)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("variant", [[], ["--recycled"]])
def test_plan_fits_80_columns_and_keeps_its_commands_whole(lang: str, variant: list[str]) -> None:
    out = _run("plan", *PHONE, "--lang", lang, *variant).stdout
    assert _too_wide(out, 80) == []
    doc = json.loads(_run("plan", *PHONE, "--json", "--lang", lang, *variant).stdout)
    commands = [
        c["command"] for g in doc["platforms"] for item in g["items"] for c in item["commands"]
    ]
    assert commands
    lines = out.splitlines()
    for command in commands:
        assert any(command in line for line in lines), command


def test_wrap_breaks_chinese_by_width_and_never_inside_a_command() -> None:
    text = "先查一遍号码还绑定在哪里：unbinder audit OLD --platform wechat --headed（加 --headed 可以自己完成验证码）。"
    lines = wrap(text, 30, "  ")
    assert all(display_width(line) <= 30 for line in lines if "unbinder" not in line)
    assert any("unbinder audit OLD --platform wechat --headed" in line for line in lines)
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
    assert not any(line.lstrip().startswith(("，", "。", "）")) for line in lines)
    english = wrap("Keep the SIM alive until every item below is done.", 20, "    ", "[ ] ")
    assert english == [
        "[ ] Keep the SIM",
        "    alive until",
        "    every item below",
        "    is done.",
    ]


def test_fill_breaks_between_fields_only() -> None:
    lines = fill(["Alipay", "CN", "Payment", "harm 5/5", "medium"], 24, "    ", first="alipay  ")
    assert lines == ["alipay  Alipay · CN", "    Payment · harm 5/5", "    medium"]
    # A first field wider than the line keeps its id at the left edge.
    long = fill(["A name far wider than the line is", "CN"], 20, "    ", first="abc  ")
    assert long[0].startswith("abc ") and all(line.startswith("    ") for line in long[1:])


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_status_fits_80_columns_and_keeps_its_commands_whole(
    lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNBINDER_PASSPHRASE", "correct horse battery staple")
    _run(
        "audit",
        *PHONE,
        "--fixtures",
        "--yes",
        "--platform",
        "example-cn",
        "--platform",
        "demo-chat",
    )
    out = _run("status", *PHONE, "--lang", lang).stdout
    assert _too_wide(out, 80) == []
    lines = out.splitlines()
    assert "    unbinder unbind example-cn --phone OLD --new-phone NEW" in lines or any(
        line.endswith("unbinder unbind example-cn --phone OLD --new-phone NEW") for line in lines
    )
    assert any(
        line.endswith("unbinder mark demo-chat --phone OLD --status changed") for line in lines
    )


def test_the_table_cuts_addresses_to_host_and_path_and_the_json_keeps_them() -> None:
    from unbinder.cli.progress import short_addresses

    said = "URL https://accounts.example.test/reset.htm?site=0&scene=reset, then “https://a.test/x”"
    assert short_addresses(said) == (
        "URL https://accounts.example.test/reset.htm?…, then “https://a.test/x”"
    )
    # Alipay's evidence is the address its reset page went to, with a long query.
    args = ["audit", "+86", "138", "0013", "8000", "--fixtures", "--yes", "--no-trail"]
    for columns in ("80", "240"):  # at 240 the cell holds the address on one line
        shown = CliRunner().invoke(cli, [*args, "--platform", "alipay"], env={"COLUMNS": columns})
        assert shown.exit_code == 0, shown.output
        assert "scene_code" not in shown.stdout
    assert "https://accounts.alipay.com/console/queryStrategy.htm?…" in shown.stdout
    data = CliRunner().invoke(cli, [*args, "--platform", "alipay", "--json"])
    assert "scene_code=" in json.loads(data.stdout)["platforms"][0]["evidence"]["matched"]
