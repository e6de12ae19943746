"""Rows -> text: the jsonl, csv and json writers, and the outputs they write to.

Each writer writes a chunk's rows in one write, flushed as scored, so an output holds
whole rows only. The Rich table for people is a view: it lives in `render/tables.py` and
the CLI adds it to `WRITERS` for run_batch, so batch never imports rendering.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from ..errors import ExitCode, RoleCliError
from ..escape import holds_unicode, json_text, spreadsheet_cell, visible
from .items import Row

DEFAULT_PRECISION = 4  # decimals of probabilities in table and csv (JSON: every digit)
CSV_COLUMNS = (
    "id", "status", "label", "probabilities.engineer", "probabilities.scientist",
    "confidence", "off_topic", "off_topic_family", "short_text", "title.text", "title.label",
    "title.agrees", "title.grade", "error",
)


class OutputError(RoleCliError):
    """The output file cannot be written (disk full, quota): the rows before are whole."""

    exit_code = ExitCode.USAGE


class Output:
    """Where the text of rows goes: a stream, flushed after each write.

    `tail` is text that ends the document (a JSON array's bracket), written at close().
    """

    def __init__(self, stream: IO[str], tail: str = "") -> None:
        self.stream = stream
        self.tail = tail
        # Rows shown on a terminal get control characters made visible (as `ls` does);
        # into a pipe or file they go exact.
        self.terminal = _isatty(stream)
        # JSON rows on a stream that cannot hold every character are all ASCII (\u escapes).
        self.ascii_only = not holds_unicode(stream)

    def write(self, text: str) -> None:
        if self.terminal:
            text = "\n".join(map(visible, text.split("\n")))
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        self.stream.write(self.tail)
        self.stream.flush()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class FileOutput(Output):
    """An --output file, written unbuffered with one write per batch of rows, ending with
    `tail` after every write, so that it is a valid document whenever the program stops.

    When a write fails (a full disk), the file is cut back to the end of the last write
    and its tail, so it stays valid and --resume can carry on from it once there is room.
    """

    def __init__(self, path: Path, file: IO[bytes], resumable: bool, tail: str = "") -> None:
        self.path = path
        self.resumable = resumable
        self.tail = tail
        self.ascii_only = False  # a file is written in UTF-8
        self.closing = tail.encode("utf-8")
        self.file = file  # unbuffered, locked, positioned after the rows to keep
        self.body = self.file.seek(0, os.SEEK_END)  # where the rows end and the tail begins

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        try:
            self._write_at(self.body, data + self.closing)
        except OSError as exc:
            self.file.truncate(self.body)
            with suppress(OSError):  # it fitted before this row
                self._write_at(self.body, self.closing)
            hint = "rerun with --resume when there is room" if self.resumable else "rerun it"
            raise OutputError(
                f"cannot write {self.path} ({exc.strerror or exc}); it ends with the last "
                f"whole row: {hint}"
            ) from None
        self.body += len(data)

    def _write_at(self, offset: int, data: bytes) -> None:
        self.file.seek(offset)
        view = memoryview(data)
        while view:  # a write to a nearly full disk may take only part of the bytes
            view = view[self.file.write(view) or 0 :]

    def close(self) -> None:
        self.file.close()


class RowWriter:
    """Writes rows in one format; `close()` finishes the document and closes the output.

    Every writer is made alike, `(out, header, precision)`; a format without a header or
    fixed decimals ignores them.
    """

    def __init__(self, out: Output, header: bool = True,
                 precision: int = DEFAULT_PRECISION) -> None:
        self.out = out
        self.precision = precision

    def write(self, rows: Sequence[Row]) -> None:
        """Rows as they come (a chunk's worth): one write, so the output gets all or none."""
        self.out.write("".join(map(self.text, rows)))

    def text(self, row: Row) -> str:
        raise NotImplementedError

    def close(self) -> None:
        self.out.close()


class JsonlWriter(RowWriter):
    def text(self, row: Row) -> str:
        return json_text(row, self.out.ascii_only) + "\n"


class CsvWriter(RowWriter):
    """CSV rows; a cell a spreadsheet would run as a formula is escaped (`spreadsheet_cell`)
    unless `raw_cells` (--raw-csv) asks for the values exactly."""

    def __init__(self, out: Output, header: bool = True,
                 precision: int = DEFAULT_PRECISION, raw_cells: bool = False) -> None:
        super().__init__(out, header, precision)
        self.line = io.StringIO()
        self.csv = csv.writer(self.line, lineterminator="\n")
        # The csv module quotes a field holding a line end only if the line terminator has
        # it: with "\n" a CR would go unquoted and break the record in a reader.
        self.quoted = csv.writer(self.line, lineterminator="\n", quoting=csv.QUOTE_ALL)
        self.cell = (lambda value: value) if raw_cells else spreadsheet_cell
        if header:
            out.write(self._record(CSV_COLUMNS))

    def text(self, row: Row) -> str:
        return self._record(list(map(self.cell, csv_fields(row, self.precision))))

    def _record(self, fields: Sequence[str]) -> str:
        self.line.seek(0)
        self.line.truncate()
        (self.quoted if any("\r" in f for f in fields) else self.csv).writerow(fields)
        return self.line.getvalue()


class JsonWriter(RowWriter):
    """A JSON array, element by element; the output supplies the closing bracket (JSON_TAIL)."""

    def __init__(self, out: Output, header: bool = True,
                 precision: int = DEFAULT_PRECISION) -> None:
        super().__init__(out, header, precision)
        self.first = True
        out.write("[")

    def text(self, row: Row) -> str:
        separator = "\n" if self.first else ",\n"
        self.first = False
        return separator + json_text(row, self.out.ascii_only)


JSON_TAIL = "\n]\n"

WriterFactory = Callable[[Output, bool, int], RowWriter]  # (out, header, precision)
# The formats batch writes itself, in the order error messages list them.
WRITERS: Mapping[str, WriterFactory] = {
    "csv": CsvWriter, "jsonl": JsonlWriter, "json": JsonWriter,
}


def csv_fields(row: Row, precision: int = DEFAULT_PRECISION) -> list[str]:
    p = row["probabilities"] or {}
    title = row.get("title") or {}
    values = (
        row["id"], row["status"], row["label"], p.get("engineer"), p.get("scientist"),
        row["confidence"], row["off_topic"], row.get("off_topic_family"), row.get("short_text"),
        title.get("text"), title.get("label"), title.get("agrees"), title.get("grade"),
        row["error"],
    )
    return [_csv_value(v, precision) for v in values]


def _csv_value(value: Any, precision: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # Fixed decimals: never 16 digits, never `1.6e-05`.
    return f"{value:.{precision}f}" if isinstance(value, float) else str(value)


