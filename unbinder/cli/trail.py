"""`unbinder trail init | show | verify | export | passwd`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from unbinder.cli.passphrase import PASSPHRASE_ENV, get_new_passphrase, get_passphrase
from unbinder.i18n.translate import N_, _

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
            _("a trail already exists in {trail_dir}.").format(trail_dir=paths.trail_dir),
            hint=_("Open it with its passphrase, or move the directory away to start anew."),
        )
    passphrase = get_new_passphrase(N_("Choose a trail passphrase"), env=PASSPHRASE_ENV)
    paths.ensure()
    code = new_recovery_code()
    with Trail.create(paths.trail_dir, passphrase, recovery_code=code) as created:
        first = next(created.records())
    click.echo(_("Created an encrypted trail in {trail_dir}").format(trail_dir=paths.trail_dir))
    click.echo(_("Key derivation: {value}.").format(value=first.payload.get("kdf")))
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
            click.echo(
                _("Trail {directory}: {records} records, {runs} runs.").format(
                    directory=opened.directory, records=seq + 1, runs=len(runs)
                )
            )
            for line in _runs_table(runs):
                click.echo(line)
            return
        summary = next((r for r in runs if r.id == run_id), None)
        if summary is None:
            known = ", ".join(str(r.id) for r in runs) or "none yet"
            raise BadInput(
                _("there is no run {run_id} in the trail (runs: {known}).").format(
                    run_id=run_id, known=known
                )
            )
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
        click.echo(
            _("Warning: that number matches no run in the trail; all stay masked."), err=True
        )
    if out is None:
        click.echo(text)
        return
    replace_atomically(out, text.encode("utf-8"))
    click.echo(_("Wrote {out}").format(out=out), err=True)


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
    old = get_passphrase(prompt=N_("Current trail passphrase (or recovery code)"))
    new = get_new_passphrase()
    change_passphrase(directory, old, new)
    click.echo(_("Passphrase changed (key.json rewritten; the records are untouched)."))


def ask_number(text: str | None = None) -> Any:
    """The number to show in full: `text` when given, else asked for (never echoed back)."""
    from unbinder.phone import parse_phone

    if text is None:
        text = click.prompt(_("Phone number to show (with +country code)"), err=True)
    return parse_phone(text)


def _echo_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(_("Warning: {warning}").format(warning=warning), err=True)


def _runs_table(runs: list[RunSummary]) -> list[str]:
    from unbinder.i18n.lang import display_width, pad

    if not runs:
        return [_("No runs yet.")]

    def number(run: RunSummary) -> str:
        shown = run.masked or "-"
        return f"{shown} -> {run.new_masked}" if run.new_masked else shown

    def right(text: str, width: int) -> str:
        return " " * max(0, width - display_width(text)) + text

    head = [
        _("RUN"),
        _("KIND"),
        _("STARTED (UTC)"),
        _("NUMBER"),
        _("SEALED"),
        _("FIND"),
        _("ACT"),
        _("RES"),
        _("BLOB"),
    ]
    rows = [
        [
            str(run.id),
            _run_kind(run.kind),
            f"{run.started:%Y-%m-%d %H:%M:%S}",
            number(run),
            _("yes") if run.sealed else _("NO"),
            str(run.findings),
            str(run.actions),
            str(run.results),
            str(run.blobs),
        ]
        for run in runs
    ]
    widths = [max(display_width(row[i]) for row in [head, *rows]) for i in range(len(head))]
    counts = range(5, len(head))
    lines = []
    for row in [head, *rows]:
        cells = [right(row[0], max(6, widths[0]))]
        cells += [pad(row[i], widths[i]) for i in range(1, 5)]
        cells += [right(row[i], max(4, widths[i])) for i in counts]
        lines.append("  ".join(cells).rstrip())
    return lines


def _run_title(run: RunSummary) -> str:
    number = run.masked or _("no number")
    if run.new_masked:
        number = f"{number} -> {run.new_masked}"
    status = _run_status(run.status or "")
    sealed = _("sealed ({status})").format(status=status) if run.sealed else _("NOT sealed")
    started = f"{run.started:%Y-%m-%d %H:%M:%S} UTC"
    return _("Run {id}: {kind} of {number}, started {started}, {sealed}").format(
        id=run.id, kind=_run_kind(run.kind), number=number, started=started, sealed=sealed
    )


def _run_kind(kind: str) -> str:
    """A run's kind (audit, unbind, mark, deadline) as a person reads it."""
    from unbinder.i18n.translate import active_lang
    from unbinder.i18n.words import has, say

    key = f"kind_{kind}"
    return say(key, active_lang()) if has(key, active_lang()) else kind


def _run_status(status: str) -> str:
    """How a run was sealed (`Run.seal`: complete, or why it stopped), as a person reads it."""
    if status == "complete":
        return _("complete")
    if status.startswith("stopped: "):
        return _("stopped ({why})").format(why=status.removeprefix("stopped: "))
    return status


