"""`unbinder trail init | show | verify | export | passwd`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from unbinder.cli.passphrase import PASSPHRASE_ENV, get_new_passphrase, get_passphrase

if TYPE_CHECKING:
    from unbinder.trail import Record, RunSummary, VerifyReport


@click.group()
def trail() -> None:
    """The encrypted, tamper-evident record of every check and change.

    Audits and unbinds append to it; these commands create it, show it, verify it, export it
    and change its passphrase. The passphrase comes from UNBINDER_PASSPHRASE or a prompt.

    Example:

        unbinder trail verify
    """


def _trail_dir() -> Path:
    """The trail's directory; when there is none, say so before asking for a passphrase."""
    from unbinder.paths import Paths
    from unbinder.trail.trail import require_trail

    return require_trail(Paths.from_env().trail_dir)


@trail.command()
def init() -> None:
    """Create the trail, protected by a passphrase you choose (asked twice).

    Deriving the key is made to take about half a second, so guessing passphrases is slow.
    Without the passphrase nobody, you included, can read the trail. A recovery code is
    printed once: keep it on paper; it opens the trail when the passphrase is lost, and
    `unbinder trail passwd` takes it in place of the old passphrase.

    Example:

        unbinder trail init
    """
    from unbinder.cli.passphrase import new_recovery_code, show_recovery_code
    from unbinder.errors import BadInput
    from unbinder.paths import Paths
    from unbinder.trail import Trail

    paths = Paths.from_env()
    if Trail.exists(paths.trail_dir):
        raise BadInput(
            f"a trail already exists in {paths.trail_dir}.",
            hint="Open it with its passphrase, or move the directory away to start anew.",
        )
    passphrase = get_new_passphrase("Choose a trail passphrase", env=PASSPHRASE_ENV)
    paths.ensure()
    code = new_recovery_code()
    with Trail.create(paths.trail_dir, passphrase, recovery_code=code) as created:
        first = next(created.records())
    click.echo(f"Created an encrypted trail in {paths.trail_dir}")
    click.echo(f"Key derivation: {first.payload.get('kdf')}.")
    show_recovery_code(code)


@trail.command()
@click.option("--run", "run_id", type=int, metavar="N", help="List the records of run N.")
def show(run_id: int | None) -> None:
    """List the runs in the trail, or the records of one run (numbers masked).

    Example:

        unbinder trail show --run 12
    """
    from unbinder.errors import BadInput
    from unbinder.trail import Trail, default_anchor

    with Trail.open(_trail_dir(), get_passphrase(), anchor=default_anchor()) as opened:
        _echo_warnings(opened.warnings)
        runs = opened.runs()
        if run_id is None:
            seq, _mac = opened.head()
            click.echo(f"Trail {opened.directory}: {seq + 1} records, {len(runs)} runs.")
            for line in _runs_table(runs):
                click.echo(line)
            return
        summary = next((r for r in runs if r.id == run_id), None)
        if summary is None:
            known = ", ".join(str(r.id) for r in runs) or "none yet"
            raise BadInput(f"there is no run {run_id} in the trail (runs: {known}).")
        click.echo(_run_title(summary))
        for record in opened.records():
            if run_id in (record.run, record.seq):
                click.echo(_record_line(record))


@trail.command()
@click.option(
    "--anchor",
    "anchor_spec",
    metavar="FILE|keyring",
    help="Compare with (and then advance) a head kept outside the trail. Default: UNBINDER_ANCHOR.",
)
def verify(anchor_spec: str | None) -> None:
    """Check the whole trail: chain, records, run seals, evidence files, anchor.

    Prints a summary and every problem with its record number. Nothing is changed, except the
    anchor: a trail without problems moves it to the current head (a new anchor file is
    created). Keep the anchor file elsewhere (another device) to detect records cut off the end
    or an older copy put back.

    Exit codes (the same as every command's): 0 intact, 1 intact with warnings (torn tail,
    unsealed run), 2 no trail here, 5 tampered with (each problem is listed), 6 wrong passphrase
    or damaged key file.

    Example:

        unbinder trail verify --anchor /media/usb/unbinder.anchor
    """
    from unbinder.trail import Trail, default_anchor, parse_anchor

    anchor = parse_anchor(anchor_spec) if anchor_spec else default_anchor()
    report = Trail.inspect(_trail_dir(), get_passphrase(), anchor=anchor, advance_anchor=True)
    for line in _report_lines(report):
        click.echo(line)
    raise SystemExit(int(report.exit_code))


@trail.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "html"]),
    default="json",
    show_default=True,
    help="json: a versioned envelope; html: the evidence report of every run.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (mode 0600) instead of standard output.",
)
@click.option(
    "--show-number",
    is_flag=True,
    help="Ask for the number and show it in full for the runs whose keyed reference it "
    "matches (the trail itself stores only the masked form).",
)
def export(fmt: str, out: Path | None, show_number: bool) -> None:
    """Export the trail: verification summary, runs and every record, decrypted.

    Numbers stay masked. The trail never stores a number, so --show-number asks you for it
    and shows it only where it matches the stored reference. In JSON, evidence files are listed
    by id; the HTML is the evidence report of every run (`unbinder report --all`), screenshots
    included.

    Example:

        unbinder trail export --format json --out trail.json
    """
    from unbinder.fsio import replace_atomically
    from unbinder.trail import Trail, default_anchor
    from unbinder.trail.export import export_document

    with Trail.open(_trail_dir(), get_passphrase(), anchor=default_anchor()) as opened:
        _echo_warnings(opened.warnings)
        reveal = ask_number() if show_number else None
        if fmt == "html":
            from unbinder.i18n.lang import default_lang
            from unbinder.jobs.report import build_report, render_html

            document = build_report(opened, all_runs=True, reveal=reveal, lang=default_lang())
            text = render_html(document)
        else:
            document = export_document(opened, reveal=reveal)
            text = json.dumps(document, indent=2, ensure_ascii=False)
    if reveal is not None and not document["number"]["shown"]:
        click.echo("Warning: that number matches no run in the trail; all stay masked.", err=True)
    if out is None:
        click.echo(text)
        return
    replace_atomically(out, text.encode("utf-8"))
    click.echo(f"Wrote {out}", err=True)


