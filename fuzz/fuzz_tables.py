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
  header's, with positive counts and boilerplate counts within them, or raise InputError.

Anything else raised (RecursionError, ValueError, TypeError...) is a crash. Run it with
fuzz/run.sh tables (see fuzz/README.md).
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["rolecli", "charset_normalizer"]):
    import charset_normalizer  # noqa: F401

    from rolecli import counts as count_form
    from rolecli.batch.resume import read_resumable
    from rolecli.batch.sources import UniqueIds
    from rolecli.errors import InputError, RoleCliError, UsageError
    from rolecli.io.labelled import read_labelled
    from rolecli.io.tables import iter_table

WORK = Path(tempfile.mkdtemp(prefix="rolecli-fuzz-tables-"))
TARGETS = ("table.csv", "table.jsonl", "labelled.csv", "labelled.jsonl",
           "resume.jsonl", "resume.csv", "counts.counts.jsonl.gz")


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
    assert data.startswith(path.read_bytes()), "resume cut the file to something else"


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
