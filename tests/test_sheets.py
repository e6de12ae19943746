"""Spreadsheets in and out (io/sheets.py): CSV and .xlsx read within bounds, columns picked
from the header, formulas never evaluated, and every written cell safe from formula
injection. Over HTTP, with the same labels as `rolecli batch`: test_serve_page.py."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolecli.escape import spreadsheet_cell
from rolecli.io.sheets import (
    MAX_SHEET_ROWS,
    MAX_XLSX_UNZIPPED,
    SheetError,
    cell_text,
    pick_columns,
    read_sheet,
    write_csv,
    write_xlsx,
)

openpyxl = pytest.importorskip("openpyxl")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
INJECTIONS = ["=HYPERLINK(\"http://x.invalid\",\"click\")", "+1+1", "-2+3", "@SUM(A1)",
              "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- escape.spreadsheet_cell ------------------------------------------------------------------


def test_cells_a_spreadsheet_would_run_get_a_quote():
    for value in INJECTIONS:
        assert spreadsheet_cell(value) == "'" + value
    for value in ["", "ML engineer", "a=b", "3-4 years", " =not first", "'quoted"]:
        assert spreadsheet_cell(value) == value


@given(st.text())
def test_escaped_cells_never_start_a_formula(value):
    escaped = spreadsheet_cell(value)
    assert not escaped.startswith(FORMULA_STARTS)
    assert escaped in (value, "'" + value)  # nothing else changes


# -- reading --------------------------------------------------------------------------------


def test_csv_header_and_rows_with_columns_picked_by_their_usual_names():
    data = (b"Job ID,Job Title,Job Description,Salary\r\n7,ML Engineer,Deploy models,100\r\n"
            b"\r\n8,,Run experiments,\r\n")
    sheet = read_sheet(data, "jobs.csv")
    assert sheet.kind == "csv"
    assert sheet.header == ["Job ID", "Job Title", "Job Description", "Salary"]
    assert sheet.rows == [["7", "ML Engineer", "Deploy models", "100"],
                          ["8", "", "Run experiments", ""]]  # the blank line is skipped
    columns = pick_columns(sheet.header)
    assert (columns.text, columns.title, columns.id) == (2, 1, 0)
    assert cell_text(sheet.rows[1], columns.title) is None  # an empty cell is no title
    chosen = pick_columns(sheet.header, text="Salary", title=None, id_="Job ID")
    assert (chosen.text, chosen.id) == (3, 0)


def test_a_header_without_a_text_column_is_one_line_naming_what_it_has():
    with pytest.raises(SheetError) as caught:
        pick_columns(["name", "city"])
    assert "no text column" in caught.value.message and "'name', 'city'" in caught.value.message
    with pytest.raises(SheetError, match="no column 'body text'"):
        pick_columns(["text"], text="body text")
    with pytest.raises(SheetError, match="no title column 'Role'"):
        pick_columns(["text"], title="Role")


def test_csv_in_windows_1252_and_with_a_byte_order_mark():
    latin = "text,title\r\nCafé ML engineer: déploiement,Ingénieur\r\n".encode("cp1252")
    assert read_sheet(latin, "a.csv").rows == [["Café ML engineer: déploiement", "Ingénieur"]]
    marked = "\ufefftext\r\nhello\r\n".encode()
    assert read_sheet(marked, "b.csv").header == ["text"]


def test_a_long_posting_passes_and_the_csv_limit_is_left_alone():
    before = csv.field_size_limit()
    long = "Deploy models. " * 20_000  # 300,000 characters: past csv's default 131,072
    data = write_csv(["text"], [[long]])
    assert read_sheet(data, "long.csv").rows == [[long]]
    assert csv.field_size_limit() == before


def test_xlsx_values_are_read_and_formulas_never_run():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "text", "score"])
    sheet.append([1, "Deploy models to production", 3.5])
    sheet["C3"] = "=1+1"  # a formula openpyxl saves without a cached value
    sheet["B3"] = "Run experiments"
    sheet["A3"] = 2
    out = io.BytesIO()
    book.save(out)
    parsed = read_sheet(out.getvalue(), "jobs.xlsx")
    assert parsed.kind == "xlsx"
    assert parsed.header == ["id", "text", "score"]
    # The formula is neither evaluated (2) nor kept as its code ("=1+1"): no stored value.
    assert parsed.rows == [[1, "Deploy models to production", 3.5], [2, "Run experiments"]]
    assert cell_text(parsed.rows[0], 0) == "1" and cell_text(parsed.rows[0], 2) == "3.5"


def test_xlsx_cached_formula_results_are_read_as_values(tmp_path):
    # A spreadsheet program stores each formula's last result beside it: that is data.
    book = openpyxl.Workbook()
    book.active.append(["text"])
    book.active.append(["=CONCAT(\"a\",\"b\")"])
    path = tmp_path / "cached.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
    assert "<f>" in sheet_xml
    parts["xl/worksheets/sheet1.xml"] = sheet_xml.replace(
        "<v></v>", "").replace("</f>", "</f><v>=HYPERLINK(1)</v>").replace(
        '<c r="A2"', '<c r="A2" t="str"').encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    parsed = read_sheet(out.getvalue(), "cached.xlsx")
    assert parsed.rows == [["=HYPERLINK(1)"]]  # the cached text, as text
    written = write_xlsx(parsed.header, parsed.rows)
    back = openpyxl.load_workbook(io.BytesIO(written)).active
    assert back["A2"].data_type == "s" and back["A2"].value == "'=HYPERLINK(1)"


def test_rows_past_the_limit_are_one_clear_message():
    data = ("text\n" + "Deploy models\n" * (MAX_SHEET_ROWS + 1)).encode()
    with pytest.raises(SheetError) as caught:
        read_sheet(data, "big.csv")
    assert f"over {MAX_SHEET_ROWS:,} rows" in caught.value.message
    assert "split it" in caught.value.message and "\n" not in caught.value.message
    assert len(read_sheet(data[: data.rindex(b"Deploy")], "ok.csv").rows) == MAX_SHEET_ROWS
    rows = [["text"]] + [["Deploy models"]] * (MAX_SHEET_ROWS + 1)
    with pytest.raises(SheetError, match=f"over {MAX_SHEET_ROWS:,} rows"):
        read_sheet(xlsx(rows), "big.xlsx")


def test_an_xlsx_that_unzips_too_far_is_refused_before_it_is_parsed():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (MAX_XLSX_UNZIPPED + 1))
    data = out.getvalue()
    assert len(data) < 1024 * 1024  # a small upload
    with pytest.raises(SheetError, match="unzips to over 64 MiB"):
        read_sheet(data, "bomb.xlsx")


@pytest.mark.parametrize("data", [
    b"PK\x03\x04 not really a zip", b"PK\x03\x04" + bytes(range(256)) * 10,
])
def test_a_damaged_xlsx_is_one_line(data):
    with pytest.raises(SheetError) as caught:
        read_sheet(data, "broken.xlsx")
    assert caught.value.message.startswith("broken.xlsx: not a readable .xlsx file")


def test_an_xlsx_with_entities_is_refused():
    # defusedxml: a DTD (the billion-laughs attack) is never expanded.
    book = xlsx([["text"], ["hello"]])
    parts = {}
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    laughs = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')
    sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
    body = sheet_xml.split("?>", 1)[-1]  # after its XML declaration, if it has one
    parts["xl/worksheets/sheet1.xml"] = (laughs + body).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(SheetError, match=r"not a readable \.xlsx file"):
        read_sheet(out.getvalue(), "laughs.xlsx")


def test_empty_and_headless_files():
    with pytest.raises(SheetError, match="the file is empty"):
        read_sheet(b"  \n", "empty.csv")
    with pytest.raises(SheetError, match="no header row"):
        read_sheet(xlsx([]), "blank.xlsx")


# -- writing --------------------------------------------------------------------------------


def test_written_csv_escapes_every_cell_a_spreadsheet_would_run():
    data = write_csv(["text", "note"], [[value, value] for value in INJECTIONS])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["text", "note"]
    for row, value in zip(rows[1:], INJECTIONS):
        assert row == ["'" + value, "'" + value]


def test_written_xlsx_holds_no_formula_and_keeps_numbers():
    data = write_xlsx(["text", "n", "bad"], [[value, 3, "a\x00b\x1bc"] for value in INJECTIONS])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active  # formulas kept as formulas
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    for (text, number, bad), value in zip(values, INJECTIONS):
        assert text == "'" + value
        assert number == 3
        assert bad == "a\\x00b\\x1bc"  # characters XML cannot hold, shown as escapes


def test_a_cell_longer_than_excel_holds_is_cut_with_a_mark():
    sheet = openpyxl.load_workbook(io.BytesIO(write_xlsx(["text"], [["x" * 40_000]]))).active
    value = sheet["A2"].value
    assert len(value) == 32_767 and value.endswith("…")


# -- properties ---------------------------------------------------------------------------------

CELLS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(st.lists(st.lists(CELLS, min_size=1, max_size=4), min_size=1, max_size=6))
def test_csv_written_then_read_is_the_cells_escaped(rows):
    width = max(map(len, rows))
    header = [f"c{i}" for i in range(width)]
    read = read_sheet(write_csv(header, rows), "round.csv")
    assert read.header == header
    assert read.rows == [[spreadsheet_cell(cell) for cell in row] for row in rows]


@given(st.binary(max_size=2048), st.sampled_from(["a.csv", "a.xlsx"]))
def test_any_bytes_are_a_sheet_or_one_reason(data, name):
    for blob in (data, b"PK\x03\x04" + data):
        try:
            sheet = read_sheet(blob, name)
        except SheetError as exc:
            assert exc.message.startswith(name) and "\n" not in exc.message
            continue
        assert all(isinstance(h, str) for h in sheet.header)
        assert all(row for row in sheet.rows)
