"""In Chinese, what a person reads is Chinese: the demo, an audit of the replicas, the plan, the
status, doctor, the trail, the report, every command's help and the common errors.

Each runs in a child process (`python -m unbinder`, tests/leaks.py's Sandbox) on the built-in
demo platforms only, so the words checked are unbinder's, not those of recipes still being
written. From each output, what is not a sentence of ours is taken out (`not_ours`): platform
names and ids, commands (`unbinder ...`, options, metavars), URLs, hosts and paths, `backticked`
ids and values, and quotes (the page's own words, evidence). Then no Latin word of three letters
or more may be left but the few in ALLOWED.
"""

from __future__ import annotations

import html.parser
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from leaks import Sandbox

ROOT = Path(__file__).resolve().parent.parent
PHONE = "+86 138 0013 8000"
DEMO = ("example-cn", "example-intl", "demo-video", "demo-travel", "demo-social", "demo-food")
DEMO_APP_ONLY = "demo-chat"
# Latin words that Chinese text keeps as they are, each for its reason.
ALLOWED = {
    "unbinder",  # the tool's name
    "App",  # Chinese writes the phone's app so ("在 App 中")
    "SIM",  # the card's name in Chinese too
    "Cookie",  # so in Chinese too (recipes record scrubs them)
    "Python",  # doctor names what it checks: the products' own names
    "Playwright",
    "Chromium",
    "Ctrl",  # a key: the report says how to print it (Ctrl+P)
    "GiB",  # units: audit --verbose says the memory free (Chinese writes them so)
    "MiB",
    # Products the plan's official channels name (Microsoft's account covers them; Apple's
    # settings are on the iPhone): names, like the platforms'.
    "Outlook",
    "Xbox",
    "Skype",
    "Windows",
    "iPhone",
}
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


@dataclass(frozen=True)
class World:
    box: Sandbox
    shipped: Path  # UNBINDER_SHIPPED: the demo recipes alone, and the replicas
    home: Path  # the demo's data directory, with its trail
    passphrase: str
    demo: subprocess.CompletedProcess[str]
    names: tuple[str, ...]  # platform names (both languages) and ids, longest first

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        base = {
            "UNBINDER_SHIPPED": str(self.shipped),
            "UNBINDER_HOME": str(self.home),
            "UNBINDER_PASSPHRASE": self.passphrase,
        }
        return self.box.run(*args, **{**base, **env})


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    box = Sandbox(Path(tempfile.mkdtemp(prefix="ub-")))  # short: Chromium keeps sockets here
    shipped = box.root / "shipped"
    (shipped / "recipes").mkdir(parents=True)
    for platform in (*DEMO, DEMO_APP_ONLY):
        shutil.copy(ROOT / "recipes" / f"{platform}.yaml", shipped / "recipes")
    names: set[str] = set()
    for source in (ROOT / "recipes").glob("*.yaml"):  # every platform's name may be said
        recipe = yaml.safe_load(source.read_text(encoding="utf-8"))
        names |= {source.stem, *recipe["name"].values()}
        names.add(recipe["name"]["en"].split()[0])  # the brand alone: Apple (Apple Account)
    (shipped / "fixtures").symlink_to(ROOT / "fixtures")
    # The demo in a Chinese locale, with no --lang: the locale alone chooses.
    demo = box.run("demo", UNBINDER_SHIPPED=str(shipped), LANG="zh_CN.UTF-8")

    def printed(label: str) -> str:
        found = re.search(rf"{label}：(\S+)", demo.stdout)
        return found.group(1) if found else ""

    yield World(
        box=box,
        shipped=shipped,
        home=Path(printed(r"数据目录（临时）")),
        passphrase=printed(r"记录口令（临时）"),
        demo=demo,
        names=tuple(sorted(names, key=len, reverse=True)),
    )
    shutil.rmtree(box.root, ignore_errors=True)


