"""The evidence report: what the trail records about a number, as one self-contained HTML page
or a versioned JSON document (`unbinder.report/1`) with the same content.

Everything comes from the trail, never from a run's memory, so the report can be rebuilt at any
time by whoever holds the passphrase, and its head fingerprint compared with `unbinder trail
verify`. The page makes no request at all: the CSS is inline, screenshots are decrypted from the
trail's blobs into data: URIs, and a Content-Security-Policy forbids every fetch.

Each platform's state for a number follows its evidence in time: a check's `bound` or
`not_bound`, a verified change (`changed` / `unbound`) or a result the person recorded by hand
(`unbinder mark`). Inconclusive outcomes (a captcha, a rate limit, an unknown page, a manual
platform) never overwrite an earlier conclusive state; a later `not_bound` after a change
confirms it. `changed`, `unbound` and `not_bound` are done; everything else is still to do.

The number is masked. The trail cannot give it back; with `reveal`, the caller passes the number
again and it is shown only in the runs whose stored keyed reference it matches.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unbinder import __version__
from unbinder.errors import BadInput, UnbinderError
from unbinder.i18n.lang import LANGS
from unbinder.i18n.translate import N_, _, translations
from unbinder.jobs.evidence_words import evidence_text
from unbinder.trail.records import RecordType, format_time, now
from unbinder.vocab import (
    AUTOMATIC,
    CONCLUSIVE_STATES,
    DONE_STATES,
    PLATFORM_STATES,
    PlatformState,
)

if TYPE_CHECKING:
    from unbinder.phone import PhoneNumber
    from unbinder.recipe.load import LoadedRecipe
    from unbinder.trail import Trail

SCHEMA = "unbinder.report/1"
FORMATS = ("html", "json")
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
SCHEMA_FILE = TEMPLATE_DIR / "report.schema.json"

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
COUNTS = (
    "platforms",
    "checked",
    "checked_by_login",
    "bound",
    "changed",
    "not_bound",
    "todo",
    "manual",
)
SHORT_MAC = 16  # hex digits of the head MAC shown as its fingerprint

RecipeLookup = Callable[[str], "LoadedRecipe | None"]
BlobReader = Callable[[str], bytes]
# A run that records the date the number will be cancelled (`unbinder status --until`).
DEADLINE = "deadline"
# Screenshots behind these current states print full width (the rest by caption, unless asked).
PRINTED_STATES = ("bound", "changed", "unbound")
Doc = dict[str, Any]

_START = RecordType.RUN_START.label
_SEAL = RecordType.RUN_SEAL.label
_FINDING = RecordType.FINDING.label
_RESULT = RecordType.RESULT.label
_ACTION = RecordType.ACTION.label
_BLOB = RecordType.BLOB.label


@cache
def texts() -> dict[str, dict[str, str]]:
    """The report's words in each language (the i18n catalogs)."""
    from unbinder.i18n.words import words

    return {lang: words(lang) for lang in LANGS}


@dataclass
class _Text:
    """Words of one language, with `{placeholders}` filled in."""

    lang: str

    def __call__(self, key: str, **values: Any) -> str:
        return texts()[self.lang][key].format(**values)

    def state(self, state: str) -> str:
        key = f"state_{state}"
        return self(key) if key in texts()[self.lang] else state

    def difficulty(self, difficulty: str) -> str:
        """How hard changing the number is, in this language (`hard` -> 困难)."""
        from unbinder.recipe.catalog import word

        return word("difficulties", difficulty, self.lang)


def pick_lang(lang: str | None) -> str:
    if lang is None:
        return "en"
    if lang not in LANGS:
        raise BadInput(
            _("unknown language {lang!r}.").format(lang=lang),
            hint=_("Use one of: {value}.").format(value=", ".join(LANGS)),
        )
    return lang


# -- choosing runs ----------------------------------------------------------------------------


