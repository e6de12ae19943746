"""One reading of every table: a JSONL file, the same lines on stdin and the same lines
posted to /v1/batch give the same rows, byte for byte; a row's "id" and "title" are used
when present, and the options override them."""

from __future__ import annotations

import csv
import json

import pytest
from batch_inputs import jsonl
from conftest import EXAMPLES
from serving import running_server

pytest.importorskip("starlette", reason="pip install 'rolecli[serve]'")

ENGINEER = (EXAMPLES / "ml-engineer.txt").read_text(encoding="utf-8")
SCIENTIST = (EXAMPLES / "data-scientist.txt").read_text(encoding="utf-8")
MIXED = (EXAMPLES / "ranking-scientist-engineer.txt").read_text(encoding="utf-8")
RECIPE = (EXAMPLES / "not-a-job.txt").read_text(encoding="utf-8")
SHORT = "Deploy and monitor ML models in production; build training pipelines on Kubernetes."


def _line(value: object) -> str:
    return json.dumps(value)


# Every kind of row a table holds: ids given, missing, repeated, typed wrong; titles given,
# missing, typed wrong, too long, on two lines; text missing, empty, typed wrong; lines that
# are not objects, not JSON, nested too deep; other fields; lone surrogates; CR LF endings.
LINES = [
    _line({"id": "a-1", "title": "Senior Data Scientist", "text": ENGINEER}),
    _line({"id": 7, "text": SCIENTIST}),
    _line({"text": MIXED, "company": "Acme", "salary": 120000}),
    _line({"id": "a-1", "text": SHORT}),
    _line({"id": "", "title": None, "text": SHORT}),
    "",
    "{not json",
    "null",
    "[1, 2]",
    _line({"id": "typed-title", "title": 42, "text": SHORT}),
    _line({"id": "long-title", "title": "Engineer " * 40, "text": SHORT}),
    _line({"id": "two-lines", "title": "Machine Learning\nEngineer", "text": SCIENTIST}),
    _line({"id": "typed-text", "text": 42}),
    _line({"id": "empty-text", "text": "   "}),
    _line({"id": "no-text"}),
    _line({"id": "recipe", "text": RECIPE}),
    _line({"id": ["x"], "text": SHORT}),
    _line({"id": True, "text": SHORT}),
    _line({"id": 1.5, "text": SHORT}),
    '{"id": "sur\\ud800rogate", "title": "ML \\udc80 Engineer", "text": "' + SHORT + '"}',
    '{"id": "separator", "text": "Build ML pipelines\u2028and deploy models to production"}',
    "[" * 50_000 + "]" * 50_000,
    '{"id": 1' + "0" * 5000 + ', "text": "x"}',
    _line({"id": "   ", "title": "   ", "text": SHORT}),
]


def _body(lines: list[str], encoding: str = "utf-8-sig") -> bytes:
    # CR LF after every third line, as an export from Windows has them.
    text = "".join(line + ("\r\n" if number % 3 == 0 else "\n")
                   for number, line in enumerate(lines))
    return text.encode(encoding, "surrogatepass")


@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


def _three_ways(rolecli, server, tmp_path, body: bytes,
                code: int = 5) -> tuple[bytes, bytes, bytes]:
    """The rows of `body` as a JSONL file, on stdin and posted to /v1/batch."""
    table = tmp_path / "rows.jsonl"
    table.write_bytes(body)
    from_file = rolecli("batch", table, "-f", "jsonl", "-q")
    from_stdin = rolecli("batch", "-", "-f", "jsonl", "-q", input=body)
    status, _, from_api = server.request("POST", "/v1/batch", body,
                                         {"Content-Type": "application/x-ndjson"})
    assert from_file.returncode == from_stdin.returncode == code, from_file.stderr
    assert status == 200, from_api
    return from_file.stdout, from_stdin.stdout, from_api


