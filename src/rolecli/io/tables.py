"""Streaming the postings of tabular exports (.csv, .jsonl, .parquet) one row at a time.

Nothing here holds more than one block of a table in memory, and nothing imports
pandas: CSV and JSON Lines use the standard library, Parquet uses pyarrow's batch
reader (the `rolecli[parquet]` extra). A CSV record or a JSON Lines line is read only up
to MAX_RECORD_CHARS: one longer is never held whole but skipped, as one error row, and
the rows around it are read as usual.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NamedTuple

from ..errors import InputError, RoleCliError, UsageError
from .documents import MAX_INPUT_BYTES, guess_encoding, mostly_utf8, open_regular
from .parquet import parquet_file, parquet_records

TABLE_SUFFIXES = frozenset({".csv", ".jsonl", ".parquet"})
_SNIFF_BYTES = 1 << 20
# A record holds a posting (at most MAX_INPUT_BYTES, as a file) with its escapes (JSON's
# \u00e9 is six characters for two bytes) and the other cells: past this it is no posting.
MAX_RECORD_CHARS = 2 * MAX_INPUT_BYTES
_READ_CHARS = 1 << 16
# Column names shown in an error (a header may have 100,000 of them).
_SHOWN_COLUMNS = 20
_LINE_BREAKS = re.compile(r"\n")  # JSON Lines end at \n only (a \r is whitespace)
_SURROGATES = re.compile("[\ud800-\udfff]")


class TableRow(NamedTuple):
    """One row: its id, and either its text or why it has none; its title if it has one."""

    id: str
    text: str | None
    error: str | None
    title: str | None = None


@contextmanager
def unbounded_fields() -> Iterator[None]:
    """Lift the csv module's field size limit (131,072 characters: a long posting passes it)
    while a row is read, then put back the caller's: the limit is process-wide state."""
    previous = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def is_table(path: Path) -> bool:
    return path.suffix.lower() in TABLE_SUFFIXES


def check_table(
    path: Path, text_column: str, id_column: str | None, title_column: str | None = None
) -> None:
    """Raise UsageError now if the table lacks a requested column (before any row is scored).

    JSON Lines has no header: its first row stands in for one, for the columns the options
    name (a typo is caught before any scoring), but a row without the default "text" field
    is that row's error, as it is in POST /v1/batch (one reading of every table)."""
    jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    wanted = [] if jsonl and text_column == TEXT_FIELD else [text_column]
    check_columns(path, wanted + [c for c in (id_column, title_column) if c],
                  ("text_column", "id_column", "title_column"))


def check_columns(path: Path, wanted: list[str], parameters: tuple[str, ...]) -> None:
    """UsageError naming the first of `wanted` the table's header (or first record) lacks,
    and the `parameters` that name columns (on the CLI, their flags)."""
    found = columns(path)
    if found is None:  # an empty table has no columns to check, and no rows
        return
    missing = [c for c in wanted if c not in found]
    if missing:
        flags = ["--" + name.replace("_", "-") for name in parameters]
        said = [f"{path}: no column {missing[0]!r} (use {' / '.join(names)}); found "
                f"{listed(sorted(map(str, found)))}" for names in (parameters, flags)]
        raise UsageError(said[0], cli_message=said[1])


def listed(names: list[str]) -> str:
    """Names for an error line: the first few, each cut short, and how many more."""
    shown = ", ".join(repr(n if len(n) <= 40 else n[:40] + "...") for n in names[:_SHOWN_COLUMNS])
    more = len(names) - _SHOWN_COLUMNS
    return f"[{shown}{f', ... and {more:,} more' if more > 0 else ''}]"


Record = tuple[int, "dict[str, Any] | str"]


# What every table is read by, files, stdin and POST /v1/batch alike: a row's "id" and
# "title" fields are its id and title when it has them; --id-column / --title-column name
# other columns instead (and must then exist).
TEXT_FIELD = "text"
ID_FIELD = "id"
TITLE_FIELD = "title"
# A job title is a line; past this a cell is not one. An id is a name, and not much longer.
MAX_TITLE_CHARS = 300
MAX_ID_CHARS = 256


def iter_table(
    path: Path, text_column: str, id_column: str | None, title_column: str | None = None
) -> Iterator[TableRow]:
    """Every row of a table in file order, read by `table_rows`."""
    check_table(path, text_column, id_column, title_column)
    wanted = [text_column, id_column or ID_FIELD, title_column or TITLE_FIELD]
    yield from table_rows(records(path, wanted), text_column, id_column, title_column)


