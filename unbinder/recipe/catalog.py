"""The platform catalog: what each recipe covers, read fast, for `recipes list|show` and `plan`.

Listing the catalog must feel instant, but validating a recipe through the pydantic models
(`model.py`, `load.py`) costs about half a second of imports and model building before the first
file. The catalog therefore reads only the fields it shows (names, regions, category, harm,
status, flows, side effects, notes, manual steps, which verdict rules cite a source, how hard
changing the number is) with the
same safe YAML loader (`safe_yaml.py`: plain data, no tags, no aliases) and checks their shape
itself. It does not validate flow steps: that is `unbinder recipes lint`'s job (and `doctor`
reports recipes that fail it). A test keeps the two readings in agreement for every shipped
recipe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from unbinder.errors import BadInput, RecipeError, UnknownPlatform
from unbinder.i18n.translate import _
from unbinder.paths import recipe_files, recipe_path, recipe_sources
from unbinder.recipe.confidence import Confidence, Sourcing, cited_ids
from unbinder.recipe.names import ID_RE, REGION_RE, did_you_mean
from unbinder.recipe.safe_yaml import (
    MAX_BYTES,
    FileProblem,
    YamlProblem,
    compose,
    nearest_line,
    read_text,
)
from unbinder.vocab import (
    CATEGORIES,
    CODES_TO,
    DIFFICULTIES,
    FLOW_NAMES,
    RECIPE_STATUSES,
    VERDICTS,
    CodesTo,
    Difficulty,
)

SCHEMA = "unbinder.recipes/1"
SIDE_EFFECTS = ("sends_sms", "notifies_owner", "destructive")
# The commands that act on a platform, as the plan and `recipes show` print them. PHONE, OLD and
# NEW stay placeholders: the number is never printed in full.
COMMANDS = {
    "check": "unbinder audit {phone} --platform {id}",
    "headed": "unbinder audit {phone} --platform {id} --headed",
    "side_effects": "unbinder audit {phone} --platform {id} --allow-side-effects",
    "change": "unbinder unbind {id} --phone {phone} --new-phone NEW",
    "unbind": "unbinder unbind {id} --phone {phone} --mode unbind",
    "mark": "unbinder mark {id} --phone {phone} --status changed",
    "show": "unbinder recipes show {id}",
}


@dataclass(frozen=True)
class Text:
    """A text in English and, when written, Simplified Chinese."""

    en: str
    zh_cn: str | None = None

    def get(self, lang: str) -> str:
        if lang.lower().startswith("zh") and self.zh_cn:
            return self.zh_cn
        return self.en

    def to_json(self) -> dict[str, str | None]:
        return {"en": self.en, "zh-CN": self.zh_cn}


@dataclass(frozen=True)
class FlowInfo:
    """One automated flow of a recipe, as the catalog shows it."""

    name: str
    requires_login: bool
    side_effects: tuple[str, ...]  # a subset of SIDE_EFFECTS, in that order
    description: Text | None


@dataclass(frozen=True)
class Manual:
    """What a person does by hand (in the app, or on the site)."""

    why: Text | None
    url: str | None
    steps_en: tuple[str, ...]
    steps_zh_cn: tuple[str, ...] | None

    def steps(self, lang: str) -> tuple[str, ...]:
        if lang.lower().startswith("zh") and self.steps_zh_cn:
            return self.steps_zh_cn
        return self.steps_en


@dataclass(frozen=True)
class NumberChange:
    """How hard the platform makes it to change or remove the number, where, and what it takes."""

    difficulty: Difficulty
    codes_to: CodesTo
    settings_url: str | None
    waiting: Text | None

    def to_json(self) -> dict[str, Any]:
        return {
            "difficulty": self.difficulty,
            "codes_to": self.codes_to,
            "settings_url": self.settings_url,
            "waiting": self.waiting.to_json() if self.waiting else None,
        }


@dataclass(frozen=True)
class Entry:
    """One platform of the catalog."""

    id: str
    name: Text
    regions: tuple[str, ...]
    category: str
    harm: int
    homepage: str
    domains: tuple[str, ...]
    status: str
    last_verified: str | None
    maintainers: tuple[str, ...]
    demo: bool
    notes: Text | None
    flows: tuple[FlowInfo, ...]
    manual: Manual | None
    path: Path
    sourcing: Sourcing  # how many verdict rules cite a source
    number_change: NumberChange | None = None

    @property
    def confidence(self) -> Confidence:
        """How much of the recipe rests on public sources: sourced, partly or assumed."""
        return self.sourcing.confidence

    @property
    def sourced_share(self) -> float | None:
        """Verdict rules citing a source / verdict rules (None without verdict rules)."""
        return self.sourcing.share

    @property
    def flow_names(self) -> tuple[str, ...]:
        """Automated flows in their canonical order, then `manual` when there are manual steps."""
        return tuple(f.name for f in self.flows) + (("manual",) if self.manual else ())

    def flow(self, name: str) -> FlowInfo | None:
        return next((f for f in self.flows if f.name == name), None)

    def applies_to(self, region: str) -> bool:
        """Does the platform matter for numbers of `region` (or everywhere)?"""
        region = region.upper()
        return region in self.regions or "GLOBAL" in self.regions

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name.to_json(),
            "regions": list(self.regions),
            "category": self.category,
            "harm": self.harm,
            "status": self.status,
            "last_verified": self.last_verified,
            "confidence": self.confidence,
            "sourced_share": self.sourced_share,
            "flows": list(self.flow_names),
            "side_effects": {f.name: list(f.side_effects) for f in self.flows},
            "requires_login": {f.name: f.requires_login for f in self.flows},
            "homepage": self.homepage,
            "domains": list(self.domains),
            "demo": self.demo,
            "number_change": self.number_change.to_json() if self.number_change else None,
        }


def command(kind: str, platform_id: str, phone: str = "PHONE") -> str:
    """The command line for `kind` (a key of COMMANDS) on one platform."""
    return COMMANDS[kind].replace("{id}", platform_id).replace("{phone}", phone)


def sort_key(entry: Entry) -> tuple[int, str]:
    """Most harmful first, then by id (stable in every language)."""
    return (-entry.harm, entry.id)


# --------------------------------------------------------------------------- reading


class _Shape(Exception):
    def __init__(self, loc: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def read_entry(path: Path) -> Entry:
    """Read the catalog fields of one recipe file. RecipeError names `file:line`."""
    try:
        text = read_text(path, MAX_BYTES)  # a regular file, its size checked before reading
    except FileNotFoundError:
        raise RecipeError(_("{path}: no such recipe file").format(path=path)) from None
    except FileProblem as problem:
        raise RecipeError(
            _("{path}:1: recipe {message}").format(path=path, message=problem.message)
        ) from None
    try:
        data, lines = compose(text)
    except YamlProblem as problem:
        raise RecipeError(f"{path}:{problem.line}: {problem.message}") from None
    try:
        return _entry(data, path)
    except _Shape as shape:
        line = nearest_line(lines, shape.loc)
        where = ".".join(str(p) for p in shape.loc) or "(top level)"
        raise RecipeError(f"{path}:{line}: {where}: {shape.message}") from None


def _entry(data: Any, path: Path) -> Entry:
    top = _mapping(data, ())
    recipe_id = _str(top, "id")
    if not ID_RE.fullmatch(recipe_id):
        raise _Shape(("id",), f"{recipe_id!r} is not a recipe id (lower-case letters, digits, -)")
    regions = tuple(_str_list(top, "regions"))
    if not regions or any(not REGION_RE.fullmatch(r) for r in regions):
        raise _Shape(("regions",), "regions are country codes (CN, US...) or GLOBAL")
    category = _str(top, "category", "other")
    if category not in CATEGORIES:
        raise _Shape(("category",), f"unknown category {category!r}")
    harm = top.get("harm", 3)
    if not isinstance(harm, int) or isinstance(harm, bool) or not 1 <= harm <= 5:
        raise _Shape(("harm",), "harm is a whole number from 1 to 5")
    status = _str(top, "status", "unverified")
    if status not in RECIPE_STATUSES:
        raise _Shape(("status",), f"unknown status {status!r}")
    last_verified = top.get("last_verified")
    if isinstance(last_verified, dt.date):  # unquoted 2025-01-31, which the models accept too
        last_verified = last_verified.isoformat()
    if last_verified is not None and not isinstance(last_verified, str):
        raise _Shape(("last_verified",), "expected a date as text ('2025-01-31') or null")
    flows = _mapping(top.get("flows"), ("flows",))
    sources = set(_mapping(top.get("sources", {}), ("sources",)))
    infos: list[FlowInfo] = []
    verdicts = sourced = 0
    for name in FLOW_NAMES:
        if flows.get(name) is None:
            continue
        flow = _mapping(flows[name], ("flows", name))
        for rule in _rules(flow, ("flows", name, "detect")):
            if rule.get("outcome") in VERDICTS:
                verdicts += 1
                sourced += _cites(rule, sources)
        effects = _mapping(flow.get("side_effects", {}), ("flows", name, "side_effects"))
        infos.append(
            FlowInfo(
                name=name,
                requires_login=_bool(flow, "requires_login", ("flows", name)),
                side_effects=tuple(e for e in SIDE_EFFECTS if effects.get(e) is True),
                description=_text(flow.get("description"), ("flows", name, "description")),
            )
        )
    manual = None
    manual_sourced = False
    if flows.get("manual") is not None:
        spec = _mapping(flows["manual"], ("flows", "manual"))
        manual_sourced = _cites(spec, sources)
        steps = _mapping(spec.get("steps"), ("flows", "manual", "steps"))
        zh = steps.get("zh-CN")
        manual = Manual(
            why=_text(spec.get("why"), ("flows", "manual", "why")),
            url=_optional_str(spec, "url", ("flows", "manual")),
            steps_en=tuple(_str_list(steps, "en", ("flows", "manual", "steps"))),
            steps_zh_cn=None
            if zh is None
            else tuple(_str_list(steps, "zh-CN", ("flows", "manual", "steps"))),
        )
    if not infos and manual is None:
        raise _Shape(("flows",), "a recipe needs at least one flow")
    title = _text(top.get("name"), ("name",))
    if title is None:
        raise _Shape(("name",), "required key 'name' is missing")
    return Entry(
        id=recipe_id,
        name=title,
        regions=regions,
        category=category,
        harm=harm,
        homepage=_str(top, "homepage"),
        domains=tuple(_str_list(top, "domains", required=False)),
        status=status,
        last_verified=last_verified,
        maintainers=tuple(_str_list(top, "maintainers", required=False)),
        demo=_bool(top, "demo", ()),
        notes=_text(top.get("notes"), ("notes",)),
        flows=tuple(infos),
        manual=manual,
        path=path,
        sourcing=Sourcing(verdicts, sourced, manual_sourced),
        number_change=_number_change(top.get("number_change")),
    )


def _number_change(value: Any) -> NumberChange | None:
    if value is None:
        return None
    loc = ("number_change",)
    spec = _mapping(value, loc)
    difficulty = _word(spec, "difficulty", DIFFICULTIES, loc)
    codes_to = _word(spec, "codes_to", CODES_TO, loc)
    url = _optional_str(spec, "settings_url", loc)
    if url is not None and not url.startswith(("https://", "http://")):
        raise _Shape((*loc, "settings_url"), f"{url!r} is not a page address (https://...)")
    return NumberChange(
        difficulty=difficulty,
        codes_to=codes_to,
        settings_url=url,
        waiting=_text(spec.get("waiting"), (*loc, "waiting")),
    )


W = TypeVar("W", bound=str)


def _word(data: Mapping[str, Any], key: str, words: tuple[W, ...], loc: tuple[Any, ...]) -> W:
    """A required word of a closed list (a vocabulary of unbinder/vocab.py)."""
    value = data.get(key)
    for known in words:
        if known == value:
            return known
    if value is None:
        raise _Shape((*loc, key), f"required key {key!r} is missing")
    hint = did_you_mean(str(value), words)
    raise _Shape((*loc, key), f"unknown {key} {value!r}{hint}; use one of {', '.join(words)}")


def _rules(flow: Mapping[str, Any], loc: tuple[Any, ...]) -> list[Mapping[str, Any]]:
    """A flow's detect rules (only their shape: a list of mappings)."""
    rules = flow.get("detect", [])
    if not isinstance(rules, list):
        raise _Shape(loc, "expected a list of detect rules")
    return [_mapping(rule, (*loc, index)) for index, rule in enumerate(rules)]


