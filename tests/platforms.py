"""Build small throwaway platforms (recipe + replica + pages) for engine tests."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unbinder.browser.replica import Replica
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.engine import Outcome, run_flow
from unbinder.engine.human import Human
from unbinder.phone import PhoneNumber, parse_phone
from unbinder.recipe.load import LoadedRecipe, load_recipe_file, recipe_problems

PHONE = "+86 138 0013 8000"
NEW_PHONE = "+86 139 0013 9000"

HEADER = """\
id: {id}
name: {{en: Test platform, zh-CN: 测试平台}}
regions: [CN]
homepage: https://www.{id}.test/
domains: [{id}.test]
"""

DEFAULT_REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
  - url: https://www.{id}.test/api/check
    method: POST
    action: lookup
    phone: mobile
    gate: check
    respond:
      found: {{json: {{exists: true}}}}
      missing: {{json: {{exists: false}}}}
      captcha: {{json: {{captcha: true}}}}
scenarios:
  default:
    accounts: [{{phone: "{phone}"}}]
  empty:
    accounts: []
"""


@dataclass
class Platform:
    loaded: LoadedRecipe
    fixtures: Path

    def replica(self, scenario: str = "default") -> Replica:
        return Replica.load(self.loaded.id, scenario, self.fixtures)


def make_platform(
    tmp_path: Path,
    body: str,
    pages: dict[str, str],
    *,
    replica: str | None = None,
    platform_id: str = "tp",
    refused_at_load: bool = False,
) -> Platform:
    """Write recipes/<id>.yaml (HEADER + body) and fixtures/<id>/ (replica + pages).

    `refused_at_load`: the recipe is one load refuses (lint's errors); load it without those
    checks, to test the engine's own safety net behind them."""
    recipes = tmp_path / "recipes"
    fixtures = tmp_path / "fixtures"
    folder = fixtures / platform_id
    folder.mkdir(parents=True, exist_ok=True)
    recipes.mkdir(parents=True, exist_ok=True)
    text = HEADER.format(id=platform_id) + textwrap.dedent(body)
    (recipes / f"{platform_id}.yaml").write_text(text, encoding="utf-8")
    replica_text = replica if replica is not None else DEFAULT_REPLICA
    (folder / "replica.yaml").write_text(
        textwrap.dedent(replica_text).format(id=platform_id, phone=PHONE), encoding="utf-8"
    )
    for name, html in pages.items():
        (folder / name).write_text(textwrap.dedent(html), encoding="utf-8")
    if refused_at_load:
        loaded = recipe_problems(text, recipes / f"{platform_id}.yaml", semantics=False)
        assert not isinstance(loaded, list), loaded
        return Platform(loaded, fixtures)
    return Platform(load_recipe_file(recipes / f"{platform_id}.yaml"), fixtures)


def run(
    browser: BrowserThread,
    platform: Platform,
    *,
    flow: str = "check",
    scenario: str = "default",
    phone: str = PHONE,
    new_phone: str | None = None,
    human: Human | None = None,
    dry_run: bool = False,
    screenshots: bool = False,
    replica: Replica | None = None,
) -> tuple[Outcome, Replica]:
    """Run one flow against the platform's replica in the shared browser."""
    rep = replica or platform.replica(scenario)
    number: PhoneNumber = parse_phone(phone)
    new_number = parse_phone(new_phone) if new_phone else None

    async def go(session: Any) -> Outcome:
        return await run_flow(
            session,
            platform.loaded,
            flow,
            number,
            new_phone=new_number,
            human=human,
            replica=rep,
            dry_run=dry_run,
            screenshots=screenshots,
        )

    return browser.run(go), rep


CHECK_PAGE = """\
<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>查询</title></head><body>
<label for="m">手机号</label><input id="m" name="mobile" placeholder="请输入手机号">
<button id="go" type="button">查询</button>
<div id="out" role="status"></div>
<div id="cap" role="dialog" aria-label="安全验证" hidden>请完成安全验证 <button id="solve" type="button">验证</button></div>
<script>
async function check() {{
  const r = await fetch('/api/check', {{method: 'POST', headers: {{'content-type': 'application/json'}},
    body: JSON.stringify({{mobile: document.getElementById('m').value}})}});
  const b = await r.json();
  if (b.captcha) {{ document.getElementById('cap').hidden = false; return; }}
  setTimeout(() => {{
    document.getElementById('out').textContent = b.exists ? '{registered}' : '{unregistered}';
  }}, {delay});
}}
document.getElementById('go').onclick = check;
</script></body></html>
"""


def check_page(
    registered: str = "该手机号已注册", unregistered: str = "该手机号未注册", delay: int = 0
) -> str:
    return CHECK_PAGE.format(registered=registered, unregistered=unregistered, delay=delay)


CHECK_FLOW = """\
selectors:
  phone: [{role: textbox, name: 手机号}, {placeholder: 请输入手机号}]
  go: [{role: button, name: 查询}]
  captcha: [{role: dialog, name: 安全验证}]
flows:
  check:
    detect_timeout: 4
    steps:
      - goto: https://www.tp.test/
      - fill: {target: phone, value: "{phone.national_digits}"}
      - click: go
    detect:
      - when: {visible: captcha}
        outcome: needs_human
        kind: captcha
        evidence: a captcha appeared
      - when: {text: [该手机号已注册, This number is already registered]}
        outcome: bound
        evidence: the platform says the number is registered
      - when: {text: [该手机号未注册, No account uses this number]}
        outcome: not_bound
        evidence: the platform says the number is not registered
"""