def table_rows(
    found: Iterable[Record], text_column: str = TEXT_FIELD, id_column: str | None = None,
    title_column: str | None = None,
) -> Iterator[TableRow]:
    """The one reading of a table's records: the id is the id column's value (--id-column,
    else the row's "id" field), or the row number when there is none; the title likewise
    (--title-column, else the "title" field)."""
    for number, record in found:
        yield table_row(number, record, text_column, id_column or ID_FIELD,
                        title_column or TITLE_FIELD)


def byte_records(data: bytes) -> Iterator[Record]:
    """The records of JSON Lines held in memory (a request body), decoded and split into
    lines as a file of the same bytes is."""
    text = io.StringIO(data.decode(bytes_encoding(data), "replace"), newline="\n")
    return jsonl_records(bounded_lines(text))


def records(path: Path, columns: list[str] | None = None) -> Iterator[Record]:
    """(1-based row number, the row as a dict, or the reason it is unusable) of a table.

    One bad row (not JSON, not an object, a CSV line the csv module rejects) is that row's
    reason; the rows after it are read as usual. `columns`: all Parquet needs to read.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return parquet_records(path, columns or [], MAX_RECORD_CHARS)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_records(path)
    return _csv_records(path)


def table_row(
    number: int,
    record: dict[str, Any] | str,
    text_column: str,
    id_column: str | None,
    title_column: str | None = None,
) -> TableRow:
    """One record as a TableRow; `record` is the reason when the record is not an object."""
    if isinstance(record, str):
        return TableRow(str(number), None, record)
    raw_id = record.get(id_column) if id_column else None
    if not _usable_id(raw_id):
        kind = type(raw_id).__name__
        return TableRow(str(number), None, f"row {number}: {id_column!r} is {kind}, not an id")
    row_id = _row_id(raw_id, number)
    if len(row_id) > MAX_ID_CHARS:  # ids name rows in every output: a line, not a document
        return TableRow(row_id[:MAX_ID_CHARS] + "…", None, f"row {number}: {id_column!r} is "
                        f"longer than {MAX_ID_CHARS} characters, not an id")
    title = record.get(title_column) if title_column else None
    if title is not None and not isinstance(title, str):
        kind = type(title).__name__
        return TableRow(row_id, None, f"row {number}: {title_column!r} is {kind}, not a title")
    if title is not None:
        title = _valid_unicode(" ".join(title.split()), escape=False) or None  # one line
        if title is not None and len(title) > MAX_TITLE_CHARS:
            return TableRow(row_id, None, f"row {number}: {title_column!r} is longer than "
                            f"{MAX_TITLE_CHARS} characters, not a job title")
    text = record.get(text_column)
    if text_column not in record:  # JSON Lines: say what the row has instead
        return TableRow(row_id, None, f"row {number}: no {text_column!r} field "
                        f"(its fields: {_field_names(record)})")
    if text is None or (isinstance(text, str) and not text.strip()):
        return TableRow(row_id, None, f"row {number}: no text to classify (empty {text_column!r})")
    if not isinstance(text, str):
        kind = type(text).__name__
        return TableRow(row_id, None, f"row {number}: {text_column!r} is {kind}, not text")
    return TableRow(row_id, text, None, title)


def _field_names(record: dict[str, Any], shown: int = 8, chars: int = 40) -> str:
    names = sorted(map(str, record))
    listed = [repr(name if len(name) <= chars else name[:chars] + "…") for name in names[:shown]]
    return ", ".join(listed + (["…"] if len(names) > shown else [])) or "none"


def _usable_id(value: Any) -> bool:
    # An id is text or a number (Parquet and JSON give ints); a list or object is not.
    return value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))


def _row_id(value: Any, number: int) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return str(number)
    return _valid_unicode(str(value), escape=True)


def _valid_unicode(value: str, escape: bool) -> str:
    """JSON may hold lone surrogates ("\\ud800"), which no output can encode: an id gets
    them as backslash escapes (`escape`), a title as U+FFFD."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        if escape:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return _SURROGATES.sub("\ufffd", value)
    return value


