"""Shared CLI plumbing: options, input resolution, and turning errors into exit codes."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import typer

from ..errors import ExitCode, RoleCliError, UsageError

F = TypeVar("F", bound=Callable[..., Any])

class Format(str, Enum):
    text = "text"
    json = "json"


FORMAT_OPTION = typer.Option(Format.text, "--format", "-f", help="Output format.")
POSTING_ARGUMENT = typer.Argument(
    None, help="Posting file (.txt, .md, .html, .pdf, .docx) or - for stdin."
)

TITLE_OPTION = typer.Option(
    None, "--title", "-t", metavar="TEXT", show_default=False,
    help="The job title, when it is not the posting's first line (checked against the body, "
    "never scored with it).",
)
ALL_LINES_OPTION = typer.Option(
    False, "--all-lines", help="Show every line, not only the lines that decided the verdict.",
)

MODEL_OPTION = typer.Option(
    None,
    "--model",
    "-m",
    envvar="ROLECLI_MODEL",
    help="Model directory (default: the shipped model).",
    show_default=False,
)


def fail(message: str, code: int) -> None:
    sys.stderr.write(f"rolecli: error: {message}\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Expected failures become one line on stderr and their documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RoleCliError as exc:
            fail(exc.message, int(exc.exit_code))
        except KeyboardInterrupt:
            sys.stderr.write("rolecli: interrupted\n")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            # The reader went away (`| head`): a normal end, as for other filters. Caught here
            # because click would turn it into a silent exit 1, which fails `set -o pipefail`.
            discard_stdout()
            raise typer.Exit(int(ExitCode.OK)) from None

    return wrapper  # type: ignore[return-value]


def discard_stdout() -> None:
    """Point stdout at /dev/null so that the flush at exit cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout closed (>&-) or replaced
        pass


def read_posting(file: str | None, command: str) -> tuple[str, str]:
    """(text, name) from FILE, `-`, or piped stdin; on a terminal, a usage hint, not a wait."""
    from ..inputs import read_document, read_stdin

    if file is None or file == "-":
        stdin = sys.stdin
        if file is None and stdin is not None and not stdin.closed and stdin.isatty():
            raise UsageError(
                f"no input: give a FILE, or pipe a posting in (pbpaste | rolecli {command}); "
                f"see `rolecli {command} --help`"
            )
        return read_stdin(), "stdin"
    return read_document(Path(file)), file


def off_topic_exit(name: str) -> None:
    fail(
        f"{name}: does not read like an ML or data-science job description (off-topic)",
        int(ExitCode.UNUSABLE_INPUT),
    )
