"""Streaming the postings of tabular exports (.csv, .jsonl, .parquet) one row at a time.

Nothing here holds more than one block of a table in memory, and nothing imports
pandas: CSV and JSON Lines use the standard library, Parquet uses pyarrow's batch
reader (the `rolecli[parquet]` extra).
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
from typing import Any, NamedTuple

from ..errors import InputError, RoleCliError, UsageError
from .documents import guess_encoding, mostly_utf8

TABLE_SUFFIXES = frozenset({".csv", ".jsonl", ".parquet"})
PARQUET_BATCH_ROWS = 512
_SNIFF_BYTES = 1 << 20
_LINE_BREAKS = re.compile(r"[\r\n]")
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
                  "--text-column / --id-column / --title-column")


def check_columns(path: Path, wanted: list[str], options: str) -> None:
    """UsageError naming the first of `wanted` the table's header (or first record) lacks."""
    found = columns(path)
    if found is None:  # an empty table has no columns to check, and no rows
        return
    missing = [c for c in wanted if c not in found]
    if missing:
        raise UsageError(
            f"{path}: no column {missing[0]!r} (use {options}); found {sorted(map(str, found))}"
        )


Record = tuple[int, "dict[str, Any] | str"]


# What every table is read by, files, stdin and POST /v1/batch alike: a row's "id" and
# "title" fields are its id and title when it has them; --id-column / --title-column name
# other columns instead (and must then exist).
TEXT_FIELD = "text"
ID_FIELD = "id"
TITLE_FIELD = "title"
# A job title is a line; past this a cell is not one.
MAX_TITLE_CHARS = 300


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
    return jsonl_records(io.StringIO(data.decode(bytes_encoding(data), "replace"), newline=""))


def records(path: Path, columns: list[str] | None = None) -> Iterator[Record]:
    """(1-based row number, the row as a dict, or the reason it is unusable) of a table.

    One bad row (not JSON, not an object, a CSV line the csv module rejects) is that row's
    reason; the rows after it are read as usual. `columns`: all Parquet needs to read.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_records(path, columns or [])
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
            return set(_parquet_file(path).schema_arrow.names)
        if suffix in (".jsonl", ".ndjson"):
            # A first line that is not an object is that row's error, not a missing column.
            for _, record in _jsonl_records(path):
                return set(record) if isinstance(record, dict) else None
            return None
        with _open_text(path) as handle, unbounded_fields():
            header = next(csv.reader(handle), None)
            return set(header) if header is not None else None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def count_rows(path: Path) -> int | None:
    """How many rows `records` gives, read without parsing them (for a progress bar's
    total); None when the file cannot be counted so."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return int(_parquet_file(path).metadata.num_rows)
        with _open_text(path) as handle:
            if suffix in (".jsonl", ".ndjson"):
                return _non_blank_lines(iter(lambda: handle.read(_SNIFF_BYTES), ""))
            with unbounded_fields():
                reader = csv.reader(handle)
                if next(reader, None) is None:  # no header: no rows
                    return 0
                return sum(1 for record in reader if record)  # DictReader skips blank ones
    except (RoleCliError, OSError, ValueError, csv.Error):
        return None


def _non_blank_lines(blocks: Iterable[str]) -> int:
    """Lines holding more than whitespace, as jsonl_records counts rows, a block at a time
    (a line may span blocks; a CR LF counts as two breaks around a blank line)."""
    rows, filled = 0, False
    for block in blocks:
        pieces = _LINE_BREAKS.split(block)
        for piece in pieces[:-1]:
            rows += filled or bool(piece.strip())
            filled = False
        filled = filled or bool(pieces[-1].strip())
    return rows + filled


def _csv_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        number = 0
        while True:
            number += 1
            try:
                with unbounded_fields():
                    record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # that line only: the reader carries on after it
                yield number, f"row {number}: not a CSV record ({exc})"
                continue
            yield number, record


def _jsonl_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with _open_text(path) as handle:
        yield from jsonl_records(handle)


def jsonl_records(
    lines: Iterable[str], start: int = 1
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(row number, object or reason) for each non-blank line; rows are numbered from `start`."""
    number = start - 1
    for line in lines:
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


def _parquet_file(path: Path) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError(
            f"{path}: reading Parquet needs pyarrow: pip install 'rolecli[parquet]'"
        ) from None
    try:
        return pq.ParquetFile(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise InputError(f"{path}: unreadable Parquet file ({exc})") from None


def _parquet_records(path: Path, columns: list[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    number = 0
    table = _parquet_file(path)
    present = [c for c in dict.fromkeys(columns) if c in table.schema_arrow.names]
    for batch in table.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=present):
        for record in batch.to_pylist():
            number += 1
            yield number, record


def _open_text(path: Path) -> Any:
    return path.open(encoding=text_encoding(path), errors="replace", newline="")


def text_encoding(path: Path) -> str:
    """UTF-8 when the file is (mostly) UTF-8, else a detected encoding; the rules of
    `inputs.decode_bytes`, applied to the whole file block by block."""
    with path.open("rb") as handle:
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
