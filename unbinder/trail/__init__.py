"""The encrypted, tamper-evident, crash-safe audit trail (docs/trail.md).

from unbinder.trail import Trail, RecordType
with Trail.open(paths.trail_dir, passphrase) as trail:
    run = trail.start_run("audit", phone, recipes={"demo-shop": digest})
    run.finding("demo-shop", {"status": "bound", "evidence": [...]})
    run.seal()
"""

from __future__ import annotations

from unbinder.trail.anchor import Anchor, FileAnchor, KeyringAnchor, default_anchor, parse_anchor
from unbinder.trail.keys import MasterKey
from unbinder.trail.log import Problem
from unbinder.trail.records import Record, RecordType
from unbinder.trail.trail import (
    Run,
    RunSummary,
    Trail,
    TrailTampered,
    change_passphrase,
    open_or_create,
)
from unbinder.trail.verify import VerifyReport

__all__ = [
    "Anchor",
    "FileAnchor",
    "KeyringAnchor",
    "MasterKey",
    "Problem",
    "Record",
    "RecordType",
    "Run",
    "RunSummary",
    "Trail",
    "TrailTampered",
    "VerifyReport",
    "change_passphrase",
    "default_anchor",
    "open_or_create",
    "parse_anchor",
]