def select_runs(
    runs: list[Doc], *, run: int | None = None, all_runs: bool = False, ref: str | None = None
) -> tuple[str, list[Doc]]:
    """(mode, runs): one run, every run, every run of the number whose keyed reference is
    `ref`, or by default every run of the latest run's number."""
    if ref is not None:
        return "number", [r for r in runs if _ref(r) == ref]
    if not runs:
        raise BadInput(
            _("the trail holds no run yet, so there is nothing to report."),
            hint=_("Run `unbinder audit PHONE` first (or try `unbinder demo`)."),
        )
    if run is not None and all_runs:
        raise BadInput(_("--run and --all exclude each other."), hint=_("Choose one."))
    if run is not None:
        chosen = [r for r in runs if r["id"] == run]
        if not chosen:
            known = ", ".join(str(r["id"]) for r in runs)
            raise BadInput(
                _("there is no run {run} in the trail (runs: {known}).").format(
                    run=run, known=known
                ),
                hint=_("`unbinder trail show` lists the runs."),
            )
        return "run", chosen
    if all_runs:
        return "all", list(runs)
    ref = _ref(runs[-1])
    if ref is None:
        return "number", [runs[-1]]
    return "number", [r for r in runs if _ref(r) == ref]


def _ref(run: Doc) -> str | None:
    phone = run.get("phone") or {}
    return phone.get("ref")


# -- building the document --------------------------------------------------------------------


@dataclass
class _RunRecords:
    run: Doc
    start: Doc = field(default_factory=dict)
    seal: Doc | None = None
    records: list[Doc] = field(default_factory=list)


def build_report(
    trail: Trail,
    *,
    run: int | None = None,
    all_runs: bool = False,
    reveal: PhoneNumber | None = None,
    lang: str = "en",
    recipes: RecipeLookup | None = None,
) -> Doc:
    """The report document (JSON-able) for the chosen runs of `trail`.

    Built on the trail's export envelope (`unbinder.trail.export`), which verifies the trail,
    decrypts the records and matches `reveal` against the stored references.
    """
    from unbinder.trail.export import export_document

    envelope = export_document(trail, reveal=reveal)
    return report_from_export(
        envelope,
        read_blob=trail.read_blob,
        run=run,
        all_runs=all_runs,
        revealing=reveal is not None,
        lang=lang,
        recipes=recipes,
    )


def report_from_export(
    envelope: Doc,
    *,
    read_blob: BlobReader | None,
    run: int | None = None,
    all_runs: bool = False,
    ref: str | None = None,
    revealing: bool = False,
    lang: str = "en",
    recipes: RecipeLookup | None = None,
) -> Doc:
    """The report document from an `unbinder.trail/1` envelope and a way to read its blobs
    (None: evidence files are left unread, for callers that need only the states)."""
    lang = pick_lang(lang)
    text = _Text(lang)
    lookup = recipes or recipe_lookup()
    mode, chosen = select_runs(envelope["runs"], run=run, all_runs=all_runs, ref=ref)
    wanted = {r["id"]: _RunRecords(r) for r in chosen}
    for record in envelope["records"]:
        owner = record["seq"] if record["type"] == _START else record["run"]
        if owner not in wanted:
            continue
        bucket = wanted[owner]
        if record["type"] == _START:
            bucket.start = record
        elif record["type"] == _SEAL:
            bucket.seal = record
        else:
            bucket.records.append(record)
    evidence: dict[str, Doc] = {}
    runs = [_run_doc(b, text, lookup, read_blob, evidence) for b in wanted.values()]
    revealed = [r["id"] for r in runs if _shown(r)]
    numbers = _numbers(runs, text, lookup)
    _mark_printed(numbers, runs)
    head = envelope["trail"]["head"]
    count = len(chosen)
    selection_text = {
        "run": text("selection_run", run=chosen[0]["id"] if chosen else "-"),
        "all": text("selection_all", count=count),
        "number": text("selection_number", count=count),
    }[mode]
    if not revealing:
        number_note = text("number_masked")
    elif revealed:
        number_note = text("number_shown", runs=", ".join(str(r) for r in revealed))
    else:
        number_note = text("number_no_match")
    return {
        "schema": SCHEMA,
        "tool": {"name": "unbinder", "version": __version__},
        "generated": format_time(now()),
        "lang": lang,
        "selection": {"mode": mode, "runs": [r["id"] for r in chosen], "text": selection_text},
        "trail": {
            "id": envelope["trail"]["id"],
            "head": {
                "seq": head["seq"],
                "mac": head["mac"],
                "fingerprint": fingerprint(head["seq"], head["mac"]),
            },
        },
        "verification": envelope["verification"],
        "number": {"shown": bool(revealed), "runs": revealed, "note": number_note},
        "summary": _add_counts(n["summary"] for n in numbers),
        "numbers": numbers,
        "runs": runs,
        "evidence": evidence,
    }


