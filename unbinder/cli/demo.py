"""`unbinder demo`: the whole job on the built-in offline platforms, explained as it goes."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from unbinder.cli.options import lang_option
from unbinder.i18n.translate import N_, _

if TYPE_CHECKING:
    from unbinder.jobs.audit import AuditEvent, AuditResult
    from unbinder.jobs.demo import DemoResult
    from unbinder.jobs.unbind import ActionResult

STAGES = {
    1: N_("Audit: where is the demo number still bound?"),
    2: N_(
        "Change: move the binding on one platform (a scripted person logs in and types the codes)"
    ),
    3: N_("Audit again: what does that platform say now?"),
    4: N_("Verify the encrypted trail and write the evidence report"),
}


class _View:
    """Renders the demo with the audit's own progress and table (unbinder/cli/progress.py)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def stage(self, number: int, what: str) -> None:
        stage = _(STAGES[number]) if number in STAGES else what
        click.echo("\n" + _("== Step {number} of 4. {stage}").format(number=number, stage=stage))

    def progress(
        self, names: dict[str, str]
    ) -> AbstractContextManager[Callable[[AuditEvent], None]]:
        from unbinder.cli.progress import Progress

        return Progress(names)

    def audit_done(self, result: AuditResult) -> None:
        from unbinder.cli.progress import result_table

        result_table(result, self.lang)

    def change_done(self, result: ActionResult) -> None:
        from unbinder.cli.unbind import render

        for line in render(result, recorded=True):
            click.echo(line)


@click.command()
@lang_option
def demo(lang: str | None) -> None:
    """Show the whole job offline: audit, change, re-check, verify, report.

    Uses the built-in demo platforms (their pages are replicas in fixtures/, served from this
    machine; nothing touches the internet) and a made-up number, in a throwaway data directory
    with its own trail and passphrase (both printed). At the end it prints where the evidence
    report is: open it in a browser, or print it.

    Example:

        unbinder demo
    """
    from unbinder.i18n.lang import resolve_lang
    from unbinder.jobs.demo import DemoHome, load_plan, run_demo

    lang = resolve_lang(lang)
    plan = load_plan()
    home = DemoHome.create()
    click.echo(
        _("unbinder demo: the main job on built-in offline platforms, with a made-up number.")
    )
    click.echo(_("Every page comes from fixtures/ on this machine; nothing goes to the internet."))
    click.echo(_("  data directory (throwaway): {home}").format(home=home.paths.home))
    click.echo(_("  trail passphrase (throwaway): {passphrase}").format(passphrase=home.passphrase))
    result = run_demo(_View(lang), plan=plan, home=home, lang=lang)
    for line in _closing(result):
        click.echo(line)


def _closing(result: DemoResult) -> list[str]:
    from unbinder.jobs.report import fingerprint

    v = result.verification
    seq, mac = result.head
    status = {
        "ok": _("OK, intact"),
        "warnings": _("intact, with warnings"),
        "tampered": _("TAMPERED"),
    }
    return [
        _(
            "Trail verified: {status}: {records} records, {sealed} sealed runs, {authentic} of "
            "{referenced} screenshots authentic; head {head}"
        ).format(
            status=status[v.status],
            records=v.records,
            sealed=len(v.sealed_runs),
            authentic=v.blobs_authentic,
            referenced=v.blobs_referenced,
            head=fingerprint(seq, mac),
        ),
        *("  " + _("warning: {warning}").format(warning=w) for w in v.warnings),
        *("  " + _("problem: {problem}").format(problem=p) for p in v.problems),
        _("Evidence report: {path}").format(path=result.report),
        "  " + _("(one self-contained page: open it in a browser, or print it; it loads nothing)"),
        _("Done in {seconds:.1f} s.").format(seconds=result.seconds),
        "",
        *_try_next(result.home.paths.home),
    ]


def _try_next(home: Path) -> list[str]:
    """What to try next, typed the way this installation runs (`.venv/bin/unbinder` in a
    checkout whose venv is not on PATH, `unbinder` after pipx), for this system's shell."""
    import os
    import shlex

    from unbinder import paths

    run = paths.command()
    setup: list[str] = []
    if os.name == "nt":  # PowerShell sets a variable for the session, then runs the commands
        setup = [f'  $env:UNBINDER_HOME = "{home}"   # cmd.exe: set UNBINDER_HOME={home}']
        env = ""
    else:
        env = f"UNBINDER_HOME={shlex.quote(str(home))} "
    commands = [
        (f"{env}{run} trail show", _("the runs in the encrypted trail")),
        (f"{env}{run} trail verify", _("the same check, and the same head")),
        (f"{env}{run} report --lang zh-CN", _("the report in Chinese")),
        (f"{run} recipes list", _("the platforms unbinder knows")),
        (f"{run} audit --help", _("check your own number")),
    ]
    width = max(len(c) for c, _what in commands)
    lines = [_("Try next (the passphrase is the one above):"), *setup]
    lines += [f"  {c.ljust(width)}  # {why}" for c, why in commands]
    activate = paths.activate_command()
    if run != "unbinder" and activate:
        lines.append(
            "  " + _("(or first `{activate}`, then type just `unbinder`)").format(activate=activate)
        )
    return lines
