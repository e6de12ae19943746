"""Spreadsheets of postings in and out: a CSV or Excel `.xlsx` file as bytes, bounded.

`read_sheet` reads the header and the rows (CSV as `rolecli batch` reads a table: the same
encoding rule, blank lines skipped; `.xlsx`: the first worksheet, cell values only).
`pick_columns` finds the text, title and id columns in the header. `write_csv` and
`write_xlsx` give the rows back with more columns, every text cell escaped so that no
spreadsheet runs it as a formula.

A formula in an `.xlsx` cell is never evaluated: the file is read with openpyxl's
`data_only`, which returns the value the spreadsheet program last stored for that cell (or
nothing), as data. The XML is parsed by defusedxml (no entities, no DTD), and the file's
declared unzipped size is checked before any of it is parsed. openpyxl (and defusedxml)
come with the `rolecli[serve]` extra and are imported only here, only for `.xlsx`.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from ..errors import InputError
from ..escape import spreadsheet_cell
from .documents import MAX_INPUT_BYTES, guess_encoding, mostly_utf8
from .tables import unbounded_fields

MAX_SHEET_ROWS = 5_000
MAX_SHEET_COLUMNS = 200
MAX_SHEET_BYTES = MAX_INPUT_BYTES
# An .xlsx is a zip: its parts unzipped are bounded too (a small file may inflate a lot).
MAX_XLSX_UNZIPPED = 64 * 1024 * 1024
# Rows an .xlsx may spell out, empty ones included, before it is refused as padding.
MAX_XLSX_PHYSICAL_ROWS = 100_000
XLSX_CELL_CHARS = 32_767  # Excel's limit for one cell: longer text would not open
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv"
SHEET_KINDS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
# The media types a spreadsheet is sent as (`POST /v1/batch` takes these besides JSONL).
SHEET_TYPES = (CSV_TYPE, "application/csv", XLSX_TYPE)

# Header names recognised for each column, compared without case, spaces, - or _.
TEXT_NAMES = ("text", "description", "jobdescription", "posting", "postingtext", "jd",
              "body", "content", "ad", "advert")
TITLE_NAMES = ("title", "jobtitle", "position", "role", "postingtitle")
ID_NAMES = ("id", "jobid", "postingid", "reference", "ref", "requisitionid", "reqid")
_PUNCTUATION = re.compile(r"[\s_\-.]+")
# Characters XML 1.0 cannot hold, which openpyxl refuses to write.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def limits_message() -> str:
    return (
        f"a spreadsheet may have at most {MAX_SHEET_ROWS:,} rows and "
        f"{MAX_SHEET_BYTES // (1024 * 1024)} MiB: split it into smaller files, or score it "
        "with `rolecli batch`, which has no limit"
    )


class SheetError(InputError):
    """A spreadsheet that cannot be read, or one past the limits: one line saying why."""


@dataclass
class Sheet:
    kind: str  # "csv" or "xlsx"
    header: list[str]
    rows: list[list[Any]]  # cells as read: CSV text; .xlsx text, numbers, dates, booleans


@dataclass(frozen=True)
class Columns:
    text: int
    title: int | None
    id: int | None

    def names(self, header: Sequence[str]) -> dict[str, str | None]:
        return {
            "text": header[self.text],
            "title": header[self.title] if self.title is not None else None,
            "id": header[self.id] if self.id is not None else None,
        }


def sheet_kind(data: bytes, name: str = "") -> str:
    """"xlsx" for a zip (as every .xlsx is), else "csv"."""
    return "xlsx" if data.startswith(b"PK\x03\x04") or name.lower().endswith(".xlsx") else "csv"


def read_sheet(data: bytes, name: str) -> Sheet:
    """The header and rows of a CSV or .xlsx file, or SheetError (unreadable, past limits)."""
    if len(data) > MAX_SHEET_BYTES:
        raise SheetError(f"{name}: {limits_message()}")
    if not data.strip():
        raise SheetError(f"{name}: the file is empty")
    kind = sheet_kind(data, name)
    rows = _xlsx_rows(data, name) if kind == "xlsx" else _csv_rows(data, name)
    header = next(rows, None)
    if header is None:
        raise SheetError(f"{name}: no header row (the first row names the columns)")
    body: list[list[Any]] = []
    for row in rows:
        if len(body) == MAX_SHEET_ROWS:
            raise SheetError(f"{name}: over {MAX_SHEET_ROWS:,} rows; {limits_message()}")
        body.append(row)
    names = ["" if cell is None else str(cell).strip() for cell in header]
    return Sheet(kind, names, body)


def _csv_rows(data: bytes, name: str) -> Iterator[list[Any]]:
    """Rows as `rolecli batch` reads a CSV table: blank lines skipped, a bad record kept as
    one error (the reason in place of its cells, see `row_error`)."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    while True:
        try:
            with unbounded_fields():  # a long posting passes csv's default field limit
                row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield [_BadRecord(f"not a CSV record ({exc})")]
            continue
        if len(row) > MAX_SHEET_COLUMNS:
            raise SheetError(f"{name}: over {MAX_SHEET_COLUMNS} columns")
        if row:
            yield list(row)


