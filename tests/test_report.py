"""The evidence report built from a trail: states, selection, JSON schema, number, languages.

These trails are written through the trail API with the payload shapes that `audit`,
`unbind` and `mark` record (the end-to-end demo test covers the real ones, browser included).
"""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from leaks import scan

from unbinder.cli import cli
from unbinder.errors import BadInput
from unbinder.jobs.report import (
    LANGS,
    SCHEMA,
    SCHEMA_FILE,
    build_report,
    render_html,
    render_json,
    texts,
)
from unbinder.phone import PhoneNumber, parse_phone
from unbinder.trail import Run, Trail

PASSPHRASE = "report passphrase"
ENV = {"UNBINDER_PASSPHRASE": PASSPHRASE, "LANG": "C.UTF-8"}
OLD = parse_phone("+86 138 0013 8000")
NEW = parse_phone("+86 139 0013 9000")
OTHER = parse_phone("+1 202 555 0123")


def png(width: int, height: int, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real (decodable) PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def finding(run: Run, platform: str, outcome: str, *, shot: bytes | None = None) -> None:
    """What audit.record_result writes (PlatformResult.to_dict + screenshots)."""
    shots = []
    if shot is not None:
        blob = run.blob(shot, media_type="image/png", platform=platform, name="outcome")
        shots.append({"name": "outcome", "blob": blob})
    run.finding(
        platform,
        {
            "id": platform,
            "name": platform,
            "outcome": outcome,
            "kind": "captcha" if outcome == "needs_human" else None,
            "evidence": {"rule": f"{platform} says {outcome}", "matched": "text", "url": "u"},
            "summary": f"{platform} says {outcome}: text",
            "next_step": "",
            "screenshots": shots,
        },
    )


def audit(trail: Trail, phone: PhoneNumber, outcomes: dict[str, str], **shots: bytes) -> int:
    with trail.start_run("audit", phone, recipes={p: "sha256:0" for p in outcomes}) as run:
        for platform, outcome in outcomes.items():
            finding(run, platform, outcome, shot=shots.get(platform.replace("-", "_")))
        return run.id


def change(trail: Trail, platform: str, status: str, *, reason_code: str | None = None) -> int:
    """What unbind.run_unbind writes for a change of OLD to NEW."""
    with trail.start_run(
        "unbind",
        OLD,
        new_phone=NEW,
        recipes={platform: "sha256:0"},
        details={"platform": platform, "mode": "change", "dry_run": False, "fixtures": True},
    ) as run:
        run.action(platform, "start", details={"mode": "change", "dry_run": False})
        run.action(platform, "handoff", by="user", details={"kind": "login", "prompt": "Log in."})
        run.action(
            platform,
            "confirm_asked",
            details={"action": "Change the number", "old": OLD.masked, "new": NEW.masked},
        )
        run.action(platform, "confirm_answered", by="user", details={"answer": "yes"})
        run.action(platform, "flow_ended", details={"status": "done", "flow": "change"})
        run.blob(png(40, 30, (10, 90, 200)), platform=platform, name="change:after")
        run.finding(
            platform,
            {
                "platform": platform,
                "flow": "verify",
                "status": "bound",
                "evidence": {"rule": "the security page shows a bound number", "matched": "x"},
                "variables": {"bound_number": "139****9000"},
            },
        )
        run.result(
            platform,
            {
                "status": status,
                "mode": "change",
                "reason": f"the platform now shows {'139****9000' if status == 'changed' else '138****8000'}",
                "reason_code": reason_code,
                "old_masked": OLD.masked,
                "new_masked": NEW.masked,
                "bound_number": "139****9000",
                "by": "tool",
            },
        )
        return run.id


def mark(trail: Trail, platform: str, status: str) -> int:
    """What mark.mark_result writes."""
    with trail.start_run("mark", OLD, recipes={platform: "sha256:0"}) as run:
        run.action(platform, "marked", by="user", details={"status": status, "note": "in the app"})
        run.result(
            platform,
            {"status": status, "mode": "manual", "reason": "in the app", "by": "user"},
        )
        return run.id


@pytest.fixture
def trail(home: Path) -> Any:
    with Trail.create(home / "trail", PASSPHRASE) as opened:
        yield opened


def states(doc: dict[str, Any], number: int = 0) -> dict[str, str]:
    return {p["platform"]: p["state"] for p in doc["numbers"][number]["platforms"]}


def test_each_platform_follows_its_evidence_and_a_verified_change_is_done(trail: Trail) -> None:
    audit(
        trail,
        OLD,
        {
            "example-cn": "bound",
            "example-intl": "not_bound",
            "demo-social": "needs_human",
            "demo-chat": "manual",
            "demo-food": "bound",
        },
    )
    change(trail, "example-cn", "changed")
    audit(trail, OLD, {"example-cn": "not_bound", "demo-food": "rate_limited"})
    doc = build_report(trail)
    assert states(doc) == {
        "example-cn": "changed",  # bound, changed, then checked: no longer bound
        "example-intl": "not_bound",
        "demo-social": "needs_human",
        "demo-chat": "manual",
        "demo-food": "bound",  # a rate limit afterwards says nothing new
    }
    cn = next(p for p in doc["numbers"][0]["platforms"] if p["platform"] == "example-cn")
    assert cn["done"] and cn["confirmed"]
    assert doc["summary"] == {
        "platforms": 5,
        "checked": 3,  # example-cn, example-intl, demo-food (captchas and manual need a person)
        "checked_by_login": 0,
        "bound": 1,
        "changed": 1,
        "not_bound": 1,
        "todo": 3,
        "manual": 1,
    }
    food = next(p for p in doc["numbers"][0]["platforms"] if p["platform"] == "demo-food")
    assert food["latest"]["outcome"] == "rate_limited"
    # Demo Food has no change flow on the web: by hand, then recorded with `unbinder mark`.
    assert "unbinder mark demo-food --phone OLD --status changed" in food["next_step"]
    first = build_report(trail, run=doc["runs"][0]["id"])["numbers"][0]["platforms"]
    cn_then = next(p for p in first if p["platform"] == "example-cn")
    assert "unbinder unbind example-cn" in cn_then["next_step"]
    # Listed by urgency: still bound first, done last.
    assert [p["state"] for p in doc["numbers"][0]["platforms"]] == [
        "bound",
        "needs_human",
        "manual",
        "changed",
        "not_bound",
    ]


def test_a_change_that_left_the_old_number_is_still_to_do(trail: Trail) -> None:
    audit(trail, OLD, {"example-cn": "bound"})
    change(trail, "example-cn", "not_done", reason_code="still_old")
    doc = build_report(trail)
    assert states(doc) == {"example-cn": "bound"}
    assert doc["summary"]["todo"] == 1
    assert doc["summary"]["changed"] == 0


def test_a_change_shows_its_steps_numbers_and_screenshot(trail: Trail) -> None:
    change(trail, "example-cn", "changed")
    doc = build_report(trail)
    (run,) = doc["runs"]
    (entry,) = run["entries"]
    assert entry["source"] == "change"
    assert entry["outcome"] == "changed"
    assert entry["numbers"] == {"old": OLD.masked, "new": NEW.masked}
    texts_ = [s["text"] for s in entry["steps"]]
    assert texts_[0] == "started (change)"
    assert "handed over to you: login: Log in." in texts_
    assert any(t.startswith("read back from the platform: a number is bound") for t in texts_)
    assert [s["by"] for s in entry["steps"]][:2] == ["tool", "user"]
    assert run["new_phone"]["masked"] == NEW.masked
    (blob,) = entry["screenshots"]
    assert doc["evidence"][blob]["status"] == "ok"
    assert base64.b64decode(doc["evidence"][blob]["data"]) == png(40, 30, (10, 90, 200))


def test_results_recorded_by_hand_count_like_verified_ones(trail: Trail) -> None:
    audit(trail, OLD, {"demo-chat": "manual", "demo-food": "bound"})
    mark(trail, "demo-chat", "changed")
    mark(trail, "demo-food", "bound")
    doc = build_report(trail)
    assert states(doc) == {"demo-chat": "changed", "demo-food": "bound"}
    assert doc["summary"]["changed"] == 1
    assert doc["summary"]["manual"] == 0
    assert doc["summary"]["todo"] == 1
    marked = [e for r in doc["runs"] for e in r["entries"] if e["source"] == "mark"]
    assert [e["outcome"] for e in marked] == ["changed", "bound"]


def test_default_is_every_run_of_the_latest_number(trail: Trail) -> None:
    first = audit(trail, OLD, {"example-cn": "bound"})
    other = audit(trail, OTHER, {"example-intl": "bound"})
    second = change(trail, "example-cn", "changed")
    doc = build_report(trail)
    assert doc["selection"]["mode"] == "number"
    assert doc["selection"]["runs"] == [first, second]
    assert [n["phone"]["masked"] for n in doc["numbers"]] == [OLD.masked]
    only = build_report(trail, run=other)
    assert only["selection"]["runs"] == [other]
    assert states(only) == {"example-intl": "bound"}
    everything = build_report(trail, all_runs=True)
    assert [n["phone"]["masked"] for n in everything["numbers"]] == [OLD.masked, OTHER.masked]
    assert everything["summary"]["platforms"] == 2
    assert everything["summary"]["changed"] == 1
    with pytest.raises(BadInput, match="no run 999"):
        build_report(trail, run=999)


def test_an_empty_trail_says_what_to_do(trail: Trail) -> None:
    with pytest.raises(BadInput, match="no run yet"):
        build_report(trail)


def test_json_export_follows_its_versioned_schema(trail: Trail) -> None:
    audit(trail, OLD, {"example-cn": "bound", "demo-chat": "manual"}, example_cn=png(8, 6))
    change(trail, "example-cn", "changed")
    mark(trail, "demo-chat", "changed")
    doc = json.loads(render_json(build_report(trail)))
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["schema"] == SCHEMA == "unbinder.report/1"
    seq, mac = trail.head()
    assert doc["trail"]["head"] == {"seq": seq, "mac": mac, "fingerprint": f"#{seq} {mac[:16]}"}
    assert doc["verification"]["status"] == "ok"
    broken = dict(doc, summary={"platforms": "two"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_the_page_is_self_contained(trail: Trail) -> None:
    shot = png(12, 9)
    audit(trail, OLD, {"example-cn": "bound"}, example_cn=shot)
    page = render_html(build_report(trail))
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    assert "default-src 'none'" in csp.group(1)
    assert "img-src data:" in csp.group(1)
    assert "<script" not in page
    assert "@import" not in page
    assert "url(" not in page
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    images = [s for s in sources if not s.startswith("#")]
    assert images and all(s.startswith("data:image/png;base64,") for s in images)
    assert base64.b64decode(images[0].split(",", 1)[1]) == shot
    # Links stay inside the page: each names an element of it (a screenshot in the appendix).
    anchors = [s[1:] for s in sources if s.startswith("#")]
    assert anchors and all(f'id="{a}"' in page for a in anchors)
    assert "@media print" in page


def test_a_missing_evidence_file_is_reported_in_the_page(trail: Trail) -> None:
    audit(trail, OLD, {"example-cn": "bound"}, example_cn=png(5, 5))
    for blob in (trail.directory / "blobs").iterdir():
        blob.unlink()
    doc = build_report(trail)
    assert doc["verification"]["status"] == "tampered"
    (evidence,) = doc["evidence"].values()
    assert evidence["data"] is None
    assert "not in the trail" in evidence["status"]
    page = render_html(doc)
    assert "could not be shown" in page
    assert "TAMPERED" in page


def _report(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, ["report", *args], env=env or ENV, input=input)


def test_cli_writes_the_report_privately_and_masks_the_number(trail: Trail, tmp_path: Path) -> None:
    audit(trail, OLD, {"example-cn": "bound"}, example_cn=png(5, 5))
    out = tmp_path / "evidence.html"
    result = _report("--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    assert "1 still to do" in result.output
    assert out.stat().st_mode & 0o777 == 0o600
    page = out.read_text()
    assert OLD.masked in page
    assert scan([out], [OLD]) == []
    as_json = _report("--format", "json", "--out", "-")
    assert json.loads(as_json.output)["summary"]["bound"] == 1


def test_cli_default_file_name_and_unknown_run(
    trail: Trail, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit(trail, OLD, {"example-cn": "bound"})
    monkeypatch.chdir(tmp_path)
    result = _report()
    assert result.exit_code == 0, result.output
    (written,) = tmp_path.glob("unbinder-report-*.html")
    assert written.read_text().startswith("<!DOCTYPE html>")
    missing = _report("--run", "42")
    assert missing.exit_code == 2
    assert missing.output.startswith("Error: there is no run 42 in the trail (runs: 1).")
    both = _report("--run", "1", "--all")
    assert both.exit_code == 2


def test_show_number_shows_it_only_where_its_keyed_reference_matches(
    trail: Trail, tmp_path: Path
) -> None:
    audit(trail, OLD, {"example-cn": "bound"})
    audit(trail, OTHER, {"example-intl": "bound"})
    out = tmp_path / "all.json"
    asked = _report(
        "--all", "--show-number", "--format", "json", "--out", str(out), input=f"{OLD.e164}\n"
    )
    assert asked.exit_code == 0, asked.output
    doc = json.loads(out.read_text())
    by_masked = {r["phone"]["masked"]: r["phone"]["shown"] for r in doc["runs"]}
    assert by_masked == {OLD.masked: OLD.e164, OTHER.masked: None}
    assert doc["number"]["shown"] is True
    assert doc["number"]["runs"] == [doc["runs"][0]["id"]]
    assert "typed in when this report was made" in doc["number"]["note"]
    page = tmp_path / "old.html"
    given = _report("--number", "+86 138-0013-8000", "--out", str(page), "--run", "1")
    assert given.exit_code == 0, given.output
    assert OLD.e164 in page.read_text()
    wrong = tmp_path / "wrong.html"
    unmatched = _report("--number", NEW.e164, "--out", str(wrong))
    assert unmatched.exit_code == 0
    assert "matches no run" in unmatched.output
    assert scan([wrong], [NEW, OTHER]) == []
    assert "matches no run here, so every number stays masked" in wrong.read_text()


def test_chinese_report(trail: Trail, tmp_path: Path) -> None:
    audit(trail, OLD, {"example-cn": "bound", "demo-chat": "manual"})
    out = tmp_path / "zh.html"
    result = _report("--lang", "zh-CN", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert '<html lang="zh-CN">' in page
    assert "证据报告" in page
    assert "仍绑定" in page
    assert "示例网" in page  # the recipe's Chinese name
    assert "在 App 中：" in page  # demo-chat's manual steps, in Chinese
    # Why it is manual: the recipe's own words in the report's language, whatever the language
    # the audit recorded them in.
    assert "只能在 App 内更换手机号。" in page
    assert "The number can only be changed in the app." not in page
    from_env = tmp_path / "env.html"
    _report("--out", str(from_env), env={**ENV, "LANG": "zh_CN.UTF-8"})
    assert '<html lang="zh-CN">' in from_env.read_text()


def test_every_language_has_every_text_with_the_same_placeholders() -> None:
    table = texts()
    assert set(table) == set(LANGS)
    keys = set(table["en"])
    for lang in LANGS:
        assert set(table[lang]) == keys, lang
    for key in keys:
        fields = {lang: set(re.findall(r"{(\w+)}", table[lang][key])) for lang in LANGS}
        assert fields["en"] == fields["zh-CN"], key


def test_no_trail_yet_is_one_line(home: Path) -> None:
    result = _report()
    assert result.exit_code == 2
    assert "there is no trail" in result.output
    assert "Traceback" not in result.output


def test_each_platform_still_to_do_says_how_hard_changing_the_number_is(trail: Trail) -> None:
    from unbinder.recipe.load import find_recipe, parse_recipe

    shipped = find_recipe("example-cn")
    text = shipped.path.read_text(encoding="utf-8")
    rated = parse_recipe(
        text + "number_change: {difficulty: hard, codes_to: old, assumed: true}\n", shipped.path
    )
    unrated = find_recipe("demo-chat")
    assert unrated.recipe.number_change is None
    lookup = {"example-cn": rated, "demo-chat": unrated}.get
    audit(trail, OLD, {"example-cn": "bound", "demo-chat": "bound"})
    for lang, words in (("en", "changing the number: hard"), ("zh-CN", "换绑难度：困难")):
        doc = build_report(trail, lang=lang, recipes=lookup)
        by_id = {p["platform"]: p for p in doc["numbers"][0]["platforms"]}
        assert by_id["example-cn"]["difficulty"] == "hard"
        assert by_id["demo-chat"]["difficulty"] is None
        page = render_html(doc)
        assert f'data-difficulty="hard">{words}</span>' in page
        assert page.count("data-difficulty=") == 1
    change(trail, "example-cn", "changed")  # done: nothing left to say about changing it
    assert "data-difficulty=" not in render_html(build_report(trail, recipes=lookup))
