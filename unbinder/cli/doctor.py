"""`unbinder doctor`."""

from __future__ import annotations

import click

from unbinder.errors import ExitCode


@click.command()
def doctor() -> None:
    """Check that unbinder can run here: Python, Playwright, browser, data directory, recipes.

    Prints one line per check; each problem comes with its fix. Exits 0 when all is well,
    1 otherwise.

    Example:

        unbinder doctor
    """
    from unbinder.jobs.doctor import run_checks

    checks = run_checks()
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        line = f"{mark} {check.name}: {check.detail}"
        if not check.ok and check.fix:
            line += f" -> {check.fix}"
        click.echo(line)
    problems = sum(not c.ok for c in checks)
    if problems:
        click.echo(f"{problems} problem(s) found.", err=True)
        raise SystemExit(int(ExitCode.PROBLEMS))
    click.echo("All good.")
