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
    """An expected failure: its message is shown as one line, its code is the exit status."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
        super().__init__(f"{message} (rebuild it with `rolecli train`, or pass --model DIR)")
