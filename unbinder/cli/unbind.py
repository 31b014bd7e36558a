"""`unbinder unbind`: move or remove a number's binding on one platform, with your own login."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from unbinder.cli.options import lang_option
from unbinder.errors import ExitCode
from unbinder.i18n.translate import _
from unbinder.vocab import UNBIND_MODES

if TYPE_CHECKING:
    from unbinder.jobs.unbind import ActionResult


@click.command()
@click.argument("platform")
@click.option("--phone", "old", required=True, metavar="OLD", help="The number bound now.")
@click.option("--new-phone", "new", metavar="NEW", help="The number to move to (change mode).")
@click.option(
    "--mode",
    type=click.Choice(UNBIND_MODES),
    help="change: move to --new-phone; unbind: remove the number. Default: change when "
    "--new-phone is given, else unbind.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Log in and read the number the platform shows, then stop before the first step that "
    "sends an SMS or email (nothing is sent or changed).",
)
@click.option(
    "--send-codes",
    is_flag=True,
    help="With --dry-run: go on past the steps that send codes (they are sent for real) and stop "
    "before the first irreversible one.",
)
@click.option(
    "--keep-session",
    is_flag=True,
    help="Keep the login (encrypted with the trail's key) for the next run.",
)
@click.option("--region", metavar="CC", help="Country of numbers typed without +CC (e.g. CN).")
@click.option("--no-trail", is_flag=True, help="Record nothing (no passphrase asked).")
@click.option(
    "--fixtures",
    is_flag=True,
    help="Run against the platform's offline replica (to try it out; nothing real changes).",
)
@click.option(
    "--scenario", default="default", show_default=True, help="Replica scenario (--fixtures)."
)
@lang_option
@click.option("--headless", is_flag=True, hidden=True, help="Invisible browser (tests).")
def unbind(
    platform: str,
    *,
    old: str,
    new: str | None,
    mode: str | None,
    dry_run: bool,
    send_codes: bool,
    keep_session: bool,
    region: str | None,
    no_trail: bool,
    fixtures: bool,
    scenario: str,
    lang: str | None,
    headless: bool,
) -> None:
    """Move PLATFORM's binding from --phone to --new-phone, or remove it (--mode unbind).

    Opens a visible Chromium. You log in and type SMS codes into the page yourself (the terminal
    says when, and asks again when the code field is empty or the page says the code was wrong);
    your time there does not count against the flow's timeout. First it reads the number the
    platform shows, and stops when it cannot be --phone (a mask mismatch). Before every
    irreversible step it asks for an explicit yes, showing the platform, the number you gave, the
    number the platform shows and the new one (masked). Afterwards it reads the number back; the
    trail records it all (never what you typed). With --fixtures the terminal shows each code the
    replica sends. Exits 0 when the change is verified (or a dry run stopped where it should), 1
    otherwise.

    Example:

    \b
        unbinder unbind example-cn --phone "+86 138 0013 8000" --new-phone "+86 139 0013 9000"
        unbinder unbind example-intl --phone "+1 202 555 0123" --mode unbind --dry-run
    """
    from unbinder.browser.replica import Replica
    from unbinder.cli.passphrase import open_trail
    from unbinder.engine.human import ConsoleHuman
    from unbinder.i18n.lang import resolve_lang
    from unbinder.jobs.unbind import NoWebFlow, unbind_platform
    from unbinder.paths import Paths
    from unbinder.phone import parse_phone
    from unbinder.recipe.load import find_recipe

    lang = resolve_lang(lang)
    phone = parse_phone(old, region)
    new_phone = parse_phone(new, region) if new else None
    if send_codes and not dry_run:
        raise click.UsageError(_("--send-codes goes with --dry-run."))
    loaded = find_recipe(platform)
    replica = Replica.load(loaded.id, scenario) if fixtures else None
    if replica is not None:
        # The replica's pages, like the real ones, never show a code: the terminal does.
        replica.on_code = lambda to, code: click.echo(
            _("\n  [replica] SMS code for {to}: {code}").format(to=to, code=code), err=True
        )
    trail = None if no_trail else open_trail()
    try:
        result = unbind_platform(
            loaded,
            phone,
            human=ConsoleHuman(lang=lang),
            paths=Paths.from_env(),
            trail=trail,
            new_phone=new_phone,
            mode=mode,
            dry_run=dry_run,
            replica=replica,
            keep_session=keep_session,
            headless=headless,
            lang=lang,
            dry_run_sends=send_codes,
        )
    except NoWebFlow as exc:
        for number, step in enumerate(exc.steps, start=1):
            click.echo(f"  {number}. {step}", err=True)
        raise
    finally:
        if trail is not None:
            trail.close()
    for line in render(result, recorded=trail is not None):
        click.echo(line)
    if not result.ok:
        raise SystemExit(int(ExitCode.PROBLEMS))


def render(result: ActionResult, *, recorded: bool) -> list[str]:
    """The summary shown at the end."""
    from unbinder.i18n.translate import N_, SOURCE_LANG, active_lang, id_words
    from unbinder.i18n.words import has, say
    from unbinder.jobs.evidence_words import evidence_text

    numbers = result.old_masked + (f" -> {result.new_masked}" if result.new_masked else "")
    lang = active_lang()
    # The outcome and the mode as ids in English (scripts read them), in words elsewhere.
    status: str = result.status
    if lang != SOURCE_LANG and has(f"state_{status}", lang):
        status = say(f"state_{status}", lang)
    mode = id_words(result.mode, {"change": N_("change"), "unbind": N_("remove")})
    if result.reason_code == "dry_run":
        lines = [
            _("{platform}: dry run ({mode} {numbers}). Nothing was changed.").format(
                platform=result.platform, mode=mode, numbers=numbers
            )
        ]
        if result.reason:
            reason = evidence_text(result.reason, lang, reason=result.reason).removeprefix(
                "dry run: "
            )
            lines.append("  " + _("would stop here: {reason}").format(reason=reason))
    else:
        lines = [
            _("{platform}: {status} ({mode} {numbers})").format(
                platform=result.platform, status=status, mode=mode, numbers=numbers
            )
        ]
        if result.reason:
            lines.append("  " + evidence_text(result.reason, lang, reason=result.reason))
    shown = result.bound_number if result.bound_number is not None else result.shown_before
    if shown is not None:
        lines.append("  " + _("the platform shows: {number}").format(number=shown))
    if result.status == "needs_human":
        mark = f"unbinder mark {result.platform} --phone OLD --status " + (
            "changed" if result.mode == "change" else "unbound"
        )
        lines.append("  " + _("When it is done by hand: {command}").format(command=mark))
    if result.session == "kept":
        wipe = f"unbinder sessions wipe {result.platform}"
        lines.append(
            "  " + _("login kept (encrypted); remove it with: {command}").format(command=wipe)
        )
    if recorded:
        shots = len(result.blobs)
        lines.append(
            "  " + _("recorded in the trail ({count} encrypted screenshot(s))").format(count=shots)
        )
    return lines
