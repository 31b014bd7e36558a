"""The catalog commands: `recipes list`, `recipes show`, and `plan`, on a small known catalog."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from unbinder.cli import cli
from unbinder.errors import RecipeError
from unbinder.i18n.lang import default_lang
from unbinder.phone import parse_phone
from unbinder.recipe import catalog
from unbinder.recipe.load import load_all
from unbinder.vocab import CATEGORIES, CODES_TO, DIFFICULTIES, FLOW_NAMES, RECIPE_STATUSES

PAYBOX = """\
# yaml-language-server: $schema=schema.json
id: paybox
name: {en: PayBox, zh-CN: 付宝}
regions: [CN]
category: payment
harm: 5
homepage: https://www.paybox.test/
domains: [paybox.test]
status: unverified
last_verified: null
notes:
  en: The security page changes the bound number with codes to the old and the new number.
  zh-CN: 安全中心可以更换绑定手机号，需要新旧号码的验证码。
sources:
  help_forgot:
    url: https://help.paybox.test/forgot-password
    read: 2025-01-20
    shows: the recovery page answers 未注册 for a number without an account
  help_phone:
    url: https://help.paybox.test/change-phone
    read: 2025-01-20
    shows: the security page sends codes to the old and the new number
number_change:
  difficulty: medium
  settings_url: https://www.paybox.test/security/phone
  codes_to: both
  waiting: {en: The new number works at once., zh-CN: 新号码立即生效。}
  source: help_phone
flows:
  check:
    side_effects: {sends_sms: true}
    steps:
      - goto: https://www.paybox.test/forgot
    detect:
      - when: {text: 已注册}
        outcome: bound
        evidence: registered
      - when: {text: 未注册}
        outcome: not_bound
        evidence: not registered
        source: help_forgot
  change:
    requires_login: true
    side_effects: {sends_sms: true, destructive: true}
    steps:
      - goto: https://www.paybox.test/security
  manual:
    why: {en: The app is the surest way., zh-CN: App 最可靠。}
    url: https://www.paybox.test/help
    steps:
      en: ["Open PayBox > Me > Settings > Phone", "Tap Change and type both codes"]
      zh-CN: ["打开付宝 > 我的 > 设置 > 手机号", "点击更换，输入两条验证码"]
"""

CHATAPP = """\
id: chatapp
name: {en: ChatApp, zh-CN: 聊聊}
regions: [CN]
category: messaging
harm: 4
homepage: https://www.chatapp.test/
status: unverified
last_verified: null
notes:
  en: Only the app changes the number.
  zh-CN: 只能在 App 内更换手机号。
sources:
  help_change_phone:
    repo: chatapp/help-center
    path: docs/account/change-phone.md
    commit: 0123abc
    read: 2025-02-01
    shows: the app's Me > Settings > Account > Phone path and its SMS code
number_change:
  difficulty: hard
  codes_to: old
  waiting:
    en: Without the old number, an appeal takes 7 days.
    zh-CN: 旧号码不可用时，申诉需要 7 天。
  source: help_change_phone
flows:
  manual:
    source: help_change_phone
    why: {en: Only in the app., zh-CN: 只能在 App 内操作。}
    steps:
      en: ["Open ChatApp > Me > Settings > Account > Phone", "Tap Change and type the SMS code"]
      zh-CN: ["打开聊聊 > 我 > 设置 > 账号 > 手机号", "点击更换并输入短信验证码"]
"""

GLOBO = """\
id: globo
name: {en: Globo Mail, zh-CN: 环球邮}
regions: [US, GLOBAL]
category: email
harm: 5
homepage: https://mail.globo.test/
domains: [globo.test]
status: working
last_verified: "2025-01-31"
sources:
  signin_script:
    repo: someone/globo-tools
    path: signin.py
    read: 2025-01-31
    shows: the sign-in page asks "Enter your password" once the number has an account
number_change: {difficulty: easy, codes_to: new, assumed: true}
flows:
  check:
    steps:
      - goto: https://mail.globo.test/signin
        source: signin_script
    detect:
      - when: {text: Enter your password}
        outcome: bound
        evidence: password prompt
        source: [signin_script]
  unbind:
    requires_login: true
    side_effects: {destructive: true}
    steps:
      - goto: https://mail.globo.test/phone
  manual:
    steps:
      en: ["Open Globo > Settings > Phone > Remove"]
"""

SHOPUS = """\
id: shopus
name: {en: ShopUS, zh-CN: 美购}
regions: [US]
category: shopping
harm: 4
homepage: https://www.shopus.test/
status: degraded
last_verified: "2024-12-01"
flows:
  manual:
    steps:
      en: ["Open ShopUS > Account > Login & security > Mobile number"]
      zh-CN: ["打开美购 > 账户 > 登录与安全 > 手机号"]
"""

DEMO = """\
id: demo-pay
name: {en: Demo Pay, zh-CN: 演示支付}
regions: [CN]
category: payment
harm: 5
homepage: https://www.demo-pay.test/
demo: true
flows:
  manual:
    steps:
      en: ["Nothing to do: a demo"]
"""

PHONE_CN = "+86 138 0013 8000"
PHONE_US = "+1 202 555 0123"


@pytest.fixture
def shelf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A recipes folder with five known platforms (one a demo), used instead of the shipped one."""
    folder = tmp_path / "recipes"
    folder.mkdir()
    for name, text in {
        "paybox": PAYBOX,
        "chatapp": CHATAPP,
        "globo": GLOBO,
        "shopus": SHOPUS,
        "demo-pay": DEMO,
    }.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("UNBINDER_RECIPES", str(folder))
    monkeypatch.setenv("UNBINDER_SHIPPED", str(tmp_path / "nothing-shipped"))  # only these five
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    return folder


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    if args[0] == "plan":  # one line per platform here; tests/test_terminal_fit.py checks 80
        env = {"COLUMNS": "250", **(env or {})}
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def _rows(output: str) -> list[list[str]]:
    """The table rows of `recipes list` (split on runs of 2+ spaces)."""
    lines = output.split("\n\n", maxsplit=1)[0].splitlines()
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


