"""`unbinder audit`: where is this number still bound?"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from unbinder.cli.options import lang_option
from unbinder.errors import BadInput, ExitCode, StorageError

if TYPE_CHECKING:
    from unbinder.jobs.audit import AuditOptions, AuditResult, PlatformResult
    from unbinder.phone import PhoneNumber
    from unbinder.recipe.load import LoadedRecipe
    from unbinder.trail import Run


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
    help="Platforms checked at once [default: 4].",
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
@click.option("--no-trail", is_flag=True, help="Do not record this audit in the encrypted trail.")
@lang_option
def audit(
    phone: tuple[str, ...],
    region: str | None,
    platforms: tuple[str, ...],
    only_region: str | None,
    concurrency: int | None,
    as_json: bool,
    show_number: bool,
    headed: bool,
    allow_side_effects: bool,
    fixtures: bool,
    yes: bool,
    no_trail: bool,
    lang: str | None,
) -> None:
    """Check one number on many platforms at once and say where it is still bound.

    Each platform's outcome is backed by evidence: bound, not_bound, needs_human (a captcha or a
    security check: rerun with --headed), rate_limited, unknown or error. App-only platforms are
    listed as manual with their steps. The audit is recorded in the encrypted trail.

    Exit codes: 0 finished (whatever the outcomes), 2 bad input, 3 no browser, 4 the trail
    could not be written (the results are still shown), 5 the trail was tampered with, 6 wrong
    passphrase, 130 interrupted.

    Example:

        unbinder audit +86 138 0013 8000 --only-region CN
    """
    from unbinder import redact
    from unbinder.i18n.lang import resolve_lang
    from unbinder.jobs.audit import DEFAULT_CONCURRENCY, AuditOptions
    from unbinder.phone import parse_phone

    lang = resolve_lang(lang)
    number = parse_phone(" ".join(phone), region)
    redact.register(number)
    chosen = _choose(platforms, only_region, fixtures)
    if not yes:
        _confirm_ownership(number.masked, lang)
    options = AuditOptions(
        concurrency=concurrency or (1 if headed else DEFAULT_CONCURRENCY),
        allow_side_effects=allow_side_effects,
        lang=lang,
    )
    result, unrecorded = _run(
        number, chosen, options, headed=headed, fixtures=fixtures, trail=not no_trail
    )
    if as_json:
        click.echo(
            json.dumps(
                result.to_json(show_number=show_number, lang=lang), ensure_ascii=False, indent=2
            )
        )
    else:
        from unbinder.cli.progress import result_table

        result_table(result, "PHONE", lang)
    if unrecorded is not None:
        raise unrecorded
    if result.interrupted:
        raise SystemExit(int(ExitCode.INTERRUPTED))


def _choose(
    platforms: tuple[str, ...], only_region: str | None, fixtures: bool
) -> list[LoadedRecipe]:
    from unbinder.recipe.load import select_recipes

    chosen = select_recipes(platforms, region=only_region, include_demo=fixtures)
    if not chosen:
        raise BadInput(
            "no platform matches this selection.",
            hint="`unbinder recipes list` shows the platforms and their regions.",
        )
    if not fixtures:
        demo = [r.id for r in chosen if r.recipe.demo]
        if demo:
            what = "is a demo platform" if len(demo) == 1 else "are demo platforms"
            raise BadInput(
                f"{', '.join(demo)} {what} that exist only offline.",
                hint="Add --fixtures to check the offline replicas.",
            )
    return chosen


def _confirm_ownership(masked: str, lang: str) -> None:
    if not sys.stdin.isatty():
        raise BadInput(
            "the audit asks whether the number is yours, but there is no terminal to answer.",
            hint="Add --yes when you run it from a script.",
        )
    question = (
        f"{masked} 是你本人的号码（或你现在持有的二次放号号码）吗？"
        if lang == "zh-CN"
        else f"Is {masked} your number (or a recycled number you now hold)?"
    )
    if not click.confirm(question, default=False, err=True):
        raise BadInput("stopped: check only numbers that are yours.", hint="Nothing was checked.")


def _run(
    number: PhoneNumber,
    chosen: list[LoadedRecipe],
    options: AuditOptions,
    *,
    headed: bool,
    fixtures: bool,
    trail: bool,
) -> tuple[AuditResult, StorageError | None]:
    """Open the trail, run the audit with progress, record every result, survive Ctrl-C.

    A full or failing disk stops the recording, not the checks: the results are still returned
    (to be shown), with the error saying what the trail is missing.
    """
    import asyncio

    from unbinder.browser.launch import BrowserSession
    from unbinder.browser.replica import Replica
    from unbinder.cli.progress import Progress
    from unbinder.engine.human import ConsoleHuman, SerialHuman
    from unbinder.jobs.audit import AuditResult, run_audit, start_trail_run
    from unbinder.jobs.throttle import Throttle
    from unbinder.paths import Paths

    paths = Paths.from_env()
    run = trail_handle = None
    if trail:
        from unbinder.cli.passphrase import open_trail

        trail_handle = open_trail()
        try:
            run = start_trail_run(trail_handle, number, chosen, fixtures=fixtures)
        except BaseException:
            trail_handle.close()
            raise
    recorder = _Recorder(run) if run is not None else None
    result = AuditResult(phone=number, fixtures=fixtures)
    human = SerialHuman(ConsoleHuman(lang=options.lang)) if headed else None
    names = {r.id: r.recipe.name.get(options.lang) for r in chosen}
    throttle = None if fixtures else Throttle(paths.state_dir)

    async def go() -> None:
        async with BrowserSession(headless=not headed) as session:
            await run_audit(
                session,
                chosen,
                number,
                options=options,
                result=result,
                replicas=(lambda loaded: Replica.load(loaded.id)) if fixtures else None,
                human=human,
                throttle=throttle,
                on_event=progress,
                on_result=recorder,
            )

    try:
        with Progress(names) as progress:
            asyncio.run(go())
    except KeyboardInterrupt:
        result.interrupted = True
        click.echo("\nInterrupted: keeping what finished.", err=True)
    finally:
        if recorder is not None and trail_handle is not None:
            try:
                recorder.seal("interrupted" if result.interrupted else "complete")
            finally:
                trail_handle.close()
    return result, recorder.failure(len(result.results)) if recorder is not None else None


class _Recorder:
    """Records each result in the trail. A write that fails stops the recording, not the audit."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.error: StorageError | None = None
        self.missed: list[str] = []

    def __call__(self, item: PlatformResult) -> None:
        from unbinder.jobs.audit import record_result

        if self.error is None:
            try:
                record_result(self.run, item)
                return
            except StorageError as exc:
                self.error = exc
        self.missed.append(item.id)

    def seal(self, status: str) -> None:
        if self.error is not None:
            status = f"incomplete: {len(self.missed)} result(s) could not be recorded"
        try:
            self.run.seal(status)
        except StorageError as exc:
            self.error = self.error or exc

    def failure(self, total: int) -> StorageError | None:
        """The one-line error for the user, or None when everything was recorded."""
        if self.error is None:
            return None
        oserror = self.error.__cause__
        cause = (
            oserror.strerror
            if isinstance(oserror, OSError) and oserror.strerror
            else self.error.message.rstrip(".")
        )
        if self.missed:
            what = f"{len(self.missed)} of {total} results are shown but not recorded"
        else:
            what = "every result is recorded, but the run could not be sealed"
        return StorageError(
            f"the trail could not be written ({cause}): {what}.",
            hint="Free some disk space and run the audit again; the records already in the "
            "trail are intact.",
        )
