"""`unbinder report`: the evidence report, from the trail."""

from __future__ import annotations

from pathlib import Path

import click

from unbinder.cli.options import lang_option
from unbinder.i18n.translate import N_, _, id_words


@click.command()
@click.option("--run", "run_id", type=int, metavar="N", help="Only run N (`unbinder trail show`).")
@click.option("--all", "all_runs", is_flag=True, help="Every run in the trail, grouped by number.")
@click.option(
    "--out",
    metavar="PATH",
    help="Write here (mode 0600); - for standard output. "
    "Default: unbinder-report-<UTC time>.<format> in the current directory.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "json"]),
    default="html",
    show_default=True,
    help="html: one self-contained page; json: the same content, schema unbinder.report/1.",
)
@click.option(
    "--show-number",
    is_flag=True,
    help="Show the full number where it matches the trail's keyed reference (asks for it).",
)
@click.option(
    "--number",
    "number_text",
    metavar="PHONE",
    help="The number to show in full (implies --show-number, which otherwise asks for it).",
)
@lang_option
def report(
    run_id: int | None,
    all_runs: bool,
    out: str | None,
    fmt: str,
    show_number: bool,
    number_text: str | None,
    lang: str | None,
) -> None:
    """Write the evidence report from the encrypted trail: a page to open, print or hand over.

    By default it covers every run of the number handled last (its audits, changes and what you
    recorded with `unbinder mark`): a summary (checked, still bound, changed, still to do,
    manual), each platform's state with its evidence and what to do next, every run with its
    screenshots, and the trail's verification and head fingerprint. --run N reports one run,
    --all every run. The page loads nothing from the network.

    Numbers stay masked. The trail never stores a number, so --show-number asks you for it and
    shows it only in the runs whose stored keyed reference it matches.

    Example:

        unbinder report --out evidence.html
    """
    from unbinder.cli.passphrase import get_passphrase
    from unbinder.cli.trail import ask_number
    from unbinder.i18n.lang import resolve_lang
    from unbinder.jobs.report import build_report, render, write_report
    from unbinder.paths import Paths
    from unbinder.trail import Trail, open_or_create
    from unbinder.trail.records import now

    reveal = None
    paths = Paths.from_env()
    if not Trail.exists(paths.trail_dir):  # before asking for a passphrase it cannot use
        open_or_create(paths, "", create_if_missing=False)
    with open_or_create(paths, get_passphrase(), create_if_missing=False) as trail:
        for warning in trail.warnings:
            click.echo(_("Warning: {warning}").format(warning=warning), err=True)
        if show_number or number_text:
            reveal = ask_number(number_text)
        doc = build_report(
            trail, run=run_id, all_runs=all_runs, reveal=reveal, lang=resolve_lang(lang)
        )
    if reveal is not None and not doc["number"]["shown"]:
        click.echo(
            _("Warning: that number matches no run in the report; all stay masked."), err=True
        )
    text = render(doc, fmt)
    if out == "-":
        click.echo(text, nl=False)
        return
    path = Path(out) if out else Path(f"unbinder-report-{now():%Y%m%d-%H%M%S}.{fmt}")
    write_report(path, text)
    s = doc["summary"]
    click.echo(
        _(
            "Wrote {path} ({runs} run(s), {platforms} platform(s): {todo} still to do, "
            "{changed} changed; trail {verification})"
        ).format(
            path=path,
            runs=len(doc["runs"]),
            platforms=s["platforms"],
            todo=s["todo"],
            changed=s["changed"],
            verification=id_words(
                doc["verification"]["status"],
                {
                    "ok": N_("intact"),
                    "warnings": N_("intact, with warnings"),
                    "tampered": N_("TAMPERED"),
                },
            ),
        )
    )
