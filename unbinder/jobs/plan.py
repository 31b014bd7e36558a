"""`unbinder plan`: the personal checklist for leaving a number (or for a recycled one).

The checklist joins two sources: the text in `unbinder/data/plan.yaml` (advice, official channels,
where to complain; editable and translatable without code) and the catalog of recipes (every
platform that matters for the number's region, grouped by category, most harmful first, each with
how hard changing the number is and where the codes go (the recipe's `number_change`), and what to
do: the `unbinder unbind` command where a change or unbind flow exists, else the manual steps).
The official channels come right before the platforms. The number itself appears only masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from unbinder.i18n.lang import display_width
from unbinder.phone import PhoneNumber
from unbinder.recipe.catalog import Catalog, Entry, command, sort_key, word, words
from unbinder.vocab import CATEGORIES

SCHEMA = "unbinder.plan/1"
Variant = Literal["leaving", "recycled"]


@dataclass(frozen=True)
class Note:
    """One line of advice or one official channel."""

    text: str
    name: str | None = None
    url: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name, "text": self.text, "url": self.url}


@dataclass(frozen=True)
class Command:
    label: str
    command: str


@dataclass(frozen=True)
class Item:
    """One platform of the checklist."""

    entry: Entry
    name: str
    commands: tuple[Command, ...]
    manual_steps: tuple[str, ...]  # shown when no command can do the job
    manual_url: str | None
    hint: str | None  # a line of advice for this platform
    tags: tuple[str, ...]  # harm, difficulty, status and the like, ready to show
    settings_url: str | None = None  # the page where the number is changed (leaving only)
    waiting: str | None = None  # waiting periods and reviews (leaving only)

    def to_json(self) -> dict[str, Any]:
        e = self.entry
        return {
            "id": e.id,
            "name": self.name,
            "category": e.category,
            "harm": e.harm,
            "status": e.status,
            "last_verified": e.last_verified,
            "flows": list(e.flow_names),
            "commands": [{"label": c.label, "command": c.command} for c in self.commands],
            "manual_steps": list(self.manual_steps),
            "manual_url": self.manual_url,
            "hint": self.hint,
            "number_change": e.number_change.to_json() if e.number_change else None,
        }


@dataclass(frozen=True)
class Group:
    category: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Section:
    id: str
    heading: str
    notes: tuple[Note, ...]
    platforms: bool  # the per-platform checklist goes after this section's notes


@dataclass(frozen=True)
class Plan:
    variant: Variant
    lang: str
    masked: str
    region: str
    title: str
    intro: str
    sections: tuple[Section, ...]
    groups: tuple[Group, ...]
    count_line: str

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "variant": self.variant,
            "lang": self.lang,
            "number": self.masked,
            "region": self.region,
            "title": self.title,
            "intro": self.intro,
            "sections": [
                {
                    "id": s.id,
                    "heading": s.heading,
                    "notes": [n.to_json() for n in s.notes],
                }
                for s in self.sections
            ],
            "platforms": [
                {
                    "category": g.category,
                    "title": g.title,
                    "items": [i.to_json() for i in g.items],
                }
                for g in self.groups
            ],
        }


@cache
def plan_text() -> dict[str, Any]:
    """The checklist's text (unbinder/data/plan.yaml)."""
    from unbinder.data import load_data

    return load_data("plan.yaml")


def _t(value: Any, lang: str) -> str:
    """A text of data/plan.yaml (English) in `lang` (the gettext catalogs)."""
    from unbinder.i18n.translate import say

    return say(str(value).strip(), lang)


def _applies(item: dict[str, Any], region: str) -> bool:
    regions = item.get("regions")
    return not regions or region in regions or "GLOBAL" in regions


def build_plan(
    phone: PhoneNumber,
    catalog: Catalog,
    *,
    variant: Variant = "leaving",
    lang: str = "en",
) -> Plan:
    """The checklist for `phone` (its region picks the platforms and the channels)."""
    text = plan_text()
    spec = text[variant]
    region = phone.region
    sections = tuple(
        Section(
            id=str(s["id"]),
            heading=_t(s["heading"], lang),
            notes=tuple(
                Note(
                    text=_t(n["text"], lang),
                    name=_t(n["name"], lang) if n.get("name") else None,
                    url=n.get("url"),
                )
                for n in s.get("items", [])
                if _applies(n, region)
            ),
            platforms=bool(s.get("platforms")),
        )
        for s in spec["sections"]
    )
    entries = catalog.select(region=region)
    groups = _groups(entries, variant, lang)
    words = text["items"]
    count_line = (
        _t(words["count"], lang).replace("{count}", str(len(entries))).replace("{region}", region)
        if entries
        else _t(words["no_platforms"], lang)
    )
    return Plan(
        variant=variant,
        lang=lang,
        masked=phone.masked,
        region=region,
        title=_t(spec["title"], lang).replace("{number}", phone.masked),
        intro=_t(spec["intro"], lang),
        sections=sections,
        groups=groups,
        count_line=count_line,
    )


