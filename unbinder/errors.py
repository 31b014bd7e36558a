"""Errors a user can cause or fix, each with the exit code the CLI returns for it.

The library raises these; only the CLI turns them into a one-line message and an exit code.
Every message says what happened and what to do next.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes shared by every command (documented in docs/cli.md)."""

    OK = 0
    PROBLEMS = 1  # finished, but found problems (doctor, lint, failed recipe tests, warnings)
    BAD_INPUT = 2  # the user's input is wrong: a number, a platform id, a path, an option
    NO_BROWSER = 3  # no usable Chromium was found or it would not start
    AUTH = 3  # wrong passphrase or unreadable key file (the trail cannot be opened)
    STORAGE = 4  # the data directory cannot be written (read-only, disk full)
    TAMPERED = 5  # the trail fails verification before its tail
    INTERRUPTED = 130  # Ctrl-C


class UnbinderError(Exception):
    """Base of every error a user can cause or fix. The message is shown as one line."""

    exit_code: int = ExitCode.PROBLEMS

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} {self.hint}"
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