def test_a_file_stdin_and_the_api_give_the_same_rows_byte_for_byte(rolecli, server, tmp_path):
    from_file, from_stdin, from_api = _three_ways(rolecli, server, tmp_path, _body(LINES))
    assert from_stdin == from_file
    assert from_api == from_file
    rows = {row["id"]: row for row in jsonl(from_file)}
    assert list(rows) == [
        "a-1", "7", "3", "a-1~2", "5", "6", "7~2", "8", "typed-title", "long-title",
        "two-lines", "typed-text", "empty-text", "no-text", "recipe", "16", "17", "1.5",
        "sur\\ud800rogate", "separator", "21", "22", "23",
    ]
    assert rows["a-1"]["title"] == {"text": "Senior Data Scientist", "label": "scientist",
                                    "agrees": False, "grade": "contradicts"}
    assert rows["two-lines"]["title"]["text"] == "Machine Learning Engineer"
    assert rows["sur\\ud800rogate"]["title"]["text"] == "ML \ufffd Engineer"
    assert rows["3"]["status"] == "ok" and rows["recipe"]["off_topic"] is True
    errors = {key: row["error"] for key, row in rows.items() if row["status"] == "error"}
    assert errors == {
        "6": "row 6: not valid JSON (Expecting property name enclosed in double quotes)",
        "7~2": "row 7: a JSON null, not an object",
        "8": "row 8: a JSON array, not an object",
        "typed-title": "row 9: 'title' is int, not a title",
        "long-title": "row 10: 'title' is longer than 300 characters, not a job title",
        "typed-text": "row 12: 'text' is int, not text",
        "empty-text": "row 13: no text to classify (empty 'text')",
        "no-text": "row 14: no 'text' field (its fields: 'id')",
        "16": "row 16: 'id' is list, not an id",
        "17": "row 17: 'id' is bool, not an id",
        "21": "row 21: JSON nested too deeply",
        "22": "row 22: a number too long to read (over 4,300 digits)",
    }


def test_windows_1252_rows_read_alike_in_all_three(rolecli, server, tmp_path):
    lines = [_line({"id": "café", "title": "Ingénieur ML", "text": ENGINEER}),
             _line({"id": "naïve", "text": SCIENTIST + " Café – “quoted”"})]
    body = "".join(json.dumps(json.loads(line), ensure_ascii=False) + "\n"
                   for line in lines).encode("cp1252")
    from_file, from_stdin, from_api = _three_ways(rolecli, server, tmp_path, body, code=0)
    assert from_stdin == from_file == from_api
    rows = jsonl(from_file)
    assert [row["id"] for row in rows] == ["café", "naïve"]
    assert rows[0]["title"]["text"] == "Ingénieur ML"


def test_options_override_the_id_and_title_fields(rolecli, tmp_path):
    rows = [
        {"id": "field-1", "job": "job-1", "title": "Data Scientist", "role": "ML Engineer",
         "text": ENGINEER},
        {"id": "field-2", "job": "job-2", "title": "ML Engineer", "role": "", "text": ENGINEER},
    ]
    table = tmp_path / "rows.jsonl"
    table.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    csv_table = tmp_path / "rows.csv"
    with csv_table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    def titles(*args: str, source: str = "file", path=table) -> list[tuple[str, str | None]]:
        if source == "file":
            result = rolecli("batch", path, "-f", "jsonl", "-q", *args)
        else:
            result = rolecli("batch", "-", "-f", "jsonl", "-q", *args, input=path.read_bytes())
        assert result.returncode == 0, result.stderr
        return [(row["id"], row["title"]["text"]) for row in jsonl(result.stdout)]

    for source, path in (("file", table), ("stdin", table), ("file", csv_table)):
        assert titles(source=source, path=path) == [
            ("field-1", "Data Scientist"), ("field-2", "ML Engineer")]
        assert titles("--id-column", "job", source=source, path=path) == [
            ("job-1", "Data Scientist"), ("job-2", "ML Engineer")]
        assert titles("--title", "Staff Engineer", source=source, path=path) == [
            ("field-1", "Staff Engineer"), ("field-2", "Staff Engineer")]
        # A --title-column cell wins; where it is empty, --title stands in.
        assert titles("--title-column", "role", "--title", "Staff Engineer", source=source,
                      path=path) == [("field-1", "ML Engineer"), ("field-2", "Staff Engineer")]


def test_a_table_without_id_or_title_fields_numbers_its_rows(rolecli, tmp_path):
    table = tmp_path / "plain.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([[ENGINEER], [SCIENTIST]])
    result = rolecli("batch", table, "-f", "jsonl", "-q")
    assert [(row["id"], row["title"]["text"]) for row in jsonl(result.stdout)] == [
        ("1", "Machine Learning Engineer, Model Serving and MLOps"),
        ("2", "Data Scientist, Experimentation and Product Analytics"),
    ]
    missing = rolecli("batch", table, "--id-column", "job_id")
    assert missing.returncode == 2 and b"no column 'job_id'" in missing.stderr
