"""`unbinder audit`: where is this number still bound?"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from unbinder.cli.options import lang_option
from unbinder.errors import BadInput, ExitCode
from unbinder.i18n.translate import _, ngettext

if TYPE_CHECKING:
    from unbinder.jobs.audit import AuditOptions, AuditRun
    from unbinder.jobs.concurrency import Concurrency
    from unbinder.phone import PhoneNumber
    from unbinder.recipe.load import LoadedRecipe


@click.command()
@click.argument("phone", nargs=-1, required=True)
@click.option("--region", metavar="CC", help="Country of a number typed without +CC (CN, US...).")
@click.option(
    "--platform", "platforms", multiple=True, metavar="ID", help="Only this platform (repeatable)."
)
@click.option("--only-region", metavar="CC", help="Only platforms that matter in this country.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 16),
    default=None,
    help="Platforms checked at once [default: adapted while the audit runs, from the cores, the "
    "memory and how close pages come to their timeouts].",
)
@click.option(
    "--verbose", "-v", is_flag=True, help="Show how many platforms are checked at once, and why."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print a versioned JSON document instead of a table."
)
@click.option(
    "--show-number", is_flag=True, help="Put the full number in the JSON (masked by default)."
)
@click.option(
    "--headed", is_flag=True, help="Visible browser: you solve captchas, then the check goes on."
)
@click.option(
    "--allow-side-effects",
    is_flag=True,
    help="Also run checks that text the number or notify its owner.",
)
@click.option(
    "--fixtures", is_flag=True, help="Check the offline replicas instead of the real platforms."
)
@click.option(
    "--yes", "-y", is_flag=True, help="Do not ask whether the number is yours (for scripts)."
)
@click.option(
    "--login",
    is_flag=True,
    help="Then, in a visible browser, log in where the page told nothing (you may skip each).",
)
@click.option(
    "--keep-session",
    is_flag=True,
    help="With --login: keep each login (encrypted with the trail's key) for the next run.",
)
@click.option(
    "--recheck",
    is_flag=True,
    help="Check even platforms answered within their minimum interval (warns what it risks).",
)
@click.option("--no-trail", is_flag=True, help="Do not record this audit in the encrypted trail.")
@lang_option
def audit(
    phone: tuple[str, ...],
    region: str | None,
    platforms: tuple[str, ...],
    only_region: str | None,
    concurrency: int | None,
    verbose: bool,
    as_json: bool,
    show_number: bool,
    headed: bool,
    allow_side_effects: bool,
    fixtures: bool,
    yes: bool,
    login: bool,
    keep_session: bool,
    recheck: bool,
    no_trail: bool,
    lang: str | None,
) -> None:
    """Check one number on many platforms at once and say where it is still bound.

    Each platform's outcome is backed by evidence: bound, not_bound, needs_human (a captcha or a
    security check: rerun with --headed), rate_limited, unknown or error. App-only platforms are
    listed as manual with their steps. The audit is recorded in the encrypted trail.

    A platform that answered (bound, not bound, rate limited) is not asked again within its
    recipe's minimum interval (--recheck overrides, with a warning); a failure, a timeout, the
    network or a hand-off to a person leaves it checkable at once. When most platforms cannot
    be reached at all, one line says the machine looks offline.

    --login then opens, one at a time in a visible browser, each platform whose check is
    missing, was skipped or needs a person and whose recipe can read the account's number: you
    log in (or skip it), and the number the account shows decides, marked "by login".

    Exit codes: 0 finished (whatever the outcomes), 2 bad input, 3 no browser, 4 the trail
    could not be written (the results are still shown), 5 the trail was tampered with, 6 wrong
    passphrase, 130 interrupted.

    Example:

        unbinder audit +86 138 0013 8000 --only-region CN
    """
    from unbinder import redact
    from unbinder.cli.options import parse_number
    from unbinder.i18n.lang import resolve_lang
    from unbinder.jobs.audit import AuditOptions
    from unbinder.jobs.concurrency import Concurrency

    lang = resolve_lang(lang)
    number = parse_number(" ".join(phone), region, lang=lang)
    redact.register(number)
    chosen = _choose(platforms, only_region, fixtures)
    if not yes:
        _confirm_ownership(number.masked, lang)
    if keep_session and not login:
        raise BadInput(_("--keep-session goes with --login."), hint=_("Add --login, or drop it."))
    if keep_session and no_trail:
        raise BadInput(
            _("--keep-session needs the trail: its key encrypts the kept login."),
            hint=_("Drop --no-trail, or drop --keep-session."),
        )
    headed = headed or login
    # Headed, one platform at a time: a person may have to solve each one's captcha.
    fixed = concurrency or (1 if headed else None)
    control = Concurrency.fixed(fixed) if fixed else Concurrency.for_machine()
    options = AuditOptions(
        concurrency=control,
        allow_side_effects=allow_side_effects,
        lang=lang,
        recheck=recheck,
    )
    if recheck:
        from unbinder.i18n.words import say

        click.echo(say("recheck_warning", lang), err=True)
    run = _run(
        number,
        chosen,
        options,
        headed=headed,
        fixtures=fixtures,
        trail=not no_trail,
        shown=control if verbose else None,
        login=login,
        keep_session=keep_session,
    )
    result = run.result
    if as_json:
        click.echo(
            json.dumps(
                result.to_json(show_number=show_number, lang=lang), ensure_ascii=False, indent=2
            )
        )
    else:
        from unbinder.cli.progress import result_table

        result_table(result, lang)
    if run.unrecorded is not None:
        raise run.unrecorded
    if result.interrupted:
        raise SystemExit(int(ExitCode.INTERRUPTED))


def _choose(
    platforms: tuple[str, ...], only_region: str | None, fixtures: bool
) -> list[LoadedRecipe]:
    from unbinder.recipe.load import select_recipes

    chosen = select_recipes(platforms, region=only_region, include_demo=fixtures)
    if not chosen:
        raise BadInput(
            _("no platform matches this selection."),
            hint=_("`unbinder recipes list` shows the platforms and their regions."),
        )
    if not fixtures:
        demo = [r.id for r in chosen if r.recipe.demo]
        if demo:
            raise BadInput(
                ngettext(
                    "{platforms} is a demo platform that exists only offline.",
                    "{platforms} are demo platforms that exist only offline.",
                    len(demo),
                ).format(platforms=", ".join(demo)),
                hint=_("Add --fixtures to check the offline replicas."),
            )
    return chosen


def _confirm_ownership(masked: str, lang: str) -> None:
    if not sys.stdin.isatty():
        raise BadInput(
            _("the audit asks whether the number is yours, but there is no terminal to answer."),
            hint=_("Add --yes when you run it from a script."),
        )
    question = (
        f"{masked} 是你本人的号码（或你现在持有的二次放号号码）吗？"
        if lang == "zh-CN"
        else f"Is {masked} your number (or a recycled number you now hold)?"
    )
    if not click.confirm(question, default=False, err=True):
        raise BadInput(
            _("stopped: check only numbers that are yours."), hint=_("Nothing was checked.")
        )


def _run(
    number: PhoneNumber,
    chosen: list[LoadedRecipe],
    options: AuditOptions,
    *,
    headed: bool,
    fixtures: bool,
    trail: bool,
    shown: Concurrency | None = None,
    login: bool = False,
    keep_session: bool = False,
) -> AuditRun:
    """Open the trail, run the audit with progress, survive Ctrl-C (what finished is kept)."""
    import asyncio
    from contextlib import nullcontext

    from unbinder.cli.passphrase import open_trail
    from unbinder.cli.progress import Progress
    from unbinder.engine.human import ConsoleHuman, SerialHuman
    from unbinder.jobs.audit import AuditResult, AuditRun, audit_number

    result = AuditResult(phone=number, fixtures=fixtures)
    human = SerialHuman(ConsoleHuman(lang=options.lang)) if headed else None
    names = {r.id: r.recipe.name.get(options.lang) for r in chosen}
    view = Progress(names, concurrency=shown)
    with open_trail() if trail else nullcontext() as handle, view as progress:
        try:
            return asyncio.run(
                audit_number(
                    number,
                    chosen,
                    options=options,
                    trail=handle,
                    fixtures=fixtures,
                    headed=headed,
                    human=human,
                    on_event=progress,
                    result=result,
                    login=login,
                    choose=_ask_login(options.lang) if login else None,
                    keep_session=keep_session,
                )
            )
        except KeyboardInterrupt:
            result.interrupted = True
            click.echo(_("\nInterrupted: keeping what finished."), err=True)
            return AuditRun(result)


def _ask_login(lang: str) -> Callable[[LoadedRecipe], bool]:
    """Before each login: does the person want to log in to this platform now?"""
    from unbinder.i18n.words import say

    def ask(loaded: LoadedRecipe) -> bool:
        name = loaded.recipe.name.get(lang)
        return click.confirm(say("login_ask", lang, name=name), default=True, err=True)

    return ask
