"""`unbinder plan`: official channels first, then the platforms by category in order of harm, each
saying how hard changing the number is (the recipes' `number_change`), in English and Chinese."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from unbinder.cli import cli
from unbinder.jobs.plan import build_plan
from unbinder.phone import parse_phone
from unbinder.recipe.catalog import load_catalog


def _recipe(
    platform_id: str,
    name: str,
    name_zh: str,
    category: str,
    harm: int,
    number_change: str | None,
    regions: str = "[CN]",
) -> str:
    change = f"number_change: {number_change}\n" if number_change else ""
    return (
        f"id: {platform_id}\n"
        f"name: {{en: {name}, zh-CN: {name_zh}}}\n"
        f"regions: {regions}\n"
        f"category: {category}\n"
        f"harm: {harm}\n"
        f"homepage: https://www.{platform_id}.test/\n"
        f"{change}"
        "flows:\n"
        "  manual:\n"
        "    assumed: true\n"
        "    steps:\n"
        f"      en: ['Open {name} > Settings > Phone']\n"
        f"      zh-CN: ['打开{name_zh} > 设置 > 手机号']\n"
    )


# A bank and a government service (harm 5, one entry each), payment (5), a video platform (4)
# and a social one (3): video outranks social by harm, although the category order puts social
# first; a US-only platform that a Chinese number never sees.
RECIPES = {
    "northbank": _recipe(
        "northbank",
        "North Bank",
        "北方银行",
        "bank",
        5,
        "{difficulty: hard, codes_to: old, waiting: {en: Some branches take a week., "
        "zh-CN: 部分网点需要一周。}, assumed: true}",
    ),
    "taxhall": _recipe(
        "taxhall",
        "Tax Hall",
        "个税大厅",
        "government",
        5,
        "{difficulty: medium, codes_to: new, settings_url: 'https://www.taxhall.test/me/phone', "
        "assumed: true}",
    ),
    "paybox": _recipe(
        "paybox",
        "PayBox",
        "付宝",
        "payment",
        5,
        "{difficulty: easy, codes_to: both, assumed: true}",
    ),
    "vidz": _recipe(
        "vidz",
        "Vidz",
        "视频站",
        "video",
        4,
        "{difficulty: impossible, codes_to: none, assumed: true}",
    ),
    "chirp": _recipe("chirp", "Chirp", "啾啾", "social", 3, None),
    "shopus": _recipe("shopus", "ShopUS", "美购", "shopping", 4, None, regions="[US]"),
}

PHONE_CN = "+86 138 0013 8000"
PHONE_US = "+1 202 555 0123"


@pytest.fixture
def shelf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "recipes"
    folder.mkdir()
    for platform_id, text in RECIPES.items():
        (folder / f"{platform_id}.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("UNBINDER_RECIPES", str(folder))
    monkeypatch.setenv("UNBINDER_SHIPPED", str(tmp_path / "nothing-shipped"))
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    return folder


def invoke(*args: str, columns: int = 250) -> str:
    """The command's output, at a terminal wide enough for one line per platform (the fit to
    80 columns is tests/test_terminal_fit.py's)."""
    env = {"COLUMNS": str(columns)}
    result = CliRunner(env=env).invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _headings(out: str) -> list[str]:
    """The section headings (a line underlined with dashes), in order."""
    lines = out.splitlines()
    return [lines[i] for i in range(len(lines) - 1) if re.fullmatch(r"-{3,}", lines[i + 1])]


def test_the_recipes_are_valid() -> None:
    from unbinder.recipe.load import parse_recipe

    for platform_id, text in RECIPES.items():
        assert parse_recipe(text, Path(f"{platform_id}.yaml")).recipe.id == platform_id


def test_official_channels_come_first_then_categories_in_order_of_harm(shelf: Path) -> None:
    out = invoke("plan", PHONE_CN, "--lang", "en")
    headings = _headings(out)
    assert headings.index("Official channels") + 1 == headings.index("Platform by platform")
    channels = out.index("\nOfficial channels\n")
    platforms = out.index("\nPlatform by platform\n")
    # The government lookup and the carriers' services head the channels, before any platform.
    lookup = out.index("[ ] 一证通查 2.0 (MIIT / CAICT):")
    carriers = out.index("[ ] Your carrier's 一键解绑 / 二次号码焕新:")
    assert channels < lookup < carriers < platforms
    groups = re.findall(r"^## (.+)$", out[platforms:], re.M)
    # Harm first (5, 5, 5, 4, 3); equal harm in the order of data/catalog.yaml.
    assert groups == ["Payment", "Banks", "Government", "Video", "Social"]
    # Each bank and government service is its own entry.
    assert "[ ] North Bank (northbank) ·" in out
    assert "[ ] Tax Hall (taxhall) ·" in out
    assert "shopus" not in out


