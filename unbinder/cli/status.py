"""`unbinder status`: the living checklist of one number, from the trail."""

from __future__ import annotations

import click

from unbinder.cli.options import lang_option
from unbinder.i18n.translate import _


@click.command()
@click.argument("phone", nargs=-1)
@click.option(
    "--until",
    metavar="YYYY-MM-DD",
    help="The date the number will be cancelled: kept in the trail, it turns the list into a "
    "countdown (needs PHONE; none forgets it).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
    help="text: the checklist; csv: one line per platform; json: schema unbinder.status/1.",
)
@click.option("--region", metavar="CC", help="Country of a number typed without +CC (CN, US).")
@lang_option
def status(
    phone: tuple[str, ...], until: str | None, fmt: str, region: str | None, lang: str | None
) -> None:
    """Show, platform by platform, what is done and what is left for a number.

    For each platform: what the trail knows now (still bound, changed and verified, marked by
    hand, not bound, not checked yet) and when it may be checked again, then what to do next.
    What is left comes first, the most harmful platforms at the top; the platforms of the
    number's region that no run has checked are listed too. Without PHONE: the number handled
    last.

    --until keeps the date the number will be cancelled in the trail (a run of its own), and
    the list becomes a countdown: "43 days left until 2027-01-15; 5 platforms still to do".

    Example:

        unbinder status +86 138 0013 8000 --until 2027-01-15
    """
    from unbinder.cli.options import parse_number, text_width
    from unbinder.cli.passphrase import get_passphrase, open_trail
    from unbinder.errors import BadInput
    from unbinder.i18n.lang import resolve_lang
    from unbinder.i18n.words import say
    from unbinder.jobs.status import build_status, parse_until, render, set_until
    from unbinder.jobs.throttle import Throttle
    from unbinder.paths import Paths
    from unbinder.trail import Trail, open_or_create

    words = resolve_lang(lang)
    number = parse_number(" ".join(phone), region, lang=lang) if phone else None
    paths = Paths.from_env()
    if until is not None:
        if number is None:
            raise BadInput(
                _("--until needs the number: the trail never stores it, only a keyed reference."),
                hint=_("Give it: unbinder status PHONE --until YYYY-MM-DD"),
            )
        date = parse_until(until)
        trail = open_trail()
        with trail:
            run_id = set_until(trail, number, date)
            key = "status_until_kept" if date else "status_until_cleared"
            click.echo(say(key, words, date=date, run=run_id), err=True)
            result = build_status(
                trail, phone=number, lang=words, throttle=Throttle(paths.state_dir)
            )
    else:
        if not Trail.exists(paths.trail_dir):  # before asking for a passphrase it cannot use
            open_or_create(paths, "", create_if_missing=False)
        with open_or_create(paths, get_passphrase(), create_if_missing=False) as trail:
            for warning in trail.warnings:
                click.echo(_("Warning: {warning}").format(warning=warning), err=True)
            throttle = Throttle(paths.state_dir) if number is not None else None
            result = build_status(trail, phone=number, lang=words, throttle=throttle)
    click.echo(render(result, fmt, text_width()), nl=False)