# --------------------------------------------------------------------------- list


def test_list_sorts_by_harm_then_id_shows_status_and_hides_demos(shelf: Path) -> None:
    code, out, err = invoke("recipes", "list", "--lang", "en")
    assert code == 0, err
    rows = _rows(out)
    assert rows[0] == [
        "ID",
        "PLATFORM",
        "REGIONS",
        "CATEGORY",
        "HARM",
        "DIFFICULTY",
        "FLOWS",
        "STATUS",
        "CONFIDENCE",
        "SIDE EFFECTS",
    ]
    assert rows[1:] == [
        [
            "globo",
            "Globo Mail",
            "US,GLOBAL",
            "Email and accounts",
            "5",
            "easy",
            "check,unbind,manual",
            "working (2025-01-31)",
            "sourced",
            "unbind: changes the account",
        ],
        [
            "paybox",
            "PayBox",
            "CN",
            "Payment",
            "5",
            "medium",
            "check,change,manual",
            "unverified",
            "partly sourced",
            "check: sends SMS; change: sends SMS, changes the account",
        ],
        [
            "chatapp",
            "ChatApp",
            "CN",
            "Messaging",
            "4",
            "hard",
            "manual",
            "unverified",
            "sourced",
            "none",
        ],
        [
            "shopus",
            "ShopUS",
            "US",
            "Shopping",
            "4",
            "-",  # no number_change: not rated
            "manual",
            "degraded (2024-12-01)",
            "assumed",
            "none",
        ],
    ]
    assert "4 platform(s): 1 working, 2 unverified, 1 degraded or broken." in out
    # globo's one verdict rule and one of paybox's two cite a source; the demo is not listed.
    assert "\nVerdict rules with a public source: 2 of 3 (67 %).\n" in out
    assert "unverified = never checked against the live site" in out
    assert "demo-pay" not in out


def test_list_shows_demos_on_request(shelf: Path) -> None:
    code, out, _ = invoke("recipes", "list", "--demo")
    assert code == 0
    assert [row[0] for row in _rows(out)[1:]] == [
        "demo-pay",
        "globo",
        "paybox",
        "chatapp",
        "shopus",
    ]


def test_list_region_keeps_the_region_and_global_platforms(shelf: Path) -> None:
    _, out_cn, _ = invoke("recipes", "list", "--region", "cn")
    assert [row[0] for row in _rows(out_cn)[1:]] == ["globo", "paybox", "chatapp"]
    _, out_us, _ = invoke("recipes", "list", "--region", "US")
    assert [row[0] for row in _rows(out_us)[1:]] == ["globo", "shopus"]
    _, out_gb, _ = invoke("recipes", "list", "--region", "GB")
    assert [row[0] for row in _rows(out_gb)[1:]] == ["globo"]


def test_list_in_chinese_from_the_option_and_from_the_environment(shelf: Path) -> None:
    _, by_option, _ = invoke("recipes", "list", "--lang", "zh-CN")
    _, by_env, _ = invoke("recipes", "list", env={"LANG": "zh_CN.UTF-8"})
    assert by_option == by_env
    rows = _rows(by_option)
    assert rows[0] == [
        "ID",
        "平台",
        "地区",
        "类别",
        "危害",
        "换绑难度",
        "流程",
        "状态",
        "依据",
        "副作用",
    ]
    assert rows[2] == [
        "paybox",
        "付宝",
        "CN",
        "支付",
        "5",
        "中等",
        "查询,换绑,手动",
        "未验证",
        "部分有出处",
        "查询：发送短信；换绑：发送短信、修改账号",
    ]
    assert [row[8] for row in rows[1:]] == ["有出处", "部分有出处", "有出处", "推测"]
    assert [row[5] for row in rows[1:]] == ["容易", "中等", "困难", "-"]
    assert "共 4 个平台：1 个可用，2 个未验证，1 个部分失效或已失效。" in by_option
    assert "\n有公开出处的判定规则：3 条中 2 条（67%）。\n" in by_option


def test_list_json_is_a_versioned_envelope(shelf: Path) -> None:
    code, out, _ = invoke("recipes", "list", "--json", "--region", "CN")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "unbinder.recipes/1"
    assert [r["id"] for r in doc["recipes"]] == ["globo", "paybox", "chatapp"]
    assert doc["recipes"][1] == {
        "id": "paybox",
        "name": {"en": "PayBox", "zh-CN": "付宝"},
        "regions": ["CN"],
        "category": "payment",
        "harm": 5,
        "status": "unverified",
        "last_verified": None,
        "confidence": "partly",
        "sourced_share": 0.5,
        "flows": ["check", "change", "manual"],
        "side_effects": {"check": ["sends_sms"], "change": ["sends_sms", "destructive"]},
        "requires_login": {"check": False, "change": True},
        "homepage": "https://www.paybox.test/",
        "domains": ["paybox.test"],
        "demo": False,
        "number_change": {
            "difficulty": "medium",
            "codes_to": "both",
            "settings_url": "https://www.paybox.test/security/phone",
            "waiting": {"en": "The new number works at once.", "zh-CN": "新号码立即生效。"},
        },
    }