def columns(path: Path) -> set[str] | None:
    """The column names of a table (of its first record for JSON Lines); None when empty."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return set(parquet_file(path).schema_arrow.names)
        if suffix in (".jsonl", ".ndjson"):
            # A first line that is not an object is that row's error, not a missing column.
            for _, record in _jsonl_records(path):
                return set(record) if isinstance(record, dict) else None
            return None
        with _open_text(path) as handle:
            for text in csv_record_texts(handle):
                header = _csv_header(path, text)
                if header:
                    return set(header)
            return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


_MIB_OF_RECORD = MAX_RECORD_CHARS // (1024 * 1024)


def _too_long(number: int) -> str:
    return (f"row {number}: a record over {_MIB_OF_RECORD} MiB of text, skipped unread; "
            "a posting is at most 8 MiB")


def _csv_fields(text: str) -> list[str]:
    with unbounded_fields():  # (the record is already held to MAX_RECORD_CHARS)
        return next(csv.reader((text,)), [])


def _csv_header(path: Path, text: str | None) -> list[str]:
    """The column names a CSV header record holds ([] for a blank line), or InputError."""
    if text is None:
        raise InputError(f"{path}: its header is over {_MIB_OF_RECORD} MiB; "
                         "not a table of postings")
    try:
        return _csv_fields(text)
    except csv.Error as exc:
        raise InputError(f"{path}: its header is not a CSV record ({exc})") from None


def count_rows(path: Path) -> int | None:
    """How many rows `records` gives, read without parsing them (for a progress bar's
    total); None when the file cannot be counted so."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return int(parquet_file(path).metadata.num_rows)
        with _open_text(path) as handle:
            if suffix in (".jsonl", ".ndjson"):
                return _non_blank_lines(iter(lambda: handle.read(_SNIFF_BYTES), ""))
            # Record by record within bounds, as the rows are read; blank lines are no rows.
            texts = csv_record_texts(handle)
            if next(texts, None) is None:  # no header: no rows
                return 0
            return sum(1 for text in texts if text is None or text.strip())
    except (RoleCliError, OSError, ValueError, csv.Error):
        return None


def _non_blank_lines(blocks: Iterable[str]) -> int:
    """Lines holding more than whitespace, as jsonl_records counts rows, a block at a time
    (a line may span blocks)."""
    rows, filled = 0, False
    for block in blocks:
        pieces = _LINE_BREAKS.split(block)
        for piece in pieces[:-1]:
            rows += filled or bool(piece.strip())
            filled = False
        filled = filled or bool(pieces[-1].strip())
    return rows + filled


def _csv_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """csv.DictReader's records, numbered from 1, but each record read within bounds
    (csv_record_texts) and parsed alone: a bad or oversized one is that row's reason."""
    with _open_text(path) as handle:
        header: list[str] = []
        number = 0
        for text in csv_record_texts(handle):
            if not header:
                header = _csv_header(path, text)
                continue
            if text is None:
                number += 1
                yield number, _too_long(number)
                continue
            try:
                fields = _csv_fields(text)
            except csv.Error as exc:
                number += 1
                yield number, f"row {number}: not a CSV record ({exc})"
                continue
            if not fields:  # a blank line, as DictReader skips them
                continue
            number += 1
            record: dict[Any, Any] = dict(zip(header, fields))
            if len(fields) > len(header):  # DictReader's restkey and restval
                record[None] = fields[len(header):]
            else:
                record.update(dict.fromkeys(header[len(fields):]))
            yield number, record


# States of the csv module's reader (excel dialect) that decide where a record ends.
_START, _FIELD, _QUOTED, _QUOTE_IN_QUOTED = range(4)


def csv_record_texts(handle: IO[str], limit: int | None = None) -> Iterator[str | None]:
    """The text of each record of a CSV file as the csv module splits them (a quoted field
    may hold line breaks; a blank line is a record of its own), or None for a record longer
    than `limit` characters (default MAX_RECORD_CHARS), which is skipped a block at a time
    and never held whole."""
    limit = MAX_RECORD_CHARS if limit is None else limit
    parts: list[str] = []
    size = 0
    state = _START
    while line := handle.readline(limit - size + 1 if size <= limit else _READ_CHARS):
        size += len(line)
        if size <= limit:
            parts.append(line)
        elif parts:
            parts = []  # over the limit: the rest is read only to find where it ends
        state = _state_after(line, state)
        if line[-1] in "\r\n" and state != _QUOTED:  # a line end outside quotes ends it
            yield "".join(parts) if size <= limit else None
            parts, size, state = [], 0, _START
    if size:
        yield "".join(parts) if size <= limit else None


