"""The command line in the person's language: our words, click's own words and the help.

`speak(lang, root)` runs before a command does (the root group, from the locale; an eager
`--lang`, from the option), so even `--help` and click's usage errors come out in that language.

Click asks for its words ("Usage:", "Options:", "Error: ...") with `gettext.gettext`, bound in each
of its modules at import (`from gettext import gettext as _`). Rather than binding the process's
default gettext domain to our catalog (which would hand it to every library, and take the language
from the environment, not from `--lang`), each click module's `_` and `ngettext` are pointed at
ours: one catalog, holding click's messages too (`make i18n` extracts them from click's source).

The help of a command or an option is English in the code (docstrings, `help=`); the English is
kept on first use, and each `speak` sets the translated text, so switching back and forth in one
process (the tests' CliRunner) always starts from the English.
"""

from __future__ import annotations

import gettext
import inspect
import sys

import click

from unbinder.i18n.translate import N_, _, ngettext, use

_ENGLISH: dict[int, tuple[object, dict[str, str | None]]] = {}
# Words click translates at run time but never marks for extraction (`_(extra["required"])`).
CLICK_UNMARKED = (N_("required"),)
HELP_FIELDS = ("help", "short_help", "epilog")


def speak(lang: str | None, root: click.Command) -> None:
    """Say everything in `lang` from now on: our words, click's and the help of `root`'s tree
    (None: English, with no language chosen, as before the command line started)."""
    use(lang)
    give_click_our_catalog()
    for thing in _tree(root):
        if isinstance(thing, click.Command):
            thing._help_option = None  # click makes it again, with its help in `lang`
        english = _english(thing)
        for field, text in english.items():
            setattr(thing, field, _(text) if text else text)


def give_click_our_catalog() -> None:
    """Point every loaded click module's gettext functions at ours (idempotent)."""
    for name, module in list(sys.modules.items()):
        if name != "click" and not name.startswith("click."):
            continue
        if getattr(module, "_", None) is gettext.gettext:
            module._ = _  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = ngettext  # type: ignore[attr-defined]


def _tree(command: click.Command) -> list[object]:
    found: list[object] = [command, *command.params]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found += _tree(sub)
    return found


def _english(thing: object) -> dict[str, str | None]:
    """The English help fields of a command or parameter, as click shows them (cleaned)."""
    kept = _ENGLISH.get(id(thing))
    if kept is None or kept[0] is not thing:
        fields: dict[str, str | None] = {}
        for field in HELP_FIELDS:
            if hasattr(thing, field):
                text = getattr(thing, field)
                fields[field] = inspect.cleandoc(text).partition("\f")[0].rstrip() if text else None
        kept = (thing, fields)
        _ENGLISH[id(thing)] = kept
    return kept[1]


def lang_callback(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """`--lang`, eager: the language is set before `--help` or any other option is handled."""
    if value is not None:
        speak(value, ctx.find_root().command)
    return value
