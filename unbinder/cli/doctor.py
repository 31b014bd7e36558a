"""`unbinder doctor`."""

from __future__ import annotations

import click

from unbinder.errors import ExitCode
from unbinder.i18n.translate import N_, _, id_words

# The doctor's checks by name (jobs/doctor.py), as a person reads them.
CHECK_NAMES = {
    "python": N_("python"),
    "playwright": N_("playwright"),
    "browser": N_("browser"),
    "browser launch": N_("browser launch"),
    "data directory": N_("data directory"),
    "installed as": N_("installed as"),
    "recipes": N_("recipes"),
}


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
        mark = "ok  " if check.ok else _("FAIL")
        name = id_words(check.name, CHECK_NAMES)
        if check.name.startswith("recipe "):
            name = _("recipe {file}").format(file=check.name.removeprefix("recipe "))
        line = f"{mark} {name}: {check.detail}"
        if not check.ok and check.fix:
            line += f" -> {check.fix}"
        click.echo(line)
    problems = sum(not c.ok for c in checks)
    if problems:
        click.echo(_("{problems} problem(s) found.").format(problems=problems), err=True)
        raise SystemExit(int(ExitCode.PROBLEMS))
    click.echo(_("All good."))
