"""Open (or, the first time, create) the user's trail for a command."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from unbinder.trail import Trail


def open_trail() -> Trail:
    """The trail in the data directory, with the passphrase from UNBINDER_PASSPHRASE or a prompt."""
    from unbinder.cli.passphrase import get_passphrase
    from unbinder.paths import Paths
    from unbinder.trail import Trail, open_or_create

    paths = Paths.from_env()
    first = not Trail.exists(paths.trail_dir)
    return open_or_create(paths, get_passphrase(confirm=first))
