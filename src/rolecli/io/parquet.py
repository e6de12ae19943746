"""Parquet tables, a row group at a time, with each page's unpacked size read from its
header (the Thrift compact encoding of Parquet's PageHeader) before any page is decoded:
a compressed file can hold a huge value in a few KB. pyarrow comes with `rolecli[parquet]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from ..extras import require_extra
from .documents import open_regular

PARQUET_BATCH_ROWS = 512



def parquet_file(path: Path) -> Any:
    require_extra("parquet", f"{path}: reading Parquet")
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise InputError(f"{path}: unreadable Parquet file ({exc})") from None



def parquet_records(
    path: Path, columns: list[str], limit: int
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Rows a row group at a time; a row group with a page that unpacks to more than
    `limit` characters (a compressed file can hold a huge value in a few KB) is never
    decoded: each of its rows is an error row, and the other row groups are read."""
    parquet = parquet_file(path)
    # Only the columns the table has (a row's id and title fields are asked for by default).
    columns = [c for c in dict.fromkeys(columns) if c in parquet.schema_arrow.names]
    number = 0
    for group in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(group).num_rows
        largest = largest_parquet_page(path, parquet.metadata.row_group(group), columns, limit)
        if largest > limit:
            for _ in range(rows):
                number += 1
                yield number, (f"row {number}: in a Parquet page that unpacks to "
                               f"{largest / (1024 * 1024):.0f} MiB (the limit is "
                               f"{limit // (1024 * 1024)} MiB), not read")
            continue
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=[group],
                                          columns=columns):
            for record in batch.to_pylist():
                number += 1
                yield number, record



_PAGE_HEADER_BYTES = 1 << 16  # a page header (with its statistics) is far smaller



def largest_parquet_page(path: Path, group: Any, columns: list[str], limit: int) -> int:
    """The largest unpacked size of a page of these columns in a row group, read from the
    page headers alone (the Thrift compact encoding of Parquet's PageHeader); a header that
    cannot be read counts as too large (over `limit`, where reading stops)."""
    largest = 0
    with open_regular(path) as handle:
        for index in range(group.num_columns):
            chunk = group.column(index)
            if columns and chunk.path_in_schema not in columns:
                continue
            try:
                for unpacked, _, _ in parquet_pages(handle, chunk):
                    largest = max(largest, unpacked)
                    if largest > limit:
                        return largest
            except (IndexError, ValueError):
                return limit + 1
    return largest



def parquet_pages(handle: IO[bytes], chunk: Any) -> Iterator[tuple[int, int, int]]:
    """(unpacked size, packed size, header length) of each page of a column chunk."""
    start = chunk.data_page_offset
    if chunk.has_dictionary_page and chunk.dictionary_page_offset:
        start = min(start, chunk.dictionary_page_offset)
    offset, end = start, start + chunk.total_compressed_size
    while offset < end:
        handle.seek(offset)
        unpacked, packed, length = page_header(handle.read(_PAGE_HEADER_BYTES))
        if unpacked < 0 or packed < 0:
            raise ValueError("a page of negative size")
        yield unpacked, packed, length
        offset += length + packed



def page_header(data: bytes) -> tuple[int, int, int]:
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

