"""Promise 2 for the trail: no form of the number is anywhere in the data directory."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from trail_helpers import PASSPHRASE

from unbinder.cli import cli
from unbinder.paths import Paths
from unbinder.phone import PhoneNumber, parse_phone
from unbinder.trail import FileAnchor, open_or_create


def _encodings(form: str) -> list[bytes]:
    return [form.encode("utf-8"), form.encode("utf-16-le"), form.encode("utf-16-be")]


def test_no_file_in_the_data_dir_holds_the_number_in_any_form(
    home: Path, phone: PhoneNumber
) -> None:
    new = parse_phone("+86 139 0013 9000")
    forms = sorted({*phone.forms(), *new.forms()})
    anchor = FileAnchor(home / "anchor.json")
    with open_or_create(Paths.from_env(), PASSPHRASE, True, anchor=anchor) as trail:
        with trail.start_run("unbind", phone, new_phone=new, details={"typed": phone.e164}) as run:
            for form in forms:
                run.finding("demo-shop", {"status": "bound", "evidence": [f"page shows {form}"]})
            run.action("demo-shop", f"replaced {phone.national} by {new.national}", by="user")
            run.result("demo-shop", {"status": "bound", "number": new.e164})
            screenshot = "\n".join(forms).encode("utf-8") + "\n".join(forms).encode("utf-16-le")
            run.blob(screenshot, name=f"after {new.e164}.png")
        trail.start_run("audit", phone)  # left unsealed, as after a crash
    result = CliRunner().invoke(
        cli,
        ["trail", "export", "--out", str(home / "export.json")],
        env={"UNBINDER_PASSPHRASE": PASSPHRASE},
    )
    assert result.exit_code == 0, result.output
    files = [p for p in home.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"key.json", "trail.log", "export.json", "anchor.json"}
    assert any(p.suffix == ".blob" for p in files)
    found = [
        (p.name, form)
        for p in files
        for form in forms
        if any(enc in p.read_bytes() for enc in _encodings(form))
    ]
    assert found == []
    assert phone.masked.encode() in (home / "export.json").read_bytes()  # masked is kept
