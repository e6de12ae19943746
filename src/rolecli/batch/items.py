"""Items and the one function that turns an item into a row, for every engine and for serve.

An Item is a posting file to read or a table row's text (tables are read where the items
are made, by `io.tables`); `Scoring.row` reads the file if there is one, scores the text and
builds the row. The local engine, its worker processes, the Dask workers and serve's
batch endpoint all call it, so they give the same rows for the same items.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import RoleCliError
from ..io.documents import posting_text, read_document
from ..model.scorer import Scorer
from ..verdict.evidence import gather
from ..verdict.result import result_of

Row = dict[str, Any]


class Item(NamedTuple):
    """One thing to score: a file the worker reads, a table row's text, or why there is neither."""

    id: str
    path: str | None = None
    text: str | None = None
    error: str | None = None
    title: str | None = None  # given (--title, --title-column); else read from the posting


def error_row(item_id: str, reason: str) -> Row:
    return {
        "id": item_id, "status": "error", "label": None, "probabilities": None,
        "confidence": None, "off_topic": None, "off_topic_family": None, "short_text": None,
        "title": None,
        "error": printable(" ".join(reason.split())),
    }


def printable(name: str) -> str:
    """A file name as text any output can hold: undecodable bytes (which Python keeps as
    lone surrogates) become backslash escapes, so ids stay writable. An escaped name may
    equal a real one (`caf\\xe9.txt`): UniqueIds keeps ids distinct."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


class Scoring:
    """A loaded scorer turning Items into rows; one per process."""

    def __init__(self, scorer: Scorer) -> None:
        scorer.build_index()  # every term checked, and lookups in C from the first item
        self.scorer = scorer

    def row(self, item: Item) -> Row:
        if item.error is not None:
            return error_row(item.id, item.error)
        try:
            text = (
                posting_text(item.text, item.id)
                if item.text is not None
                else read_document(Path(str(item.path)), regular_only=True)
            )
            # The verdict alone: a batch row shows no top terms or reasons, so none are built.
            result = result_of(self.scorer, gather(self.scorer, text, item.title), words=False)
        except Exception as exc:  # one odd file (or a parser bug on it) must not stop the batch
            return error_row(item.id, reason(exc))
        return result.row(item.id)

    def rows(self, chunk: Sequence[Item]) -> list[Row]:
        return [self.row(item) for item in chunk]


def reason(exc: Exception) -> str:
    """An exception as an error row's one-line reason."""
    if isinstance(exc, RoleCliError):
        return exc.message
    if isinstance(exc, OSError):
        return f"cannot read ({exc.strerror or exc})"
    return f"{type(exc).__name__}: {exc}"