def fingerprint(seq: int, mac: str) -> str:
    """`#41 3f9a2c1b7d4e5a60`: the head record and the start of its chain MAC."""
    return f"#{seq} {mac[:SHORT_MAC]}"


def recipe_lookup() -> RecipeLookup:
    """Recipes by id, for names in the report's language and manual steps (None: unknown)."""
    from unbinder.recipe.load import find_recipe

    found: dict[str, LoadedRecipe | None] = {}

    def lookup(platform: str) -> LoadedRecipe | None:
        if platform not in found:
            try:
                found[platform] = find_recipe(platform)
            except UnbinderError:
                found[platform] = None
        return found[platform]

    return lookup


def _phone(entry: Any) -> Doc | None:
    """A run's number as the report shows it: masked, or in full where it was revealed."""
    if not isinstance(entry, dict) or not entry.get("masked"):
        return None
    shown = entry.get("number")
    return {"masked": str(entry["masked"]), "ref": entry.get("ref"), "shown": shown or None}


def _shown(run: Doc) -> bool:
    return any((run.get(k) or {}).get("shown") for k in ("phone", "new_phone"))


def _run_doc(
    bucket: _RunRecords,
    text: _Text,
    lookup: RecipeLookup,
    read_blob: BlobReader | None,
    evidence: dict[str, Doc],
) -> Doc:
    run = bucket.run
    kind = str(run.get("kind", ""))
    start = bucket.start.get("payload") or {}
    entries: dict[str, Doc] = {}

    def entry(platform: str) -> Doc:
        if platform not in entries:
            entries[platform] = {
                "platform": platform,
                "name": _name(platform, lookup, text.lang, None),
                "run": run["id"],
                "source": _source(kind, start),
                "outcome": None,
                "kind": None,
                "reason_code": None,
                "evidence": "",
                "details": None,
                "degraded": False,
                "warnings": [],
                "blocked": [],
                "numbers": None,
                "time": None,
                "record": None,
                "steps": [],
                "screenshots": [],
                "via": "check",
                "recipe": "",
                "next_step": "",
                "current": False,
            }
        return entries[platform]

    shots: list[Doc] = []  # every evidence record of the run, in order (with or without platform)
    urls: dict[str, str] = {}  # blob id -> the page's address, as the audit's finding keeps it
    for record in bucket.records:
        payload = record.get("payload") or {}
        platform = str(payload.get("platform") or "")
        rtype = record["type"]
        if rtype == _FINDING:
            urls.update(_shot_urls(payload.get("outcome")))
        elif rtype == _ACTION:  # a change flow's own screenshots, listed in its end record
            urls.update(_shot_urls(payload.get("details")))
        if rtype == _BLOB:
            blob_id = str(payload.get("blob", ""))
            if blob_id not in evidence:
                evidence[blob_id] = _evidence(read_blob, payload, blob_id)
            shots.append(
                {
                    "blob": blob_id,
                    "platform": platform,
                    "name": str(payload.get("name", "")),
                    "run": run["id"],
                    "record": record["seq"],
                    "time": record["time"],
                    "url": None,
                    "printed": False,
                }
            )
            if platform and blob_id not in entry(platform)["screenshots"]:
                entry(platform)["screenshots"].append(blob_id)
        elif platform and rtype == _FINDING:
            _add_finding(entry(platform), record, text, lookup)
        elif platform and rtype == _RESULT:
            _add_result(entry(platform), record, text)
        elif platform and rtype == _ACTION:
            entry(platform)["steps"].append(_step(record, text, lookup(platform)))
    for shot in shots:
        shot["url"] = urls.get(shot["blob"])
    for item in entries.values():
        item["next_step"] = next_step(_effective(item), item["platform"], text, lookup)
        item["outcome"] = item["outcome"] or "unknown"
    # An audit lists its platforms as planned (its start record), not as they finished.
    planned = (start.get("details") or {}).get("platforms") or []
    order = {p: i for i, p in enumerate(planned) if isinstance(p, str)}
    ordered = sorted(entries.values(), key=lambda e: order.get(e["platform"], len(order)))
    seal = bucket.seal
    return {
        "id": run["id"],
        "kind": kind,
        "kind_text": _kind_text(kind, text),
        "started": run.get("started"),
        "ended": seal["time"] if seal is not None else None,
        "sealed": bool(run.get("sealed")),
        "status": run.get("status"),
        "phone": _phone(run.get("phone")),
        "new_phone": _phone(run.get("new_phone")),
        "details": {
            k: v for k, v in (start.get("details") or {}).items() if isinstance(v, (str, bool))
        },
        "entries": ordered,
        "screenshots": shots,
    }