def _decode(data: bytes) -> str:
    # The rule `io.tables.text_encoding` applies to a table file: UTF-8 unless it is mostly
    # not, a byte-order mark dropped.
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore")) - bad
    if not mostly_utf8(bad, non_ascii):
        text = data.decode(guess_encoding(data[: 1 << 20]), "replace")
    return text.removeprefix("\ufeff")


class _BadRecord(str):
    """The reason a CSV record could not be read, standing in for its cells."""


def row_error(row: Sequence[Any]) -> str | None:
    return str(row[0]) if len(row) == 1 and isinstance(row[0], _BadRecord) else None


def _xlsx_rows(data: bytes, name: str) -> Iterator[list[Any]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # Reading a member never yields more than its declared size, so the sum bounds it.
            unzipped = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SheetError(f"{name}: not a readable .xlsx file ({exc})") from None
    if unzipped > MAX_XLSX_UNZIPPED:
        raise SheetError(
            f"{name}: unzips to over {MAX_XLSX_UNZIPPED // (1024 * 1024)} MiB; "
            + limits_message()
        )
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - the serve extra brings it
        raise SheetError(f"{name}: reading .xlsx needs openpyxl: pip install 'rolecli[serve]'"
                         ) from None
    try:
        # data_only: each cell's stored value; a formula is never evaluated, or kept as code.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise SheetError(f"{name}: not a readable .xlsx file ({_one_line(exc)})") from None
    try:
        if not book.worksheets:
            raise SheetError(f"{name}: the workbook has no worksheet")
        sheet = book.worksheets[0]
        if (sheet.max_column or 0) > MAX_SHEET_COLUMNS:
            raise SheetError(f"{name}: over {MAX_SHEET_COLUMNS} columns")
        rows = sheet.iter_rows(max_col=MAX_SHEET_COLUMNS, values_only=True)
        yield from _xlsx_values(rows, name)
    except SheetError:
        raise
    except Exception as exc:
        raise SheetError(f"{name}: not a readable .xlsx file ({_one_line(exc)})") from None
    finally:
        book.close()


def _xlsx_values(rows: Iterable[tuple[Any, ...]], name: str) -> Iterator[list[Any]]:
    for physical, row in enumerate(rows, start=1):
        if physical > MAX_XLSX_PHYSICAL_ROWS:
            raise SheetError(f"{name}: over {MAX_XLSX_PHYSICAL_ROWS:,} rows; {limits_message()}")
        cells = list(row)
        while cells and (cells[-1] is None or cells[-1] == ""):
            cells.pop()
        if cells:  # an empty row is skipped, as a blank line of a CSV file is
            yield cells


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def pick_columns(
    header: Sequence[str], text: str | None = None, title: str | None = None,
    id_: str | None = None,
) -> Columns:
    """The columns named (exactly), else found in the header by their usual names.

    Where a name appears twice, the last one counts, as in `rolecli batch`'s CSV reading."""
    found = _find(header, text, TEXT_NAMES)
    if found is None:
        wanted = f"no column {text!r}" if text else "no text column"
        shown = ", ".join(repr(h) for h in header[:20]) + (" ..." if len(header) > 20 else "")
        raise SheetError(
            f"{wanted} (looked for {', '.join(TEXT_NAMES[:4])}, ...): the header has {shown}"
        )
    title_at = _find(header, title, TITLE_NAMES)
    id_at = _find(header, id_, ID_NAMES)
    for given, at, what in ((title, title_at, "title"), (id_, id_at, "id")):
        if given and at is None:
            raise SheetError(f"no {what} column {given!r} in the header")
    return Columns(found, title_at, id_at)


def _find(header: Sequence[str], given: str | None, usual: Sequence[str]) -> int | None:
    if given:
        exact = [i for i, name in enumerate(header) if name == given.strip()]
        return exact[-1] if exact else None
    keys = [_PUNCTUATION.sub("", name).lower() for name in header]
    for name in usual:
        matches = [i for i, key in enumerate(keys) if key == name]
        if matches:
            return matches[-1]
    return None


def cell_text(row: Sequence[Any], index: int | None) -> str | None:
    """A cell as text (None when absent or empty): numbers and dates as a person reads them."""
    if index is None or index >= len(row) or row[index] is None:
        return None
    value = plain(row[index])
    return value if value.strip() else None


def plain(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV (UTF-8 with a byte-order mark, so Excel reads it as UTF-8), every cell escaped."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in [header, *rows]:
        writer.writerow(["" if cell is None else spreadsheet_cell(plain(cell)) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """An .xlsx workbook of one sheet: numbers and dates stay what they are, text is escaped
    (so none of it is a formula) and cut to the 32,767 characters a cell holds."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("rolecli")
    for row in [header, *rows]:
        sheet.append([_xlsx_cell(cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, datetime, date, time)):
        return value
    text = _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", spreadsheet_cell(str(value)))
    return text if len(text) <= XLSX_CELL_CHARS else text[: XLSX_CELL_CHARS - 1] + "…"
