"""Getting the trail passphrase: `UNBINDER_PASSPHRASE` for scripts, else a prompt that never echoes.

Shared by every command that opens the trail (trail, audit, unbind).
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING

import click

from unbinder.errors import BadInput
from unbinder.i18n.translate import N_, _

if TYPE_CHECKING:
    from unbinder.trail import Trail

PASSPHRASE_ENV = "UNBINDER_PASSPHRASE"  # noqa: S105 (a variable name, not a secret)
NEW_PASSPHRASE_ENV = "UNBINDER_NEW_PASSPHRASE"  # noqa: S105
WEAK_LENGTH = 8


def get_passphrase(
    *, confirm: bool = False, prompt: str = N_("Trail passphrase"), env: str = PASSPHRASE_ENV
) -> str:
    """The passphrase from `env`, else asked for (twice when `confirm`, e.g. for a new one)."""
    value = os.environ.get(env)
    if value:
        return _as_text(value, _("the passphrase in {env}").format(env=env), env)
    import getpass

    try:
        with warnings.catch_warnings():
            # Without a terminal, getpass warns over several lines that input may be echoed.
            warnings.simplefilter("ignore", getpass.GetPassWarning)
            entered: str = click.prompt(
                _(prompt),
                hide_input=True,
                confirmation_prompt=_("Repeat it to confirm") if confirm else False,
                err=True,
            )
    except click.Abort:  # end of input (no terminal) or Ctrl-C at the prompt
        raise BadInput(
            _("no trail passphrase was given."),
            hint=_("Type it when asked, or set {env} when running from a script.").format(env=env),
        ) from None
    return _as_text(entered, _("the passphrase typed"), env)


def _as_text(value: str, what: str, env: str) -> str:
    """The passphrase, if it is text: bytes that are not UTF-8 (which Python hands over as lone
    surrogates) can be neither normalised nor derived from, and would fail deep in the KDF."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(
            _("{what} is not valid UTF-8 text (it holds bytes that are no character).").format(
                what=what
            ),
            hint=_("Type it in a UTF-8 terminal, or set {env} to it as UTF-8 text.").format(
                env=env
            ),
        ) from None
    return value


def get_new_passphrase(
    prompt: str = N_("New trail passphrase"), env: str = NEW_PASSPHRASE_ENV
) -> str:
    """A passphrase being chosen: from `env`, else asked for twice; warns when it is short."""
    value = get_passphrase(confirm=True, prompt=prompt, env=env)
    if len(value) < WEAK_LENGTH:
        click.echo(
            _(
                "Warning: a passphrase shorter than {length} characters is easy to guess for "
                "whoever gets this computer."
            ).format(length=WEAK_LENGTH),
            err=True,
        )
    return value


def open_trail() -> Trail:
    """The user's trail, opened (or created, the first time) with the passphrase from
    UNBINDER_PASSPHRASE or a prompt. For commands that append to it (audit, unbind, mark)."""
    from unbinder.paths import Paths
    from unbinder.trail import Trail, open_or_create

    paths = Paths.from_env()
    if Trail.exists(paths.trail_dir):
        return open_or_create(paths, get_passphrase())
    click.echo(
        _("Creating the encrypted trail in {trail_dir}.").format(trail_dir=paths.trail_dir),
        err=True,
    )
    passphrase = get_new_passphrase(N_("Choose a trail passphrase"), env=PASSPHRASE_ENV)
    code = new_recovery_code()
    trail = open_or_create(paths, passphrase, recovery_code=code)
    show_recovery_code(code)
    return trail


def new_recovery_code() -> str:
    from unbinder.trail.keyfile import new_recovery_code as make

    return make()


def show_recovery_code(code: str) -> None:
    """Print the recovery code once, with what it is for (on stderr: never in piped output)."""
    from unbinder.i18n.lang import resolve_lang
    from unbinder.i18n.words import say

    click.echo(say("recovery_code", resolve_lang(None), code=code), err=True)
