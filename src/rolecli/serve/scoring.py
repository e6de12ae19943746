"""The library calls behind the API and the page: the same functions the CLI calls.

A request's `title` goes to `classify()` and `explain()` as their `title` parameter; batch
rows are read by `io.tables.table_rows`, as `rolecli batch` reads them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any, NamedTuple

from ..batch.engines.local import CHUNK_ITEMS
from ..batch.items import Item, Row, Scoring
from ..errors import InputError
from ..io.documents import posting_text
from ..io.sheets import Columns, Sheet, cell_text, row_error
from ..model.scorer import Scorer
from ..tasks.classify import classify, classify_result
from ..tasks.explain import Explanation, explain, explanation_of
from ..verdict.result import Result


def classify_posting(scorer: Scorer, text: str, title: str | None) -> dict[str, Any]:
    """What `rolecli classify --format json` prints for this text."""
    return classify(text, scorer, title)


def classify_posting_result(scorer: Scorer, text: str, title: str | None) -> Result:
    """classify_posting's verdict, typed, for the page."""
    return classify_result(text, scorer, title)


def explain_posting(scorer: Scorer, text: str, title: str | None) -> dict[str, Any]:
    """What `rolecli explain --format json` prints for this text."""
    return explain(text, scorer, title)


def posting_explanation(scorer: Scorer, text: str, title: str | None) -> Explanation:
    """explain_posting's answer, typed, for the page."""
    return explanation_of(text, scorer, title)


def next_rows(scoring: Scoring, items: Iterator[Item]) -> list[Row]:
    """The rows of the next chunk of items, as `rolecli batch` builds them; [] at the end."""
    return scoring.rows(list(islice(items, CHUNK_ITEMS)))


# -- spreadsheets: the same rows back, with rolecli's columns --------------------------------

SHEET_COLUMNS = ("rolecli_label", "rolecli_confidence", "rolecli_title_check",
                 "rolecli_title_grade", "rolecli_off_topic_reason", "rolecli_top_reason",
                 "rolecli_error")


def score_sheet(scorer: Scorer, sheet: Sheet, columns: Columns) -> ScoredSheet:
    """Every row of the sheet with rolecli's columns added, scored as `rolecli classify`
    scores one posting (so with the label `rolecli batch` gives the same row)."""
    width = max([len(sheet.header), *(len(row) for row in sheet.rows)])
    header = [*sheet.header, *[""] * (width - len(sheet.header)), *SHEET_COLUMNS]
    rows: list[list[Any]] = []
    counts: Counter[str] = Counter()
    grades: Counter[str] = Counter()
    for number, row in enumerate(sheet.rows, start=1):
        added = sheet_row(scorer, number, row, columns, sheet.header)
        counts[added[0] or "error"] += 1
        if added[3]:
            grades[added[3]] += 1
        rows.append([*row, *[None] * (width - len(row)), *added])
    return ScoredSheet(header, rows, counts, grades)


def sheet_row(scorer: Scorer, number: int, row: Sequence[Any], columns: Columns,
              header: Sequence[str]) -> list[Any]:
    """rolecli's cells for one row: label, confidence, title check, off-topic reason, top
    reason, error."""
    row_id = cell_text(row, columns.id) or str(number)
    broken = row_error(row)
    text = cell_text(row, columns.text)
    try:
        if broken is not None:
            raise InputError(f"row {number}: {broken}")
        if text is None:
            raise InputError(
                f"row {number}: no text to classify (empty {header[columns.text]!r})")
        result = classify_posting(scorer, posting_text(text, row_id),
                                  cell_text(row, columns.title))
    except InputError as exc:
        return [None, None, None, None, None, None, " ".join(exc.message.split())]
    reason = result["reasons"][0] if result["reasons"] else None  # (it names the family)
    grade = result["title"]["grade"]
    if result["off_topic"]:
        return ["off-topic", round(result["confidence"], 4), result["title_check"], grade,
                reason, None, None]
    return [result["label"], round(result["confidence"], 4), result["title_check"], grade,
            None, reason, None]


class ScoredSheet(NamedTuple):
    header: list[str]
    rows: list[list[Any]]
    counts: Counter[str]  # rows by label ("off-topic", "error" included)
    grades: Counter[str]  # rows by title grade (agrees, leans, contradicts)