@trail.command()
def passwd() -> None:
    """Change the trail passphrase. Only the key file is rewritten (atomically); the log is not.

    The current passphrase (or the recovery code printed when the trail was created) comes
    from UNBINDER_PASSPHRASE or a prompt, the new one from UNBINDER_NEW_PASSPHRASE or a prompt
    (asked twice). With the recovery code, the new passphrase replaces the lost one and the
    recovery code keeps working.

    Example:

        unbinder trail passwd
    """
    from unbinder.trail import change_passphrase

    directory = _trail_dir()
    old = get_passphrase(prompt="Current trail passphrase (or recovery code)")
    new = get_new_passphrase()
    change_passphrase(directory, old, new)
    click.echo("Passphrase changed (key.json rewritten; the records are untouched).")


def ask_number(text: str | None = None) -> Any:
    """The number to show in full: `text` when given, else asked for (never echoed back)."""
    from unbinder.phone import parse_phone

    if text is None:
        text = click.prompt("Phone number to show (with +country code)", err=True)
    return parse_phone(text)


def _echo_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)


def _runs_table(runs: list[RunSummary]) -> list[str]:
    if not runs:
        return ["No runs yet."]

    def number(run: RunSummary) -> str:
        shown = run.masked or "-"
        return f"{shown} -> {run.new_masked}" if run.new_masked else shown

    width = max(len("NUMBER"), *(len(number(r)) for r in runs))
    lines = [
        f"{'RUN':>6}  {'KIND':<8} {'STARTED (UTC)':<19}  {'NUMBER':<{width}}  {'SEALED':<6} "
        f"{'FIND':>4} {'ACT':>4} {'RES':>4} {'BLOB':>4}"
    ]
    for run in runs:
        lines.append(
            f"{run.id:>6}  {run.kind:<8} {run.started:%Y-%m-%d %H:%M:%S}  "
            f"{number(run):<{width}}  {'yes' if run.sealed else 'NO':<6} {run.findings:>4} "
            f"{run.actions:>4} {run.results:>4} {run.blobs:>4}"
        )
    return lines


def _run_title(run: RunSummary) -> str:
    number = run.masked or "no number"
    if run.new_masked:
        number = f"{number} -> {run.new_masked}"
    sealed = f"sealed ({run.status})" if run.sealed else "NOT sealed"
    started = f"{run.started:%Y-%m-%d %H:%M:%S} UTC"
    return f"Run {run.id}: {run.kind} of {number}, started {started}, {sealed}"


def _record_line(record: Record) -> str:
    from unbinder.trail import RecordType

    p = record.payload
    platform = str(p.get("platform", ""))
    if record.type == RecordType.FINDING:
        outcome = p.get("outcome") or {}
        what = " ".join(str(outcome[k]) for k in ("status", "kind") if outcome.get(k))
    elif record.type == RecordType.ACTION:
        what = f"{p.get('what')} (by {p.get('by')})"
    elif record.type == RecordType.RESULT:
        what = str((p.get("result") or {}).get("status", ""))
    elif record.type == RecordType.BLOB:
        blob_id = str(p.get("blob"))[:12]
        what = f"{p.get('media_type')} {p.get('size')} bytes {p.get('name', '')} [{blob_id}]"
    elif record.type == RecordType.RUN_SEAL:
        what = f"{p.get('status')}, {p.get('records')} records"
    else:
        what = ", ".join(f"{k}={v}" for k, v in sorted(p.get("recipes", {}).items()))
    line = f"{record.seq:>6}  {record.time:%H:%M:%S}  {record.type.label:<9} {platform:<14} {what}"
    return line.rstrip()


def _report_lines(report: VerifyReport) -> list[str]:
    from unbinder.trail.verify import MAX_LISTED_PROBLEMS

    seq, mac = report.head
    lines = [
        f"Trail {report.trail_id}",
        f"  records: {report.records} (head #{seq}, MAC {mac[:16]}...)",
        f"  runs:    {report.runs} ({len(report.sealed_runs)} sealed, "
        f"{len(report.unsealed_runs)} unsealed)",
        f"  blobs:   {report.blobs_referenced} referenced, {report.blobs_present} present, "
        f"{report.blobs_authentic} authentic"
        + (f", {report.orphan_blobs} unreferenced" if report.orphan_blobs else ""),
        f"  anchor:  {report.anchor or 'none (use --anchor FILE to detect truncation)'}",
    ]
    if report.side_files:
        lines.append(f"  earlier torn tails kept in: {', '.join(report.side_files)}")
    lines.extend(f"Warning: {w}" for w in report.warnings)
    lines.extend(f"Problem: {p}" for p in report.problems[:MAX_LISTED_PROBLEMS])
    if len(report.problems) > MAX_LISTED_PROBLEMS:
        more = len(report.problems) - MAX_LISTED_PROBLEMS
        lines.append(f"... and {more} more problem(s).")
    verdict = {
        "ok": "OK: the trail is intact.",
        "warnings": "WARNINGS: the trail is intact, see above.",
        "tampered": f"TAMPERED: {len(report.problems)} problem(s); keep a copy as evidence.",
    }
    lines.append(verdict[report.status])
    return lines
