#!/usr/bin/env python3
"""Coverage-guided fuzzing of the spreadsheets the page and `POST /v1/batch` take (CSV and
.xlsx bytes) and of the spreadsheets they give back.

Each input is a flag (read it as CSV or as .xlsx) and a file's bytes. `io.sheets.read_sheet`
must return a header and rows, or raise one SheetError line. A sheet with a text column is
scored (`serve.scoring.score_sheet`, at most 20 rows) and written back as CSV and .xlsx:
each must read back (openpyxl for .xlsx) with the same number of rows, rolecli's columns,
no formula anywhere and no text cell that a spreadsheet would run. Anything else raised is
a crash. Run it with fuzz/run.sh sheets (see fuzz/README.md).
"""

from __future__ import annotations

import csv
import io
import sys

import atheris

with atheris.instrument_imports(include=["rolecli", "openpyxl", "charset_normalizer"]):
    import openpyxl

    from rolecli.io.sheets import (
        SheetError,
        pick_columns,
        read_sheet,
        write_csv,
        write_xlsx,
    )
    from rolecli.serve.scoring import SHEET_COLUMNS, score_sheet
    from rolecli.tasks.classify import load_scorer

SCORER = load_scorer()
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 20  # scoring is the scorer's fuzzer's job; here, the sheet around it


def check(data: bytes, name: str) -> None:
    try:
        sheet = read_sheet(data, name)
    except SheetError as exc:
        assert exc.message.startswith(name) and "\n" not in exc.message, exc.message
        return
    try:
        columns = pick_columns(sheet.header)
    except SheetError as exc:
        assert "\n" not in exc.message, exc.message
        return
    sheet.rows = sheet.rows[:MAX_ROWS]
    scored = score_sheet(SCORER, sheet, columns)
    assert scored.header[-len(SHEET_COLUMNS):] == list(SHEET_COLUMNS)
    assert len(scored.rows) == len(sheet.rows)
    written = write_csv(scored.header, scored.rows).decode("utf-8-sig")
    previous = csv.field_size_limit(sys.maxsize)
    try:
        back = list(csv.reader(io.StringIO(written, newline="")))
    finally:
        csv.field_size_limit(previous)
    assert len(back) == len(scored.rows) + 1
    assert not [c for row in back for c in row if c.startswith(FORMULA_STARTS)]
    book = openpyxl.load_workbook(io.BytesIO(write_xlsx(scored.header, scored.rows)))
    cells = [c for row in book.active.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.coordinate for c in cells
                if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS)]


def test_one_input(raw: bytes) -> None:
    provider = atheris.FuzzedDataProvider(raw)
    name = "input.xlsx" if provider.ConsumeBool() else "input.csv"
    check(provider.ConsumeBytes(provider.remaining_bytes()), name)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
