"""Titles in batch work: a --title-column, a missing one, and the summary of titles against
their bodies."""

from __future__ import annotations

import csv
import io
import json

from conftest import one_line
from recruiter_postings import ENGINEER_BODY, SCIENTIST_BODY

from rolecli import classify


def test_batch_title_column_and_summary(invoke, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a table wide enough not to fold the title cells
    table = tmp_path / "postings.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["job_id", "job_title", "description"])
        writer.writerow(["a", "Data Scientist", ENGINEER_BODY])
        writer.writerow(["b", "ML Engineer", ENGINEER_BODY])
        writer.writerow(["c", "", SCIENTIST_BODY])
    result = invoke("batch", table, "--text-column", "description", "--id-column", "job_id",
                    "--title-column", "job_title", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    rows = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["a"]["title"] == {"text": "Data Scientist", "label": "scientist", "agrees": False,
                                  "grade": "contradicts"}
    assert rows["b"]["title"]["agrees"] is True
    assert rows["c"]["title"] == {"text": None, "label": None, "agrees": None, "grade": None}
    assert ("; titles against their body: 1 agree, 0 lean the other way, 1 contradict"
            in one_line(result.stderr))
    for row, body, title in (("a", ENGINEER_BODY, "Data Scientist"), ("c", SCIENTIST_BODY, None)):
        assert rows[row]["title"] == classify(body, title=title)["title"]
    as_csv = invoke("batch", table, "--text-column", "description", "--title-column",
                    "job_title", "--format", "csv")
    records = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["title.label"], r["title.agrees"]) for r in records] == [
        ("scientist", "false"), ("engineer", "true"), ("", "")
    ]
    table_view = invoke("batch", table, "--text-column", "description", "--title-column",
                        "job_title", "--format", "table")
    assert "scientist: contradicts" in table_view.stdout
    given = invoke("batch", table, "--text-column", "description", "--title", "Data Scientist",
                   "--format", "jsonl")
    assert [json.loads(r)["title"]["text"] for r in given.stdout.splitlines()] == [
        "Data Scientist"
    ] * 3


def test_a_missing_title_column_is_a_usage_error(invoke, tmp_path):
    table = tmp_path / "postings.csv"
    table.write_text("text\nDeploy models to production\n", encoding="utf-8")
    result = invoke("batch", table, "--title-column", "job_title")
    assert result.exit_code == 2
    assert "job_title" in one_line(result.stderr)
