"""`unbinder recipes ...`: work with platform recipes."""

from __future__ import annotations

from pathlib import Path

import click

from unbinder.cli.options import lang_option
from unbinder.errors import ExitCode
from unbinder.i18n.translate import _


@click.group()
def recipes() -> None:
    """Work with platform recipes: list and show them, lint them, run their offline tests.

    Example:

        unbinder recipes list --region CN
    """


@recipes.command("list")
@click.option(
    "--region", metavar="CC", help="Only platforms that matter for this country (CN, US)."
)
@click.option("--json", "as_json", is_flag=True, help="Print a versioned JSON document.")
@click.option("--demo", is_flag=True, help="Include the built-in offline demo platforms.")
@lang_option
def list_command(region: str | None, as_json: bool, demo: bool, lang: str | None) -> None:
    """List the platforms unbinder knows, most harmful first, with each recipe's status.

    Shows what each recipe can do (check, verify, change, unbind, manual steps), its side
    effects, and its status: `unverified` means nobody has checked it against the live site
    yet, so trust its answers less. Recipes that cannot be read are reported on stderr (exit 1).

    Example:

        unbinder recipes list --region CN --lang zh-CN
    """
    import json

    from unbinder.cli.options import text_width
    from unbinder.i18n.lang import resolve_lang
    from unbinder.recipe.catalog import catalog_json, load_catalog
    from unbinder.recipe.catalog_text import render_list

    catalog = load_catalog()
    entries = catalog.select(region=region, include_demo=demo)
    if as_json:
        click.echo(json.dumps(catalog_json(entries), ensure_ascii=False, indent=2))
    else:
        width = text_width(default=0) or None  # a pipe without COLUMNS: the whole table
        click.echo(render_list(entries, resolve_lang(lang), width), nl=False)
    for note in catalog.notes:
        click.echo(_("note: {note}").format(note=note), err=True)
    for problem in catalog.problems:
        click.echo(printable(f"warning: {problem} (run: unbinder recipes lint)"), err=True)
    if catalog.problems:
        raise SystemExit(int(ExitCode.PROBLEMS))


@recipes.command("show")
@click.argument("platform_id", metavar="ID")
@lang_option
def show_command(platform_id: str, lang: str | None) -> None:
    """Show one platform's recipe: status, notes, flows and side effects, manual steps.

    Example:

        unbinder recipes show google --lang zh-CN
    """
    from unbinder.i18n.lang import resolve_lang
    from unbinder.recipe.catalog import find_entry
    from unbinder.recipe.catalog_text import render_show

    entry = find_entry(platform_id)
    click.echo(render_show(entry, resolve_lang(lang)), nl=False)


@recipes.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def lint_command(paths: tuple[Path, ...]) -> None:
    """Check recipes for errors; print each as file:line: message.

    With no PATHS, checks every shipped recipe. Exits 1 when there are errors (warnings alone
    do not fail).

    Example:

        unbinder recipes lint recipes/example-cn.yaml
    """
    from unbinder.paths import recipes_dir
    from unbinder.recipe.lint import lint_paths

    problems = lint_paths(list(paths) or [recipes_dir()])
    for problem in problems:
        click.echo(printable(str(problem)), err=problem.severity == "error")
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    click.echo(
        _("{errors} error(s), {warnings} warning(s).").format(errors=errors, warnings=warnings),
        err=bool(errors),
    )
    if errors:
        raise SystemExit(int(ExitCode.PROBLEMS))


@recipes.command("test")
@click.argument("ids", nargs=-1)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 16),
    default=4,
    show_default=True,
    help="How many tests run at once.",
)
@click.option(
    "--live",
    is_flag=True,
    help="Run ID's check flow on the real site (needs internet and --phone) instead of the tests.",
)
@click.option("--phone", default=None, help="With --live: your own number (shown masked only).")
@click.option("--region", default=None, help="With --live: country of a number without +CC.")
@click.option(
    "--headed", is_flag=True, help="With --live: show the browser; you clear captchas there."
)
@click.option(
    "--allow-side-effects",
    is_flag=True,
    help="With --live: run a check that declares it sends an SMS or notifies someone.",
)
def test_command(
    ids: tuple[str, ...],
    concurrency: int,
    *,
    live: bool,
    phone: str | None,
    region: str | None,
    headed: bool,
    allow_side_effects: bool,
) -> None:
    """Run recipes' embedded tests offline, against their replicas in fixtures/.

    With no IDS, runs every recipe's tests. A failure prints what was observed as an `expect:`
    block ready to paste into the recipe. Exits 1 when a test fails.

    With --live, runs one recipe's check flow on the real site with your own number, shows the
    outcome and its evidence, and, only if you say yes, records in the recipe that it works
    (`status`, `last_verified`). Nothing else is written; the number is shown masked.

    Example:

        unbinder recipes test example-cn

        unbinder recipes test example-cn --live --phone "+86 138 0013 8000"
    """
    if live:
        _live_test(ids, phone, region, headed=headed, allow_side_effects=allow_side_effects)
        return
    if phone or region or headed or allow_side_effects:
        from unbinder.errors import BadInput

        raise BadInput(
            _("--phone, --region, --headed and --allow-side-effects go with --live."),
            hint=_("Offline tests use the numbers written in each recipe's tests."),
        )
    import asyncio

    from unbinder.contrib.recipe_tests import lint_errors, run_tests_async
    from unbinder.recipe.load import load_all, select_recipes

    chosen = select_recipes(ids) if ids else load_all()
    _lint_first(lint_errors(chosen))
    results = asyncio.run(run_tests_async(chosen, concurrency=concurrency))
    failed = [r for r in results if not r.passed]
    for result in results:
        mark = "PASS" if result.passed else "FAIL"
        click.echo(printable(f"{mark} {result.name}"))
    for result in failed:
        click.echo(printable("\n" + "\n".join(result.report())), err=True)
    click.echo(
        _("\n{passed} passed, {failed} failed.").format(
            passed=len(results) - len(failed), failed=len(failed)
        )
    )
    if failed:
        raise SystemExit(int(ExitCode.PROBLEMS))