def test_list_json_says_how_much_of_each_recipe_is_sourced(shelf: Path) -> None:
    _, out, _ = invoke("recipes", "list", "--json", "--demo")
    doc = json.loads(out)
    assert {r["id"]: (r["confidence"], r["sourced_share"]) for r in doc["recipes"]} == {
        "globo": ("sourced", 1.0),  # its one verdict rule cites a source
        "paybox": ("partly", 0.5),  # one of two
        "chatapp": ("sourced", None),  # no verdict rules: its manual steps cite a source
        "shopus": ("assumed", None),  # manual steps without a source
        "demo-pay": ("assumed", None),
    }


def test_list_leaves_out_the_share_line_without_verdict_rules(shelf: Path) -> None:
    for name in ("paybox", "globo"):
        (shelf / f"{name}.yaml").unlink()
    _, out, _ = invoke("recipes", "list", "--lang", "en")
    assert [row[8] for row in _rows(out)[1:]] == ["sourced", "assumed"]
    assert "Verdict rules with a public source" not in out


def test_list_reports_an_unreadable_recipe_and_still_lists_the_rest(shelf: Path) -> None:
    (shelf / "broken.yaml").write_text("id: broken\nname: {en: Broken}\nregions: [CN\n")
    (shelf / "evil.yaml").write_text("id: evil\nname: !!python/object:os.system {}\n")
    code, out, err = invoke("recipes", "list")
    assert code == 1
    assert [row[0] for row in _rows(out)[1:]] == ["globo", "paybox", "chatapp", "shopus"]
    assert f"warning: {shelf / 'broken.yaml'}:" in err
    assert "invalid YAML" in err
    assert f"{shelf / 'evil.yaml'}:2: YAML tag" in err
    assert "can never run code" in err


def test_list_rejects_a_bad_region_in_one_line(shelf: Path) -> None:
    code, out, err = invoke("recipes", "list", "--region", "China")
    assert code == 2
    assert err.strip() == (
        "Error: 'China' is not a region. Use a two-letter country code (CN, US) or GLOBAL."
    )
    assert out == ""


# --------------------------------------------------------------------------- show


def test_show_in_english(shelf: Path) -> None:
    code, out, _ = invoke("recipes", "show", "paybox", "--lang", "en")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "PayBox / 付宝 (paybox)"
    assert "Status: unverified (never checked against the live site;" in out
    assert "Last verified: never" in lines
    assert "Confidence: partly sourced (1 of 2 verdict rules cite a public source)" in lines
    assert "Harm: 5/5" in lines
    assert "Domains the browser may reach: paybox.test" in lines
    assert (
        "The security page changes the bound number with codes to the old and the new number."
        in out
    )
    assert "check - anonymous: is an account registered with this number?" in lines
    assert "    no login; side effects: sends SMS" in lines
    assert "change - signed in: move the binding to a new number" in lines
    assert "    needs your login; side effects: sends SMS, changes the account" in lines
    assert lines[lines.index("By hand") + 2 :][:4] == [
        "Why: The app is the surest way.",
        "1. Open PayBox > Me > Settings > Phone",
        "2. Tap Change and type both codes",
        "https://www.paybox.test/help",
    ]
    assert "unbinder unbind paybox --phone OLD --new-phone NEW" in lines
    assert "unbinder audit PHONE --platform paybox" in lines


def test_show_in_chinese_by_default_under_a_chinese_locale(shelf: Path) -> None:
    code, out, _ = invoke("recipes", "show", "chatapp", env={"LC_ALL": "zh_CN.UTF-8"})
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "聊聊 / ChatApp (chatapp)"
    assert "最近验证：从未" in lines
    assert "依据：有出处（手动步骤注明了公开出处）" in lines
    assert "只能在 App 内更换手机号。" in lines
    assert "网页端无法自动完成：请按下面的手动步骤操作。" in lines
    assert "1. 打开聊聊 > 我 > 设置 > 账号 > 手机号" in lines
    assert "unbinder mark chatapp --phone OLD --status changed" in lines


@pytest.mark.parametrize(
    ("platform_id", "lang", "line"),
    [
        ("globo", "en", "Confidence: sourced (1 of 1 verdict rules cite a public source)"),
        ("globo", "zh-CN", "依据：有出处（1 条判定规则中 1 条注明了公开出处）"),
        ("paybox", "zh-CN", "依据：部分有出处（2 条判定规则中 1 条注明了公开出处）"),
        ("shopus", "en", "Confidence: assumed (the manual steps cite no public source)"),
        ("shopus", "zh-CN", "依据：推测（手动步骤未注明公开出处）"),
    ],
)
def test_show_says_how_much_is_sourced(shelf: Path, platform_id: str, lang: str, line: str) -> None:
    _, out, _ = invoke("recipes", "show", platform_id, "--lang", lang)
    assert line in out.splitlines()


def test_show_says_how_hard_changing_the_number_is(shelf: Path) -> None:
    _, en, _ = invoke("recipes", "show", "paybox", "--lang", "en")
    lines = en.splitlines()
    start = lines.index("Changing the number")
    assert lines[start + 1 : start + 6] == [
        "-------------------",
        "Difficulty: medium",
        "Codes go to: the old and the new number",
        "Settings page: https://www.paybox.test/security/phone",
        "Waiting: The new number works at once.",
    ]
    _, zh, _ = invoke("recipes", "show", "chatapp", "--lang", "zh-CN")
    lines = zh.splitlines()
    start = lines.index("更换号码")
    assert lines[start + 2 : start + 5] == [
        "难度：困难",
        "验证码发往：旧号码",
        "等待期：旧号码不可用时，申诉需要 7 天。",
    ]
    _, unrated, _ = invoke("recipes", "show", "shopus", "--lang", "en")
    assert "Not rated yet: the recipe has no number_change." in unrated.splitlines()
    _, unrated_zh, _ = invoke("recipes", "show", "shopus", "--lang", "zh-CN")
    assert "尚未评估：此配方没有 number_change。" in unrated_zh.splitlines()


