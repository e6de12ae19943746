#!/usr/bin/env python3
"""Coverage-guided fuzzing of the table readers (CSV, JSON Lines) and of --resume files.

Each input picks a target and a file's bytes:
- a table (`.csv` or `.jsonl`, with or without an id column): `tabular.iter_table` and
  `datasets.read_labelled` must give one TableRow / Example / BadRow per record, each with
  a text id and either text or a reason, or raise only a RoleCliError (a missing column);
  `batch.sources.UniqueIds` must make the ids unique;
- a batch output being resumed (`jsonl` or `csv`): `batch.resume.read_resumable` must
  return text ids and cut the file to a prefix of itself, or refuse with a UsageError;
- a count file (`rolecli data build`'s form; the bytes are its JSON Lines, gzipped when
  the flag says so, raw otherwise): `counts.read` must return rows whose terms are the
  header's, with positive counts and boilerplate counts within them, or raise InputError;
- bounded reading (issue #27): `tables.csv_record_texts` must split text into the records
  the csv module reads (the same rows, record for record), and with a small limit give None
  for exactly the records over it and the same text for the others (an oversized record never
  shifts its neighbours); `tables.bounded_lines` likewise for JSON Lines;
- a Parquet page header: `parquet.page_header` returns sizes or raises IndexError or
  ValueError, nothing else;
- a `batch -` path list: `sources._path_list` returns paths that exist, or a UsageError.

Anything else raised (RecursionError, ValueError, TypeError...) is a crash. Run it with
fuzz/run.sh tables (see fuzz/README.md).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["rolecli", "charset_normalizer"]):
    import charset_normalizer  # noqa: F401

    from rolecli.batch.resume import read_resumable
    from rolecli.batch.sources import UniqueIds, _path_list
    from rolecli.errors import InputError, RoleCliError, UsageError
    from rolecli.io import counts as count_form
    from rolecli.io import parquet, tables
    from rolecli.io.labelled import read_labelled
    from rolecli.io.tables import iter_table, unbounded_fields

WORK = Path(tempfile.mkdtemp(prefix="rolecli-fuzz-tables-"))
TARGETS = ("table.csv", "table.jsonl", "labelled.csv", "labelled.jsonl",
           "resume.jsonl", "resume.csv", "counts.counts.jsonl.gz", "split.csv", "split.jsonl",
           "page.parquet", "paths.txt")
SMALL_LIMIT = 48


def check_table(path: Path, id_column: str | None) -> None:
    try:
        rows = list(iter_table(path, "text", id_column))
    except RoleCliError:
        return
    ids = UniqueIds()
    unique = [ids.unique(row.id) for row in rows]
    assert len(set(unique)) == len(unique), "UniqueIds left a duplicate"
    for row in rows:
        assert isinstance(row.id, str), row
        assert (row.text is None) != (row.error is None), row
        assert row.text is None or row.text.strip(), row
        assert row.error is None or row.error.startswith("row "), row


def check_labelled(path: Path) -> None:
    try:
        examples, bad = read_labelled(path)
    except RoleCliError:
        return
    for example in examples:
        assert isinstance(example.id, str) and example.text.strip(), example
    for row in bad:
        assert isinstance(row.id, str) and isinstance(row.error, str), row


def check_resume(path: Path, fmt: str, data: bytes) -> None:
    with path.open("r+b", buffering=0) as handle:
        try:
            resumed = read_resumable(handle, path, fmt)
        except UsageError as exc:
            assert "cannot resume" in exc.message, exc.message
            return
    assert all(isinstance(i, str) for i in resumed.ids)
    if resumed.repairs:  # the rows to keep: in order, inside the file
        assert all(0 <= a < b <= b2 for (a, b), (b2, _) in
                   zip(resumed.keep, [*resumed.keep[1:], (len(data), 0)])), resumed.keep
    else:
        assert data.startswith(path.read_bytes()), "resume cut the file to something else"


def check_csv_split(text: str) -> None:
    """The bounded splitter reads the records the csv module reads; a small limit marks
    exactly the records over it."""
    texts = list(tables.csv_record_texts(io.StringIO(text, newline=""), limit=1 << 30))
    assert "".join(t for t in texts if t is not None) == text, "records lost or added text"
    try:
        with unbounded_fields():
            expected = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
            each = [[row for row in csv.reader(io.StringIO(t, newline="")) if row]
                    for t in texts if t is not None]
    except csv.Error:
        return
    assert all(len(rows) <= 1 for rows in each), "a record held several rows"
    assert [row for rows in each for row in rows] == expected, (each, expected)
    small = list(tables.csv_record_texts(io.StringIO(text, newline=""), limit=SMALL_LIMIT))
    assert len(small) == len(texts), "an oversized record shifted the others"
    for whole, bounded in zip(texts, small):
        assert bounded == (None if len(whole) > SMALL_LIMIT else whole), (whole, bounded)


def check_line_split(text: str) -> None:
    """bounded_lines gives each line, or None for exactly those over the limit (its line
    end not counted), without shifting the others."""
    small = list(tables.bounded_lines(io.StringIO(text, newline="\n"), limit=SMALL_LIMIT))
    whole = io.StringIO(text, newline="\n").readlines()
    assert len(small) == len(whole), "an oversized line shifted the others"
    for line, bounded in zip(whole, small):
        over = len(line.removesuffix("\n")) > SMALL_LIMIT
        assert bounded == (None if over else line), (line, bounded)


def check_page_header(data: bytes) -> None:
    try:
        unpacked, packed, length = parquet.page_header(data)
    except (IndexError, ValueError):
        return
    assert isinstance(unpacked, int) and isinstance(packed, int)
    assert 0 < length <= len(data)


def check_paths(path: Path) -> None:
    try:
        paths = _path_list(path)
    except UsageError as exc:
        assert "\n" not in exc.message
        return
    assert all(os.path.lexists(p) for p in paths)


def check_counts(path: Path) -> None:
    try:
        counted = count_form.read(path)
    except InputError:
        return
    terms = set(counted.terms)
    for row in counted.rows:
        assert row.counts and set(row.counts) <= terms, row
        assert all(isinstance(n, int) and n >= 1 for n in row.counts.values()), row
        assert all(0 < n <= row.counts[t] for t, n in row.boilerplate.items()), row


def test_one_input(raw: bytes) -> None:
    provider = atheris.FuzzedDataProvider(raw)
    target = TARGETS[provider.ConsumeIntInRange(0, len(TARGETS) - 1)]
    with_id = provider.ConsumeBool()
    data = provider.ConsumeBytes(provider.remaining_bytes())
    kind, suffix = target.split(".", 1)
    path = WORK / f"input.{suffix}"
    if kind == "split":
        text = data.decode("utf-8", "replace")
        (check_csv_split if suffix == "csv" else check_line_split)(text)
        return
    if kind == "page":
        check_page_header(data)
        return
    if kind == "paths":
        path.write_bytes(data)
        check_paths(path)
        return
    if kind == "counts":
        path.write_bytes(gzip.compress(data, mtime=0) if with_id else data)
        check_counts(path)
        return
    path.write_bytes(data)
    if kind == "table":
        check_table(path, "id" if with_id else None)
    elif kind == "labelled":
        check_labelled(path)
    else:
        check_resume(path, suffix, data)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    try:
        atheris.Fuzz()
    finally:
        for name in os.listdir(WORK):
            os.unlink(WORK / name)
        WORK.rmdir()


if __name__ == "__main__":
    main()