def test_each_platform_line_says_how_hard_changing_the_number_is(shelf: Path) -> None:
    lines = invoke("plan", PHONE_CN, "--lang", "en").splitlines()
    bank = lines.index(
        "[ ] North Bank (northbank) · harm 5/5 · changing it: hard"
        " · codes go to the old number · unverified · app only"
    )
    assert lines[bank + 1] == "    Waiting: Some branches take a week."
    tax = lines.index(
        "[ ] Tax Hall (taxhall) · harm 5/5 · changing it: medium"
        " · codes go to the new number · unverified · app only"
    )
    assert lines[tax + 1] == "    Settings page: https://www.taxhall.test/me/phone"
    assert (
        "[ ] Vidz (vidz) · harm 4/5 · changing it: impossible · codes go to no code"
        " · unverified · app only"
    ) not in lines
    assert (
        "[ ] Vidz (vidz) · harm 4/5 · changing it: impossible · no code · unverified · app only"
        in lines
    )
    # A recipe without number_change says nothing it does not know.
    assert "[ ] Chirp (chirp) · harm 3/5 · unverified · app only" in lines


def test_the_plan_in_chinese_says_it_too(shelf: Path) -> None:
    out = invoke("plan", PHONE_CN, "--lang", "zh-CN")
    lines = out.splitlines()
    platforms = out.index("\n逐个平台处理\n")
    assert (
        out.index("\n官方渠道\n")
        < out.index("[ ] 一证通查 2.0（工信部 / 中国信通院）：")
        < platforms
    )
    assert re.findall(r"^## (.+)$", out[platforms:], re.M) == [
        "支付",
        "银行",
        "政务",
        "视频",
        "社交",
    ]
    bank = lines.index(
        "[ ] 北方银行 (northbank) · 危害 5/5 · 换绑难度：困难 · 验证码发往旧号码 · 未验证 · 仅限 App"
    )
    assert lines[bank + 1] == "    等待期：部分网点需要一周。"
    assert (
        "[ ] 付宝 (paybox) · 危害 5/5 · 换绑难度：容易 · 验证码发往新旧号码 · 未验证 · 仅限 App"
        in lines
    )
    assert "[ ] 视频站 (vidz) · 危害 4/5 · 换绑难度：无法 · 无需验证码 · 未验证 · 仅限 App" in lines
    assert "    设置页面：https://www.taxhall.test/me/phone" in lines


def test_a_recycled_number_sees_the_difficulty_but_not_where_the_owners_codes_go(
    shelf: Path,
) -> None:
    lines = invoke("plan", PHONE_CN, "--recycled", "--lang", "en").splitlines()
    assert "[ ] North Bank (northbank) · harm 5/5 · changing it: hard · unverified · app only" in (
        lines
    )
    assert not any("Waiting:" in line or "Settings page:" in line for line in lines)


def test_the_json_carries_number_change_and_the_same_order(shelf: Path) -> None:
    doc = json.loads(invoke("plan", PHONE_CN, "--json", "--lang", "en"))
    ids = [s["id"] for s in doc["sections"]]
    assert ids.index("channels") + 1 == ids.index("platforms")
    assert [g["category"] for g in doc["platforms"]] == [
        "payment",
        "bank",
        "government",
        "video",
        "social",
    ]
    items = {i["id"]: i for g in doc["platforms"] for i in g["items"]}
    assert items["taxhall"]["number_change"] == {
        "difficulty": "medium",
        "codes_to": "new",
        "settings_url": "https://www.taxhall.test/me/phone",
        "waiting": None,
    }
    assert items["chirp"]["number_change"] is None


def test_a_us_number_gets_the_fcc_database_before_its_platforms(shelf: Path) -> None:
    out = invoke("plan", PHONE_US, "--lang", "en")
    platforms = out.index("\nPlatform by platform\n")
    assert out.index("[ ] FCC Reassigned Numbers Database:") < platforms
    assert re.findall(r"^## (.+)$", out[platforms:], re.M) == ["Shopping"]


def test_build_plan_orders_groups_by_their_most_harmful_platform(shelf: Path) -> None:
    plan = build_plan(parse_phone(PHONE_CN), load_catalog(), lang="en")
    harms = [max(i.entry.harm for i in g.items) for g in plan.groups]
    assert harms == sorted(harms, reverse=True)
