"""`unbinder status`: the living checklist of one number, from the trail.

Per platform, what is known now and what is left, most harmful first: the states are the
report's (`report.py`, the same evidence rules), and the catalog adds the platforms of the
number's region that no run has checked yet. A date the number will be cancelled, kept in the
trail as a small run of its own (kind `deadline`), turns the list into a countdown.

The document (`unbinder.status/1`, JSON Schema in `templates/status.schema.json`, which also
describes the CSV row) is built without reading any evidence file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unbinder import __version__
from unbinder.errors import BadInput
from unbinder.i18n.translate import _
from unbinder.jobs.report import DEADLINE, TEMPLATE_DIR, fingerprint, pick_lang, recipe_lookup
from unbinder.trail.records import format_time, now
from unbinder.vocab import PLATFORM_STATES, THROTTLING, StatusState

if TYPE_CHECKING:
    from unbinder.jobs.report import RecipeLookup
    from unbinder.jobs.throttle import Throttle
    from unbinder.phone import PhoneNumber
    from unbinder.recipe.catalog import Catalog, Entry
    from unbinder.trail import Trail

SCHEMA = "unbinder.status/1"
FORMATS = ("text", "csv", "json")
SCHEMA_FILE = TEMPLATE_DIR / "status.schema.json"
# The CSV's columns, in order (docs/report.md describes each; the schema's `csv_row` too).
CSV_COLUMNS = (
    "platform",
    "name",
    "harm",
    "category",
    "state",
    "done",
    "known",
    "by",
    "since",
    "run",
    "next_check",
    "next_step",
)
# Where a platform no run has checked yet stands among the states still to do.
_ORDER: tuple[StatusState, ...] = (
    *PLATFORM_STATES[: PLATFORM_STATES.index("manual")],
    "not_checked",
    *PLATFORM_STATES[PLATFORM_STATES.index("manual") :],
)
_DEFAULT_HARM = 3  # what the catalog assumes when a recipe does not say


@dataclass(frozen=True)
class Item:
    """One platform of the checklist."""

    platform: str
    name: str
    harm: int | None  # None: no recipe for it any more
    category: str | None
    state: StatusState
    done: bool
    known: str  # what is known now, in words
    by: str | None  # check, login, change, unbind, mark; None: never checked
    since: str | None  # when the state was last established (UTC)
    run: int | None
    next_check: str | None  # when the platform may be checked again, if not yet (UTC)
    next_step: str

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "name": self.name,
            "harm": self.harm,
            "category": self.category,
            "state": self.state,
            "done": self.done,
            "known": self.known,
            "by": self.by,
            "since": self.since,
            "run": self.run,
            "next_check": self.next_check,
            "next_step": self.next_step,
        }

    def csv_row(self) -> dict[str, str]:
        row = self.to_json()
        return {
            key: ("yes" if row[key] else "no")
            if key == "done"
            else ("" if row[key] is None else str(row[key]))
            for key in CSV_COLUMNS
        }


@dataclass(frozen=True)
class Until:
    date: dt.date
    run: int
    days_left: int  # negative once the date has passed


@dataclass(frozen=True)
class Status:
    lang: str
    masked: str
    runs: tuple[int, ...]
    last_run: str | None  # when the latest of them started (UTC)
    trail_id: str
    head: tuple[int, str]
    verification: str  # ok, warnings, tampered
    until: Until | None
    items: tuple[Item, ...]  # what is left (most harmful first), then what is done

    @property
    def left(self) -> list[Item]:
        return [i for i in self.items if not i.done]

    @property
    def done(self) -> list[Item]:
        return [i for i in self.items if i.done]

    def counts(self) -> dict[str, int]:
        return {
            "platforms": len(self.items),
            "done": len(self.done),
            "left": len(self.left),
            "bound": sum(1 for i in self.items if i.state == "bound"),
            "not_checked": sum(1 for i in self.items if i.state == "not_checked"),
        }

    def line(self) -> str:
        """`43 days left until 2027-01-15; 5 platforms still to do.` (or how to set a date)."""
        if self.until is None:
            return _say(self.lang, "status_no_until")
        date, days = self.until.date.isoformat(), self.until.days_left
        if days > 1:
            countdown = _say(self.lang, "status_days_left", days=days, date=date)
        elif days == 1:
            countdown = _say(self.lang, "status_day_left", date=date)
        elif days == 0:
            countdown = _say(self.lang, "status_today", date=date)
        else:
            countdown = _say(self.lang, "status_days_past", days=-days, date=date)
        left = len(self.left)
        key = "status_all_done" if not left else "status_left_one" if left == 1 else "status_left"
        return _say(
            self.lang, "status_line", countdown=countdown, left=_say(self.lang, key, left=left)
        )

    def to_json(self) -> dict[str, Any]:
        seq, mac = self.head
        return {
            "schema": SCHEMA,
            "tool": {"name": "unbinder", "version": __version__},
            "generated": format_time(now()),
            "lang": self.lang,
            "number": {"masked": self.masked, "runs": list(self.runs)},
            "trail": {
                "id": self.trail_id,
                "head": {"seq": seq, "mac": mac, "fingerprint": fingerprint(seq, mac)},
                "verification": self.verification,
            },
            "until": None
            if self.until is None
            else {
                "date": self.until.date.isoformat(),
                "days_left": self.until.days_left,
                "run": self.until.run,
            },
            "counts": self.counts(),
            "line": self.line(),
            "platforms": [i.to_json() for i in self.items],
        }


def _say(lang: str, key: str, **values: Any) -> str:
    from unbinder.i18n.words import say

    return say(key, lang, **values)


def parse_until(text: str) -> dt.date | None:
    """`2027-01-15` as a date; `none` forgets the date. BadInput otherwise."""
    if text.strip().lower() == "none":
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(
            _("{text!r} is not a date.").format(text=text),
            hint=_("Write it as YYYY-MM-DD (2027-01-15), or none."),
        ) from None


def set_until(trail: Trail, phone: PhoneNumber, until: dt.date | None) -> int:
    """Keep the date `phone` will be cancelled (None: forget it) in the trail; the run id."""
    with trail.start_run(
        DEADLINE, phone, details={"until": until.isoformat() if until else None}
    ) as run:
        return run.id


def build_status(
    trail: Trail,
    *,
    phone: PhoneNumber | None = None,
    lang: str = "en",
    today: dt.date | None = None,
    catalog: Catalog | None = None,
    recipes: RecipeLookup | None = None,
    throttle: Throttle | None = None,
) -> Status:
    """The checklist of `phone` (default: the number handled last) as the trail stands.

    `today` is the person's date, for the countdown; `throttle` (with `phone`) adds the
    minimum intervals of checks that the trail did not record (`audit --no-trail`).
    """
    from unbinder.jobs.report import report_from_export
    from unbinder.recipe.catalog import load_catalog
    from unbinder.trail.export import export_document

    lang = pick_lang(lang)
    envelope = export_document(trail)
    ref = trail.phone_ref(phone) if phone is not None else None
    if ref is None and not envelope["runs"]:
        raise BadInput(
            _("the trail holds no run yet, so it does not know which number to show."),
            hint=_("Give the number: `unbinder status PHONE` (or run `unbinder audit PHONE`)."),
        )
    lookup = recipes or recipe_lookup()
    doc = report_from_export(envelope, read_blob=None, ref=ref, lang=lang, recipes=lookup)
    number = doc["numbers"][0] if doc["numbers"] else None
    masked = phone.masked if phone is not None else number["phone"]["masked"] if number else "-"
    region = phone.region if phone is not None else _region(masked)
    catalog = catalog or load_catalog()
    entries = {e.id: e for e in catalog.entries}
    checks = _last_answers(doc["runs"])
    items: list[Item] = []
    for state in number["platforms"] if number else []:
        entry = entries.get(state["platform"])
        items.append(
            Item(
                platform=state["platform"],
                name=state["name"],
                harm=entry.harm if entry else None,
                category=entry.category if entry else None,
                state=state["state"],
                done=bool(state["done"]),
                known=_known(state, lang),
                by=_by(state),
                since=state["since"],
                run=state["run"],
                next_check=_next_check(
                    state["platform"], checks, lookup, throttle=throttle, phone=phone
                ),
                next_step=state["next_step"],
            )
        )
    seen = {i.platform for i in items}
    for entry in catalog.select(region=region):
        if entry.id not in seen:
            items.append(_unchecked(entry, lang, lookup))
    until = number.get("until") if number else None
    today = today or dt.date.today()
    deadline = None
    if until:
        date = dt.date.fromisoformat(until["date"])
        deadline = Until(date, until["run"], (date - today).days)
    return Status(
        lang=lang,
        masked=masked,
        runs=tuple(number["runs"]) if number else (),
        last_run=max((r["started"] for r in doc["runs"]), default=None),
        trail_id=doc["trail"]["id"],
        head=(doc["trail"]["head"]["seq"], doc["trail"]["head"]["mac"]),
        verification=doc["verification"]["status"],
        until=deadline,
        items=tuple(sorted(items, key=_order)),
    )


def _order(item: Item) -> tuple[bool, int, int, str]:
    """What is left before what is done; the most harmful first; then the most urgent."""
    harm = _DEFAULT_HARM if item.harm is None else item.harm
    return (item.done, -harm, _ORDER.index(item.state), item.name.lower())


def _region(masked: str) -> str | None:
    """The region of a masked number (`+86 138****8000` -> CN), None when it cannot tell."""
    import phonenumbers

    code = masked.lstrip("+").split(" ", 1)[0]
    if not code.isdigit():
        return None
    region = phonenumbers.region_code_for_country_code(int(code))
    return None if region == phonenumbers.UNKNOWN_REGION else region


def _known(state: dict[str, Any], lang: str) -> str:
    word = state["state"]
    if state["source"] == "mark":
        known = _say(lang, "known_marked", state=_state_word(word, lang))
    elif word in ("changed", "unbound") and state["source"] in ("change", "unbind"):
        known = _say(lang, f"known_{word}")
    else:
        known = _state_word(word, lang)
        if state["checked"] and state["via"] == "login":
            known = f"{known} ({_say(lang, 'by_login')})"
    if state["confirmed"]:
        known = f"{known}; {_say(lang, 'confirmed')}"
    return known


def _state_word(state: str, lang: str) -> str:
    from unbinder.i18n.words import has

    key = f"state_{state}"
    return _say(lang, key) if has(key, lang) else state


def _when(value: str | None) -> str:
    """`2025-01-31 09:12:44` from the stored `2025-01-31T09:12:44Z` (UTC)."""
    return (value or "").replace("T", " ").removesuffix("Z")[:19]


def _by(state: dict[str, Any]) -> str:
    if state["source"] == "check" and state["via"] == "login":
        return "login"
    return str(state["source"])


def _last_answers(runs: list[dict[str, Any]]) -> dict[str, str]:
    """Platform -> time of its latest check that the platform answered (which starts the
    recipe's minimum interval, as the audit's throttle counts it)."""
    latest: dict[str, str] = {}
    for run in runs:
        for entry in run["entries"]:
            if entry["source"] == "check" and entry["outcome"] in THROTTLING and entry["time"]:
                latest[entry["platform"]] = max(latest.get(entry["platform"], ""), entry["time"])
    return latest


def _next_check(
    platform: str,
    checks: dict[str, str],
    lookup: RecipeLookup,
    *,
    throttle: Throttle | None,
    phone: PhoneNumber | None,
) -> str | None:
    loaded = lookup(platform)
    if loaded is None:
        return None
    interval = loaded.recipe.limits.min_interval
    allowed: list[dt.datetime] = []
    if platform in checks:
        last = dt.datetime.fromisoformat(checks[platform].replace("Z", "+00:00"))
        allowed.append(last + dt.timedelta(seconds=interval))
    if throttle is not None and phone is not None:
        wait = throttle.wait_for(platform, phone, interval)
        if wait is not None:
            allowed.append(wait.next_allowed)
    later = [a for a in allowed if a > now()]
    return format_time(max(later)) if later else None


def _unchecked(entry: Entry, lang: str, lookup: RecipeLookup) -> Item:
    """A platform of the number's region that no run has checked."""
    from unbinder.jobs.advice import next_step

    checkable = bool({"check", "verify"} & set(entry.flow_names))
    state: StatusState = "not_checked" if checkable else "manual"
    words = next_step(state, entry.id, lookup(entry.id), lang)
    return Item(
        platform=entry.id,
        name=entry.name.get(lang),
        harm=entry.harm,
        category=entry.category,
        state=state,
        done=False,
        known=_say(lang, "known_not_checked"),
        by=None,
        since=None,
        run=None,
        next_check=None,
        next_step=words,
    )