def printable(text: str) -> str:
    """Recipe text for the terminal: without control characters (no escape sequences)."""
    from unbinder.recipe.safe_yaml import printable as strip

    return strip(text)


def _lint_first(errors: list[str]) -> None:
    """Tests run only on recipes lint accepts: its errors, then exit 1."""
    if not errors:
        return
    for line in errors:
        click.echo(printable(line), err=True)
    click.echo(
        _(
            "\n{count} lint error(s): fix them first (`unbinder recipes lint` lists them with the "
            "warnings); no test ran."
        ).format(count=len(errors)),
        err=True,
    )
    raise SystemExit(int(ExitCode.PROBLEMS))


def _live_test(
    ids: tuple[str, ...],
    phone: str | None,
    region: str | None,
    *,
    headed: bool,
    allow_side_effects: bool,
) -> None:
    """`recipes test ID --live --phone N`: one live check, then an explicit yes to record it."""
    from unbinder.contrib import live
    from unbinder.engine.human import ConsoleHuman
    from unbinder.errors import BadInput, Unreachable
    from unbinder.phone import parse_phone
    from unbinder.recipe.load import find_recipe
    from unbinder.redact import redact, register

    if len(ids) != 1 or not phone:
        raise BadInput(
            _("--live checks one recipe with your own number."),
            hint=_("Example: unbinder recipes test example-cn --live --phone '+86 138 0013 8000'"),
        )
    loaded = find_recipe(ids[0])
    from unbinder.contrib.recipe_tests import lint_errors

    _lint_first(lint_errors([loaded]))
    number = parse_phone(phone, region)
    register(number)
    click.echo(
        _("Live check of {name} ({id}) with {masked}...").format(
            name=loaded.recipe.name.en, id=loaded.id, masked=number.masked
        )
    )
    outcome = live.check_live(
        loaded,
        number,
        headed=headed,
        human=ConsoleHuman() if headed else None,
        allow_side_effects=allow_side_effects,
    )
    offline = live.unreachable(outcome)
    if offline is not None:
        raise Unreachable(
            _(
                "could not reach {name} ({offline}); a live check needs internet. "
                "Nothing was changed."
            ).format(name=loaded.recipe.name.en, offline=offline)
        )
    click.echo(f"  outcome: {outcome.status}" + (f" ({outcome.kind})" if outcome.kind else ""))
    for line in live.describe(outcome):
        click.echo(printable(f"  {redact(line)}"))

    def ask(proposal: live.Proposal) -> bool:
        click.echo(
            _("\nThis outcome is {why}. Proposed change to {path}:").format(
                why=proposal.why, path=loaded.path
            )
        )
        click.echo(
            _("  status: {old} -> {new}").format(old=loaded.recipe.status, new=proposal.status)
        )
        if proposal.last_verified is not None:
            click.echo(
                _("  last_verified: {old} -> {new}").format(
                    old=loaded.recipe.last_verified or "null", new=proposal.last_verified
                )
            )
        return click.confirm(_("Write it?"), default=False)

    report = live.settle(loaded, outcome, confirm=ask)
    if report.proposal is None:
        click.echo(
            _(
                "\nA {status} outcome says nothing about whether the recipe works; its status "
                "stays as it is."
            ).format(status=outcome.status)
        )
    elif report.applied:
        click.echo(_("Updated {path}.").format(path=loaded.path))
    elif report.proposal.status == report.current_status and (
        report.proposal.last_verified in (None, report.current_last_verified)
    ):
        click.echo(
            _("\n{path} already says {current_status}; nothing to change.").format(
                path=loaded.path, current_status=report.current_status
            )
        )
    else:
        click.echo(_("Nothing changed."))
    if report.proposal is None or report.proposal.status != "working":
        raise SystemExit(int(ExitCode.PROBLEMS))