def not_ours(text: str, names: tuple[str, ...]) -> str:
    """`text` without what is no sentence of ours (see the module's docstring)."""
    text = re.sub(r"(?<=\w)-\n +(?=\w)", "-", text)  # click's wrap breaks --new-phone at its hyphen
    text = re.sub(r"`[^`]{0,200}`", " ", text)  # ids, values, commands (a table may fold them)
    text = re.sub(r"“[^”]*”|\"[^\"\n]*\"|'[^'\n]*'", " ", text)  # quotes: the page's words
    text = re.sub(r"https?://[\x21-\x7e]+", " ", text)
    text = re.sub(r"(?:\S*/)?unbinder(?: +[\x21-\x7e]+)+", " ", text)  # a command, ASCII to its end
    text = re.sub(r"[\x21-\x7e]*[/\\][\x21-\x7e]*", " ", text)  # paths, hosts with a path
    text = re.sub(r"\b[\w-]+\.(?:test|com|cn|yaml|json|html|md|har)\b", " ", text)  # hosts, files
    text = re.sub(r"\[默认：[^\]]*\]", " ", text)  # click's [default: value]: the value
    for name in names:  # platform names (Latin ones too) and ids, as whole words
        text = re.sub(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", " ", text)
    text = re.sub(r"\[[\w|-]+\]", " ", text)  # click's list of choices: [html|json]
    text = re.sub(r"^  [a-z]+(?= {2,}\S)", " ", text, flags=re.MULTILINE)  # a group's commands
    # An option, with its value when one follows (--mode unbind, --format json)
    option = r"(?<![\w-])--?[A-Za-z][\w-]*(?:[ =][a-z][\w-]*(?=[^\w\s-]|$| [^\x00-\x7f]))?"
    text = re.sub(option, " ", text, flags=re.MULTILINE)
    text = re.sub(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", " ", text)  # environment variables
    text = re.sub(r"\b[A-Z]{2,}(?:\|[a-z]+)?\b", " ", text)  # metavars, placeholders: PHONE, OLD
    text = re.sub(r"\b[a-z0-9]+(?:[-_][a-z0-9]+)+\b", " ", text)  # ids: sms_code, demo-3db1
    text = re.sub(r"\b[a-z]+:[a-z_]+\b", " ", text)  # screenshot names: change:before
    return re.sub(r"\b[0-9a-f]{8,}\b", " ", text)  # fingerprints, digests, blob ids


def english_left(text: str, names: tuple[str, ...]) -> list[str]:
    """The Latin words left in `text` once what is not ours is out; and a doubled full stop
    (a sentence of ours around a recipe's step that already ends in one), as a word to fix."""
    left = {w for w in LATIN_WORD.findall(not_ours(text, names)) if w not in ALLOWED}
    return sorted(left | ({"。。"} if re.search(r"[。.]\s*。", text) else set()))


def _said(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


class _Text(html.parser.HTMLParser):
    """The words of a page: its text and its attributes a person sees (title, alt)."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("style", "script")
        self.words += [v for k, v in attrs if k in ("title", "alt") and v]

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.words.append(data)


def test_demo_in_a_chinese_locale(world: World) -> None:
    out = _said(world.demo)
    assert world.demo.returncode == 0, out
    assert world.home.is_dir() and world.passphrase
    assert "仍绑定" in out and "页面显示“" in out  # verdicts and evidence in words
    assert not re.search(r"\b(BOUND|FAIL|Step)\b", out)
    assert english_left(out, world.names) == []


def test_the_checker_finds_english(world: World) -> None:
    # The test can fail: an English sentence is found, commands and names are not.
    said = "检查：the page says unbinder audit PHONE --headed 示例网 example-cn “Found”"
    assert english_left(said, world.names) == ["page", "says", "the"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("audit", PHONE, "--fixtures", "--yes", *DEMO, DEMO_APP_ONLY), id="audit"),
        pytest.param(("audit", PHONE, "--fixtures", "--yes", "--recheck", *DEMO), id="recheck"),
        # --verbose: how many platforms at once, and why (the controller's reasons)
        pytest.param(
            ("audit", PHONE, "--fixtures", "--yes", "--recheck", "--verbose", *DEMO), id="verbose"
        ),
        pytest.param(("plan", PHONE), id="plan"),
        pytest.param(("plan", PHONE, "--recycled"), id="plan-recycled"),
        pytest.param(("status",), id="status"),
        pytest.param(("status", PHONE, "--until", "2099-01-15"), id="status-until"),
        pytest.param(("doctor",), id="doctor"),
        pytest.param(("trail", "show"), id="trail-show"),
        pytest.param(("trail", "show", "--run", "1"), id="trail-show-run"),
        pytest.param(("trail", "verify"), id="trail-verify"),
        pytest.param(("recipes", "list", "--demo"), id="recipes-list"),
        pytest.param(("recipes", "show", "example-cn"), id="recipes-show"),
        pytest.param(("sessions", "list"), id="sessions-list"),
    ],
)
def test_commands_speak_chinese(world: World, args: tuple[str, ...]) -> None:
    if args[0] == "audit":
        platforms = [p for p in args if p in (*DEMO, DEMO_APP_ONLY)]
        args = tuple(a for a in args if a not in platforms)
        args += tuple(a for p in platforms for a in ("--platform", p))
    done = world.run("--lang", "zh-CN", *args)
    out = _said(done)
    assert "Traceback" not in out
    assert done.returncode in (0, 1), out  # 1: doctor or verify may find a problem to report
    # The browser's own version line (`chromium --version`), as doctor shows it: its words.
    out = re.sub(r"^(ok +浏览器: \S+) \(.*\)$", r"\1", out, flags=re.MULTILINE)
    assert re.search(r"[\u4e00-\u9fff]", out), out
    left = english_left(out, world.names)
    assert left == [], f"{left}\n{out}"


def test_the_report_speaks_chinese(world: World) -> None:
    done = world.run("report", "--lang", "zh-CN", "--out", "-")
    assert done.returncode == 0, done.stderr
    page = _Text()
    page.feed(done.stdout)
    text = "\n".join(page.words)
    assert "页面显示“" in text  # the evidence column: our words around the page's
    left = english_left(text, world.names)
    assert left == [], f"{left}\n{text}"


def test_a_damaged_trail_is_described_in_chinese(world: World) -> None:
    # A copy of the demo's trail with one record's bytes changed and a torn write at its end:
    # what verify says of each problem, and of the tail, is Chinese too.
    home = world.box.root / "damaged"
    shutil.copytree(world.home, home)
    log = home / "trail" / "trail.log"
    data = bytearray(log.read_bytes())
    data[len(data) // 2] ^= 0x40
    log.write_bytes(bytes(data) + bytes(data[-40:-10]))
    done = world.run("--lang", "zh-CN", "trail", "verify", UNBINDER_HOME=str(home))
    out = _said(done)
    assert done.returncode == 5, out  # tampered
    assert "第" in out and "条记录" in out, out  # the problem names its record
    assert "Traceback" not in out
    left = english_left(out, world.names)
    assert left == [], f"{left}\n{out}"


def test_every_help_speaks_chinese(world: World) -> None:
    from unbinder.cli import cli

    def names(group: object, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
        yield prefix
        for name, command in sorted(getattr(group, "commands", {}).items()):
            yield from names(command, (*prefix, name))

    wrong = {}
    for command in names(cli):
        done = world.run("--lang", "zh-CN", *command, "--help")
        out = _said(done)
        assert done.returncode == 0, out
        assert out.startswith("用法："), out
        left = english_left(out, world.names)
        if left:
            wrong[" ".join(command)] = left
    assert wrong == {}


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(("audit", "12345", "--region", "CN", "--fixtures"), {}, id="short-number"),
        pytest.param(("audit", "+86 138 abc", "--fixtures"), {}, id="letters"),
        pytest.param(("audit", "13800138000", "--fixtures"), {"LANG": "C"}, id="no-country"),
        pytest.param(("recipes", "show", "nope"), {}, id="unknown-recipe"),
        pytest.param(("audit", PHONE, "--yes", "--platform", "example-cn"), {}, id="demo-live"),
        pytest.param(("audit", PHONE, "--fixtures", "--keep-session"), {}, id="keep-session"),
        pytest.param(("unbind", "nope", "--phone", PHONE), {}, id="unbind-unknown"),
        pytest.param(("trail", "verify"), {"UNBINDER_PASSPHRASE": "wrong"}, id="passphrase"),
        pytest.param(("trail", "show"), {"UNBINDER_HOME": "@empty"}, id="no-trail"),
        pytest.param(("trail", "show", "--run", "999"), {}, id="no-such-run"),
        pytest.param(("status", PHONE, "--until", "tomorrow"), {}, id="bad-date"),
        pytest.param(("report", "--format", "pdf"), {}, id="bad-choice"),
        pytest.param(("audit",), {}, id="missing-argument"),
        pytest.param(("audit", PHONE, "--bogus"), {}, id="no-such-option"),
        pytest.param(("frobnicate",), {}, id="no-such-command"),
        pytest.param(("--bogus",), {}, id="no-such-root-option"),  # before --lang is handled
        pytest.param(("mark", "example-cn", "--phone", PHONE, "--status", "gone"), {}, id="mark"),
    ],
)
def test_errors_speak_chinese_in_one_line(
    world: World, args: tuple[str, ...], env: dict[str, str]
) -> None:
    if env.get("UNBINDER_HOME") == "@empty":
        env = {**env, "UNBINDER_HOME": str(world.box.root / "empty")}
    done = world.run("--lang", "zh-CN", *args, **env)
    assert done.returncode not in (0, 1), _said(done)
    assert "Traceback" not in _said(done)
    errors = [line for line in done.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 1, done.stderr
    left = english_left(done.stderr, world.names)
    assert left == [], f"{left}\n{done.stderr}"