# -- rendering --------------------------------------------------------------------------------


def render(status: Status, fmt: str, width: int = 96) -> str:
    if fmt not in FORMATS:
        raise BadInput(
            _("unknown format {fmt!r}.").format(fmt=fmt),
            hint=_("Use one of: {value}.").format(value=", ".join(FORMATS)),
        )
    if fmt == "json":
        return json.dumps(status.to_json(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return render_csv(status)
    return render_text(status, width)


def render_csv(status: Status) -> str:
    """One header line (CSV_COLUMNS), then one line per platform, in the checklist's order."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in status.items:
        writer.writerow(item.csv_row())
    return out.getvalue()


def render_text(status: Status, width: int = 96) -> str:
    """The checklist as text: what is left (most harmful first), then what is done; filled to
    `width` columns, commands whole."""
    from unbinder.i18n.lang import display_width
    from unbinder.i18n.wrap import fill, wrap

    lang = status.lang
    title = _say(lang, "status_title", number=status.masked)
    out = [title, "=" * min(72, display_width(title))]
    if status.runs:
        trail = _say(lang, f"status_trail_{status.verification}")
        out += wrap(
            _say(
                lang,
                "status_from",
                runs=len(status.runs),
                time=_when(status.last_run),
                verification=trail,
            ),
            width,
        )
    else:
        out.append(_say(lang, "status_nothing_yet"))
    out += [*wrap(status.line(), width), ""]
    for heading, items in (("status_todo", status.left), ("status_done", status.done)):
        if not items:
            continue
        out.append(_say(lang, heading, count=len(items)))
        for item in items:
            facts = [_say(lang, "status_harm", harm=item.harm if item.harm else "?"), item.known]
            if item.since:
                facts.append(_say(lang, "known_since", time=_when(item.since)))
            box = "[x]" if item.done else "[ ]"
            out += fill([f"{box} {item.name} ({item.platform})", *facts], width, "    ", "")
            if item.next_check:
                out += wrap(_say(lang, "next_check_at", time=_when(item.next_check)), width, "    ")
            if not item.done:
                out += wrap(item.next_step, width, "      ", first="    ")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
