"""`unbinder mark`: record a result you achieved by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import click

from unbinder.i18n.translate import _
from unbinder.vocab import MARK_STATUSES

if TYPE_CHECKING:
    from unbinder.vocab import MarkStatus


@click.command()
@click.argument("platform")
@click.option("--phone", "old", required=True, metavar="OLD", help="The number it was bound to.")
@click.option(
    "--status",
    required=True,
    type=click.Choice(MARK_STATUSES),
    help="What you did or saw: changed, unbound, not_bound (was never bound), bound (still is).",
)
@click.option(
    "--new-phone", "new", metavar="NEW", help="The number you moved to (--status changed)."
)
@click.option("--note", metavar="TEXT", help="A few words for the report (numbers are masked).")
@click.option("--region", metavar="CC", help="Country of numbers typed without +CC (e.g. CN).")
def mark(
    platform: str,
    *,
    old: str,
    status: str,
    new: str | None,
    note: str | None,
    region: str | None,
) -> None:
    """Record in the trail what you did by hand on PLATFORM (app-only ones such as WeChat).

    So that the trail and the report cover every platform, including those where only the
    phone app can change the number.

    Example:

    \b
        unbinder mark wechat --phone "+86 138 0013 8000" --status changed --note "in the app"
    """
    from unbinder.cli.options import parse_number
    from unbinder.cli.passphrase import open_trail
    from unbinder.jobs.mark import mark_result
    from unbinder.recipe.load import find_recipe

    phone = parse_number(old, region)
    new_phone = parse_number(new, region) if new else None
    loaded = find_recipe(platform)
    with open_trail() as trail:
        run_id = mark_result(
            trail, loaded, phone, cast("MarkStatus", status), note=note, new_phone=new_phone
        )
    click.echo(
        _("{id}: marked {status} for {masked} (trail run {run_id}).").format(
            id=loaded.id, status=status, masked=phone.masked, run_id=run_id
        )
    )
