"""The text-free training form of real postings: each posting as n-gram counts, nothing else.

`rolecli data build` reads labelled postings (CSV or JSON Lines) and keeps, for each one,
its label, its source key, its job family (when the table has one) and the counts of the
analyzer's n-grams. No text, title or id is stored, and only n-grams found in at least
`min_postings` distinct postings from at least `min_sources` sources are kept: names,
e-mail addresses, phone numbers, URLs and sentences unique to one posting or one source
drop out, so no sentence can be put back together.

Each row also counts how many of each n-gram's occurrences stand in the posting's
boilerplate lines (benefits, equal opportunity, about the company, how to apply, job
details: sections.py), so that training can leave out what only such lines say.

The file is gzip JSON Lines written byte for byte the same from the same input: a header
line (format, analyzer settings, thresholds, the sorted terms) and one line per posting
(`{"label", "source", "family", "terms": [term indices], "counts": [counts],
"boilerplate": [of those counts, how many in boilerplate lines]}`), rows sorted by their
content rather than kept in input order. Reading validates every field and bounds the
decompressed size, so a damaged or hostile file is one clear error.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from ..model.analyzer import Analyzer
from ..text.roles import DATA_LABELS
from ..text.sections import BOILERPLATE, Sections
from ..text.sentences import sentence_spans
from ..text.title import body_text

FORMAT = "rolecli-counts"
FORMAT_VERSION = 2  # 2: rows count their n-grams in boilerplate lines
SUFFIX = ".counts.jsonl.gz"
MIN_POSTINGS = 5
MIN_SOURCES = 2
# Bounds for reading: the shipped file decompresses to ~15 MB.
MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024 * 1024
MAX_COUNT = 1_000_000


def is_counts_file(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIX)


@dataclass(frozen=True)
class CountRow:
    label: str
    source: str
    family: str | None
    counts: Mapping[str, int]
    boilerplate: Mapping[str, int]  # of `counts`, the occurrences in boilerplate lines


def posting_counts(text: str, analyzer: Analyzer) -> tuple[Counter[str], Counter[str]]:
    """A posting's n-gram counts as the body model reads it (title line aside), and of
    those the occurrences in its boilerplate lines. Training, `data build` and the quality
    benchmark all count postings with this."""
    body = body_text(text)
    counts = Counter(analyzer.terms(body))
    found = Sections(body)
    # The lines and sentences the explanations read as boilerplate, one per line.
    lines = "\n".join(body[start:end] for start, end in sentence_spans(body)
                      if found.of_line(start, end)[0] in BOILERPLATE)
    boilerplate = Counter({term: min(n, counts[term])
                           for term, n in Counter(analyzer.terms(lines)).items()
                           if term in counts})
    return counts, boilerplate


@dataclass(frozen=True)
class CountSet:
    """Count rows and the settings they were made with."""

    analyzer: dict[str, Any]
    min_postings: int
    min_sources: int
    rows: tuple[CountRow, ...]
    terms: tuple[str, ...] = field(default=())


def analyzer_settings(analyzer: Analyzer) -> dict[str, Any]:
    """What makes two analyzers give the same terms (stored with the counts, checked on use)."""
    return {
        "lowercase": analyzer.lowercase,
        "ngram_range": list(analyzer.ngram_range),
        "stop_words": sorted(analyzer.stop_words),
        "token_pattern": analyzer.token_pattern,
    }


def kept_terms(
    rows: Iterable[tuple[str, Iterable[str]]], min_postings: int, min_sources: int
) -> set[str]:
    """Terms found in at least `min_postings` of the (source, terms) rows, from `min_sources`
    distinct sources."""
    postings: Counter[str] = Counter()
    sources: defaultdict[str, set[str]] = defaultdict(set)
    for source, terms in rows:
        for term in set(terms):
            postings[term] += 1
            seen = sources[term]
            if len(seen) < min_sources:
                seen.add(source)
    return {
        term for term, n in postings.items()
        if n >= min_postings and len(sources[term]) >= min_sources
    }


def build(
    postings: Sequence[tuple[str, str, str | None, str]],
    analyzer: Analyzer,
    min_postings: int = MIN_POSTINGS,
    min_sources: int = MIN_SOURCES,
) -> CountSet:
    """Count rows of (label, source, family, text) postings, keeping only common n-grams."""
    counted = [CountRow(label, source, family, *posting_counts(text, analyzer))
               for label, source, family, text in postings]
    return common(counted, analyzer_settings(analyzer), min_postings, min_sources)


def common(
    rows: Sequence[CountRow], analyzer: dict[str, Any], min_postings: int, min_sources: int
) -> CountSet:
    """Rows cut down to the n-grams in at least `min_postings` of them from `min_sources`
    sources; a row none of whose n-grams survive is left out."""
    if min_postings < 2 or min_sources < 1:
        raise UsageError(
            "the n-gram filter needs min_postings >= 2 and min_sources >= 1",
            cli_message="the n-gram filter needs --min-postings >= 2 and --min-sources >= 1")
    keep = kept_terms(((row.source, row.counts) for row in rows), min_postings, min_sources)
    kept = []
    for row in rows:
        counts = {term: n for term, n in row.counts.items() if term in keep}
        if counts:
            boilerplate = {t: n for t, n in row.boilerplate.items() if t in counts and n}
            kept.append(CountRow(row.label, row.source, row.family, counts, boilerplate))
    return CountSet(analyzer, min_postings, min_sources, tuple(kept), tuple(sorted(keep)))


def write(counts: CountSet, path: Path) -> bytes:
    """Write the gzip JSON Lines file (same input, same bytes) and return its bytes."""
    index = {term: i for i, term in enumerate(counts.terms)}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "analyzer": counts.analyzer,
        "min_postings": counts.min_postings,
        "min_sources": counts.min_sources,
        "terms": list(counts.terms),
    }
    lines = [_dump(header)]
    body = []
    for row in counts.rows:
        pairs = sorted((index[term], term) for term in row.counts)
        body.append(_dump({
            "label": row.label, "source": row.source, "family": row.family,
            "terms": [i for i, _ in pairs], "counts": [row.counts[t] for _, t in pairs],
            "boilerplate": [row.boilerplate.get(t, 0) for _, t in pairs],
        }))
    lines.extend(sorted(body))  # by content: no trace of the input order
    buffer = io.BytesIO()
    # mtime=0 and no file name in the header: the same rows give the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write("".join(lines).encode("utf-8"))
    data = buffer.getvalue()
    path.write_bytes(data)
    return data


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def read(path: Path) -> CountSet:
    """The count rows of a file written by `write`, each field checked; InputError if not."""
    try:
        with path.open("rb") as raw, gzip.GzipFile(fileobj=raw) as handle:
            header = _header(_line(handle, path, 1), path)
            terms: list[str] = header["terms"]
            rows = []
            total = 0
            number = 1
            while line := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                total += len(line)
                if len(line) > MAX_LINE_BYTES or total > MAX_DECOMPRESSED_BYTES:
                    raise InputError(f"{path}: line {number}: larger than the count form allows")
                if line.strip():
                    rows.append(_row(_json(line, path, number), terms, path, number))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: not a readable gzip count file ({exc})") from None
    return CountSet(header["analyzer"], header["min_postings"], header["min_sources"],
                    tuple(rows), tuple(terms))


def _line(handle: Any, path: Path, number: int) -> bytes:
    line: bytes = handle.readline(MAX_LINE_BYTES + 1)
    if not line.strip() or len(line) > MAX_LINE_BYTES:
        raise InputError(f"{path}: line {number}: no count-form header")
    return line


def _json(line: bytes, path: Path, number: int) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # (RecursionError: nesting a parser cannot follow)
        raise InputError(f"{path}: line {number}: not valid JSON") from None


def _header(line: bytes, path: Path) -> dict[str, Any]:
    header = _json(line, path, 1)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InputError(f"{path}: not a rolecli count file (no {FORMAT!r} header)")
    if header.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{path}: count format version {header.get('format_version')!r} is not "
            f"{FORMAT_VERSION}; rebuild it with `rolecli data build`"
        )
    terms = header.get("terms")
    analyzer = header.get("analyzer")
    valid = (
        isinstance(terms, list) and all(isinstance(t, str) and 0 < len(t) <= 200 for t in terms)
        and len(set(terms)) == len(terms)
        and isinstance(analyzer, dict)
        and isinstance(analyzer.get("stop_words"), list)
        and all(isinstance(w, str) for w in analyzer["stop_words"])
        and isinstance(analyzer.get("ngram_range"), list)
        and all(type(n) is int and 1 <= n <= 5 for n in analyzer["ngram_range"])
        and isinstance(analyzer.get("token_pattern"), str)
        and isinstance(analyzer.get("lowercase"), bool)
        and all(type(header.get(k)) is int and header[k] >= 1
                for k in ("min_postings", "min_sources"))
    )
    if not valid:
        raise InputError(f"{path}: malformed count-form header")
    return header


def _row(value: Any, terms: list[str], path: Path, number: int) -> CountRow:
    where = f"{path}: line {number}"
    if not isinstance(value, dict):
        raise InputError(f"{where}: a count row must be a JSON object")
    label, source, family = value.get("label"), value.get("source"), value.get("family")
    indices, counts = value.get("terms"), value.get("counts")
    boilerplate = value.get("boilerplate")
    if label not in DATA_LABELS:
        raise InputError(f"{where}: unknown label {label!r}")
    if not isinstance(source, str) or not 0 < len(source) <= 200:
        raise InputError(f"{where}: source must be a short string")
    if family is not None and (not isinstance(family, str) or len(family) > 200):
        raise InputError(f"{where}: family must be a short string or null")
    if (
        not isinstance(indices, list) or not isinstance(counts, list)
        or len(indices) != len(counts) or not indices
        or not all(type(i) is int and 0 <= i < len(terms) for i in indices)
        or not all(type(n) is int and 1 <= n <= MAX_COUNT for n in counts)
        or any(a >= b for a, b in pairwise(indices))
    ):
        raise InputError(f"{where}: terms and counts must be matching lists of indices "
                         "(increasing, within the header's terms) and positive counts")
    if (
        not isinstance(boilerplate, list) or len(boilerplate) != len(counts)
        or not all(type(b) is int and 0 <= b <= n for b, n in zip(boilerplate, counts))
    ):
        raise InputError(f"{where}: boilerplate must list, for each term, how many of its "
                         "counts are in boilerplate lines (0 up to its count)")
    return CountRow(label, source, family, {terms[i]: n for i, n in zip(indices, counts)},
                    {terms[i]: b for i, b in zip(indices, boilerplate) if b})


def manifest(
    counts: CountSet, inputs: Sequence[tuple[str, str, int]], output: str, data: bytes
) -> dict[str, Any]:
    """What a count file was built from and holds: inputs' sha256, thresholds, row counts."""
    by_source: defaultdict[str, Counter[str]] = defaultdict(Counter)
    families: Counter[str] = Counter()
    for row in counts.rows:
        by_source[row.source][row.label] += 1
        if row.family:
            families[row.family] += 1
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "inputs": [{"file": name, "sha256": sha, "rows": rows} for name, sha, rows in inputs],
        "thresholds": {"min_postings": counts.min_postings, "min_sources": counts.min_sources},
        "stored": "label, source key, job family and n-gram counts of each posting (and "
                  "how many of them are in boilerplate lines); no text, titles or ids",
        "output": {"file": output, "sha256": hashlib.sha256(data).hexdigest(),
                   "bytes": len(data)},
        "rows": len(counts.rows),
        "terms": len(counts.terms),
        "labels": dict(sorted(Counter(r.label for r in counts.rows).items())),
        "by_source": {s: dict(sorted(c.items())) for s, c in sorted(by_source.items())},
        "families": dict(sorted(families.items())),
    }
