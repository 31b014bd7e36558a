"""The `unbinder` command line. The only package that imports click.

Each command module is thin: parse options, call one library function, render the result.
Library modules are imported inside the commands so that `unbinder --help` starts fast.
"""

from __future__ import annotations

from unbinder.cli.app import cli, main

__all__ = ["cli", "main"]