def test_show_falls_back_to_english_where_chinese_is_missing(shelf: Path) -> None:
    _, out, _ = invoke("recipes", "show", "globo", "--lang", "zh-CN")
    assert "状态：可用（已在上述日期对真实网站验证）" in out
    assert "最近验证：2025-01-31" in out
    assert "1. Open Globo > Settings > Phone > Remove" in out


def test_show_unknown_platform_suggests_a_close_one(shelf: Path) -> None:
    code, _, err = invoke("recipes", "show", "paybx")
    assert code == 2
    assert err.strip() == (
        "Error: no recipe for platform 'paybx' (did you mean 'paybox'?). "
        "`unbinder recipes list` shows every platform."
    )


# --------------------------------------------------------------------------- plan


def _section(out: str, heading: str) -> str:
    """The text under a heading line (up to the next heading underlined with dashes)."""
    start = out.index(f"\n{heading}\n") + len(heading) + 2
    rest = out[start:]
    nxt = re.search(r"\n\n[^\n]+\n-{3,}\n", rest)
    return rest[: nxt.start()] if nxt else rest


def test_plan_groups_by_category_in_order_of_harm_with_what_to_do(shelf: Path) -> None:
    code, out, _ = invoke("plan", *PHONE_CN.split(), "--lang", "en")
    assert code == 0
    assert out.splitlines()[0] == "Leaving +86 138****8000: your checklist"
    platforms = _section(out, "Platform by platform")
    assert re.findall(r"^## (.+)$", platforms, re.M) == [
        "Payment",
        "Email and accounts",
        "Messaging",
    ]
    assert "3 platform(s) for numbers of CN." in platforms
    pay = platforms[platforms.index("## Payment") : platforms.index("## Email")]
    assert pay.strip().splitlines() == [
        "## Payment",
        "[ ] PayBox (paybox) · harm 5/5 · changing it: medium"
        " · codes go to the old and the new number · unverified",
        "    Waiting: The new number works at once.",
        "    Settings page: https://www.paybox.test/security/phone",
        "    Move it to your new number: unbinder unbind paybox --phone OLD --new-phone NEW",
        "    Notes and manual steps: unbinder recipes show paybox",
    ]
    email = platforms[platforms.index("## Email") : platforms.index("## Messaging")]
    assert email.strip().splitlines() == [
        "## Email and accounts",
        "[ ] Globo Mail (globo) · harm 5/5 · changing it: easy · codes go to the new number"
        " · working, verified 2025-01-31",
        "    By hand:",
        "      1. Open Globo > Settings > Phone > Remove",
        "    Remove the number: unbinder unbind globo --phone OLD --mode unbind",
        "    Notes and manual steps: unbinder recipes show globo",
    ]
    chat = platforms[platforms.index("## Messaging") :]
    assert chat.strip().splitlines() == [
        "## Messaging",
        "[ ] ChatApp (chatapp) · harm 4/5 · changing it: hard · codes go to the old number"
        " · unverified · app only",
        "    Waiting: Without the old number, an appeal takes 7 days.",
        "    By hand:",
        "      1. Open ChatApp > Me > Settings > Account > Phone",
        "      2. Tap Change and type the SMS code",
        "    When done, record it: unbinder mark chatapp --phone OLD --status changed",
        "    Notes and manual steps: unbinder recipes show chatapp",
    ]
    assert "shopus" not in out  # a US-only platform does not concern a Chinese number
    assert "demo-pay" not in out


def test_plan_gives_the_advice_and_the_official_channels_for_china(shelf: Path) -> None:
    _, out, _ = invoke("plan", PHONE_CN, "--lang", "en")
    before = " ".join(_section(out, "Before you start").split())
    assert "[ ] Do all of this BEFORE you cancel the number" in before
    assert "[ ] Keep the SIM alive" in before
    assert "until every item below is done" in before
    assert "[ ] Move two-step verification off SMS" in before
    assert "authenticator app" in before
    assert "banks and brokers in person" in before
    assert "about 90 days" in before
    assert "45 days" not in before  # the US rule is for US numbers
    channels = " ".join(_section(out, "Official channels").split())
    assert "[ ] 一证通查 2.0 (MIIT / CAICT):" in channels
    assert "https://getsimnum.caict.ac.cn/" in channels
    assert "一键解绑 / 二次号码焕新" in channels
    assert "https://myaccount.google.com/phone" in channels
    assert "Reassigned Numbers" not in channels


def test_plan_for_a_us_number_explains_the_fcc_database_serves_callers(shelf: Path) -> None:
    code, out, _ = invoke("plan", PHONE_US, "--lang", "en")
    assert code == 0
    assert "Leaving +1 202***0123: your checklist" in out
    channels = " ".join(_section(out, "Official channels").split())
    assert "[ ] FCC Reassigned Numbers Database: It serves callers, not individuals" in channels
    assert "一证通查" not in out
    assert "at least 45 days" in " ".join(out.split())
    platforms = _section(out, "Platform by platform")
    assert re.findall(r"^## (.+)$", platforms, re.M) == ["Email and accounts", "Shopping"]
    assert "[ ] ShopUS (shopus) · harm 4/5 · degraded, verified 2024-12-01" in platforms