def _shot_urls(outcome: Any) -> dict[str, str]:
    """Blob id -> page address from a finding's screenshot list (audits record it since 0.1)."""
    if not isinstance(outcome, dict) or not isinstance(outcome.get("screenshots"), list):
        return {}
    return {
        str(s["blob"]): address(str(s["url"]))
        for s in outcome["screenshots"]
        if isinstance(s, dict) and s.get("blob") and s.get("url")
    }


def address(url: str) -> str:
    """A page's address as the report shows it: without query or fragment (they may carry
    tokens, and they make a caption unreadable)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        return urlunsplit(urlsplit(url)._replace(query="", fragment=""))
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]


def _mark_printed(numbers: list[Doc], runs: list[Doc]) -> None:
    """Flag the screenshot that backs each platform's current state when that state is one a
    person acts on or hands over (still bound, changed, removed): the last one its deciding run
    took of that platform. These print full width; the others print as captions."""
    by_id = {r["id"]: r for r in runs}
    for number in numbers:
        for state in number["platforms"]:
            run = by_id.get(state["run"])
            if run is None or state["state"] not in PRINTED_STATES:
                continue
            own = [s for s in run["screenshots"] if s["platform"] == state["platform"]]
            if own:
                own[-1]["printed"] = True


def _source(kind: str, start: Doc) -> str:
    if kind == "audit":
        return "check"
    if kind == "mark":
        return "mark"
    if kind == "unbind":
        mode = (start.get("details") or {}).get("mode")
        return "unbind" if mode == "unbind" else "change"
    return kind or "check"


def _kind_text(kind: str, text: _Text) -> str:
    key = f"kind_{kind}"
    return text(key) if key in texts()[text.lang] else kind


def _recipe_words(finding: Doc, lang: str) -> str:
    """The recipe's status and confidence when the check ran ("unverified, assumed"), or ""."""
    from unbinder.recipe.catalog import word

    parts = [
        word(group, str(finding[key]), lang)
        for group, key in (("statuses", "recipe_status"), ("confidence", "recipe_confidence"))
        if finding.get(key)
    ]
    return ", ".join(parts)


