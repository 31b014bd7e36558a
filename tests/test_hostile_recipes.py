"""Hostile and mistaken recipes: refused at load for every command, or harmless when run.

Each kind of attack tried is one entry of REFUSED (refused at load, with the same `file:line`
message in lint and in audit, before any browser starts) or of the hostile run (recipes that
load, audited together against their replicas in one CLI run: none hangs past its flow
timeout, none reaches a page that is not http(s), none says `not_bound` from a rule that could
match any page). docs/architecture.md ("Reliability suite") lists them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from unbinder.cli import cli
from unbinder.errors import ExitCode, RecipeError
from unbinder.paths import recipes_dir
from unbinder.recipe.lint import lint_file
from unbinder.recipe.load import load_recipe_file

EXAMPLE = recipes_dir() / "example-cn.yaml"
PHONE = ["+86", "138", "0013", "8000"]

# name -> (text to replace in example-cn.yaml, its replacement, what the refusal says)
REFUSED: dict[str, tuple[str, str, str]] = {
    # The browser's own pages (its command line, profile path) read and sent home.
    "chrome page": (
        "goto: https://passport.example-cn.test/forgot",
        "goto: chrome://version",
        "only http(s) URLs can be visited",
    ),
    "file URL": (
        "goto: https://passport.example-cn.test/forgot",
        "goto: file:///etc/hostname",
        "only http(s) URLs can be visited",
    ),
    "view-source": (
        "goto: https://passport.example-cn.test/forgot",
        "goto: view-source:https://passport.example-cn.test/forgot",
        "only http(s) URLs can be visited",
    ),
    "javascript URL": (
        "goto: https://passport.example-cn.test/forgot",
        'goto: "javascript:alert(1)"',
        "only http(s) URLs can be visited",
    ),
    "data URL": (
        "goto: https://passport.example-cn.test/forgot",
        'goto: "data:text/html,<p>x</p>"',
        "only http(s) URLs can be visited",
    ),
    "host from a placeholder": (
        "goto: https://passport.example-cn.test/forgot",
        'goto: "https://{var.host}/x"',
        "the host of a URL cannot come from a placeholder",
    ),
    # Loopback and numeric spellings, and public suffixes acting as wildcards.
    "decimal IP": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, '2130706433']",
        "is an IP address (in any spelling)",
    ),
    "hex IP": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, 0x7f.0.0.1]",
        "is an IP address (in any spelling)",
    ),
    "short IP": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, '127.1']",
        "is an IP address (in any spelling)",
    ),
    "octal IP": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, 0177.0.0.1]",
        "is an IP address (in any spelling)",
    ),
    "IPv6 loopback": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, '[::1]']",
        "is an IP address (in any spelling)",
    ),
    "localhost": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, localhost]",
        "is a loopback or local name",
    ),
    "a .localhost name": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, evil.localhost]",
        "is a loopback or local name",
    ),
    "wildcard DNS to loopback": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, 127.0.0.1.nip.io]",
        "spells out an IP address",
    ),
    "bare TLD": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, com]",
        "is a public suffix",
    ),
    "bare public suffix": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, co.uk]",
        "is a public suffix",
    ),
    "private public suffix": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, github.io]",
        "is a public suffix",
    ),
    "unknown TLD": (
        "domains: [example-cn.test]",
        "domains: [example-cn.test, evil.notatld]",
        "does not end in a known public suffix",
    ),
    # Regular expressions the linear-time engine cannot run.
    "lookahead": (
        "{text: 该手机号未注册}",
        '{regex: "(?=未注册)未注册"}',
        "cannot run in linear time",
    ),
    "backreference": (
        "{text: 该手机号未注册}",
        '{regex: "(未)\\\\1"}',
        "cannot run in linear time",
    ),
    "URL lookbehind": (
        "{text: 该手机号未注册}",
        '{url: "re:(?<=a)b"}',
        "cannot run in linear time",
    ),
    # Verdict rules that match any page (promise 3).
    "empty all": ("{text: 该手机号未注册}", "{all: []}", "holds on any page"),
    "empty text": (
        "{text: 该手机号未注册}",
        '{text: ""}',
        "an empty or blank `text` matches any page",
    ),
    "blank text": (
        "{text: 该手机号未注册}",
        '{text: "   "}',
        "an empty or blank `text` matches any page",
    ),
    "blank text in a list": (
        "{text: 该手机号未注册}",
        '{text: [未注册, " "]}',
        "an empty or blank `text` matches any page",
    ),
    "match-all regex": ("{text: 该手机号未注册}", '{regex: ".*"}', "matches the empty string"),
    "optional regex": ("{text: 该手机号未注册}", '{regex: "未?"}', "matches the empty string"),
    "match-all URL glob": ("{text: 该手机号未注册}", '{url: "**"}', "matches any URL"),
    "match-all URL regex": ("{text: 该手机号未注册}", '{url: "re:^https?://"}', "matches any URL"),
    "bare status": ("{text: 该手机号未注册}", "{status: 200}", "a bare HTTP status"),
    "any response": (
        "{text: 该手机号未注册}",
        '{response: {url: "**", status: 200}}',
        "a response with only a status from any URL",
    ),
    "status and any URL": (
        "{text: 该手机号未注册}",
        '{all: [{status: 200}, {url: "**"}]}',
        "no member of `all` names something specific",
    ),
    "any with a blank branch": (
        "{text: 该手机号未注册}",
        '{any: [{text: 未注册}, {text: ""}]}',
        "one branch of `any` can match any page",
    ),
    "absence under any": (
        "{text: 该手机号未注册}",
        "{any: [{not: {visible: slider_captcha}}]}",
        "the absence of something is no evidence",
    ),
    # Terminal control sequences in a recipe's text.
    "escape sequence": (
        "name: {en: Example CN",
        'name: {en: "Example \\e[2J\\e[31mCN"',
        "control character U+001B",
    ),
    "C1 CSI": (
        "name: {en: Example CN",
        'name: {en: "Example \\x9b2JCN"',
        "control character U+009B",
    ),
    "bidi override": (
        "name: {en: Example CN",
        'name: {en: "Example \\u202eNC"',
        "control character U+202E",
    ),
}


def _hostile(tmp_path: Path, name: str) -> tuple[Path, int]:
    old, new, _ = REFUSED[name]
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text, f"example-cn.yaml no longer has {old!r}: update this test"
    text = text.replace(old, new, 1)
    folder = tmp_path / "recipes"
    folder.mkdir(exist_ok=True)
    path = folder / "example-cn.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if new.split("\n")[0] in row)
    return path, line


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_lint_and_load_refuse_the_hostile_recipe_alike(tmp_path: Path, name: str) -> None:
    path, line = _hostile(tmp_path, name)
    said = REFUSED[name][2]
    errors = [str(p) for p in lint_file(path) if p.severity == "error"]
    assert any(said in e for e in errors), errors
    with pytest.raises(RecipeError) as refused:
        load_recipe_file(path)
    assert said in refused.value.message
    # The same `file:line: message` from lint and from load (the one every command uses).
    assert any(e in refused.value.message for e in errors if said in e)
    assert any(e.startswith(f"{path}:") for e in errors if said in e)
    assert abs(int(next(e for e in errors if said in e).split(":")[1]) - line) <= 2


@pytest.mark.parametrize(
    "name", ["chrome page", "match-all regex", "decimal IP", "escape sequence", "lookahead"]
)
def test_audit_refuses_the_hostile_recipe_before_any_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path, _ = _hostile(tmp_path, name)
    monkeypatch.setenv("UNBINDER_RECIPES", str(path.parent))
    monkeypatch.setenv("UNBINDER_BROWSER", str(tmp_path / "no-browser-here"))  # never launched
    result = CliRunner().invoke(
        cli, ["audit", *PHONE, "--platform", "example-cn", "--fixtures", "--yes", "--no-trail"]
    )
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert f"{path}:" in result.output
    assert REFUSED[name][2] in result.output
    assert "\x1b" not in result.output


def test_recipes_test_refuses_it_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = _hostile(tmp_path, "chrome page")
    monkeypatch.setenv("UNBINDER_RECIPES", str(path.parent))
    result = CliRunner().invoke(cli, ["recipes", "test", "example-cn"])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert "only http(s) URLs can be visited" in result.output


def test_punycode_domains_are_shown_decoded_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "domains: [example-cn.test]", "domains: [example-cn.test, xn--80ak6aa92e.com]"
    )
    folder = tmp_path / "recipes"
    folder.mkdir()
    path = folder / "example-cn.yaml"
    path.write_text(text, encoding="utf-8")
    warnings = [str(p) for p in lint_file(path) if p.severity == "warning"]
    assert any("xn--80ak6aa92e.com" in w and "reads as 'аррӏе.com'" in w for w in warnings)
    monkeypatch.setenv("UNBINDER_RECIPES", str(folder))
    shown = CliRunner().invoke(cli, ["recipes", "show", "example-cn", "--lang", "en"])
    assert shown.exit_code == 0, shown.output
    assert "xn--80ak6aa92e.com (reads as аррӏе.com" in shown.output


# ------------------------------------------------------------------ files that are not files


def _load_in_thread(path: Path) -> tuple[bool, str]:
    """Load `path` in a thread; (finished within 20 s, what it said)."""
    said: list[str] = []

    def go() -> None:
        try:
            load_recipe_file(path)
            said.append("loaded")
        except RecipeError as exc:
            said.append(exc.message)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    thread.join(20)
    return not thread.is_alive(), said[0] if said else ""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_in_the_recipes_folder_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    finished, said = _load_in_thread(fifo)
    assert finished, "reading a FIFO recipe hung"
    assert (
        said
        == f"{fifo}:1: recipe is not a regular file (a FIFO, device, socket or folder); recipes and replicas are plain files"
    )
    lint = CliRunner().invoke(cli, ["recipes", "lint", str(tmp_path)])
    assert "is not a regular file" in lint.output


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_link_to_an_endless_device_is_refused_before_reading(tmp_path: Path) -> None:
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    finished, said = _load_in_thread(link)
    assert finished, "reading /dev/zero as a recipe did not end"
    assert "is not a regular file" in said


def test_an_oversized_recipe_is_refused_by_its_size(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: its size says it all
    finished, said = _load_in_thread(big)
    assert finished
    assert said == f"{big}:1: recipe is larger than 256 KiB"


def test_a_fifo_replica_is_refused(tmp_path: Path) -> None:
    from unbinder.browser.replica import load_spec

    (tmp_path / "x").mkdir()
    os.mkfifo(tmp_path / "x" / "replica.yaml")
    with pytest.raises(RecipeError, match="replica is not a regular file"):
        load_spec(tmp_path / "x" / "replica.yaml")


# ------------------------------------------------------------------ regexes that cannot hang


def test_a_catastrophic_url_pattern_cannot_hold_the_event_loop() -> None:
    # With Python's backtracking `re` this takes longer than the age of the universe; a child
    # process keeps a hang from taking the test session with it.
    code = textwrap.dedent(
        """
        from unbinder.engine.conditions import url_matches
        from unbinder.recipe import patterns
        url = "https://www.example-cn.test/?" + "a" * 40 + "!"
        assert url_matches("re:(a+)+$", url) is False
        assert url_matches("re:^(a|aa)*$", url) is False
        assert patterns.search("(x+x+)+y", "x" * 40) is None
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_url_globs_keep_their_meaning() -> None:
    from unbinder.engine.conditions import url_matches

    assert url_matches("**/api/check*", "https://a.test/api/check?x=1")
    assert url_matches("https://*.test/forgot", "https://www.a.test/forgot")
    assert not url_matches("https://*.test/forgot", "https://www.a.test/forgot/more")
    assert url_matches("re:/signin/(v2/)?challenge", "https://a.test/signin/v2/challenge")
    assert url_matches("https://a.test/p?ge", "https://a.test/page")
    assert url_matches("https://a.test/[pq]age", "https://a.test/qage")