def test_plan_in_chinese(shelf: Path) -> None:
    code, out, _ = invoke("plan", PHONE_CN, env={"LANG": "zh_CN.UTF-8"})
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "停用 +86 138****8000 前的清单"
    assert "务必在注销号码之前完成" in out
    assert "保持这张 SIM 卡可用" in out
    assert "把两步验证从短信改为身份验证器 App" in out
    assert "[ ] 一证通查 2.0（工信部 / 中国信通院）：" in out
    platforms = _section(out, "逐个平台处理")
    assert re.findall(r"^## (.+)$", platforms, re.M) == ["支付", "邮箱与账号", "即时通讯"]
    assert "[ ] 付宝 (paybox) · 危害 5/5 · 换绑难度：中等 · 验证码发往新旧号码 · 未验证" in lines
    assert "    等待期：新号码立即生效。" in lines
    assert "    设置页面：https://www.paybox.test/security/phone" in lines
    assert "    换绑到新号码：unbinder unbind paybox --phone OLD --new-phone NEW" in lines
    assert "      1. 打开聊聊 > 我 > 设置 > 账号 > 手机号" in lines
    assert "    完成后记录：unbinder mark chatapp --phone OLD --status changed" in lines


def test_plan_recycled_says_what_to_check_and_where_to_complain(shelf: Path) -> None:
    code, out, _ = invoke("plan", PHONE_CN, "--recycled", "--lang", "en")
    assert code == 0
    flat = " ".join(out.split())
    assert out.splitlines()[0] == "You received +86 138****8000, a recycled number: what to check"
    assert "don't sign in to them" in flat
    assert "proof of when the number was assigned to you" in flat
    assert "入网证明" in flat
    assert "二次号码焕新 (一证通查 2.0)" in flat
    complain = " ".join(_section(out, "Where to complain").split())
    assert "[ ] First the carrier" in complain
    assert "[ ] MIIT 12300:" in complain
    assert "FCC" not in complain
    platforms = _section(out, "Platform by platform")
    assert (
        "    See whether an account (the previous holder's) is bound: "
        "unbinder audit PHONE --platform paybox"
    ) in platforms
    assert "unbinder unbind" not in out  # nothing to move: the accounts are not theirs


def test_plan_recycled_for_a_us_number_points_to_the_fcc(shelf: Path) -> None:
    _, out, _ = invoke("plan", PHONE_US, "--recycled", "--lang", "zh-CN")
    assert "你拿到的 +1 202***0123 是二次放号：需要检查什么" in out
    assert "[ ] FCC 消费者投诉：" in out
    assert "https://consumercomplaints.fcc.gov/" in out
    assert "12300" not in out


def test_plan_json(shelf: Path) -> None:
    code, out, _ = invoke("plan", PHONE_CN, "--json", "--lang", "en")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "unbinder.plan/1"
    assert doc["variant"] == "leaving"
    assert doc["number"] == "+86 138****8000"
    assert doc["region"] == "CN"
    assert [s["id"] for s in doc["sections"]] == ["before", "channels", "platforms", "after"]
    assert [g["category"] for g in doc["platforms"]] == ["payment", "email", "messaging"]
    paybox = doc["platforms"][0]["items"][0]
    assert paybox["id"] == "paybox"
    assert paybox["status"] == "unverified"
    assert paybox["commands"][0] == {
        "label": "Move it to your new number",
        "command": "unbinder unbind paybox --phone OLD --new-phone NEW",
    }
    chat = doc["platforms"][2]["items"][0]
    assert chat["manual_steps"] == [
        "Open ChatApp > Me > Settings > Account > Phone",
        "Tap Change and type the SMS code",
    ]


@pytest.mark.parametrize(
    "args",
    [
        [PHONE_CN],
        [PHONE_CN, "--lang", "zh-CN"],
        [PHONE_CN, "--recycled"],
        [PHONE_CN, "--json"],
        [PHONE_CN, "--json", "--recycled"],
        ["138-0013-8000", "--region", "CN"],
        [PHONE_US, "--recycled", "--json"],
    ],
)
def test_plan_never_prints_the_full_number(shelf: Path, args: list[str]) -> None:
    code, out, err = invoke("plan", *args)
    assert code == 0
    number = parse_phone(args[0], "CN" if "--region" in args else None)
    digits_only = re.sub(r"\D", "", out + err)
    for form in number.forms():
        assert form not in out + err
    assert number.national_digits not in digits_only
    assert number.masked in out


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        (
            "call me",
            "Error: the phone number contains letters. Type digits only, like +86 138 0013 8000.",
        ),
        (
            "13800138000",
            "Error: the number has no country code. Start it with + and the country code (+86 ...), or pass --region CN.",
        ),
        (
            "+86 138 0013",
            "Error: the input (9 digits) is not a valid phone number (not a valid number). Check the digits and the country code.",
        ),
    ],
)
def test_plan_bad_number_is_one_line_and_exit_2(shelf: Path, phone: str, message: str) -> None:
    code, out, err = invoke("plan", phone)
    assert code == 2
    assert out == ""
    assert err.strip() == message


# --------------------------------------------------------------------------- the catalog itself


def test_catalog_agrees_with_the_validated_recipes() -> None:
    """The fast reader and the pydantic models must tell the same story for every recipe."""
    for loaded in load_all():
        recipe = loaded.recipe
        entry = catalog.read_entry(loaded.path)
        assert entry.id == recipe.id
        assert (entry.name.en, entry.name.zh_cn) == (recipe.name.en, recipe.name.zh_CN)
        assert entry.regions == tuple(recipe.regions)
        assert (entry.category, entry.harm, entry.status) == (
            recipe.category,
            recipe.harm,
            recipe.status,
        )
        assert entry.last_verified == recipe.last_verified
        assert entry.demo == recipe.demo
        assert entry.domains == tuple(recipe.domains)
        flows = recipe.flows.automated()
        assert [f.name for f in entry.flows] == list(flows)
        for info in entry.flows:
            assert list(info.side_effects) == flows[info.name].side_effects.names()
            assert info.requires_login == flows[info.name].requires_login
        manual = recipe.flows.manual
        assert (entry.manual is None) == (manual is None)
        if entry.manual is not None and manual is not None:
            assert list(entry.manual.steps("en")) == manual.steps.get("en")
            assert list(entry.manual.steps("zh-CN")) == manual.steps.get("zh-CN")
        if recipe.notes is not None:
            assert entry.notes is not None
            assert entry.notes.get("zh-CN") == recipe.notes.get("zh-CN").strip()
        assert entry.sourcing == recipe.sourcing(), loaded.path
        _same_number_change(entry.number_change, recipe.number_change)


