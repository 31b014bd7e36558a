"""Errors a user can cause or fix, each with the exit code the CLI returns for it.

The library raises these; only the CLI turns them into a one-line message and an exit code.
Every message says what happened and what to do next.
"""

from __future__ import annotations

from enum import IntEnum, unique


@unique
class ExitCode(IntEnum):
    """Exit codes shared by every command, `trail verify` included (listed in docs/cli.md).

    Each value has one meaning: `@unique` refuses an alias, so every code shows up when the
    enum is listed (the reference in docs/cli.md is generated from it).
    """

    OK = 0
    PROBLEMS = 1
    BAD_INPUT = 2
    NO_BROWSER = 3
    STORAGE = 4
    TAMPERED = 5
    AUTH = 6
    INTERRUPTED = 130

    @property
    def meaning(self) -> str:
        """One line for the user: what this exit code says happened."""
        return _MEANINGS[self]


_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done",
    ExitCode.PROBLEMS: "finished with problems (a failed doctor check, recipe lint errors or "
    "test failures, `trail verify` warnings, an unbind not verified), a site that could not be "
    "reached, or an unexpected failure",
    ExitCode.BAD_INPUT: "bad input: a phone number, platform id, path or option that cannot be "
    "used, or no trail yet",
    ExitCode.NO_BROWSER: "no usable Chromium was found, or it would not start",
    ExitCode.STORAGE: "the data directory cannot be written (read-only, disk full)",
    ExitCode.TAMPERED: "the trail was tampered with (edited, reordered, truncated or spliced)",
    ExitCode.AUTH: "wrong passphrase, or the trail's key file is missing or damaged",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}


class UnbinderError(Exception):
    """Base of every error a user can cause or fix. The message is shown as one line."""

    exit_code: int = ExitCode.PROBLEMS

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            from unbinder.i18n.translate import _

            # TRANSLATORS: the message and what to do next; Chinese needs no space between.
            return _("{message} {hint}").format(message=self.message, hint=self.hint)
        return self.message


class BadInput(UnbinderError):
    """Input that cannot be used as given."""

    exit_code = ExitCode.BAD_INPUT


class InvalidPhone(BadInput):
    """A phone number that cannot be parsed or is not acceptable."""


class UnknownPlatform(BadInput):
    """A platform id with no recipe."""


class RecipeError(BadInput):
    """A recipe that does not load or validate."""


class NoBrowser(UnbinderError):
    """No Chromium could be found or launched."""

    exit_code = ExitCode.NO_BROWSER


class Unreachable(UnbinderError):
    """A live site could not be reached (no internet, DNS, the page never loaded)."""


class StorageError(UnbinderError):
    """The data directory or a file in it cannot be written."""

    exit_code = ExitCode.STORAGE


class AuthError(UnbinderError):
    """Wrong passphrase or damaged key file."""

    exit_code = ExitCode.AUTH


class TamperedError(UnbinderError):
    """The trail was edited, reordered, truncated or spliced."""

    exit_code = ExitCode.TAMPERED
