"""Reading labelled examples: CSV, JSONL, count files, or a folder with one subfolder per label."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from ..text.roles import DATA_LABELS
from . import counts as count_form
from .walk import walk_files

_ALIASES = {"off-topic": "off_topic", "offtopic": "off_topic"}
TEXT_SUFFIXES = {".txt", ".md", ".html", ".htm", ".pdf", ".docx"}


@dataclass(frozen=True)
class Example:
    """One labelled posting: its text, or (from a count file) only its n-gram counts."""

    id: str
    text: str | None
    label: str
    group: str  # the file (or source column) it came from, for leave-one-source-out splits
    family: str | None = None  # job family of an off-topic posting, when the data names it
    counts: Mapping[str, int] | None = None  # n-gram -> count, for rows of a count file
    counted_with: Mapping[str, Any] | None = None  # the analyzer settings they were counted with
    boilerplate: Mapping[str, int] | None = None  # of `counts`, those in boilerplate lines


@dataclass(frozen=True)
class DatasetInfo:
    path: str
    sha256: str
    rows: int
    labels: dict[str, int]


def normalise_label(raw: str) -> str:
    label = raw.strip().lower().replace(" ", "_")
    return _ALIASES.get(label, label)


@dataclass(frozen=True)
class BadRow:
    """A row (or file) of labelled data that cannot be used, and why (as in batch)."""

    id: str
    error: str


def load_examples(
    path: Path, text_column: str = "text", label_column: str = "label",
    default_label: str | None = None, where: tuple[str, str] | None = None,
) -> list[Example]:
    """All labelled rows of one CSV/JSONL file or label-per-subfolder directory; an
    InputError naming the first unusable row if there is one (a model is only trained or
    calibrated on data that is whole)."""
    examples, bad = read_labelled(path, text_column, label_column, default_label, where)
    if bad:
        more = f" (and {len(bad) - 1:,} more unusable rows)" if len(bad) > 1 else ""
        raise InputError(f"{path}: {bad[0].error}{more}; fix or remove them")
    return examples


def read_labelled(
    path: Path, text_column: str = "text", label_column: str = "label",
    default_label: str | None = None, where: tuple[str, str] | None = None,
) -> tuple[list[Example], list[BadRow]]:
    """The usable labelled rows, and the unusable ones with their reasons.

    `default_label` labels every row of a table without a label column (for example
    `off_topic` for an export of other jobs). A `family` column, when present, is kept.
    `where` (column, value) keeps only the rows whose column holds that value, in a table
    that has the column (one without it is read whole).

    Tables are read by the batch readers (tabular): the same encoding rules, one reason per
    bad line (not JSON, not an object, nested too deep...), row numbers counted from 1, and
    each text held to the rules posting files meet (inputs.posting_text).
    """
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    if path.is_dir():
        return _load_folder(path)
    if count_form.is_counts_file(path):
        return _load_counts(path), []
    if path.suffix.lower() not in {".csv", ".jsonl", ".ndjson"}:
        raise UsageError(
            f"{path}: labelled data must be .csv, .jsonl, {count_form.SUFFIX} "
            "or a folder of label folders"
        )
    from .documents import posting_text
    from .tables import check_columns, columns, records, table_row

    if default_label is not None:
        default_label = normalise_label(default_label)
        if default_label not in DATA_LABELS:
            raise UsageError(
                f"unknown label {default_label!r}; labels are {', '.join(DATA_LABELS)}")
    header = columns(path) or ()
    fixed = default_label if default_label and label_column not in header else None
    keep = where if where is not None and where[0] in header else None
    check_columns(path, [text_column] + ([] if fixed else [label_column]),
                  ("text_column", "label_column"))
    examples: list[Example] = []
    bad: list[BadRow] = []
    try:
        for number, record in records(path):
            has_id = isinstance(record, dict) and "id" in record
            row = table_row(number, record, text_column, "id" if has_id else None)
            if row.error is not None:
                bad.append(BadRow(row.id, row.error))
                continue
            assert isinstance(record, dict) and row.text is not None  # (no error: an object)
            if keep is not None and str(record.get(keep[0])) != keep[1]:
                continue
            raw = fixed or record.get(label_column)
            label = normalise_label(raw) if isinstance(raw, str) else None
            if label not in DATA_LABELS:
                bad.append(BadRow(row.id, f"row {number}: unknown label {raw!r}"))
                continue
            try:
                text = posting_text(row.text, f"row {number}")
            except InputError as exc:
                bad.append(BadRow(row.id, exc.message))
                continue
            group = str(record.get("source") or path.name)
            family = record.get("family")
            examples.append(Example(row.id, text, label, group,
                                    family if isinstance(family, str) and family else None))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return examples, bad


def _load_folder(path: Path) -> tuple[list[Example], list[BadRow]]:
    from ..errors import RoleCliError
    from .documents import read_document

    examples, bad = [], []
    for label_dir in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        label = normalise_label(label_dir.name)
        if label not in DATA_LABELS:
            raise InputError(f"{label_dir}: folder name is not a label ({', '.join(DATA_LABELS)})")
        # batch's walk: hidden files skipped, symlink loops safe, unlistable folders reported
        for found in walk_files(label_dir):
            relative = label_dir.name + ("" if found.relative == "." else "/" + found.relative)
            wanted = found.path.suffix.lower() in TEXT_SUFFIXES
            if found.error is not None and (found.entry is None or wanted):
                bad.append(BadRow(relative, found.error))
            elif wanted and found.error is None:
                try:
                    examples.append(Example(relative, read_document(found.path, True), label,
                                            path.name))
                except RoleCliError as exc:  # as in batch: that file's reason, then on
                    bad.append(BadRow(relative, exc.message))
    if not examples and not bad:
        raise InputError(f"{path}: no labelled documents found in label subfolders")
    return examples, bad


def _load_counts(path: Path) -> list[Example]:
    """A count file's rows; their terms must come from the analyzer training uses."""
    counted = count_form.read(path)
    return [Example(f"{path.name}:{i}", None, row.label, row.source, row.family, row.counts,
                    counted.analyzer, row.boilerplate)
            for i, row in enumerate(counted.rows, start=1)]


