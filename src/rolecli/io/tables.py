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

TABLE_SUFFIXES = frozenset({".csv", ".jsonl", ".parquet"})
PARQUET_BATCH_ROWS = 512
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
                  "--text-column / --id-column / --title-column")


def check_columns(path: Path, wanted: list[str], options: str) -> None:
    """UsageError naming the first of `wanted` the table's header (or first record) lacks."""
    found = columns(path)
    if found is None:  # an empty table has no columns to check, and no rows
        return
    missing = [c for c in wanted if c not in found]
    if missing:
        raise UsageError(f"{path}: no column {missing[0]!r} (use {options}); found "
                         f"{listed(sorted(map(str, found)))}")


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
            return set(_parquet_file(path).schema_arrow.names)
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
            return int(_parquet_file(path).metadata.num_rows)
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
    """Rows a row group at a time; a row group with a page that unpacks to more than
    MAX_RECORD_CHARS (a compressed file can hold a huge value in a few KB) is never
    decoded: each of its rows is an error row, and the other row groups are read."""
    parquet = _parquet_file(path)
    # Only the columns the table has (a row's id and title fields are asked for by default).
    columns = [c for c in dict.fromkeys(columns) if c in parquet.schema_arrow.names]
    number = 0
    for group in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(group).num_rows
        largest = largest_parquet_page(path, parquet.metadata.row_group(group), columns)
        if largest > MAX_RECORD_CHARS:
            for _ in range(rows):
                number += 1
                yield number, (f"row {number}: in a Parquet page that unpacks to "
                               f"{largest / (1024 * 1024):.0f} MiB (the limit is "
                               f"{_MIB_OF_RECORD} MiB), not read")
            continue
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=[group],
                                          columns=columns):
            for record in batch.to_pylist():
                number += 1
                yield number, record


_PAGE_HEADER_BYTES = 1 << 16  # a page header (with its statistics) is far smaller


def largest_parquet_page(path: Path, group: Any, columns: list[str]) -> int:
    """The largest unpacked size of a page of these columns in a row group, read from the
    page headers alone (the Thrift compact encoding of Parquet's PageHeader); a header that
    cannot be read counts as too large."""
    largest = 0
    with open_regular(path) as handle:
        for index in range(group.num_columns):
            chunk = group.column(index)
            if columns and chunk.path_in_schema not in columns:
                continue
            try:
                for unpacked, _, _ in parquet_pages(handle, chunk):
                    largest = max(largest, unpacked)
                    if largest > MAX_RECORD_CHARS:
                        return largest
            except (IndexError, ValueError):
                return MAX_RECORD_CHARS + 1
    return largest


def parquet_pages(handle: IO[bytes], chunk: Any) -> Iterator[tuple[int, int, int]]:
    """(unpacked size, packed size, header length) of each page of a column chunk."""
    start = chunk.data_page_offset
    if chunk.has_dictionary_page and chunk.dictionary_page_offset:
        start = min(start, chunk.dictionary_page_offset)
    offset, end = start, start + chunk.total_compressed_size
    while offset < end:
        handle.seek(offset)
        unpacked, packed, length = _page_header(handle.read(_PAGE_HEADER_BYTES))
        if unpacked < 0 or packed < 0:
            raise ValueError("a page of negative size")
        yield unpacked, packed, length
        offset += length + packed


def _page_header(data: bytes) -> tuple[int, int, int]:
    """(uncompressed_page_size, compressed_page_size, header length) of a PageHeader."""
    fields: dict[int, int] = {}
    position, field = 0, 0
    while True:
        byte = data[position]
        position += 1
        kind = byte & 0x0F
        if kind == 0:  # the struct's end
            break
        delta = byte >> 4
        if delta:
            field += delta
        else:
            raw, position = _varint(data, position)
            field = _unzigzag(raw)
        if kind == 5 and field in (2, 3):  # i32 sizes
            raw, position = _varint(data, position)
            fields[field] = _unzigzag(raw)
        else:
            position = _skip(data, position, kind)
    if 2 not in fields or 3 not in fields:
        raise ValueError("a page header without its sizes")
    return fields[2], fields[3], position


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise ValueError("a varint past 64 bits")


def _fits(data: bytes, position: int, size: int) -> None:
    """Each element takes a byte at least: a count past the bytes left is a forged one."""
    if size > len(data) - position:
        raise ValueError("a Thrift collection larger than its bytes")


def _unzigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def _skip(data: bytes, position: int, kind: int, depth: int = 0) -> int:
    """Past one Thrift compact value of this type."""
    if depth > 32:
        raise ValueError("Thrift values nested too deeply")
    if kind in (1, 2):  # booleans: in the field header
        return position
    if kind == 3:
        return position + 1
    if kind in (4, 5, 6):
        return _varint(data, position)[1]
    if kind == 7:
        return position + 8
    if kind == 8:
        size, position = _varint(data, position)
        return position + size
    if kind in (9, 10):  # list, set (a boolean in one takes a byte)
        header = data[position]
        position += 1
        size, element = header >> 4, header & 0x0F
        if size == 15:
            size, position = _varint(data, position)
        _fits(data, position, size)
        for _ in range(size):
            position = _skip(data, position, 3 if element in (1, 2) else element, depth + 1)
        return position
    if kind == 11:  # map
        size, position = _varint(data, position)
        if size:
            types = data[position]
            position += 1
            _fits(data, position, size)
            key, value = (3 if t in (1, 2) else t for t in (types >> 4, types & 0x0F))
            for _ in range(size):
                position = _skip(data, position, key, depth + 1)
                position = _skip(data, position, value, depth + 1)
        return position
    if kind == 12:  # struct
        while True:
            byte = data[position]
            position += 1
            if byte & 0x0F == 0:
                return position
            if not byte >> 4:
                position = _varint(data, position)[1]
            position = _skip(data, position, byte & 0x0F, depth + 1)
    raise ValueError(f"unknown Thrift type {kind}")


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
