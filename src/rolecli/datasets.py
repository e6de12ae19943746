"""Reading labelled examples: CSV, JSONL, or a folder with one subfolder per label."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, UsageError

LABELS = ("engineer", "scientist", "mixed", "off_topic")
ROLE_LABELS = ("engineer", "scientist")
_ALIASES = {"off-topic": "off_topic", "offtopic": "off_topic"}
TEXT_SUFFIXES = {".txt", ".md", ".html", ".htm", ".pdf", ".docx"}

csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    label: str
    group: str  # the file (or source column) it came from, for leave-one-source-out splits


@dataclass(frozen=True)
class DatasetInfo:
    path: str
    sha256: str
    rows: int
    labels: dict[str, int]


def normalise_label(raw: str) -> str:
    label = raw.strip().lower().replace(" ", "_")
    return _ALIASES.get(label, label)


def load_examples(
    path: Path, text_column: str = "text", label_column: str = "label"
) -> list[Example]:
    """All labelled rows of one CSV/JSONL file or label-per-subfolder directory."""
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    if path.is_dir():
        return _load_folder(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    elif suffix in {".jsonl", ".ndjson"}:
        with path.open(encoding="utf-8-sig") as handle:
            try:
                rows = [json.loads(line) for line in handle if line.strip()]
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path}: not valid JSON Lines ({exc.msg}, line {exc.lineno})"
                ) from None
    else:
        raise UsageError(f"{path}: labelled data must be .csv, .jsonl or a folder of label folders")
    examples = []
    for number, row in enumerate(rows):
        if text_column not in row or label_column not in row:
            raise UsageError(
                f"{path}: needs columns {text_column!r} and {label_column!r} "
                f"(use --text-column / --label-column); found {sorted(row)}"
            )
        label = normalise_label(str(row[label_column]))
        if label not in LABELS:
            raise InputError(f"{path}: row {number}: unknown label {row[label_column]!r}")
        group = str(row.get("source") or path.name)
        examples.append(Example(str(row.get("id") or number), str(row[text_column]), label, group))
    return examples


def _load_folder(path: Path) -> list[Example]:
    from .inputs import read_document

    examples = []
    for label_dir in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        label = normalise_label(label_dir.name)
        if label not in LABELS:
            raise InputError(f"{label_dir}: folder name is not a label ({', '.join(LABELS)})")
        for file in sorted(label_dir.rglob("*")):
            if file.is_file() and file.suffix.lower() in TEXT_SUFFIXES:
                relative = file.relative_to(path).as_posix()
                examples.append(Example(relative, read_document(file), label, path.name))
    if not examples:
        raise InputError(f"{path}: no labelled documents found in label subfolders")
    return examples


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
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(file.relative_to(path).as_posix().encode())
            digest.update(sha256_file(file).encode())
        return digest.hexdigest()
    return sha256_file(path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