# ------------------------------------------------------------------ the hostile run

HOSTILE_HEADER = """\
id: {id}
name: {{en: Hostile {id}}}
regions: [CN]
homepage: https://www.{id}.test/
domains: [{id}.test]
selectors:
  phone: [{{label: 手机号}}]
  go: [{{role: button, name: 查询}}]
flows:
  check:
    timeout: {timeout}
    detect_timeout: 3
    steps:
      - goto: https://www.{id}.test/
      - fill: {{target: phone, value: "{{phone.national_digits}}"}}
      - click: go
"""
HOSTILE_REPLICA = """\
region: CN
routes:
  - url: https://www.{id}.test/
    page: index.html
scenarios:
  default:
    accounts: [{{phone: "+86 138 0013 8000"}}]
"""
# Pages that try what a hostile page would: a URL made to make backtracking explode, a text
# made for a catastrophic in-page regex, navigations to the browser's own pages and to files.
HOSTILE_PAGE = """\
<!doctype html><meta charset="utf-8"><body>
<label for="m">手机号</label><input id="m"><button type="button">查询</button>
<p id="out"></p>
<script>
document.querySelector('button').onclick = () => {{
  history.pushState(null, '', '/?' + 'a'.repeat(5000) + '!');
  document.getElementById('out').textContent = 'a'.repeat(5000) + '!';
  {extra}
}};
</script></body>
"""
HOSTILE_RUN: dict[str, tuple[str, str]] = {
    # name -> (detect rules, page script)
    "hostile-url-regex": (
        """\
    detect:
      - when: {url: "re:(a+)+$"}
        outcome: not_bound
        evidence: a catastrophic pattern on the page URL
        assumed: true
      - when: {text: 永远不会出现的文字}
        outcome: bound
        evidence: never
        assumed: true
""",
        "",
    ),
    "hostile-page-regex": (
        """\
    detect:
      - when: {regex: "^(a+)+$"}
        outcome: not_bound
        evidence: a catastrophic pattern on the page text
        assumed: true
      - when: {text: 永远不会出现的文字}
        outcome: bound
        evidence: never
        assumed: true
""",
        "",
    ),
    "hostile-navigation": (
        """\
    detect:
      - when: {text: "--user-data-dir"}
        outcome: not_bound
        evidence: the browser's own page was read
        assumed: true
      - when: {text: 永远不会出现的文字}
        outcome: bound
        evidence: never
        assumed: true
""",
        "location.href = 'chrome://version'; window.open('file:///etc/hostname');",
    ),
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Every hostile recipe that loads, audited together in one CLI run against its replica."""
    base = tmp_path_factory.mktemp("hostile")
    recipes, fixtures = base / "recipes", base / "fixtures"
    recipes.mkdir()
    timeout = 20
    for platform_id, (detect, script) in HOSTILE_RUN.items():
        text = HOSTILE_HEADER.format(id=platform_id, timeout=timeout) + detect
        (recipes / f"{platform_id}.yaml").write_text(text, encoding="utf-8")
        folder = fixtures / platform_id
        folder.mkdir(parents=True)
        (folder / "replica.yaml").write_text(
            HOSTILE_REPLICA.format(id=platform_id), encoding="utf-8"
        )
        (folder / "index.html").write_text(HOSTILE_PAGE.format(extra=script), encoding="utf-8")
    env = {
        **os.environ,
        "UNBINDER_HOME": str(base / "home"),
        "UNBINDER_RECIPES": str(recipes),
        "UNBINDER_SHIPPED": str(base / "nothing-shipped"),
        "UNBINDER_FIXTURES": str(fixtures),
        "UNBINDER_ANCHOR": "none",
        "COLUMNS": "200",
    }
    # A child process with a hard limit: a hang would end the run, not the session.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "unbinder",
            "audit",
            *PHONE,
            "--fixtures",
            "--yes",
            "--json",
            "--no-trail",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout * len(HOSTILE_RUN) + 120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {"doc": json.loads(done.stdout), "timeout": timeout}


def test_the_hostile_run_audits_every_recipe(hostile_run: dict[str, object]) -> None:
    doc = hostile_run["doc"]
    assert isinstance(doc, dict)
    assert sorted(p["id"] for p in doc["platforms"]) == sorted(HOSTILE_RUN)


def test_no_hostile_recipe_runs_past_its_flow_timeout(hostile_run: dict[str, object]) -> None:
    doc, timeout = hostile_run["doc"], hostile_run["timeout"]
    assert isinstance(doc, dict) and isinstance(timeout, int)
    for platform in doc["platforms"]:
        assert platform["timings_ms"]["total"] <= timeout * 1000, platform


def test_no_hostile_recipe_reaches_a_page_that_is_not_http(hostile_run: dict[str, object]) -> None:
    doc = hostile_run["doc"]
    assert isinstance(doc, dict)
    for platform in doc["platforms"]:
        url = (platform["evidence"] or {}).get("url") or ""
        assert url == "" or url.startswith("https://"), platform
        assert "--user-data-dir" not in json.dumps(platform, ensure_ascii=False)


def test_no_hostile_recipe_says_not_bound(hostile_run: dict[str, object]) -> None:
    # The catastrophic URL pattern matches nothing (it needs an all-`a` URL); the page regex
    # cannot hold the page; the browser's own page is never shown.
    doc = hostile_run["doc"]
    assert isinstance(doc, dict)
    outcomes = {p["id"]: p["outcome"] for p in doc["platforms"]}
    assert "not_bound" not in outcomes.values(), outcomes
