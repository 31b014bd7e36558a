"""`unbinder status`: the living checklist. A real audit on replicas (its JSON checked against
the audit's schema), a change written with the trail API the report tests use and a result
recorded with `unbinder mark`; then the checklist shows them done and the rest in harm order,
a cancellation date turns it into a countdown, and its CSV and JSON follow their schema."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result
from leaks import Sandbox
from test_report import NEW, OLD, PASSPHRASE, change

from unbinder.cli import cli
from unbinder.jobs.report import TEMPLATE_DIR
from unbinder.jobs.status import CSV_COLUMNS, SCHEMA
from unbinder.recipe.catalog import load_catalog
from unbinder.trail import Trail

ENV = {"UNBINDER_PASSPHRASE": PASSPHRASE, "LANG": "C.UTF-8"}
AUDITED = ("example-cn", "example-intl", "demo-chat", "demo-social")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=ENV, catch_exceptions=False)


def schema(name: str) -> jsonschema.Draft202012Validator:
    document = json.loads((TEMPLATE_DIR / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


@pytest.fixture(scope="module")
def worked_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """An audit (CLI, replicas), a verified change of example-cn, demo-chat marked changed:
    once per module (the audit drives a browser), each test gets a copy of the data directory."""
    data = tmp_path_factory.mktemp("status") / "data"
    # In a child process: the browser tests' sync Playwright leaves its event loop behind.
    box = Sandbox(Path(tempfile.mkdtemp(prefix="ub-")))  # short: Chromium's sockets live there
    args = ["audit", OLD.e164, "--fixtures", "-y", "--json", *_platforms(AUDITED)]
    audited = box.run(*args, UNBINDER_HOME=str(data), UNBINDER_PASSPHRASE=PASSPHRASE)
    shutil.rmtree(box.root, ignore_errors=True)
    assert audited.returncode == 0, audited.stderr
    with pytest.MonkeyPatch.context() as env:
        env.setenv("UNBINDER_HOME", str(data))
        env.setenv("UNBINDER_TEST_FAST_KDF", "1")
        with Trail.open(data / "trail", PASSPHRASE) as trail:
            change(trail, "example-cn", "changed")
        marked = run("mark", "demo-chat", "--phone", OLD.e164, "--status", "changed")
        assert marked.exit_code == 0, marked.output
    return data, dict(json.loads(audited.stdout))


@pytest.fixture
def worked_on(worked_once: tuple[Path, dict[str, Any]], home: Path) -> dict[str, Any]:
    shutil.copytree(worked_once[0], home)
    return worked_once[1]


def _platforms(ids: tuple[str, ...]) -> list[str]:
    return [a for i in ids for a in ("--platform", i)]


def test_the_audit_json_follows_its_schema(worked_on: dict[str, Any]) -> None:
    schema("audit.schema.json").validate(worked_on)
    outcomes = {p["id"]: p["outcome"] for p in worked_on["platforms"]}
    assert outcomes["example-cn"] == "bound"
    assert outcomes["demo-chat"] == "manual"
    broken = dict(worked_on, platforms=[dict(worked_on["platforms"][0], outcome="maybe")])
    with pytest.raises(jsonschema.ValidationError):
        schema("audit.schema.json").validate(broken)


def test_status_shows_what_was_done_and_the_rest_most_harmful_first(
    worked_on: dict[str, Any],
) -> None:
    result = run("status", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    schema("status.schema.json").validate(doc)
    assert doc["schema"] == SCHEMA
    items = {p["platform"]: p for p in doc["platforms"]}
    assert (items["example-cn"]["state"], items["example-cn"]["by"]) == ("changed", "change")
    assert items["example-cn"]["known"] == "changed, verified"
    assert (items["demo-chat"]["state"], items["demo-chat"]["by"]) == ("changed", "mark")
    assert items["demo-chat"]["known"] == "marked by hand: changed"
    assert items["example-intl"]["state"] == "not_bound" and items["example-intl"]["done"]
    assert items["demo-social"]["state"] == "needs_human" and not items["demo-social"]["done"]
    # The catalog adds what no run checked: every platform of the number's region.
    expected = {e.id for e in load_catalog().select(region=OLD.region)} | set(AUDITED)
    assert set(items) == expected
    unchecked = [p for p in doc["platforms"] if p["state"] == "not_checked"]
    assert unchecked and all(p["by"] is None and p["since"] is None for p in unchecked)
    # What is left first, most harmful first; then what is done.
    done = [p["done"] for p in doc["platforms"]]
    assert done == sorted(done)
    left = [p for p in doc["platforms"] if not p["done"]]
    assert [p["harm"] for p in left] == sorted((p["harm"] for p in left), reverse=True)
    assert doc["counts"]["done"] == 3 == sum(done)
    assert doc["counts"]["left"] == len(left)
    # example-intl answered a moment ago: its recipe's minimum interval has not passed.
    assert items["example-intl"]["next_check"] > doc["generated"]
    assert items["demo-social"]["next_check"] is None  # a person was needed: check at once

    text = run("status").stdout
    assert text.startswith(f"Where {OLD.masked} stands\n")
    assert "No cancellation date set" in text
    todo_at, done_at = text.index("Still to do"), text.index("Done (3)")
    assert todo_at < text.index("[ ] Demo Social (demo-social)") < done_at
    assert done_at < text.index("[x] Example CN (example-cn) · harm")
    assert "[x] Demo Chat (demo-chat) · harm 4 · marked by hand: changed" in text


def test_the_csv_has_the_documented_columns_and_rows(worked_on: dict[str, Any]) -> None:
    result = run("status", "--format", "csv", "--lang", "zh-CN")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    validator = schema("status.schema.json")
    columns = validator.schema["$defs"]["csv_columns"]["const"]
    assert result.stdout.splitlines()[0] == ",".join(columns) == ",".join(CSV_COLUMNS)
    # One row is the schema's csv_row (its definitions, without the JSON document's shape).
    row = validator.evolve(schema={"$defs": validator.schema["$defs"], "$ref": "#/$defs/csv_row"})
    for line in rows:
        row.validate(line)
    by_id = {r["platform"]: r for r in rows}
    assert by_id["example-cn"]["known"] == "已改绑，已核实"
    assert by_id["demo-chat"]["done"] == "yes"
    assert by_id["demo-social"]["since"] and not by_id["demo-social"]["next_check"]
    with pytest.raises(jsonschema.ValidationError):
        row.validate(dict(rows[0], done="maybe"))


def test_a_cancellation_date_kept_in_the_trail_makes_a_countdown(
    worked_on: dict[str, Any], home: Path
) -> None:
    until = dt.date.today() + dt.timedelta(days=43)
    result = run("status", OLD.e164, "--until", until.isoformat(), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    schema("status.schema.json").validate(doc)
    left = doc["counts"]["left"]
    assert doc["until"]["date"] == until.isoformat() and doc["until"]["days_left"] == 43
    assert doc["line"] == f"43 days left until {until.isoformat()}; {left} platforms still to do."
    # Kept in the trail: a later status without the number still counts down, in Chinese too.
    later = run("status", "--lang", "zh-CN").stdout
    assert f"距 {until.isoformat()} 还剩 43 天；还有 {left} 个平台待处理。" in later
    with Trail.open(home / "trail", PASSPHRASE) as trail:
        kinds = [r.kind for r in trail.runs()]
    assert kinds[-1] == "deadline"
    report = run("report", "--format", "json", "--out", "-")
    (number,) = json.loads(report.stdout)["numbers"]
    assert number["until"] == {"date": until.isoformat(), "run": doc["until"]["run"]}
    cleared = run("status", OLD.e164, "--until", "none", "--format", "json")
    assert json.loads(cleared.stdout)["until"] is None


def test_until_needs_the_number_and_a_date(worked_on: dict[str, Any]) -> None:
    missing = run("status", "--until", "2027-01-15")
    assert missing.exit_code == 2
    assert missing.output.startswith("Error: --until needs the number")
    bad = run("status", NEW.e164, "--until", "next spring")
    assert bad.exit_code == 2
    assert "'next spring' is not a date" in bad.output


def test_a_number_no_run_checked_is_all_still_to_do(worked_on: dict[str, Any]) -> None:
    result = run("status", NEW.e164, "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["number"] == {"masked": NEW.masked, "runs": []}
    assert doc["counts"]["done"] == 0
    assert {p["state"] for p in doc["platforms"]} <= {"not_checked", "manual"}


def test_no_trail_yet_is_one_line(home: Path) -> None:
    result = CliRunner().invoke(cli, ["status"], env=ENV)
    assert result.exit_code == 2
    assert "there is no trail" in result.output
