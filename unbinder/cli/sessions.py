"""`unbinder sessions list | wipe`: the logins kept with `unbinder unbind --keep-session`."""

from __future__ import annotations

import click

from unbinder.errors import BadInput
from unbinder.i18n.translate import _


@click.group()
def sessions() -> None:
    """The logins kept by `unbinder unbind --keep-session` (encrypted, one per platform).

    Example:

        unbinder sessions wipe --all
    """


@sessions.command("list")
def list_command() -> None:
    """List the kept logins (no passphrase needed: nothing is decrypted).

    Example:

        unbinder sessions list
    """
    from unbinder.jobs.sessions import SessionStore
    from unbinder.paths import Paths

    kept = SessionStore(Paths.from_env().sessions_dir).kept()
    if not kept:
        click.echo(_("No kept sessions."))
        return
    for session in kept:
        saved = session.saved.astimezone().strftime("%Y-%m-%d %H:%M")
        click.echo(
            _("{platform:<24} saved {saved}  {size} bytes (encrypted)").format(
                platform=session.platform, saved=saved, size=session.size
            )
        )


@sessions.command("wipe")
@click.argument("platform", required=False)
@click.option("--all", "wipe_all", is_flag=True, help="Remove every kept session.")
def wipe_command(platform: str | None, wipe_all: bool) -> None:
    """Remove the kept login of PLATFORM, or of every platform (--all).

    Example:

        unbinder sessions wipe example-cn
    """
    from unbinder.jobs.sessions import SessionStore
    from unbinder.paths import Paths

    if bool(platform) == wipe_all:
        raise BadInput(
            _("name one platform, or pass --all."), hint=_("unbinder sessions wipe --all")
        )
    store = SessionStore(Paths.from_env().sessions_dir)
    if wipe_all:
        removed = store.wipe_all()
        click.echo(_("Removed {value} kept session(s).").format(value=len(removed)))
    elif platform is not None and store.wipe(platform):
        click.echo(_("Removed the kept session of {platform}.").format(platform=platform))
    else:
        click.echo(_("No kept session for {platform}.").format(platform=platform))