def build_count_file(
    inputs: Sequence[tuple[Path, str | None]],
    output: Path,
    analyzer: Any,
    text_column: str = "text",
    label_column: str = "label",
    min_postings: int = count_form.MIN_POSTINGS,
    min_sources: int = count_form.MIN_SOURCES,
    where: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Read labelled postings ((path, default label) pairs; `where` as read_labelled's),
    write their count form to `output` and its manifest beside it; returns the manifest."""
    import json

    if not count_form.is_counts_file(output):
        raise UsageError(f"output {output}: a count file's name ends in {count_form.SUFFIX}",
                         cli_message=f"--output {output}: a count file's name ends in "
                                     f"{count_form.SUFFIX}")
    postings: list[tuple[str, str, str | None, str]] = []
    described = []
    for path, default_label in inputs:
        if count_form.is_counts_file(path) or path.is_dir():
            raise UsageError(f"{path}: data build reads postings tables (.csv or .jsonl)")
        rows = load_examples(path, text_column, label_column, default_label, where)
        postings.extend((e.label, e.group, e.family, e.text or "") for e in rows)
        described.append((path.name, sha256_file(path), len(rows)))
    _require_sources(postings, inputs, min_sources)
    built = count_form.build(postings, analyzer, min_postings, min_sources)
    if not built.rows:
        raise InputError(
            f"no n-gram is in {min_postings:,} or more of the {len(postings):,} postings from "
            f"{min_sources} or more sources, so no posting has counts to keep; nothing written",
            "(lower --min-postings or --min-sources, or give more postings)", join=" ",
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    data = count_form.write(built, output)
    info = count_form.manifest(built, described, output.name, data)
    if where is not None:
        info["where"] = f"{where[0]}={where[1]} (in the tables with a {where[0]} column)"
    manifest_path = output.with_name(output.name[: -len(count_form.SUFFIX)] + ".manifest.json")
    manifest_path.write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return info


def _require_sources(
    postings: Sequence[tuple[str, str, str | None, str]],
    inputs: Sequence[tuple[Path, str | None]], min_sources: int,
) -> None:
    """InputError before any counting when the postings come from fewer sources than the
    n-gram filter needs: it would keep nothing, and write an empty count file."""
    sources = {source for _, source, _, _ in postings}
    if len(sources) >= min_sources:
        return
    found = "1 source" if len(sources) == 1 else f"{len(sources)} sources"
    tables = ", ".join(path.name for path, _ in inputs)
    raise InputError(
        f"{tables}: the postings come from {found} (a table without a 'source' column is one "
        f"source), and an n-gram is kept only when {min_sources} or more sources use it",
        "add a source column, give more tables, or lower --min-sources",
    )


def describe(path: Path, examples: list[Example], display: str | None = None) -> DatasetInfo:
    return DatasetInfo(
        path=display or path.as_posix(),
        sha256=sha256_path(path),
        rows=len(examples),
        labels=dict(sorted(Counter(e.label for e in examples).items())),
    )


def sha256_path(path: Path) -> str:
    digest = hashlib.sha256()
    if path.is_dir():
        for found in walk_files(path):  # the files a folder's training reads, and no others
            if found.error is None:
                digest.update(found.relative.encode())
                digest.update(sha256_file(found.path).encode())
        return digest.hexdigest()
    return sha256_file(path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
