"""`rolecli explain`: why a posting got its label, as text, JSON or an HTML page."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import BinaryIO

import typer

from ..errors import UsageError
from ..escape import visible
from .boundary import write_stderr
from .common import (
    ALL_LINES_OPTION,
    MODEL_OPTION,
    POSTING_ARGUMENT,
    TITLE_OPTION,
    Format,
    off_topic_exit,
    read_posting,
)


def explain_command(
    file: str = POSTING_ARGUMENT,
    format: Format | None = typer.Option(
        None, "--format", "-f", show_default=False,
        help="Output format: text (the default) or json. With --html, nothing goes to stdout "
        "unless --format is given.",
    ),
    title: str = TITLE_OPTION,
    all_lines: bool = ALL_LINES_OPTION,
    html: Path = typer.Option(
        None, "--html", help="Write the explanation as a self-contained HTML page to FILE.",
        metavar="FILE", show_default=False,
    ),
    top: int = typer.Option(10, "--top", min=1, help="Terms to list in each direction."),
    model: Path = MODEL_OPTION,
) -> None:
    """Explain a verdict: its reasons, the title check, the lines and words that decided it,
    and the exact arithmetic (term contributions, line sums, closest article bullets)."""
    from ..classifier import load_scorer
    from ..explanation import explain
    from ..jsonout import write_json
    from ..render.terminal import console

    if html is not None:
        _check_writable(html, file)  # fail on a bad path before doing any work
    text, name = read_posting(file, "explain")
    explanation = explain(text, load_scorer(model), title)
    if format is None:
        format = Format.text if html is None else None
    if format is Format.json:
        write_json(explanation)
    elif format is Format.text:
        from ..render.explain_view import explanation_view

        console().print(explanation_view(explanation, text, top=top, all_lines=all_lines))
    if html is not None:
        from ..render.html import html_report

        page = html_report(explanation, text, Path(name).name, top=top, all_lines=all_lines)
        try:
            with _open_page(html) as out:
                out.write(page.encode("utf-8"))
        except OSError as exc:
            raise UsageError(f"cannot write {html}: {exc.strerror or exc}") from None
        write_stderr(f"wrote {visible(str(html))}\n")
    if explanation["off_topic"]:
        off_topic_exit(name, format or Format.text)


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


def _check_writable(path: Path, posting: str | None) -> None:
    if posting not in (None, "-") and path.exists():
        try:
            same = os.path.samefile(path, posting)
        except OSError:
            same = False
        if same:
            raise UsageError(f"--html {path} is the posting itself; name another file")
    if path.is_dir():
        raise UsageError(f"--html {path} is a directory; give a file name such as report.html")
    if not path.parent.is_dir():
        raise UsageError(f"--html {path}: no such directory {path.parent}")
