"""Fault sites (fixtures/faults/): one audit over all of them ends with the right outcome for each.

Every fault is audited together, in one run of `unbinder audit --fixtures` pointed at the fault
sites (UNBINDER_RECIPES / UNBINDER_FIXTURES), with the trail on. None may end `not_bound`: a
misbehaving site is never evidence that a number is free.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from leaks import scan

from unbinder.cli import cli
from unbinder.paths import Paths, project_root
from unbinder.phone import parse_phone
from unbinder.trail import RecordType, Trail

FAULTS = Path(project_root() or ".") / "fixtures" / "faults"
PHONE = ["+86", "138", "0013", "8000"]

# platform -> what the audit must say about it (every key listed is compared exactly).
EXPECTED: dict[str, dict[str, Any]] = {
    "never-loads": {
        "outcome": "unknown",
        "reason": "the page did not load: Page.goto: Timeout 3000ms exceeded.",
    },
    "server-error": {
        "outcome": "unknown",
        "evidence_matched": "HTTP status 500",
    },
    "bot-wall": {
        "outcome": "needs_human",
        "kind": "bot_wall",
        "evidence_matched": "HTTP status 403",
    },
    "redirect-loop": {
        "outcome": "unknown",
        "reason": "the page did not load: Page.goto: net::ERR_FAILED at "
        "https://www.redirect-loop.test/forgot",
    },
    "redirect-outside": {
        "outcome": "error",
        "failure_error": "blocked by the domain guard (a host outside the recipe's domains)",
        "blocked": [("sso.outside-example.net", "https://sso.outside-example.net/login?…")],
    },
    "popup": {
        "outcome": "bound",
        "evidence_url": "https://www.popup.test/result?mobile=+86 138****8000",
        "blocked": [
            ("ads.outside-example.net", "https://ads.outside-example.net/banner?…"),
            ("ads.outside-example.net", "https://ads.outside-example.net/popunder?…"),
        ],
    },
    "captcha-second-try": {
        "outcome": "needs_human",
        "kind": "captcha",
    },
    "selector-drift": {
        "outcome": "bound",
        "degraded": True,
        "warnings": [
            "selector 'mobile': the primary alternative (label='手机号') did not match; "
            "alternative 2 (placeholder='请输入手机号') did. The platform may have changed its "
            "page: update the recipe.",
            "selector 'next': the primary alternative (role='button' name='下一步') did not "
            "match; alternative 2 (text='继续') did. The platform may have changed its page: "
            "update the recipe.",
        ],
    },
    "text-drift": {
        "outcome": "unknown",
        "reason": "no detect rule matched within 3s",
        "failure_error": None,
    },
    "huge-page": {
        "outcome": "bound",
    },
    "closes-context": {
        "outcome": "error",
        "failure_error": "the page or browser context closed unexpectedly",
    },
}


def _observed(platform: dict[str, Any]) -> dict[str, Any]:
    evidence = platform["evidence"] or {}
    failure = platform["failure"] or {}
    return {
        "outcome": platform["outcome"],
        "kind": platform["kind"],
        "reason": platform["reason"],
        "degraded": platform["degraded"],
        "warnings": platform["warnings"],
        "evidence_matched": evidence.get("matched"),
        "evidence_url": evidence.get("url"),
        "failure_error": failure.get("error"),
        "blocked": [(b["host"], b["url"]) for b in platform["blocked"]],
    }


@pytest.fixture(scope="module")
def fault_audit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Audit every fault site in one run; return the JSON document and the trail's findings."""
    base = tmp_path_factory.mktemp("faults")
    recipes = base / "recipes"
    recipes.mkdir()
    for folder in sorted(p for p in FAULTS.iterdir() if (p / "recipe.yaml").is_file()):
        shutil.copyfile(folder / "recipe.yaml", recipes / f"{folder.name}.yaml")
    home = base / "home"
    env = {
        "UNBINDER_HOME": str(home),
        "UNBINDER_RECIPES": str(recipes),
        "UNBINDER_SHIPPED": str(base / "nothing-shipped"),  # the fault sites alone
        "UNBINDER_FIXTURES": str(FAULTS),
        "UNBINDER_PASSPHRASE": "fault passphrase",
        "UNBINDER_TEST_FAST_KDF": "1",
        "COLUMNS": "200",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        result = CliRunner().invoke(cli, ["audit", *PHONE, "--fixtures", "--yes", "--json"])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        trail = Trail.open(Paths(home).trail_dir, "fault passphrase")
    with trail:
        findings = {
            r.payload["platform"]: r.payload["outcome"]
            for r in trail.records()
            if r.type == RecordType.FINDING
        }
        report = trail.verify()
    return {
        "doc": doc,
        "findings": findings,
        "verify": report.status,
        "home": home,
        "output": result.output,
    }


def test_every_fault_site_is_audited_in_one_run(fault_audit: dict[str, Any]) -> None:
    doc = fault_audit["doc"]
    assert sorted(p["id"] for p in doc["platforms"]) == sorted(EXPECTED)
    assert doc["interrupted"] is False
    assert doc["summary"]["finished"] == doc["summary"]["platforms"] == len(EXPECTED)


@pytest.mark.parametrize("platform_id", sorted(EXPECTED))
def test_each_fault_ends_with_its_outcome(fault_audit: dict[str, Any], platform_id: str) -> None:
    platform = next(p for p in fault_audit["doc"]["platforms"] if p["id"] == platform_id)
    observed = _observed(platform)
    expected = EXPECTED[platform_id]
    assert {k: observed[k] for k in expected} == expected, observed


def test_no_fault_is_ever_not_bound(fault_audit: dict[str, Any]) -> None:
    outcomes = {p["id"]: p["outcome"] for p in fault_audit["doc"]["platforms"]}
    assert "not_bound" not in outcomes.values(), outcomes


def test_every_outcome_is_in_the_trail_which_verifies(fault_audit: dict[str, Any]) -> None:
    assert fault_audit["verify"] == "ok"
    findings = fault_audit["findings"]
    assert sorted(findings) == sorted(EXPECTED)
    for platform in fault_audit["doc"]["platforms"]:
        assert findings[platform["id"]]["outcome"] == platform["outcome"]


def test_the_faults_leave_no_number_behind(fault_audit: dict[str, Any]) -> None:
    # One fault sends the number to an outside host in a URL, and others show it in pages.
    phone = parse_phone("+86 138 0013 8000")
    assert scan([fault_audit["home"]], [phone]) == []
    assert not any(form in fault_audit["output"] for form in phone.forms())
