"""Shared CLI plumbing: options, input resolution, the off-topic ending."""

from __future__ import annotations

import errno
import os
import sys
from enum import Enum
from pathlib import Path
from typing import BinaryIO

import typer

from ..errors import ExitCode, UsageError
from ..escape import visible
from .boundary import write_stderr


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

def _existing_model(
    ctx: typer.Context, param: typer.CallbackParam, path: Path | None
) -> Path | None:
    """A --model (or $ROLECLI_MODEL) that does not exist is a typo (usage, exit 2); one that
    exists but is broken stays a model problem (exit 4), reported when it is loaded."""
    if path is not None and not os.path.lexists(path):
        source = ctx.get_parameter_source(param.name or "model")
        if getattr(source, "name", "") == "ENVIRONMENT":
            given, unset = f"ROLECLI_MODEL={path}", "unset ROLECLI_MODEL"
        else:
            given, unset = f"--model {path}", "leave --model out"
        raise UsageError(
            f"{visible(given)}: no such directory (give a model directory written by "
            f"`rolecli train`, or {unset} for the shipped model)"
        )
    return path


MODEL_OPTION = typer.Option(
    None,
    "--model",
    "-m",
    envvar="ROLECLI_MODEL",
    metavar="DIR",
    callback=_existing_model,
    help="Model directory (default: the shipped model).",
    show_default=False,
)


def read_posting(file: str | None, command: str) -> tuple[str, str]:
    """(text, name) from FILE, `-`, or piped stdin; on a terminal, a usage hint, not a wait."""
    from ..io.documents import read_document, read_stdin

    if file is None or file == "-":
        stdin = sys.stdin
        if file is None and stdin is not None and not stdin.closed and stdin.isatty():
            raise UsageError(
                f"no input: give a FILE, or pipe a posting in (pbpaste | rolecli {command}); "
                f"see `rolecli {command} --help`"
            )
        if stdin is not None and not stdin.closed and stdin.isatty():
            write_stderr("reading a posting from the terminal; end with Ctrl-D\n")
        return read_stdin(), "stdin"
    return read_document(Path(file)), file


def off_topic_exit(name: str, format: Format) -> None:
    """Off-topic is a result, not an error: exit 3, and no `error:` line. The text view
    says it in its verdict; JSON, whose reader may not look, gets one plain stderr line."""
    if format is Format.json:
        write_stderr(f"rolecli: {visible(name)}: not an ML job description (off-topic)\n")
    raise typer.Exit(int(ExitCode.UNUSABLE_INPUT))


def check_html_target(path: Path, source: str | None, what: str) -> None:
    """An --html FILE that can be written, and is not the input (`source`, `what` it is):
    said before any work is done."""
    if source not in (None, "-") and path.exists():
        try:
            same = os.path.samefile(path, source)
        except OSError:
            same = False
        if same:
            raise UsageError(f"--html {path} is {what} itself; name another file")
    if path.is_dir():
        raise UsageError(f"--html {path} is a directory; give a file name such as report.html")
    if not path.parent.is_dir():
        raise UsageError(f"--html {path}: no such directory {path.parent}")


def write_page(path: Path, page: str) -> None:
    """An HTML page to --html FILE, and one line on stderr saying so."""
    try:
        with _open_page(path) as out:
            out.write(page.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    write_stderr(f"wrote {visible(str(path))}\n")


def _open_page(path: Path) -> BinaryIO:
    """The --html file opened for writing without waiting: a FIFO that no one reads is
    refused at once (ENXIO) rather than blocking; one with a reader is written to."""
    import fcntl

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_CLOEXEC,
                     0o666)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise UsageError(f"cannot write {path}: a named pipe (FIFO) that nothing reads") \
                from None
        raise
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    return os.fdopen(fd, "wb")
