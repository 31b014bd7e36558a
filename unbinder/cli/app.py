"""The root command group, error handling at the edge, and shared option helpers."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from unbinder import __version__
from unbinder.cli.options import lang_option
from unbinder.errors import ExitCode, UnbinderError
from unbinder.i18n.translate import _

# Commands register here by name -> "module:function"; imported when the group is built.
_COMMANDS = {
    "audit": "unbinder.cli.audit:audit",
    "demo": "unbinder.cli.demo:demo",
    "doctor": "unbinder.cli.doctor:doctor",
    "plan": "unbinder.cli.plan:plan",
    "recipes": "unbinder.cli.recipes:recipes",
    "report": "unbinder.cli.report:report",
    "trail": "unbinder.cli.trail:trail",
    "unbind": "unbinder.cli.unbind:unbind",
    "mark": "unbinder.cli.mark:mark",
    "sessions": "unbinder.cli.sessions:sessions",
    "status": "unbinder.cli.status:status",
}


class UnbinderGroup(click.Group):
    """Turns library errors into one line and an exit code; unexpected ones go to the debug log.

    Before anything is parsed, the words switch to the locale's language (`--lang`, eager,
    may change it again), so help and usage errors are in it too.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from unbinder.cli.language import speak
        from unbinder.i18n.lang import default_lang

        speak(_lang_asked(args[0] if args else kwargs.get("args")) or default_lang(), self)
        try:
            return super().main(*args, **kwargs)
        finally:
            speak(None, self)  # whatever runs next in this process (a test) starts from English

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UnbinderError as exc:
            click.echo(_("Error: {message}").format(message=exc), err=True)
            ctx.exit(int(exc.exit_code))
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("\n" + _("Interrupted."), err=True)
            ctx.exit(int(ExitCode.INTERRUPTED))
        except Exception as exc:
            log = write_debug_log(exc)
            message = _("unexpected failure ({kind}). Please report it.").format(
                kind=type(exc).__name__
            )
            if log:
                message += " " + _("Details: {path}").format(path=log)
            click.echo(_("Error: {message}").format(message=message), err=True)
            ctx.exit(int(ExitCode.PROBLEMS))


def _lang_asked(args: Any) -> str | None:
    """`--lang X` among the arguments, read before click parses them, so that its own errors
    about the root's options (`unbinder --lang zh-CN --bogus`) are in that language too."""
    from unbinder.i18n.lang import LANGS

    words = list(sys.argv[1:] if args is None else args)
    for index, word in enumerate(words[: words.index("--") if "--" in words else None]):
        value = word.removeprefix("--lang=") if word.startswith("--lang=") else None
        if word == "--lang" and index + 1 < len(words):
            value = words[index + 1]
        if value in LANGS:
            return str(value)
    return None


def write_debug_log(exc: BaseException) -> str | None:
    """Append the (redacted) traceback to the debug log; return its path, or None if impossible."""
    import datetime as _dt
    import traceback

    from unbinder.paths import Paths, private_dir
    from unbinder.redact import redact

    try:
        paths = Paths.from_env()
        private_dir(paths.log_dir)
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        fd = os.open(paths.debug_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(f"--- {stamp} unbinder {__version__}\n{redact(text)}\n")
        return str(paths.debug_log)
    except Exception:
        return None


@click.group(cls=UnbinderGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="unbinder")
@lang_option
def cli(lang: str | None) -> None:
    """Find and remove the accounts still bound to a phone number before it is recycled.

    Start with `unbinder audit` to see where a number is still bound, `unbinder unbind` to
    move or remove a binding, and `unbinder report` for the evidence.

    Example:

        unbinder audit +86 138 0013 8000
    """


def _register() -> None:
    import importlib

    for name, target in _COMMANDS.items():
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        cli.add_command(command, name)


_register()


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="unbinder", windows_expand_args=False)
    sys.exit(0)