def _same_number_change(entry: catalog.NumberChange | None, model: object | None) -> None:
    from unbinder.recipe.model import NumberChange

    assert (entry is None) == (model is None)
    if entry is not None and isinstance(model, NumberChange):
        assert (entry.difficulty, entry.codes_to, entry.settings_url) == (
            model.difficulty,
            model.codes_to,
            model.settings_url,
        )
        assert (entry.waiting is None) == (model.waiting is None)
        if entry.waiting is not None and model.waiting is not None:
            assert entry.waiting.get("zh-CN") == model.waiting.get("zh-CN").strip()


def test_catalog_and_models_count_the_sources_alike(tmp_path: Path) -> None:
    from unbinder.recipe.load import parse_recipe

    expected = {"paybox": "partly", "chatapp": "sourced", "globo": "sourced", "shopus": "assumed"}
    for text in (PAYBOX, CHATAPP, GLOBO, SHOPUS, DEMO):
        path = tmp_path / "x.yaml"
        path.write_text(text, encoding="utf-8")
        recipe = parse_recipe(text, path).recipe
        entry = catalog.read_entry(path)
        assert entry.sourcing == recipe.sourcing(), recipe.id
        assert entry.confidence == expected.get(recipe.id, "assumed"), recipe.id


def test_catalog_reads_number_change_like_the_models(tmp_path: Path) -> None:
    from unbinder.recipe.load import parse_recipe

    for text in (PAYBOX, CHATAPP, GLOBO, SHOPUS, DEMO):
        path = tmp_path / "x.yaml"
        path.write_text(text, encoding="utf-8")
        _same_number_change(
            catalog.read_entry(path).number_change, parse_recipe(text, path).recipe.number_change
        )
    path = tmp_path / "paybox.yaml"
    path.write_text(PAYBOX, encoding="utf-8")
    assert catalog.read_entry(path).number_change == catalog.NumberChange(
        difficulty="medium",
        codes_to="both",
        settings_url="https://www.paybox.test/security/phone",
        waiting=catalog.Text("The new number works at once.", "新号码立即生效。"),
    )
    path.write_text(SHOPUS, encoding="utf-8")
    assert catalog.read_entry(path).number_change is None


@pytest.mark.parametrize(
    ("line", "replacement", "message"),
    [
        (
            "  difficulty: medium",
            "  difficulty: meduim",
            "number_change.difficulty: unknown difficulty 'meduim' (did you mean 'medium'?); "
            "use one of easy, medium, hard, impossible",
        ),
        (
            "  codes_to: both",
            "  codes_to: bothh",
            "number_change.codes_to: unknown codes_to 'bothh' (did you mean 'both'?); "
            "use one of old, new, both, none, unknown",
        ),
        (
            "  settings_url: https://www.paybox.test/security/phone",
            "  settings_url: javascript:alert(1)",
            "number_change.settings_url: 'javascript:alert(1)' is not a page address (https://...)",
        ),
        (
            "  codes_to: both",
            "  codes_too: both",
            "unknown key 'codes_too' in number_change (did you mean 'codes_to'?)",
        ),
        (
            "  source: help_phone",
            "  source: help_phnoe",
            "number_change.source: source 'help_phnoe' is not in `sources:` "
            "(did you mean 'help_phone'?)",
        ),
    ],
)
def test_a_bad_number_change_is_refused_at_load_with_file_line_and_the_closest_word(
    tmp_path: Path, line: str, replacement: str, message: str
) -> None:
    from unbinder.recipe.load import recipe_problems

    path = tmp_path / "paybox.yaml"
    text = PAYBOX.replace(line, replacement)
    path.write_text(text, encoding="utf-8")
    problems = recipe_problems(text, path)
    where = f"{path}:{PAYBOX.splitlines().index(line) + 1}: "
    assert isinstance(problems, list)
    assert where + message in problems, problems
    key = replacement.split(":", maxsplit=1)[0].strip()
    if key in ("difficulty", "codes_to", "settings_url"):
        # The fast reader refuses the same words, at the same line (keys and sources it leaves
        # to the models).
        with pytest.raises(RecipeError) as refused:
            catalog.read_entry(path)
        assert refused.value.message == where + message


def test_a_number_change_needs_a_difficulty_and_where_the_codes_go(tmp_path: Path) -> None:
    from unbinder.recipe.load import recipe_problems

    path = tmp_path / "paybox.yaml"
    text = PAYBOX.replace("  difficulty: medium\n", "")
    path.write_text(text, encoding="utf-8")
    problems = recipe_problems(text, path)
    assert isinstance(problems, list)
    assert any(p.endswith("required key 'difficulty' is missing") for p in problems), problems
    with pytest.raises(RecipeError, match="required key 'difficulty' is missing"):
        catalog.read_entry(path)


def test_lint_warns_about_a_platform_without_number_change_or_its_source(tmp_path: Path) -> None:
    from unbinder.recipe.lint import lint_file

    folder = tmp_path / "recipes"
    folder.mkdir()

    def warnings(name: str, text: str) -> list[str]:
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        found = lint_file(path, tmp_path / "fixtures")
        return [
            p.message for p in found if p.severity == "warning" and "number_change" in p.message
        ]

    assert warnings("chatapp", CHATAPP) == []
    missing = warnings("shopus", SHOPUS)
    assert len(missing) == 1
    assert missing[0].startswith("the recipe has no `number_change:`")
    uncited = warnings("chatapp", CHATAPP.replace("  source: help_change_phone\nflows", "flows"))
    assert uncited == [
        "`number_change` cites no source: add `source: <id>` (an entry of `sources:` showing "
        "how the number is changed), or `assumed: true` if none shows it"
    ]
    assert warnings("demo-pay", DEMO) == []  # a demo is not a platform