@recipes.command("schema")
@click.option("--write", is_flag=True, help="Write recipes/schema.json instead of printing it.")
def schema_command(write: bool) -> None:
    """Print (or write) the recipe JSON Schema, for editors and CI.

    Recipes point editors at it with a first line `# yaml-language-server: $schema=schema.json`.

    Example:

        unbinder recipes schema --write
    """
    from unbinder.paths import recipes_dir
    from unbinder.recipe.schema import schema_text

    text = schema_text()
    if write:
        target = recipes_dir() / "schema.json"
        target.write_text(text, encoding="utf-8")
        click.echo(_("wrote {target}").format(target=target))
    else:
        click.echo(text, nl=False)


@recipes.command("new")
@click.argument("platform_id", metavar="ID")
@click.option("--name", required=True, help="The platform's name in English.")
@click.option("--name-zh", default=None, help="The platform's name in Simplified Chinese.")
@click.option("--domain", required=True, help="The platform's host name, e.g. example.com.")
@click.option(
    "--region",
    default=None,
    help="Country code of the platform's numbers (default: CN for .cn domains, else US).",
)
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write into DIR/recipes and DIR/fixtures instead of the project's folders.",
)
def new_command(
    platform_id: str,
    *,
    name: str,
    name_zh: str | None,
    domain: str,
    region: str | None,
    root: Path | None,
) -> None:
    """Scaffold a new platform: recipe, offline replica and starter tests that pass.

    Writes recipes/ID.yaml and fixtures/ID/ (a replica with a page per outcome). `recipes lint`
    and `recipes test ID` pass on the result before any edit; then make it match the real site
    (CONTRIBUTING.md walks through it). Never overwrites anything.

    Example:

        unbinder recipes new parcelly --name Parcelly --name-zh 包裹侠 --domain parcelly.cn
    """
    from unbinder.contrib.scaffold import scaffold

    made = scaffold(
        platform_id, name=name, name_zh=name_zh, domain=domain, region=region, root=root
    )
    for path in made.files:
        click.echo(_("created {path}").format(path=path))
    env = ""
    if root is not None:
        env = f"UNBINDER_RECIPES={made.recipe.parent} UNBINDER_FIXTURES={made.fixtures.parent} "
    click.echo(
        _(
            "\nNext:\n  {env}unbinder recipes test {platform_id}    # green before any edit\n"
            "  unbinder recipes record {platform_id} --url https://{domain}/\n"
            "  then edit {recipe} (CONTRIBUTING.md shows how)"
        ).format(
            env=env, platform_id=made.platform_id, domain=domain.strip().lower(), recipe=made.recipe
        )
    )


@recipes.command("record")
@click.argument("platform_id", metavar="ID")
@click.option("--url", required=True, help="The page where the check starts.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The fixture folder that receives recorded/ (default: fixtures/ID).",
)
@click.option(
    "--phone",
    default=None,
    help="The number you will type, so that every form of it is scrubbed (never saved).",
)
@click.option("--region", default=None, help="Country of numbers typed without +CC (CN, US...).")
@click.option(
    "--domain",
    "domains",
    multiple=True,
    help="Another host the browser may reach (repeatable); all others are blocked.",
)
@click.option("--force", is_flag=True, help="Replace an earlier recording in recorded/.")
def record_command(
    platform_id: str,
    *,
    url: str,
    out: Path | None,
    phone: str | None,
    region: str | None,
    domains: tuple[str, ...],
    force: bool,
) -> None:
    """Record the check flow in a visible browser: scrubbed pages and drafted steps.

    Opens a browser that can reach only the recipe's domains (or the URL's host for a new
    platform). Do the check as a person would, then press Enter (or close the browser). The
    pages (HTML), the requests (session.har) and drafted selectors and steps (steps.yaml) go to
    fixtures/ID/recorded/, with numbers, cookies, tokens, emails and whatever you typed replaced
    by [scrubbed:...] placeholders. The steps are also printed, ready to paste into the recipe.

    Example:

        unbinder recipes record parcelly --url https://parcelly.cn/find-account --phone 13800138000
    """
    from unbinder.contrib.record import record_interactively
    from unbinder.paths import fixtures_dir

    saved = record_interactively(
        platform_id,
        url,
        out=out or fixtures_dir() / platform_id,
        phone=phone,
        region=region,
        extra_domains=domains,
        force=force,
        say=lambda text: click.echo(text, err=True),
        ask=lambda prompt: click.prompt(prompt, default="", show_default=False, err=True),
    )
    for path in saved.files:
        click.echo(_("saved {path}").format(path=path))
    for name, leaks in saved.skipped:
        click.echo(
            _("not saved: {name} still held {leaks}").format(name=name, leaks=", ".join(leaks)),
            err=True,
        )
    if saved.blocked_hosts:
        click.echo(
            "blocked (outside the domains): "
            + ", ".join(saved.blocked_hosts)
            + ". If the flow needs one, add it with --domain and record again.",
            err=True,
        )
    click.echo(_("\nDrafted steps (also in recorded/steps.yaml):\n"))
    click.echo(saved.steps)
