"""The trail as one JSON document (a versioned envelope), for people and for the HTML report.

The trail never holds the phone number, only its masked form and a keyed reference. To show
the full number, the caller passes it in again (`reveal`); it is shown only for the runs whose
stored reference it matches, so an export can never attach a number to a run of another one.
"""

from __future__ import annotations

from typing import Any

from unbinder import __version__
from unbinder.phone import PhoneNumber
from unbinder.trail import records
from unbinder.trail.records import RecordType
from unbinder.trail.trail import Trail

SCHEMA = "unbinder.trail/1"


def export_document(trail: Trail, *, reveal: PhoneNumber | None = None) -> dict[str, Any]:
    """Verification summary, runs and every decrypted record (blobs by reference)."""
    report = trail.verify()
    runs = [r.to_json() for r in trail.runs()]
    items = [r.to_json() for r in trail.records()]
    matched: set[int] = set()
    if reveal is not None:
        ref = trail.phone_ref(reveal)
        for run in runs:
            for key in ("phone", "new_phone"):
                entry = run.get(key)
                if entry and entry.get("ref") == ref:
                    entry["number"] = reveal.e164
                    matched.add(int(run["id"]))
        for item in items:
            if item["type"] != RecordType.RUN_START.label:
                continue
            for key in ("phone", "new_phone"):
                entry = item["payload"].get(key)
                if entry and entry.get("ref") == ref:
                    entry["number"] = reveal.e164
    seq, mac = trail.head()
    return {
        "schema": SCHEMA,
        "tool": {"name": "unbinder", "version": __version__},
        "exported": records.format_time(records.now()),
        "trail": {"id": trail.trail_id, "head": {"seq": seq, "mac": mac}},
        "verification": report.to_json(),
        "number": {
            "shown": bool(matched),
            "runs": sorted(matched),
            "note": "numbers are masked; the trail stores only a keyed reference",
        },
        "runs": runs,
        "records": items,
    }
