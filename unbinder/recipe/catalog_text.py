"""The catalog as text: the `recipes list` table and the `recipes show` page, in en or zh-CN."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from unbinder.i18n.lang import display_width, pad
from unbinder.recipe.catalog import Entry, FlowInfo, command, word
from unbinder.recipe.confidence import Sourcing
from unbinder.recipe.safe_yaml import printable


def _label(key: str, lang: str) -> str:
    return word("labels", key, lang)


def side_effects_text(flows: Sequence[FlowInfo], lang: str) -> str:
    """`change, unbind: sends SMS, changes the account`, or `none` (flows with equal effects
    share one entry)."""
    zh = lang.startswith("zh")
    comma, colon, semi = ("、", "：", "；") if zh else (", ", ": ", "; ")
    by_effects: dict[tuple[str, ...], list[str]] = {}
    for flow in flows:
        if flow.side_effects:
            by_effects.setdefault(flow.side_effects, []).append(word("flows", flow.name, lang))
    parts = [
        comma.join(names) + colon + comma.join(word("side_effects", e, lang) for e in effects)
        for effects, names in by_effects.items()
    ]
    return semi.join(parts) or _label("none", lang)


def difficulty_text(entry: Entry, lang: str) -> str:
    """How hard changing the number is (`medium`, `中等`), or `-` when the recipe does not say."""
    change = entry.number_change
    if change is None:
        return _label("not_rated", lang)
    return word("difficulties", change.difficulty, lang)


def status_text(entry: Entry, lang: str) -> str:
    status = word("statuses", entry.status, lang)
    return f"{status} ({entry.last_verified})" if entry.last_verified else status


def sourced_share_text(entries: Sequence[Entry], lang: str) -> str | None:
    """`Verdict rules with a public source: 12 of 40 (30 %).`, or None without verdict rules."""
    total = Sourcing.total(e.sourcing for e in entries)
    if total.share is None:
        return None
    return (
        _label("sourced_share", lang)
        .replace("{sourced}", str(total.sourced_rules))
        .replace("{total}", str(total.verdict_rules))
        .replace("{percent}", str(round(100 * total.share)))
    )


def confidence_text(entry: Entry, lang: str) -> str:
    """`partly sourced (1 of 2 verdict rules cite a public source)`."""
    left, right = ("（", "）") if lang.startswith("zh") else (" (", ")")
    sourcing = entry.sourcing
    if sourcing.verdict_rules:
        detail = (
            _label("show_sourced_rules", lang)
            .replace("{sourced}", str(sourcing.sourced_rules))
            .replace("{total}", str(sourcing.verdict_rules))
        )
    else:
        manual = "show_manual_sourced" if sourcing.manual_sourced else "show_manual_unsourced"
        detail = _label(manual, lang)
    return f"{word('confidence', entry.confidence, lang)}{left}{detail}{right}"


def render_list(entries: Sequence[Entry], lang: str, width: int | None = None) -> str:
    """One line per platform under a header, then a summary, the share of verdict rules with a
    public source, and what `unverified` means.

    Given a `width` the table does not fit in, each platform takes a block instead: its id,
    then what the table's columns say, filled to the width (an id is never broken).
    """
    if not entries:
        return _label("empty", lang) + "\n"
    header = [
        "id",
        "platform",
        "regions",
        "category",
        "harm",
        "difficulty",
        "flows",
        "status",
        "confidence",
        "side_effects",
    ]
    rows = [[_label(h, lang) for h in header]]
    for e in entries:
        rows.append(
            [
                e.id,
                e.name.get(lang),
                ",".join(e.regions),
                word("categories", e.category, lang),
                str(e.harm),
                difficulty_text(e, lang),
                ",".join(word("flows", f, lang) for f in e.flow_names),
                status_text(e, lang),
                word("confidence", e.confidence, lang),
                side_effects_text(e.flows, lang),
            ]
        )
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(pad(cell, widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1]
        for row in rows
    ]
    if width is not None and max(display_width(line) for line in lines) > width:
        lines = _blocks(entries, lang, width)
    working = sum(e.status == "working" for e in entries)
    unverified = sum(e.status == "unverified" for e in entries)
    summary = (
        _label("summary", lang)
        .replace("{count}", str(len(entries)))
        .replace("{working}", str(working))
        .replace("{unverified}", str(unverified))
        .replace("{other}", str(len(entries) - working - unverified))
    )
    share = sourced_share_text(entries, lang)
    notes = [summary, *([share] if share else []), _label("status_note", lang)]
    if width is not None:
        from unbinder.i18n.wrap import wrap

        notes = [line for note in notes for line in wrap(note, width)]
    return printable("\n".join([*lines, "", *notes]) + "\n")


def _blocks(entries: Sequence[Entry], lang: str, width: int) -> list[str]:
    """The list for a narrow terminal: per platform its id and name, then what the table's
    columns say, broken between fields to fit `width` (an id is never broken)."""
    from unbinder.i18n.wrap import fill

    colon, comma = ("：", "、") if lang.startswith("zh") else (": ", ", ")
    lines: list[str] = []
    for e in entries:
        harm = _label("harm_scale", lang).replace("{harm}", str(e.harm))
        fields = [
            ",".join(e.regions),
            word("categories", e.category, lang),
            _label("show_harm", lang) + colon + harm,
            _label("show_difficulty", lang) + colon + difficulty_text(e, lang),
            comma.join(word("flows", f, lang) for f in e.flow_names),
            status_text(e, lang),
            word("confidence", e.confidence, lang),
        ]
        effects = side_effects_text(e.flows, lang)
        if effects != _label("none", lang):
            fields.append(_label("show_side_effects", lang) + colon + effects)
        lines += fill([e.name.get(lang), *fields], width, "    ", first=f"{e.id}  ")
    return lines


def render_show(entry: Entry, lang: str) -> str:
    """Everything a person needs to judge and use one recipe."""
    zh = lang.startswith("zh")
    colon, semi, left, right = ("：", "；", "（", "）") if zh else (": ", "; ", " (", ")")

    def field(key: str, value: str) -> str:
        return f"{_label(key, lang)}{colon}{value}"

    def heading(key: str) -> list[str]:
        text = _label(key, lang)
        return ["", text, "-" * display_width(text)]

    name = entry.name.get(lang)
    other = entry.name.get("en" if zh else "zh-CN")
    title = f"{name} / {other} ({entry.id})" if other != name else f"{name} ({entry.id})"
    out = [title, "=" * min(72, display_width(title))]
    if entry.demo:
        out.append(_label("show_demo", lang))
    meaning = word("status_meaning", entry.status, lang)
    out.append(
        field("show_status", f"{word('statuses', entry.status, lang)}{left}{meaning}{right}")
    )
    out.append(field("show_last_verified", entry.last_verified or _label("never", lang)))
    out.append(field("show_confidence", confidence_text(entry, lang)))
    out.append(field("show_regions", ", ".join(entry.regions)))
    out.append(field("show_category", word("categories", entry.category, lang)))
    out.append(field("show_harm", _label("harm_scale", lang).replace("{harm}", str(entry.harm))))
    out.append(field("show_homepage", entry.homepage))
    out.append(
        field("show_domains", ", ".join(_domain_text(d, lang) for d in entry.domains) or "-")
    )
    if entry.maintainers:
        out.append(field("show_maintainers", ", ".join(entry.maintainers)))
    if entry.notes is not None:
        out += heading("show_notes")
        out += _paragraph(entry.notes.get(lang))
    out += heading("show_number_change")
    out += _number_change(entry, lang, field)
    out += heading("show_flows")
    for flow in entry.flows:
        login = _label("show_login" if flow.requires_login else "show_anonymous", lang)
        effects = (", " if not zh else "、").join(
            word("side_effects", e, lang) for e in flow.side_effects
        ) or _label("none", lang)
        out.append(f"{word('flows', flow.name, lang)} - {word('flow_meaning', flow.name, lang)}")
        out.append(f"    {login}{semi}{field('show_side_effects', effects)}")
        if flow.description is not None:
            out.append(f"    {flow.description.get(lang)}")
    if not entry.flows:
        out.append(_label("show_manual_only", lang))
    out += heading("show_manual")
    if entry.manual is None:
        out.append(_label("show_no_manual", lang))
    else:
        if entry.manual.why is not None:
            out.append(field("show_why", entry.manual.why.get(lang)))
        for number, step in enumerate(entry.manual.steps(lang), start=1):
            out.append(f"{number}. {step}")
        if entry.manual.url:
            out.append(entry.manual.url)
    out += heading("show_commands")
    out += _commands(entry)
    # Recipe text never reaches the terminal raw (load refuses control characters; this is the
    # second wall, for the catalog's own reader).
    return printable("\n".join(out) + "\n")


def _domain_text(domain: str, lang: str) -> str:
    """A domain as shown: an internationalised (punycode) one with what it reads as, since
    `xn--80ak6aa92e.com` reads as a look-alike of apple.com."""
    from unbinder.recipe.hosts import decoded

    shown = decoded(domain)
    if shown is None or shown == domain:
        return domain
    if lang.startswith("zh"):
        return f"{domain}（显示为 {shown}：国际化域名，请确认它属于该平台而非仿冒）"
    return f"{domain} (reads as {shown}: an internationalised name; check it is the platform's own)"


def _number_change(entry: Entry, lang: str, field: Callable[[str, str], str]) -> list[str]:
    change = entry.number_change
    if change is None:
        return [_label("show_not_rated", lang)]
    out = [
        field("show_difficulty", word("difficulties", change.difficulty, lang)),
        field("show_codes_to", word("codes_to", change.codes_to, lang)),
    ]
    if change.settings_url:
        out.append(field("show_settings_url", change.settings_url))
    if change.waiting is not None:
        out.append(field("show_waiting", change.waiting.get(lang)))
    return out


def _commands(entry: Entry) -> list[str]:
    names = set(entry.flow_names)
    kinds: list[str] = [k for k in ("check", "change", "unbind") if k in names]
    if not names & {"change", "unbind"}:
        kinds.append("mark")
    return [command(k, entry.id, "OLD" if k != "check" else "PHONE") for k in kinds]


def _paragraph(text: str) -> list[str]:
    import textwrap

    if any(ord(ch) > 0x2E80 for ch in text):
        return [text]
    return textwrap.wrap(" ".join(text.split()), width=96)
