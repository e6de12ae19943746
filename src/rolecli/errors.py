"""Errors that map to the documented exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    BUG = 1  # an unexpected error: a bug in rolecli
    USAGE = 2
    UNUSABLE_INPUT = 3
    MODEL = 4
    BATCH_PARTIAL = 5
    INTERRUPTED = 130
    TERMINATED = 143  # SIGTERM, as 128 + 15


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so that it unwinds the same way."""


class RoleCliError(Exception):
    """An expected failure: its message is shown as one line, its code is the exit status.

    `message` says what is wrong in the library's terms: a Python caller is told about
    parameters, never about flags. `hint`, when there is one, is the remedy in the CLI's
    terms (the flag to pass), and `cli_message` the message restated with the flag where
    it names one; only cli/boundary.py prints them, through `cli_line()`.
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None, *,
                 cli_message: str | None = None, join: str = "; ") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.cli_message = cli_message
        self.join = join

    def cli_line(self) -> str:
        """The line the CLI prints: the message (as the CLI says it) and the hint."""
        said = self.message if self.cli_message is None else self.cli_message
        return said if self.hint is None else f"{said}{self.join}{self.hint}"


class UsageError(RoleCliError):
    exit_code = ExitCode.USAGE


class InputError(RoleCliError):
    """The input exists but cannot be classified (empty, binary, too large, unreadable)."""

    exit_code = ExitCode.UNUSABLE_INPUT


class PartialError(RoleCliError):
    """Some rows could not be used: the output covers the others."""

    exit_code = ExitCode.BATCH_PARTIAL


class ModelError(RoleCliError):
    """The model directory is missing, corrupted, tampered with or incompatible."""

    exit_code = ExitCode.MODEL

    def __init__(self, message: str) -> None:
        super().__init__(message, "rebuild it with `rolecli train`, or pass --model DIR")

    def cli_line(self) -> str:
        return f"{self.message} ({self.hint})"
