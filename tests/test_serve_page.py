"""The page's live scoring (POST /live) and its spreadsheets (POST /sheet, and POST /v1/batch
with a CSV or .xlsx body), over HTTP against the installed `rolecli serve`.

The same postings give the same labels through the page's spreadsheet path, the API and
`rolecli batch`. Browser tests of the same: test_serve_browser.py.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from conftest import DEV_POSTINGS, EXAMPLES, shared_rows
from serving import HOSTILE, running_server
from test_serve import multipart

openpyxl = pytest.importorskip("openpyxl")

from rolecli import classify, explain  # noqa: E402
from rolecli.io.sheets import MAX_SHEET_ROWS, XLSX_TYPE  # noqa: E402
from rolecli.serve.requests import MAX_LIVE_CHARS  # noqa: E402

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.txt"))
TOKEN = "s3cret-token-for-the-tests-0123"
ADDED = ["rolecli_label", "rolecli_confidence", "rolecli_title_check", "rolecli_title_grade",
         "rolecli_off_topic_reason", "rolecli_top_reason", "rolecli_error"]
SHARED_ROWS = 120  # real postings in the label comparison, when ../shared/data is there


@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


def live(server, body: dict, **kwargs):
    return server.post_json("/live", body, **kwargs)


# -- live scoring -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_live_update_is_the_explanation_with_the_server_time(server, path):
    text = path.read_text(encoding="utf-8")
    status, headers, data = live(server, {"text": text, "title": None})
    assert status == 200, data
    expected = explain(text)
    assert data["label"] == expected["label"]
    assert data["confidence_text"] == expected["confidence_text"]
    assert data["probabilities"] == expected["probabilities"]
    assert data["server_ms"] > 0
    assert headers["server-timing"] == f"score;dur={data['server_ms']}"
    assert data["document_title"].endswith(": pasted text (rolecli)")
    assert '<header class="card hero">' in data["html"]
    assert '<details class="card how">' in data["html"]  # the maths, folded
    assert 'class="without"' in data["html"] or not any(
        s["decisive"] for s in expected["sentences"])


def test_live_title_changes_the_title_check(server):
    text = (EXAMPLES / "ml-engineer.txt").read_text(encoding="utf-8")
    _, _, plain = live(server, {"text": text})
    _, _, titled = live(server, {"text": text, "title": "Senior Data Scientist"})
    expected = explain(text, title="Senior Data Scientist")
    assert titled["label"] == expected["label"]
    assert "Senior Data Scientist" in titled["html"] and 'class="check warn"' in titled["html"]
    assert plain["html"] != titled["html"]


def test_without_a_line_is_the_text_scored_again_without_it(server):
    text = (EXAMPLES / "ranking-scientist-engineer.txt").read_text(encoding="utf-8")
    lines = [s for s in explain(text)["sentences"] if s["decisive"]]
    for line in lines[:4]:
        start, end = line["start"], line["end"]
        status, _, data = live(server, {"text": text, "without": [{"start": start, "end": end}]})
        assert status == 200, data
        # Cut independently here: the line, and the newline that ended it.
        rest = text[:start] + text[end + (text[end:end + 1] == "\n"):]
        expected = classify(rest)
        assert (data["label"], data["probabilities"]) == (expected["label"],
                                                          expected["probabilities"])
        assert "html" not in data and data["server_ms"] > 0


def test_without_every_line_leaves_nothing_to_score(server):
    text = "Deploy models to production"
    status, _, data = live(server, {"text": text, "without": [{"start": 0, "end": len(text)}]})
    assert status == 422 and "no text to classify" in data["error"]


@pytest.mark.parametrize("without, reason", [
    ("0-5", "must be a list"),
    ([{"start": 5, "end": 2}], "within the text"),
    ([{"start": 0, "end": 10_000}], "within the text"),
    ([{"start": True, "end": 3}], "within the text"),
    ([[0, 3]], "within the text"),
    ([{"start": 0, "end": 1}] * 51, "at most 50"),
])
def test_bad_without_is_422(server, without, reason):
    status, _, data = live(server, {"text": "Deploy models to production", "without": without})
    assert status == 422 and reason in data["error"]


def test_live_refuses_what_the_api_refuses(server):
    assert live(server, {"text": "   "})[0] == 422
    assert live(server, {"text": "x", "extra": 1})[0] == 422
    status, _, _ = server.request("POST", "/live", "text=x",
                                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415  # a cross-site form cannot post here without a preflight


def test_live_is_for_a_posting_being_written_not_a_book(server):
    text = (EXAMPLES / "ml-engineer.txt").read_text(encoding="utf-8")
    long = (text + "\n") * (MAX_LIVE_CHARS // len(text) + 1)
    status, _, data = live(server, {"text": long})
    assert status == 413
    assert data["error"] == (f"text longer than {MAX_LIVE_CHARS:,} characters: check it with "
                             "the form's button instead of live")
    assert live(server, {"text": long[:MAX_LIVE_CHARS]})[0] == 200


def test_live_posting_markup_stays_text(server):
    status, _, data = live(server, {"text": HOSTILE, "title": "<img src=x onerror=alert(1)>"})
    assert status == 200
    assert "<script" not in data["html"] and "<img" not in data["html"]
    assert "&lt;script&gt;window.__pwned=1" in data["html"]


def test_live_and_sheets_need_the_token(rolecli):
    with running_server(env={"ROLECLI_TOKEN": TOKEN}, token=TOKEN) as server:
        assert live(server, {"text": "Deploy models"}, auth=False)[0] == 401
        assert live(server, {"text": "Deploy models"})[0] == 200
        body, headers = multipart({}, {"file": ("jobs.csv", b"text\nDeploy models\n")})
        status, _, page = server.request("POST", "/sheet", body, headers)
        assert status == 401 and b"missing or wrong token" in page
        body, headers = multipart({"token": TOKEN}, {"file": ("jobs.csv", b"text\nDeploy\n")})
        assert server.request("POST", "/sheet", body, headers)[0] == 200
        status, _, _ = server.request("POST", "/v1/batch", b"text\nDeploy\n",
                                      {"Content-Type": "text/csv"}, auth=False)
        assert status == 401


# -- spreadsheets -------------------------------------------------------------------------------


def postings() -> list[dict[str, str]]:
    """Example postings, and real ones from ../shared/data when it is there; a few rows the
    scorer cannot score; titles on some."""
    rows = [{"id": f"ex-{i}", "title": "ML Engineer" if i == 1 else "", "text": p.read_text(
        encoding="utf-8")} for i, p in enumerate(EXAMPLE_FILES)]
    if DEV_POSTINGS.is_file():
        rows += [{"id": r["id"], "title": r["title"], "text": r["text"]}
                 for r in shared_rows()[:SHARED_ROWS]]
    rows.insert(3, {"id": "empty", "title": "Data Scientist", "text": "   "})
    rows.insert(5, {"id": "formula", "title": "=1+1", "text": "=HYPERLINK(\"x\")\n"
                    "Deploy models to production and monitor serving latency"})
    return rows


def as_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, ["id", "title", "text"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def as_xlsx(rows: list[dict[str, str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "title", "text"])
    for row in rows:
        sheet.append([row["id"], row["title"] or None, row["text"]])
    for cell in sheet["B"] + sheet["C"]:
        cell.data_type = "s"  # text as typed, never a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_csv(data: bytes) -> list[dict[str, str]]:
    previous = csv.field_size_limit(2**31 - 1)
    try:
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    finally:
        csv.field_size_limit(previous)


def read_xlsx(data: bytes) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def batch_labels(rolecli, tmp_path, rows) -> dict[str, str | None]:
    table = tmp_path / "postings.csv"
    table.write_bytes(as_csv(rows))
    result = rolecli("batch", table, "--id-column", "id", "--title-column", "title",
                     "--format", "jsonl")
    assert result.returncode in (0, 3, 5), result.stderr  # 5: some rows were errors
    return {row["id"]: (row["label"] if row["status"] == "ok" else "error")
            for row in map(json.loads, result.stdout.splitlines())}


def sheet_labels(rows: list[dict]) -> dict[str, str | None]:
    labels = {}
    for row in rows:
        label = row["rolecli_label"] or None
        labels[str(row["id"])] = ("error" if row["rolecli_error"] else
                                  None if label == "off-topic" else label)
    return labels


def test_the_page_the_api_and_rolecli_batch_give_the_same_labels(server, rolecli, tmp_path):
    rows = postings()
    expected = batch_labels(rolecli, tmp_path, rows)
    assert len(expected) == len(rows) and expected["empty"] == "error"
    got = {}
    for kind, data in (("csv", as_csv(rows)), ("xlsx", as_xlsx(rows))):
        for out in ("csv", "xlsx"):
            body, headers = multipart({"format": out}, {"file": (f"jobs.{kind}", data)})
            status, answer_headers, answer = server.request("POST", "/sheet", body, headers)
            assert status == 200, answer[:300]
            assert answer_headers["content-disposition"].startswith(
                f'attachment; filename="jobs-rolecli.{out}"')
            assert answer_headers["x-rolecli-rows"].startswith(f"{len(rows)}; engineer=")
            # How many bodies agree with their titles, lean the other way, or contradict them.
            grades = dict(pair.split("=") for pair in
                          answer_headers["x-rolecli-titles"].split("; "))
            assert list(grades) == ["agrees", "leans", "contradicts"]
            back = (read_csv if out == "csv" else read_xlsx)(answer)
            assert sum(map(int, grades.values())) == sum(
                1 for r in back if r["rolecli_title_grade"])
            got[f"page {kind}->{out}"] = (read_csv if out == "csv" else read_xlsx)(answer)
        media = "text/csv" if kind == "csv" else XLSX_TYPE
        status, answer_headers, answer = server.request("POST", "/v1/batch", data,
                                                        {"Content-Type": media})
        assert status == 200 and answer_headers["content-type"].startswith(media)
        got[f"api {kind}"] = (read_csv if kind == "csv" else read_xlsx)(answer)
    for path, table in got.items():
        assert sheet_labels(table) == expected, path
        assert list(table[0])[:3] == ["id", "title", "text"] and list(table[0])[3:] == ADDED
    # The same rows back, each with its own cells, in order; formulas escaped.
    table = got["page csv->csv"]
    assert [r["id"] for r in table] == [r["id"] for r in rows]
    formula = next(r for r in table if r["id"] == "formula")
    assert formula["title"] == "'=1+1" and formula["text"].startswith("'=HYPERLINK")
    empty = next(r for r in table if r["id"] == "empty")
    assert empty["rolecli_error"] == "row 4: no text to classify (empty 'text')"
    assert not empty["rolecli_label"]
    for row in table:
        if row["rolecli_label"] in ("engineer", "scientist", "mixed"):
            assert row["rolecli_top_reason"] and not row["rolecli_off_topic_reason"]
            assert 0 <= float(row["rolecli_confidence"]) <= 1
        if row["rolecli_label"] == "off-topic":
            assert row["rolecli_off_topic_reason"] and not row["rolecli_top_reason"]
    titled = next(r for r in table if r["id"] == "ex-1")
    assert titled["rolecli_title_check"].startswith("Titled “ML Engineer”")
    assert isinstance(got["page xlsx->xlsx"][0]["rolecli_confidence"], float)


def test_the_api_answers_in_the_format_accept_names(server):
    text = (EXAMPLES / "ml-engineer.txt").read_text(encoding="utf-8")
    data = as_csv([{"id": "1", "title": "", "text": text}])
    status, headers, answer = server.request(
        "POST", "/v1/batch", data, {"Content-Type": "text/csv", "Accept": XLSX_TYPE})
    assert status == 200 and headers["content-type"] == XLSX_TYPE
    assert read_xlsx(answer)[0]["rolecli_label"] == classify(text)["label"] == "engineer"
    status, headers, answer = server.request(
        "POST", "/v1/batch?text_column=body", b"ref,body\n9,Run experiments and publish papers\n",
        {"Content-Type": "text/csv; charset=utf-8"})
    assert status == 200 and read_csv(answer)[0]["rolecli_label"]
    status, _, answer = server.request("POST", "/v1/batch", b"name\nx\n",
                                       {"Content-Type": "text/csv"})
    assert status == 422
    assert json.loads(answer)["error"].startswith("no text column (looked for text, description")


def test_spreadsheet_limits_are_one_clear_message(server):
    rows = b"text\n" + b"Deploy models to production\n" * (MAX_SHEET_ROWS + 1)
    body, headers = multipart({}, {"file": ("many.csv", rows)})
    status, _, page = server.request("POST", "/sheet", body, headers)
    assert status == 422
    alert = re.search(rb'role="alert"><h2>Could not score the spreadsheet</h2><p>(.*?)</p>', page)
    assert alert is not None
    assert alert.group(1).decode() == (
        f"many.csv: over {MAX_SHEET_ROWS:,} rows; a spreadsheet may have at most "
        f"{MAX_SHEET_ROWS:,} rows and 8 MiB: split it into smaller files, or score it with "
        "`rolecli batch`, which has no limit")
    big = b"text\n" + b"Deploy models to production\n" * 330_000  # over 8 MiB
    status, _, answer = server.request("POST", "/v1/batch", big, {"Content-Type": "text/csv"})
    assert status == 413 and json.loads(answer)["error"].startswith("a spreadsheet may have")
    body, headers = multipart({}, {"file": ("big.csv", big)})
    status, _, page = server.request("POST", "/sheet", body, headers)
    assert status == 413 and b"a spreadsheet may have at most" in page


def test_spreadsheet_errors_without_javascript_are_on_the_page(server):
    for files, reason in (
        ({}, b"choose a .csv or .xlsx file of postings"),
        ({"file": ("jobs.xlsx", b"PK\x03\x04 broken")}, b"jobs.xlsx: not a readable .xlsx file"),
        ({"file": ("names.csv", b"name,city\nA,B\n")}, b"no text column"),
    ):
        body, headers = multipart({}, files)
        status, headers_back, page = server.request("POST", "/sheet", body, headers)
        assert status == 422 and headers_back["content-type"].startswith("text/html")
        assert reason in page
        assert b'<textarea id="text"' in page  # the page is whole: the user carries on


def test_column_names_given_on_the_form(server):
    data = b"ref,headline,advert\nA7,Research Scientist,Run experiments and publish papers\n"
    body, headers = multipart({"text_column": "advert", "title_column": "headline",
                               "id_column": "ref"}, {"file": ("jobs.csv", data)})
    status, headers_back, answer = server.request("POST", "/sheet", body, headers)
    assert status == 200
    assert headers_back["x-rolecli-columns"] == "text=advert; title=headline; id=ref"
    row = read_csv(answer)[0]
    assert row["rolecli_title_check"].startswith("Titled “Research Scientist”")
    body, headers = multipart({"text_column": "missing"}, {"file": ("jobs.csv", data)})
    status, _, page = server.request("POST", "/sheet", body, headers)
    assert status == 422 and b"no column &#x27;missing&#x27;" in page