def _record_line(record: Record) -> str:
    from unbinder.i18n.lang import pad
    from unbinder.trail import RecordType

    p = record.payload
    platform = str(p.get("platform", ""))
    if record.type == RecordType.FINDING:
        outcome = p.get("outcome") or {}
        from unbinder.cli.progress import LABELS
        from unbinder.jobs.evidence_words import KINDS

        words = {**LABELS, **KINDS}
        what = " ".join(
            _shown(str(outcome[k]), words) for k in ("status", "kind") if outcome.get(k)
        )
    elif record.type == RecordType.ACTION:
        by = {"user": _("by user"), "tool": _("by tool")}.get(str(p.get("by")), str(p.get("by")))
        what = f"{_shown(str(p.get('what')), ACTIONS)} ({by})"
    elif record.type == RecordType.RESULT:
        what = str((p.get("result") or {}).get("status", ""))
    elif record.type == RecordType.BLOB:
        blob_id = str(p.get("blob"))[:12]
        from unbinder.i18n.translate import active_lang
        from unbinder.jobs.report import shot_words

        size = _("{size} bytes").format(size=p.get("size"))
        name = shot_words(str(p.get("name", "")), active_lang())
        what = f"{p.get('media_type')} {size} {name} [{blob_id}]"
    elif record.type == RecordType.RUN_SEAL:
        what = _("{status}, {records} records").format(
            status=_run_status(str(p.get("status"))), records=p.get("records")
        )
    else:
        what = ", ".join(f"{k}={v}" for k, v in sorted(p.get("recipes", {}).items()))
    kind = pad(_shown(record.type.label, RECORD_TYPES), 9)
    line = f"{record.seq:>6}  {record.time:%H:%M:%S}  {kind} {platform:<14} {what}"
    return line.rstrip()


# Record types and action records' `what` (ids, shown as such in English) in other languages.
RECORD_TYPES = {
    "created": N_("created"),
    "run-start": N_("run start"),
    "finding": N_("finding"),
    "action": N_("action"),
    "result": N_("result"),
    "blob": N_("evidence file"),
    "run-seal": N_("run seal"),
}
ACTIONS = {
    "start": N_("started"),
    "handoff": N_("handed over to you"),
    "confirm_asked": N_("asked for confirmation"),
    "confirm_answered": N_("confirmation answered"),
    "flow_ended": N_("flow ended"),
    "session_kept": N_("login kept"),
    "session_wiped": N_("login wiped"),
    "marked": N_("recorded by hand"),
}


def _shown(label: str, words: dict[str, str]) -> str:
    from unbinder.i18n.translate import id_words

    return id_words(label, words)


def _report_lines(report: VerifyReport) -> list[str]:
    from unbinder.trail.verify import MAX_LISTED_PROBLEMS

    seq, mac = report.head
    lines = [
        _("Trail {id}").format(id=report.trail_id),
        "  "
        + _("records: {records} (head #{seq}, MAC {mac}...)").format(
            records=report.records, seq=seq, mac=mac[:16]
        ),
        "  "
        + _("runs:    {runs} ({sealed} sealed, {unsealed} unsealed)").format(
            runs=report.runs, sealed=len(report.sealed_runs), unsealed=len(report.unsealed_runs)
        ),
        "  "
        + _("blobs:   {referenced} referenced, {present} present, {authentic} authentic").format(
            referenced=report.blobs_referenced,
            present=report.blobs_present,
            authentic=report.blobs_authentic,
        )
        + (
            _(", {orphans} unreferenced").format(orphans=report.orphan_blobs)
            if report.orphan_blobs
            else ""
        ),
        "  "
        + _("anchor:  {anchor}").format(
            anchor=report.anchor or _("none (use --anchor FILE to detect truncation)")
        ),
    ]
    if report.side_files:
        lines.append(
            "  "
            + _("earlier torn tails kept in: {files}").format(files=", ".join(report.side_files))
        )
    lines.extend(_("Warning: {warning}").format(warning=w) for w in report.warnings)
    lines.extend(
        _("Problem: {problem}").format(problem=p) for p in report.problems[:MAX_LISTED_PROBLEMS]
    )
    if len(report.problems) > MAX_LISTED_PROBLEMS:
        more = len(report.problems) - MAX_LISTED_PROBLEMS
        lines.append(_("... and {more} more problem(s).").format(more=more))
    verdict = {
        "ok": _("OK: the trail is intact."),
        "warnings": _("WARNINGS: the trail is intact, see above."),
        "tampered": _("TAMPERED: {count} problem(s); keep a copy as evidence.").format(
            count=len(report.problems)
        ),
    }
    lines.append(verdict[report.status])
    return lines