def _name(platform: str, lookup: RecipeLookup, lang: str, stored: Any) -> str:
    loaded = lookup(platform)
    if loaded is not None:
        return loaded.recipe.name.get(lang)
    return str(stored) if stored else platform


def _add_finding(item: Doc, record: Doc, text: _Text, lookup: RecipeLookup) -> None:
    outcome = record["payload"].get("outcome") or {}
    if not isinstance(outcome, dict):
        return
    if isinstance(outcome.get("outcome"), str):
        # An audit's finding (audit.PlatformResult.to_dict): it decides the entry.
        item["outcome"] = outcome["outcome"]
        item["via"] = "login" if outcome.get("via") == "login" else "check"
        item["recipe"] = _recipe_words(outcome, text.lang)
        item["kind"] = outcome.get("kind")
        item["evidence"] = evidence_text(
            str(outcome.get("summary") or outcome.get("reason") or ""),
            text.lang,
            evidence=outcome.get("evidence") if isinstance(outcome.get("evidence"), dict) else None,
            failure=outcome.get("failure") if isinstance(outcome.get("failure"), dict) else None,
            reason=str(outcome.get("reason") or outcome.get("summary") or ""),
        )
        if item["outcome"] == "manual":  # the recipe's own reason, in the report's language
            loaded = lookup(item["platform"])
            manual = loaded.recipe.flows.manual if loaded is not None else None
            if manual is not None and manual.why is not None:
                item["evidence"] = manual.why.get(text.lang)
        item["details"] = outcome.get("evidence")
        item["degraded"] = bool(outcome.get("degraded"))
        item["warnings"] = [str(w) for w in outcome.get("warnings") or []]
        item["blocked"] = sorted({str(b.get("host")) for b in outcome.get("blocked") or []})
        item["time"] = record["time"]
        item["record"] = record["seq"]
        if item["name"] == item["platform"]:
            item["name"] = _name(item["platform"], lookup, text.lang, outcome.get("name"))
        return
    # An engine outcome inside a change (the verify flow reading the platform back): a step.
    status = str(outcome.get("status", ""))
    summary = _outcome_summary(outcome, text.lang)
    if outcome.get("flow") == "verify":
        # After a change, `bound` means "a number is bound" (the new one, if it worked).
        key = f"verify_{status}"
        said = text(key) if key in texts()[text.lang] else text.state(status)
        words = text("step_verify", status=said, summary=f": {summary}" if summary else "")
    else:
        words = text(
            "step_flow_ended", status=text.state(status), summary=f": {summary}" if summary else ""
        )
    item["steps"].append({"time": record["time"], "by": "tool", "text": words})


def _add_result(item: Doc, record: Doc, text: _Text) -> None:
    result = record["payload"].get("result") or {}
    if not isinstance(result, dict):
        return
    item["outcome"] = str(result.get("status", "unknown"))
    item["reason_code"] = result.get("reason_code")
    reason = str(result.get("reason") or "")
    reason = evidence_text(reason, text.lang, reason=reason)
    shown = result.get("bound_number")
    if shown and str(shown) not in reason:
        said = text("shows", shown=shown)
        reason = f"{reason}; {said}" if reason else said
    item["evidence"] = reason
    item["numbers"] = (
        {"old": result.get("old_masked"), "new": result.get("new_masked")}
        if result.get("old_masked")
        else None
    )
    item["time"] = record["time"]
    item["record"] = record["seq"]
    if result.get("by") == "user":
        item["source"] = "mark"


def _outcome_summary(outcome: Doc, lang: str = "en") -> str:
    """An engine outcome's evidence in one line (recorded in English; in `lang`'s words)."""
    evidence = outcome.get("evidence")
    failure = outcome.get("failure")
    reason = str(outcome.get("reason") or "")
    if isinstance(evidence, dict) and evidence.get("rule"):
        recorded = f"{evidence['rule']}: {evidence.get('matched', '')}"
        return evidence_text(recorded, lang, evidence=evidence)
    if isinstance(failure, dict) and failure.get("error"):
        return evidence_text(str(failure["error"]), lang, failure=failure)
    return evidence_text(reason, lang, reason=reason)


