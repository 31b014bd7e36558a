"""`unbinder plan`: the checklist for leaving a number, or for a recycled one."""

from __future__ import annotations

import click

from unbinder.cli.options import lang_option


@click.command()
@click.argument("phone", nargs=-1, required=True)
@click.option("--region", metavar="CC", help="Country of a number typed without +CC (CN, US).")
@click.option(
    "--recycled",
    is_flag=True,
    help="The checklist for someone who just received this number (a recycled one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a versioned JSON document.")
@lang_option
def plan(
    phone: tuple[str, ...], region: str | None, recycled: bool, as_json: bool, lang: str | None
) -> None:
    """Print your checklist for leaving a number: every platform to unbind, by category.

    First the advice that matters (do it before cancelling the number; keep the SIM alive until
    every item is done; move 2FA off SMS) and the official channels; then the platforms, grouped
    (payment, banks, government, shopping...) and ordered by harm. Each says how hard changing
    the number is there, where the codes go, and what to do: the `unbinder unbind` command where
    the web allows it, else the steps by hand. `--recycled` gives the checklist for someone who
    just received a recycled number. The number is only ever shown masked.

    Example:

        unbinder plan +86 138 0013 8000 --lang zh-CN
    """
    import json

    from unbinder.cli.options import parse_number, text_width
    from unbinder.i18n.lang import resolve_lang
    from unbinder.jobs.plan import build_plan, render_text
    from unbinder.recipe.catalog import load_catalog

    number = parse_number(" ".join(phone), region, lang=lang)
    result = build_plan(
        number,
        load_catalog(),
        variant="recycled" if recycled else "leaving",
        lang=resolve_lang(lang),
    )
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(result, width=text_width()), nl=False)
