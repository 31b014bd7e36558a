"""`unbinder recipes ...`: work with platform recipes."""

from __future__ import annotations

from pathlib import Path

import click

from unbinder.cli.options import lang_option
from unbinder.errors import ExitCode


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

    from unbinder.catalog import catalog_json, load_catalog
    from unbinder.catalog_render import render_list
    from unbinder.lang import resolve_lang

    catalog = load_catalog()
    entries = catalog.select(region=region, include_demo=demo)
    if as_json:
        click.echo(json.dumps(catalog_json(entries), ensure_ascii=False, indent=2))
    else:
        click.echo(render_list(entries, resolve_lang(lang)), nl=False)
    for problem in catalog.problems:
        click.echo(f"warning: {problem} (run: unbinder recipes lint)", err=True)
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
    from unbinder.catalog import find_entry
    from unbinder.catalog_render import render_show
    from unbinder.lang import resolve_lang

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
    from unbinder.lint import lint_paths
    from unbinder.paths import recipes_dir

    problems = lint_paths(list(paths) or [recipes_dir()])
    for problem in problems:
        click.echo(str(problem), err=problem.severity == "error")
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    click.echo(f"{errors} error(s), {warnings} warning(s).", err=bool(errors))
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
def test_command(ids: tuple[str, ...], concurrency: int) -> None:
    """Run recipes' embedded tests offline, against their replicas in fixtures/.

    With no IDS, runs every recipe's tests. A failure prints what was observed as an `expect:`
    block ready to paste into the recipe. Exits 1 when a test fails.

    Example:

        unbinder recipes test example-cn
    """
    import asyncio

    from unbinder.recipe import load_all, select_recipes
    from unbinder.recipe_tests import run_tests_async

    chosen = select_recipes(ids) if ids else load_all()
    results = asyncio.run(run_tests_async(chosen, concurrency=concurrency))
    failed = [r for r in results if not r.passed]
    for result in results:
        mark = "PASS" if result.passed else "FAIL"
        click.echo(f"{mark} {result.name}")
    for result in failed:
        click.echo(f"\n{result.where()}: test {result.test.name!r} failed:", err=True)
        for problem in result.problems:
            click.echo(f"  - {problem}", err=True)
        observed = result.observed()
        if observed:
            click.echo("  observed (ready to paste):", err=True)
            click.echo("\n".join("    " + line for line in observed.splitlines()), err=True)
    click.echo(f"\n{len(results) - len(failed)} passed, {len(failed)} failed.")
    if failed:
        raise SystemExit(int(ExitCode.PROBLEMS))


@recipes.command("schema")
@click.option("--write", is_flag=True, help="Write recipes/schema.json instead of printing it.")
def schema_command(write: bool) -> None:
    """Print (or write) the recipe JSON Schema, for editors and CI.

    Recipes point editors at it with a first line `# yaml-language-server: $schema=schema.json`.

    Example:

        unbinder recipes schema --write
    """
    import json

    from unbinder.paths import recipes_dir
    from unbinder.recipe import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if write:
        target = recipes_dir() / "schema.json"
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")
    else:
        click.echo(text, nl=False)