def _cites(spec: Mapping[str, Any], sources: set[str]) -> bool:
    """Does it cite a source, every id of which is under `sources:`?"""
    ids = cited_ids(spec.get("source"))
    return bool(ids) and all(i in sources for i in ids)


def _mapping(value: Any, loc: tuple[Any, ...]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Shape(loc, "expected a mapping of keys")
    return value


def _str(data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if value is None:
        raise _Shape((key,), f"required key {key!r} is missing")
    if not isinstance(value, str):
        raise _Shape((key,), "expected text")
    return value


def _optional_str(data: Mapping[str, Any], key: str, loc: tuple[Any, ...]) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _Shape((*loc, key), "expected text")
    return value


def _bool(data: Mapping[str, Any], key: str, loc: tuple[Any, ...]) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise _Shape((*loc, key), "expected true or false")
    return value


def _str_list(
    data: Mapping[str, Any], key: str, loc: tuple[Any, ...] = (), *, required: bool = True
) -> list[str]:
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Shape((*loc, key), "expected a list of texts")
    return value


def _text(value: Any, loc: tuple[Any, ...]) -> Text | None:
    if value is None:
        return None
    spec = _mapping(value, loc)
    en = spec.get("en")
    zh = spec.get("zh-CN")
    if not isinstance(en, str) or (zh is not None and not isinstance(zh, str)):
        raise _Shape(loc, "expected {en: ..., zh-CN: ...} texts")
    return Text(en=en.strip(), zh_cn=zh.strip() if zh else None)


# --------------------------------------------------------------------------- the catalog


@dataclass(frozen=True)
class Catalog:
    """Every recipe that reads, and the problem with each one that does not."""

    entries: tuple[Entry, ...]
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()  # the person's recipes used instead of shipped ones

    def get(self, platform_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == platform_id:
                return entry
        for problem in self.problems:
            if Path(problem.split(":", 1)[0]).stem == platform_id:
                raise RecipeError(problem)
        hint = did_you_mean(platform_id, [e.id for e in self.entries])
        raise UnknownPlatform(
            _("no recipe for platform {platform_id!r}{hint}.").format(
                platform_id=platform_id, hint=hint
            ),
            hint=_("`unbinder recipes list` shows every platform."),
        )

    def select(self, *, region: str | None = None, include_demo: bool = False) -> list[Entry]:
        """Entries (most harmful first) for numbers of `region`, demo platforms on request."""
        chosen = [e for e in self.entries if include_demo or not e.demo]
        if region is not None:
            region = check_region(region)
            if region != "GLOBAL":
                chosen = [e for e in chosen if e.applies_to(region)]
        return sorted(chosen, key=sort_key)


def load_catalog(directory: Path | None = None) -> Catalog:
    """Read every recipe of `directory` (default: the shipped ones and UNBINDER_RECIPES')."""
    entries: list[Entry] = []
    problems: list[str] = []
    notes: tuple[str, ...] = ()
    if directory is None:
        notes = tuple(
            f"{yours.stem}: your recipe {yours} is used instead of the shipped one"
            for yours, _shipped in recipe_sources().overridden
        )
    for path in recipe_files(directory):
        try:
            entries.append(read_entry(path))
        except RecipeError as exc:
            problems.append(exc.message)
    return Catalog(tuple(sorted(entries, key=sort_key)), tuple(problems), notes)


def find_entry(platform_id: str, directory: Path | None = None) -> Entry:
    """One platform's entry; reads only its file when the id names one."""
    path = recipe_path(platform_id, directory)
    if ID_RE.fullmatch(platform_id) and path.is_file():
        return read_entry(path)
    return load_catalog(directory).get(platform_id)


def check_region(region: str) -> str:
    """A region code as recipes write it (CN, US... or GLOBAL), or BadInput."""
    value = region.strip().upper()
    if not REGION_RE.fullmatch(value):
        raise BadInput(
            _("{region!r} is not a region.").format(region=region),
            hint=_("Use a two-letter country code (CN, US) or GLOBAL."),
        )
    return value


def catalog_json(entries: Iterable[Entry]) -> dict[str, Any]:
    """The versioned document `unbinder recipes list --json` prints."""
    return {"schema": SCHEMA, "recipes": [e.to_json() for e in entries]}


# --------------------------------------------------------------------------- display words


@cache
def words() -> dict[str, Any]:
    """The catalog's display texts (categories, statuses, labels) from data/catalog.yaml, in
    English; other languages are in the gettext catalogs (`i18n/translate.py`)."""
    from unbinder.data import load_data

    return load_data("catalog.yaml")


def word(group: str, key: str, lang: str) -> str:
    """One display text: `word("categories", "payment", "zh-CN")` -> 支付."""
    from unbinder.i18n.translate import say

    entry = words().get(group, {}).get(key)
    if entry is None:
        return key
    return say(str(entry).strip(), lang)