@pytest.mark.parametrize(
    ("verdicts", "sourced", "manual_sourced", "expected"),
    [
        (3, 3, False, "sourced"),
        (3, 1, False, "partly"),
        (3, 0, True, "assumed"),  # verdict rules decide; the manual steps do not make up for them
        (0, 0, True, "sourced"),  # a manual-only recipe whose steps cite a source
        (0, 0, False, "assumed"),
    ],
)
def test_confidence_from_the_counts(
    verdicts: int, sourced: int, manual_sourced: bool, expected: str
) -> None:
    from unbinder.recipe.confidence import Sourcing, confidence

    assert confidence(verdicts, sourced, manual_sourced=manual_sourced) == expected
    assert Sourcing(verdicts, sourced, manual_sourced).confidence == expected
    total = Sourcing.total([Sourcing(verdicts, sourced), Sourcing(1, 1)])
    assert (total.verdict_rules, total.sourced_rules) == (verdicts + 1, sourced + 1)
    assert total.share == (sourced + 1) / (verdicts + 1)


def test_a_citation_of_an_unknown_source_counts_for_nothing_in_the_catalog(
    tmp_path: Path,
) -> None:
    # The models refuse such a recipe; the fast reader does not validate, but must not count it.
    path = tmp_path / "paybox.yaml"
    path.write_text(PAYBOX.replace("source: help_forgot", "source: help_forgto"), encoding="utf-8")
    assert catalog.read_entry(path).confidence == "assumed"


def test_the_catalog_path_stays_free_of_pydantic() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from unbinder.recipe.catalog import load_catalog\n"
        "from unbinder.recipe.catalog_text import render_list, render_show\n"
        "entries = load_catalog().select(include_demo=True)\n"
        "render_list(entries, 'en'); render_show(entries[0], 'zh-CN')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("line", "replacement", "message"),
    [
        ("category: payment", "category: casino", "unknown category 'casino'"),
        ("status: unverified", "status: retired", "unknown status 'retired'"),
    ],
)
def test_catalog_and_models_refuse_the_same_unknown_words(
    tmp_path: Path, line: str, replacement: str, message: str
) -> None:
    from unbinder.recipe.load import recipe_problems

    path = tmp_path / "paybox.yaml"
    path.write_text(PAYBOX.replace(line, replacement), encoding="utf-8")
    with pytest.raises(RecipeError, match=re.escape(message)):
        catalog.read_entry(path)
    problems = recipe_problems(path.read_text(encoding="utf-8"), path)
    key = line.split(":", maxsplit=1)[0]
    where = f"{path}:{PAYBOX.splitlines().index(line) + 1}: {key}: "
    assert isinstance(problems, list)
    assert any(p.startswith(where) for p in problems), problems


def test_every_category_and_status_has_words_in_both_languages() -> None:
    # data/catalog.yaml holds the English; the Chinese comes from the gettext catalog.
    words = catalog.words()
    for group, keys in (
        ("categories", CATEGORIES),
        ("statuses", RECIPE_STATUSES),
        ("status_meaning", RECIPE_STATUSES),
        ("flows", (*FLOW_NAMES, "manual")),
        ("side_effects", catalog.SIDE_EFFECTS),
        ("difficulties", DIFFICULTIES),
        ("codes_to", CODES_TO),
    ):
        for key in keys:
            english = words[group][key]
            assert isinstance(english, str), (group, key)
            assert catalog.word(group, key, "en") == english.strip(), (group, key)
            chinese = catalog.word(group, key, "zh-CN")
            assert chinese != english and re.search(r"[\u4e00-\u9fff]", chinese), (group, key)


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LANG": "zh_TW.UTF-8"}, "zh-CN"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LANG": "C", "LC_MESSAGES": "zh_CN"}, "zh-CN"),
    ],
)
def test_default_language_follows_the_locale(env: dict[str, str], lang: str) -> None:
    assert default_lang(env) == lang


def test_plan_text_has_both_languages_everywhere() -> None:
    from unbinder.jobs.plan import plan_text

    def walk(value: object, where: str) -> None:
        if isinstance(value, dict):
            if "en" in value:
                assert set(value) == {"en", "zh-CN"}, where
                assert all(str(v).strip() for v in value.values()), where
                return
            for key, sub in value.items():
                walk(sub, f"{where}.{key}")
        elif isinstance(value, list):
            for index, sub in enumerate(value):
                walk(sub, f"{where}.{index}")

    walk(plan_text(), "plan")


def test_the_test_catalog_is_made_of_valid_recipes() -> None:
    # The platforms above stand for real recipes: they must pass the real validation.
    from unbinder.recipe.load import parse_recipe

    for text in (PAYBOX, CHATAPP, GLOBO, SHOPUS, DEMO):
        parse_recipe(textwrap.dedent(text), Path("x.yaml"))


# --------------------------------------------------------------------------- the shipped catalog

INTERNATIONAL = {
    "google": ["check", "verify", "change", "unbind", "manual"],
    "apple": ["check", "manual"],
    "microsoft": ["check", "verify", "unbind", "manual"],
    "amazon": ["check", "verify", "change", "manual"],
    "paypal": ["check", "verify", "change", "manual"],
    "facebook": ["check", "manual"],
    "instagram": ["check", "manual"],
    "whatsapp": ["manual"],
    "telegram": ["manual"],
    "x": ["check", "verify", "change", "unbind", "manual"],
}