def _step(record: Doc, text: _Text, loaded: LoadedRecipe | None = None) -> Doc:
    """An action record (unbind / mark runs) in words."""
    from unbinder.jobs.evidence_words import KINDS, recipe_text

    p = record["payload"]
    what = str(p.get("what", ""))
    d = p.get("details") or {}
    lang = text.lang
    if what == "start":
        key = "step_start_dry" if d.get("dry_run") else "step_start"
        words = text(key, mode=_words(str(d.get("mode", "")), MODES, lang))
    elif what == "handoff":
        prompt = recipe_text(str(d.get("prompt", "")), loaded, lang)
        words = text(
            "step_handoff", kind=_words(str(d.get("kind", "")), KINDS, lang), prompt=prompt
        )
    elif what == "confirm_asked":
        numbers = " → ".join(str(n) for n in (d.get("old"), d.get("new")) if n)
        action = recipe_text(str(d.get("action", "")), loaded, lang)
        words = text("step_confirm_asked", action=action, numbers=numbers)
    elif what == "confirm_answered":
        words = text(
            "step_confirm_answered", answer=_words(str(d.get("answer", "")), ANSWERS, lang)
        )
    elif what == "flow_ended":
        summary = _outcome_summary(d, text.lang)
        status = text.state(str(d.get("status", "")))
        words = text("step_flow_ended", status=status, summary=f": {summary}" if summary else "")
    elif what in ("session_kept", "session_wiped"):
        words = text(f"step_{what}")
    elif what == "marked":
        note = d.get("note")
        words = text(
            "step_marked",
            status=text.state(str(d.get("status", ""))),
            note=f" ({note})" if note else "",
        )
    else:
        words = text("step_other", what=what)
    return {"time": record["time"], "by": str(p.get("by", "tool")), "text": words}


# Ids the trail records, as a person reads them in another language (English shows the id).
MODES = {"change": N_("change"), "unbind": N_("remove")}
ANSWERS = {"yes": N_("yes"), "no": N_("no")}
SHOTS = {"outcome": N_("the page at the end"), "before": N_("before"), "after": N_("after")}


def _words(value: str, words: dict[str, str], lang: str) -> str:
    """An id as recorded, in English; in `lang`, the words `words` has for it."""
    from unbinder.i18n.translate import SOURCE_LANG, say

    return value if lang == SOURCE_LANG or value not in words else say(words[value], lang)


def shot_words(name: str, lang: str) -> str:
    """A screenshot's name (`outcome`, `change:before`) as a person reads it in `lang`."""
    from unbinder.i18n.translate import SOURCE_LANG, say
    from unbinder.recipe.catalog import word

    if lang == SOURCE_LANG:
        return name
    flow, _sep, shot = name.rpartition(":")
    said = say(SHOTS[shot], lang) if shot in SHOTS else f"`{shot}`"
    return say("{flow}: {shot}", lang, flow=word("flows", flow, lang), shot=said) if flow else said


def sealed_words(status: str, lang: str) -> str:
    """How a run was sealed (`complete`, or why it stopped) in `lang`."""
    from unbinder.i18n.translate import SOURCE_LANG, say

    if lang == SOURCE_LANG:
        return status
    if status == "complete":
        return say("complete", lang)
    if status.startswith("stopped: "):
        return say("stopped ({why})", lang, why=status.removeprefix("stopped: "))
    return status


