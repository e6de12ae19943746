"""A spreadsheet of postings in, the same spreadsheet with rolecli's columns out: for the
page's spreadsheet form and for `POST /v1/batch` with a CSV or `.xlsx` body."""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import NamedTuple
from urllib.parse import quote

from ..io.sheets import (
    SHEET_KINDS,
    XLSX_TYPE,
    SheetError,
    limits_message,
    pick_columns,
    read_sheet,
    write_csv,
    write_xlsx,
)
from ..model.scorer import Scorer
from .requests import RequestError
from .scoring import score_sheet

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class SheetAnswer(NamedTuple):
    body: bytes
    media_type: str
    headers: dict[str, str]


def sheet_answer(
    scorer: Scorer, data: bytes, name: str, out_kind: str | None,
    text_column: str | None = None, title_column: str | None = None,
    id_column: str | None = None,
) -> SheetAnswer:
    """The scored spreadsheet as `out_kind` ("csv", "xlsx"; None: as it came), or
    RequestError 422 with the one line that says why not."""
    try:
        sheet = read_sheet(data, name)
        columns = pick_columns(sheet.header, text_column, title_column, id_column)
    except SheetError as exc:
        raise RequestError(422, exc.message) from None
    scored = score_sheet(scorer, sheet, columns)
    kind = out_kind or sheet.kind
    body = (write_xlsx if kind == "xlsx" else write_csv)(scored.header, scored.rows)
    stem = _UNSAFE_NAME.sub("_", PurePath(name).stem).strip("._") or "postings"
    filename = f"{stem}-rolecli.{kind}"
    counts = "; ".join(f"{label}={scored.counts[label]}" for label in
                       ("engineer", "scientist", "mixed", "off-topic", "error"))
    found = columns.names(sheet.header)
    return SheetAnswer(body, SHEET_KINDS[kind], {
        "content-disposition": f"attachment; filename=\"{filename}\"; "
                               f"filename*=UTF-8''{quote(filename)}",
        # What the page shows once the file is back: how many rows, read from which columns.
        "x-rolecli-rows": f"{len(scored.rows)}; {counts}",
        "x-rolecli-titles": "; ".join(f"{grade}={scored.grades[grade]}"
                                      for grade in ("agrees", "leans", "contradicts")),
        "x-rolecli-columns": "; ".join(
            f"{what}={quote(column)}" for what, column in found.items() if column is not None),
    })


def out_kind(requested: str | None, accept: str = "") -> str | None:
    """The format asked for: the form's choice, else what Accept names, else None (as sent)."""
    if requested in SHEET_KINDS:
        return requested
    if XLSX_TYPE in accept:
        return "xlsx"
    return "csv" if "text/csv" in accept else None


def too_large_sheet() -> RequestError:
    return RequestError(413, limits_message())
