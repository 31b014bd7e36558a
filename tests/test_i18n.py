"""The gettext catalogs: every message of the source has its translation, and what runs is it.

The messages are what Babel extracts from the code, the click help, the report template and the
data files (scripts/i18n.py, the first step of `make i18n`), plus click's own words.
"""

from __future__ import annotations

import contextlib
import gettext
import importlib.util
import re
import string
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from unbinder.cli import cli
from unbinder.i18n import translate
from unbinder.i18n.lang import LANGS, default_lang

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "unbinder" / "i18n" / "locale"
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/unbinder.po"))


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def source() -> Catalog:
    """Every message of the source, as `make i18n` extracts it."""
    catalog: Catalog = _script().extract()
    return catalog


def _po(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in catalog if m.id}


def _fields(text: str) -> set[str]:
    """The placeholders of a message: `{name}` (ours, click's) and `%(name)s` (the template)."""
    fields = {f"%({name})" for name in re.findall(r"%\((\w+)\)", text)}
    with contextlib.suppress(ValueError):  # a brace that is no placeholder
        fields |= {f"{{{n}}}" for _, n, _, _ in string.Formatter().parse(text) if n is not None}
    return fields


def _forms(message: Message) -> list[tuple[str, str]]:
    """(English, translation) pairs of a message, each plural form against the plural."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if len(strings) == 1:  # one form for every count (Chinese): it answers the plural
        return [(ids[-1], strings[0])]
    return [(ids[min(i, len(ids) - 1)], s) for i, s in enumerate(strings)]


def _edges(text: str) -> tuple[str, str]:
    """The layout at a message's ends: its newlines and an indent of two spaces or more (a
    single space around a joiner such as " and " is the language's own)."""
    lead = re.match(r"\n*( {2,})?", text)
    trail = re.search(r"\n*$", text)
    return (lead.group(0) if lead else ""), (trail.group(0) if trail else "")


def test_there_is_a_catalog_for_every_language_but_english() -> None:
    assert CATALOGS, "no catalog under unbinder/i18n/locale/"
    langs = {p.parent.parent.name.replace("_", "-") for p in CATALOGS}
    assert set(LANGS) == {"en", *langs}
    assert "zh-CN" in LANGS


def test_the_template_is_what_the_source_says(source: Catalog) -> None:
    pot = _po(ROOT / "unbinder" / "i18n" / "unbinder.pot")
    assert _ids(pot) == _ids(source), "run `make i18n` and commit the result"


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_every_message_has_a_translation(po: Path, source: Catalog) -> None:
    catalog = _po(po)
    missing = sorted(str(i) for i in _ids(source) - _ids(catalog))
    assert missing == [], f"{po}: not translated yet (make i18n, then translate)"
    untranslated = [
        m.id
        for m in catalog
        if m.id in _ids(source) and (m.fuzzy or not all(s.strip() for _, s in _forms(m)))
    ]
    assert untranslated == [], f"{po}: empty or fuzzy"
    obsolete = sorted(str(i) for i in _ids(catalog) - _ids(source))
    assert obsolete == [], f"{po}: messages the source no longer has (make i18n drops them)"


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_translations_keep_the_placeholders_and_the_edges(po: Path) -> None:
    wrong = []
    for message in _po(po):
        if not message.id:
            continue
        for english, said in _forms(message):
            if _fields(english) != _fields(said):
                wrong.append((english, said))
            if _edges(english) != _edges(said):
                wrong.append((english, said))
    assert wrong == [], "\n".join(f"{e!r} -> {t!r}" for e, t in wrong)


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_the_compiled_catalog_is_the_po(po: Path, tmp_path: Path) -> None:
    compiled = tmp_path / "fresh.mo"
    with compiled.open("wb") as fh:
        write_mo(fh, _po(po))
    with compiled.open("rb") as fresh, po.with_suffix(".mo").open("rb") as shipped:
        want = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        have = gettext.GNUTranslations(shipped)._catalog  # type: ignore[attr-defined]
    assert have == want, f"{po.with_suffix('.mo')} is out of date: run `make i18n`"


def test_click_speaks_our_catalog() -> None:
    chinese = CliRunner().invoke(cli, ["--lang", "zh-CN", "audit", "--help"])
    assert chinese.exit_code == 0
    assert chinese.output.startswith("用法：")
    assert "显示此帮助并退出。" in chinese.output
    assert "同时在多个平台上检查一个号码" in chinese.output
    # Nothing stays behind in the process: the next command is English again.
    english = CliRunner().invoke(cli, ["audit", "--help"], env={"LANG": "C.UTF-8"})
    assert english.output.startswith("Usage:")
    assert "Show this message and exit." in english.output
    error = CliRunner().invoke(cli, ["--lang", "zh-CN", "audit"])
    assert error.exit_code == 2
    assert "错误：缺少参数" in error.output


def test_the_locale_chooses_the_language_and_lang_overrides_it() -> None:
    zh = CliRunner().invoke(cli, ["--help"], env={"LANG": "zh_CN.UTF-8", "LC_ALL": ""})
    assert "用法：" in zh.output
    en = CliRunner().invoke(cli, ["--lang", "en", "--help"], env={"LANG": "zh_CN.UTF-8"})
    assert en.output.startswith("Usage:")


@pytest.mark.parametrize(
    ("locale", "lang"),
    [("zh_CN.UTF-8", "zh-CN"), ("zh_TW.UTF-8", "zh-CN"), ("fr_FR.UTF-8", "en"), ("C", "en")],
)
def test_a_locale_gets_its_own_catalog_else_one_of_its_language(locale: str, lang: str) -> None:
    assert default_lang({"LANG": locale}) == lang


def test_a_third_language_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "fr_FR" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="fr_FR")
    catalog.add("Evidence report", "Rapport de preuves")
    with (folder / "unbinder.mo").open("wb") as fh:
        write_mo(fh, catalog)
    monkeypatch.setattr(translate, "LOCALE_DIR", tmp_path)
    translate.translations.cache_clear()
    try:
        assert translate.catalog_langs() == ("fr-FR",)
        assert translate.say("Evidence report", "fr-FR") == "Rapport de preuves"
        assert translate.say("Summary", "fr-FR") == "Summary"  # untranslated: the English
    finally:
        translate.translations.cache_clear()


def test_babel_is_not_imported_at_run_time() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from unbinder.cli import cli\n"
        "CliRunner().invoke(cli, ['--lang', 'zh-CN', 'plan', '+86 138 0013 8000'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'babel'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