def _state_after(text: str, state: int) -> int:
    """The reader's state after `text`, from `state`: a quote opens a quoted field only at
    a field's start, and a doubled quote inside one is a quote. It jumps with str.find over
    quoted text and unquoted fields, so a long cell costs C time, not a step per character."""
    i, n = 0, len(text)
    while i < n:
        if state == _QUOTED:
            j = text.find('"', i)
            if j < 0:
                return _QUOTED
            state, i = _QUOTE_IN_QUOTED, j + 1
        elif state == _FIELD:
            j = text.find(",", i)
            if j < 0:
                return _FIELD
            state, i = _START, j + 1
        else:  # at a field's start, or just after a quote inside a quoted field
            c = text[i]
            i += 1
            if c == '"':
                state = _QUOTED
            elif c == ",":
                state = _START
            elif c in "\r\n":
                return _START
            else:
                state = _FIELD
    return state


def _jsonl_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    # Lines end at \n only: JSON Lines has no other line end.
    with _open_text(path, newline="\n") as handle:
        yield from jsonl_records(bounded_lines(handle))


def bounded_lines(handle: IO[str], limit: int | None = None) -> Iterator[str | None]:
    """Each line of a text file, or None for one longer than `limit` characters (default
    MAX_RECORD_CHARS), which is skipped a block at a time and never held whole."""
    limit = MAX_RECORD_CHARS if limit is None else limit
    while line := handle.readline(limit + 1):
        if len(line) <= limit or line.endswith("\n"):
            yield line
            continue
        while (rest := handle.readline(_READ_CHARS)) and not rest.endswith("\n"):
            pass
        yield None


def jsonl_records(
    lines: Iterable[str | None], start: int = 1
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(row number, object or reason) for each non-blank line; rows are numbered from `start`.
    A line given as None was too long to read (bounded_lines)."""
    number = start - 1
    for line in lines:
        if line is None:
            number += 1
            yield number, _too_long(number)
            continue
        if not line.strip():
            continue
        number += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"row {number}: not valid JSON ({exc.msg})"
            continue
        except ValueError:  # valid JSON, but an integer past Python's 4,300-digit limit
            yield number, f"row {number}: a number too long to read (over 4,300 digits)"
            continue
        except RecursionError:  # valid JSON, nested thousands deep
            yield number, f"row {number}: JSON nested too deeply"
            continue
        if isinstance(record, dict):
            yield number, record
        else:
            yield number, f"row {number}: a JSON {_json_kind(record)}, not an object"


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "array" if isinstance(value, list) else "string"






















def _open_text(path: Path, newline: str = "") -> Any:
    return io.TextIOWrapper(open_regular(path), encoding=text_encoding(path), errors="replace",
                            newline=newline)


def text_encoding(path: Path) -> str:
    """UTF-8 when the file is (mostly) UTF-8, else a detected encoding; the rules of
    `inputs.decode_bytes`, applied to the whole file block by block."""
    with open_regular(path) as handle:
        if _mostly_utf8(iter(lambda: handle.read(_SNIFF_BYTES), b"")):
            return "utf-8-sig"  # (stray bad bytes become U+FFFD: errors="replace")
        handle.seek(0)
        sample = handle.read(_SNIFF_BYTES)
    return guess_encoding(sample)


def bytes_encoding(data: bytes) -> str:
    """`text_encoding` of bytes in memory."""
    blocks = (data[at : at + _SNIFF_BYTES] for at in range(0, len(data), _SNIFF_BYTES))
    return "utf-8-sig" if _mostly_utf8(blocks) else guess_encoding(data[:_SNIFF_BYTES])


def _mostly_utf8(blocks: Iterable[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    invalid = non_ascii = 0
    for block in blocks:
        text = decoder.decode(block)
        # U+FFFD the decoder made, not those the file holds (as valid UTF-8).
        bad = text.count("\ufffd") - block.count(b"\xef\xbf\xbd")
        invalid += bad
        non_ascii += len(text) - len(text.encode("ascii", "ignore")) - bad
    invalid += decoder.decode(b"", final=True).count("\ufffd")
    return mostly_utf8(invalid, non_ascii)