def _evidence(read_blob: BlobReader | None, payload: Doc, blob_id: str) -> Doc:
    """An evidence file, decrypted for the page (or why it cannot be shown)."""
    media_type = str(payload.get("media_type", ""))
    item: Doc = {
        "id": blob_id,
        "media_type": media_type,
        "size": payload.get("size"),
        "status": "ok",
        "data": None,
    }
    if read_blob is None:
        item["status"] = "not read"
        return item
    try:
        data = read_blob(blob_id)
    except UnbinderError as exc:
        item["status"] = exc.message.rstrip(".")
        return item
    if media_type not in IMAGE_TYPES or not _looks_like(media_type, data):
        item["status"] = f"not an image this report can show ({media_type or 'no type'})"
        return item
    item["data"] = base64.b64encode(data).decode("ascii")
    return item


def _looks_like(media_type: str, data: bytes) -> bool:
    magic = {
        "image/png": data.startswith(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg": data.startswith(b"\xff\xd8\xff"),
        "image/webp": data[:4] == b"RIFF" and data[8:12] == b"WEBP",
    }
    return magic.get(media_type, False)


# -- each platform's state for a number -------------------------------------------------------


def _effective(item: dict[str, Any]) -> PlatformState:
    """What an entry says about the platform's state (a change that did not happen: bound)."""
    if item.get("outcome") == "not_done" and item.get("reason_code") == "still_old":
        return "bound"
    return _state(str(item.get("outcome") or "unknown"))


def _state(word: str) -> PlatformState:
    """A trail's word as a platform state (a word this version does not know: unknown)."""
    return next((s for s in PLATFORM_STATES if s == word), "unknown")


def _numbers(runs: list[dict[str, Any]], text: _Text, lookup: RecipeLookup) -> list[dict[str, Any]]:
    """The runs grouped by number (keyed reference), each with its platforms' states."""
    groups: dict[str, dict[str, Any]] = {}
    for run in runs:
        phone = run["phone"] or {"masked": "-", "ref": None, "shown": None}
        key = str(phone.get("ref") or f"run-{run['id']}")
        group = groups.setdefault(key, {"phone": dict(phone), "runs": [], "entries": []})
        if phone.get("shown"):
            group["phone"]["shown"] = phone["shown"]
        group["runs"].append(run["id"])
        group["entries"].extend(run["entries"])
        if run["kind"] == DEADLINE:  # the latest date set wins (none: cleared)
            until = run["details"].get("until")
            group["until"] = {"date": until, "run": run["id"]} if until else None
    numbers = []
    for group in groups.values():
        platforms = _platform_states(group["entries"], text, lookup)
        deciding = {(p["platform"], p["run"]) for p in platforms}
        for item in group["entries"]:
            item["current"] = (item["platform"], item["run"]) in deciding
        numbers.append(
            {
                "phone": group["phone"],
                "runs": group["runs"],
                "until": group.get("until"),
                "summary": _count(platforms),
                "platforms": platforms,
            }
        )
    return numbers


def _platform_states(
    entries: Iterable[dict[str, Any]], text: _Text, lookup: RecipeLookup
) -> list[dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for item in entries:
        effective = _effective(item)
        platform = item["platform"]
        state = states.setdefault(
            platform,
            {
                "platform": platform,
                "name": item["name"],
                "state": None,
                "done": False,
                "evidence": "",
                "since": None,
                "run": None,
                "confirmed": False,
                "checked": False,
                "latest": None,
                "via": "check",
                "source": item["source"],
                "recipe": "",
                "next_step": "",
            },
        )
        if item["source"] == "check" and effective in AUTOMATIC:
            state["checked"] = True
            state["via"] = item["via"]
        if item.get("recipe"):
            state["recipe"] = item["recipe"]
        state["latest"] = {"run": item["run"], "outcome": effective, "time": item["time"]}
        current = state["state"]
        if effective == "not_bound" and current in ("changed", "unbound"):
            state["confirmed"] = True
            continue
        if effective in CONCLUSIVE_STATES or current not in CONCLUSIVE_STATES:
            state.update(
                state=effective,
                evidence=item["evidence"],
                since=item["time"],
                run=item["run"],
                source=item["source"],
                confirmed=False,
            )
    for state in states.values():
        state["done"] = state["state"] in DONE_STATES
        state["next_step"] = next_step(state["state"], state["platform"], text, lookup)
        state["next_brief"] = _brief(state["state"], state["platform"], state["next_step"], text)
        state["difficulty"] = _difficulty(state["platform"], lookup)
    # What still needs doing first, the most urgent (still bound) at the top.
    return sorted(
        states.values(), key=lambda s: (PLATFORM_STATES.index(s["state"]), s["name"].lower())
    )


def _difficulty(platform: str, lookup: RecipeLookup) -> str | None:
    """How hard the platform's recipe says changing the number is (None: it does not say)."""
    loaded = lookup(platform)
    change = loaded.recipe.number_change if loaded is not None else None
    return change.difficulty if change is not None else None


def _count(platforms: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "platforms": len(platforms),
        "checked": sum(1 for p in platforms if p["checked"]),
        "checked_by_login": sum(1 for p in platforms if p["checked"] and p["via"] == "login"),
        "bound": sum(1 for p in platforms if p["state"] == "bound"),
        "changed": sum(1 for p in platforms if p["state"] in ("changed", "unbound")),
        "not_bound": sum(1 for p in platforms if p["state"] == "not_bound"),
        "todo": sum(1 for p in platforms if not p["done"]),
        "manual": sum(1 for p in platforms if p["state"] == "manual"),
    }


def _add_counts(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(COUNTS, 0)
    for count in counts:
        for key in COUNTS:
            total[key] += count[key]
    return total


def _brief(state: str, platform: str, full: str, text: _Text) -> str:
    """The next step as paper shows it: an app-only platform's steps by name of the command that
    prints them (they run to several hundred characters each), anything else in full."""
    if state != "manual":
        return full
    from unbinder.jobs.advice import next_step as advice

    return advice("manual", platform, None, text.lang)


def next_step(state: str, platform: str, text: _Text, lookup: RecipeLookup) -> str:
    """What the person should do about `platform`, given its state, in the report's language."""
    from unbinder.jobs.advice import next_step as advice

    return advice(_state(state), platform, lookup(platform), text.lang)


# -- rendering --------------------------------------------------------------------------------


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def render_html(doc: dict[str, Any]) -> str:
    """The document as one self-contained page (no request of any kind)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    text = _Text(doc["lang"])
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_translations(translations(doc["lang"]), newstyle=True)  # type: ignore[attr-defined]
    template = env.get_template("report.html.j2")
    from unbinder.jobs.evidence_words import KINDS

    lang = doc["lang"]
    return template.render(
        doc=doc,
        t=text,
        kind_words=lambda kind: _words(str(kind), KINDS, lang),
        shot_words=lambda name: shot_words(str(name), lang),
        sealed_words=lambda status: sealed_words(str(status or ""), lang),
        css=(TEMPLATE_DIR / "report.css").read_text(encoding="utf-8"),
        when=_when,
        numbers_of=_numbers_line,
        address=address,
        names={p["platform"]: p["name"] for n in doc["numbers"] for p in n["platforms"]},
    )


def render(doc: dict[str, Any], fmt: str) -> str:
    if fmt not in FORMATS:
        raise BadInput(
            _("unknown format {fmt!r}.").format(fmt=fmt),
            hint=_("Use one of: {value}.").format(value=", ".join(FORMATS)),
        )
    return render_html(doc) if fmt == "html" else render_json(doc)


def write_report(path: Path, text: str) -> None:
    """Write the report (mode 0600: it is evidence about a person), atomically."""
    from unbinder.fsio import replace_atomically

    replace_atomically(path, text.encode("utf-8"))


def _when(value: str | None) -> str:
    """`2025-01-31 09:12:44` (UTC) from the stored form."""
    if not value:
        return ""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def _numbers_line(doc: dict[str, Any]) -> str:
    shown = [n["phone"].get("shown") or n["phone"]["masked"] for n in doc["numbers"]]
    return ", ".join(shown) or "-"