def _groups(entries: list[Entry], variant: Variant, lang: str) -> tuple[Group, ...]:
    by_category: dict[str, list[Entry]] = {}
    for entry in entries:
        by_category.setdefault(entry.category, []).append(entry)
    # Groups in order of their most harmful platform; equal harm keeps the order of
    # data/catalog.yaml (money and identity before the rest).
    known = list(words()["categories"])
    rank: dict[str, int] = {
        c: known.index(c) if c in known else len(known) + CATEGORIES.index(c) for c in CATEGORIES
    }
    order = sorted(by_category, key=lambda c: (-max(e.harm for e in by_category[c]), rank[c]))
    return tuple(
        Group(
            category=category,
            title=word("categories", category, lang),
            items=tuple(
                _item(e, variant, lang) for e in sorted(by_category[category], key=sort_key)
            ),
        )
        for category in order
    )


def _item(entry: Entry, variant: Variant, lang: str) -> Item:
    words = plan_text()["items"]

    phone = "OLD" if variant == "leaving" else "PHONE"

    def cmd(label: str, kind: str) -> Command:
        return Command(_t(words[label], lang), command(kind, entry.id, phone))

    commands: list[Command] = []
    flows = set(entry.flow_names)
    show_manual = False
    if variant == "leaving":
        # Without a change flow, moving to the new number is done by hand (removing the old one
        # may still be automated).
        show_manual = "change" not in flows
        if "change" in flows:
            commands.append(cmd("change", "change"))
        if "unbind" in flows:
            label = "unbind" if "change" in flows else "unbind_only"
            commands.append(cmd(label, "unbind"))
        if not commands:
            if "check" in flows:
                commands.append(cmd("check", "check"))
            commands.append(cmd("mark", "mark"))
    elif "check" in flows:
        commands.append(cmd("recycled_check", "check"))
    commands.append(cmd("details", "show"))
    tags = [_t(words["harm"], lang).replace("{harm}", str(entry.harm))]
    change = entry.number_change
    if change is not None:
        difficulty = word("difficulties", change.difficulty, lang)
        tags.append(_t(words["difficulty"], lang).replace("{difficulty}", difficulty))
        codes = word("codes_to", change.codes_to, lang)
        if variant == "leaving" and change.codes_to == "none":
            tags.append(codes)  # "no code" says it all
        elif variant == "leaving" and change.codes_to != "unknown":
            tags.append(_t(words["codes_to"], lang).replace("{codes}", codes))
    status = word("statuses", entry.status, lang)
    if entry.last_verified:
        status += ", " + _t(words["last_verified"], lang).replace("{date}", entry.last_verified)
    tags.append(status)
    if not entry.flows:
        tags.append(_t(words["app_only"], lang))
    manual = entry.manual
    steps = manual.steps(lang) if show_manual and manual is not None else ()
    hint = None
    if variant == "recycled" and "check" not in flows:
        hint = _t(words["recycled_no_check"], lang)
    return Item(
        entry=entry,
        name=entry.name.get(lang),
        commands=tuple(commands),
        manual_steps=steps,
        manual_url=manual.url if manual is not None and show_manual else None,
        hint=hint,
        tags=tuple(tags),
        settings_url=change.settings_url if change and variant == "leaving" else None,
        waiting=change.waiting.get(lang)
        if change and change.waiting and variant == "leaving"
        else None,
    )


# --------------------------------------------------------------------------- text


def render_text(plan: Plan, width: int = 96) -> str:
    """The checklist as plain text, ready for a terminal or a printer, its lines filled to
    `width` columns (commands and addresses are never broken)."""
    from unbinder.i18n.wrap import fill

    words = plan_text()["items"]
    colon = "：" if plan.lang.startswith("zh") else ": "
    out: list[str] = [plan.title, "=" * min(72, display_width(plan.title)), ""]
    out += [*_wrap(width, plan.intro, ""), ""]
    for section in plan.sections:
        out += [section.heading, "-" * min(72, display_width(section.heading))]
        for note in section.notes:
            if section.platforms:
                out += _wrap(width, note.text, "")
                continue
            head = f"{note.name}{colon}" if note.name else ""
            out += _wrap(width, f"[ ] {head}{note.text}", "    ")
            if note.url:
                out.append(f"    {note.url}")
        if section.platforms:
            out += ["", plan.count_line]
            for group in plan.groups:
                out += ["", f"## {group.title}"]
                for item in group.items:
                    out += fill(
                        [f"[ ] {item.name} ({item.entry.id})", *item.tags], width, "    ", first=""
                    )
                    if item.hint:
                        out += _wrap(width, item.hint, "      ", first="    ")
                    if item.waiting:
                        label = _t(words["waiting"], plan.lang)
                        out += _wrap(width, f"{label}{colon}{item.waiting}", "      ", first="    ")
                    if item.settings_url:
                        label = _t(words["settings"], plan.lang)
                        out += _labelled(width, label, colon, item.settings_url)
                    if item.manual_steps:
                        out.append(f"    {_t(words['manual'], plan.lang)}{colon.rstrip()}")
                        for number, step in enumerate(item.manual_steps, start=1):
                            out += _wrap(width, f"{number}. {step}", "         ", first="      ")
                        if item.manual_url:
                            out.append(f"      {item.manual_url}")
                    for cmd in item.commands:
                        out += _labelled(width, cmd.label, colon, cmd.command)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _wrap(width: int, text: str, indent: str, first: str = "") -> list[str]:
    from unbinder.i18n.wrap import wrap

    return wrap(text, width, indent, first)


def _labelled(width: int, label: str, colon: str, value: str) -> list[str]:
    """`label: value` on one line when it fits, else the value whole on the next line."""
    line = f"    {label}{colon}{value}"
    if display_width(line) <= width:
        return [line]
    return [f"    {label}{colon.rstrip()}", f"      {value}"]