def test_shipped_catalog_lists_the_international_platforms_with_honest_status() -> None:
    code, out, _ = invoke("recipes", "list", "--json")
    assert code == 0
    recipes = json.loads(out)["recipes"]
    by_id = {r["id"]: r for r in recipes}
    for platform_id, flows in INTERNATIONAL.items():
        recipe = by_id[platform_id]
        assert recipe["flows"] == flows, platform_id
        assert (recipe["status"], recipe["last_verified"]) == ("unverified", None), platform_id
        assert "GLOBAL" in recipe["regions"], platform_id
    # Checks that text the number or alert its owner say so (and run only when allowed).
    assert by_id["microsoft"]["side_effects"]["check"] == ["sends_sms", "notifies_owner"]
    for quiet in ("google", "apple", "amazon", "facebook", "x", "instagram"):
        assert by_id[quiet]["side_effects"]["check"] == [], quiet
    assert not any(r["demo"] for r in recipes)
    assert len(recipes) >= len(INTERNATIONAL)
    harms = [r["harm"] for r in recipes]
    assert harms == sorted(harms, reverse=True)


def test_shipped_catalog_table_shows_app_only_platforms_as_manual() -> None:
    _, out, _ = invoke("recipes", "list", "--lang", "en")
    # The DIFFICULTY (5) and CONFIDENCE (8) columns change as recipes are rated and sources are
    # cited; the rest is the platform's.
    rows = {row[0]: row[:5] + row[6:8] + row[9:] for row in _rows(out)[1:]}
    assert {row[8] for row in _rows(out)[1:]} <= {"sourced", "partly sourced", "assumed"}
    assert {row[5] for row in _rows(out)[1:]} <= {"easy", "medium", "hard", "impossible", "-"}
    assert rows["whatsapp"] == [
        "whatsapp",
        "WhatsApp",
        "GLOBAL",
        "Messaging",
        "4",
        "manual",
        "unverified",
        "none",
    ]
    assert rows["telegram"][5:] == ["manual", "unverified", "none"]
    assert rows["google"][5:] == [
        "check,verify,change,unbind,manual",
        "unverified",
        "change: sends SMS, changes the account; unbind: changes the account",
    ]


@pytest.mark.parametrize("platform_id", sorted(INTERNATIONAL))
def test_international_recipes_explain_themselves_in_both_languages(platform_id: str) -> None:
    entry = catalog.find_entry(platform_id)
    assert entry.notes is not None
    assert entry.notes.en
    assert entry.notes.zh_cn
    assert entry.manual is not None
    assert entry.manual.steps_en
    assert entry.manual.steps_zh_cn
    assert len(entry.manual.steps_en) == len(entry.manual.steps_zh_cn)


def test_show_telegram_tells_the_web_login_and_the_inactivity_rule() -> None:
    _, en, _ = invoke("recipes", "show", "telegram", "--lang", "en")
    flat = " ".join(en.split())
    assert "web.telegram.org" in flat
    assert "six months by default" in flat
    assert "my.telegram.org" in flat
    assert "None on the web: see the steps by hand below." in en
    _, zh, _ = invoke("recipes", "show", "telegram", "--lang", "zh-CN")
    assert "若离开时间超过" in zh
    assert "1. 开启“设置 > 隐私与安全 > 两步验证”：设置云密码和找回邮箱。" in zh.splitlines()


def test_plan_for_a_us_number_with_the_shipped_catalog() -> None:
    code, out, _ = invoke("plan", PHONE_US, "--json", "--lang", "en")
    assert code == 0
    groups = json.loads(out)["platforms"]
    # Most harmful group first; groups of equal harm in the order of data/catalog.yaml.
    order = list(catalog.words()["categories"])
    keys = [(-max(i["harm"] for i in g["items"]), order.index(g["category"])) for g in groups]
    assert keys == sorted(keys)
    where = {i["id"]: g["category"] for g in groups for i in g["items"]}
    for platform_id, category in {
        "paypal": "payment",
        "google": "email",
        "apple": "email",
        "amazon": "shopping",
        "whatsapp": "messaging",
        "x": "social",
    }.items():
        assert where[platform_id] == category
    _, text, _ = invoke("plan", PHONE_US, "--lang", "en")
    lines = _section(text, "Platform by platform").splitlines()

    def item(head: str) -> list[str]:
        """One platform's lines; its tags after the harm (difficulty, codes, status) and the
        settings page and waiting lines follow the shipped recipe, so they are left out."""
        start = next(i for i, line in enumerate(lines) if line.startswith(head + " · "))
        end = next(
            (i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), len(lines)
        )
        kept: list[str] = []
        skipping = False
        for line in lines[start + 1 : end]:
            if re.match(r"    \S", line):  # a new part of the item (its wrapped lines go deeper)
                skipping = line.startswith(("    Settings page:", "    Waiting:"))
            if not skipping:
                kept.append(line)
        return kept

    paypal = item("[ ] PayPal (paypal) · harm 5/5")
    assert paypal[0] == (
        "    Move it to your new number: unbinder unbind paypal --phone OLD --new-phone NEW"
    )
    whatsapp = item("[ ] WhatsApp (whatsapp) · harm 4/5")
    assert whatsapp[0] == "    By hand:"
    assert "Change number" in whatsapp[3]
    assert (
        "    When done, record it: unbinder mark whatsapp --phone OLD --status changed" in whatsapp
    )
    microsoft = item("[ ] Microsoft account (microsoft) · harm 5/5")
    assert microsoft[0] == "    By hand:"  # adding the new number is manual
    assert "    Remove the number: unbinder unbind microsoft --phone OLD --mode unbind" in microsoft
