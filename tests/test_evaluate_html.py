"""`rolecli evaluate --html`: a self-contained page of inline SVG figures (reliability
diagram, ROC curve, confusion matrix, per source) and the most confident errors, through
the real CLI; tests/test_html_browser.py renders it in Chromium."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, one_line

HOSTILE_SOURCE = '<img src=x onerror="document.title=\'pwned\'">'
HOSTILE_ID = "</td><script>document.title='pwned'</script>"
LABELS = {
    "ml-engineer.txt": "engineer", "llm-platform-engineer.txt": "engineer",
    "data-scientist.txt": "scientist", "research-scientist.txt": "scientist",
    "ranking-scientist-engineer.txt": "mixed", "not-a-job.txt": "off_topic",
}


def labelled_table(path: Path, sources: bool = True, hostile: bool = True) -> Path:
    """The example postings, rightly labelled, and some wrongly (so there are errors), in
    three sources, one with a hostile name (`hostile`), as is one id."""
    rows = []
    for number, (name, label) in enumerate(sorted(LABELS.items())):
        text = (EXAMPLES / name).read_text(encoding="utf-8")
        rows.append({"id": f"right-{number}", "text": text, "label": label,
                     "source": ("team-a", "team-b")[number % 2]})
    wrong = {"ml-engineer.txt": "scientist", "research-scientist.txt": "engineer",
             "data-scientist.txt": "mixed"}
    for number, (name, label) in enumerate(sorted(wrong.items())):
        rows.append({"id": HOSTILE_ID if number == 0 and hostile else f"wrong-{number}",
                     "text": (EXAMPLES / name).read_text(encoding="utf-8"), "label": label,
                     "source": HOSTILE_SOURCE if hostile else "team-c"})
    with path.open("w", newline="", encoding="utf-8") as handle:
        fields = ["id", "text", "label", "source"] if sources else ["id", "text", "label"]
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_evaluate_html_writes_a_self_contained_page(rolecli, tmp_path):
    data = labelled_table(tmp_path / "labelled.csv")
    page = tmp_path / "report.html"
    result = rolecli("evaluate", data, "--html", page)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"" and one_line(result.stderr) == f"wrote {page}"
    report = json.loads(rolecli("evaluate", data, "--format", "json").stdout)
    both = rolecli("evaluate", data, "--format", "json", "--html", tmp_path / "again.html")
    assert json.loads(both.stdout) == report
    assert (tmp_path / "again.html").read_bytes() == page.read_bytes()  # same bytes each run

    shown = page.read_text(encoding="utf-8")
    assert "<script" not in shown and "src=" not in shown.replace(html.escape("src="), "")
    assert not re.search(r"(href|src)\s*=\s*[\"']?(https?:|//)", shown)
    assert "Content-Security-Policy" in shown and "default-src 'none'" in shown
    assert shown.count("<svg") == 4  # reliability, ROC, confusion, per source
    assert "<polyline" in shown and f"AUC {report['engineer_vs_scientist']['roc_auc']:.3f}" in shown
    # The confusion matrix holds the report's counts.
    labels = report["confusion"]["labels"]
    for label, counts in zip(labels, report["confusion"]["matrix"]):
        for other, count in zip(labels, counts):
            assert f"true {label}, called {other}: {count:,} (" in shown
    # Per source: each source, its name escaped.
    assert "Per source" in shown and "team-a" in shown and "team-b" in shown
    assert html.escape(HOSTILE_SOURCE) in shown and HOSTILE_SOURCE not in shown
    # The errors (at least the three wrong labels), each with the lines that decided it.
    matrix = report["confusion"]["matrix"]
    wrong = report["rows"] - sum(matrix[i][i] for i in range(len(matrix)))
    errors = re.search(r'<table class="errors">.*?<tbody>(.*?)</tbody>', shown, re.S)
    assert errors is not None and errors.group(1).count("<tr>") == min(10, wrong) >= 3
    assert html.escape(HOSTILE_ID) in errors.group(1) and HOSTILE_ID not in shown
    assert errors.group(1).count("<li>") >= 3


def test_without_a_source_column_there_is_no_per_source_figure(rolecli, tmp_path):
    data = labelled_table(tmp_path / "plain.csv", sources=False)
    page = tmp_path / "report.html"
    assert rolecli("evaluate", data, "--html", page).returncode == 0
    shown = page.read_text(encoding="utf-8")
    assert "Per source" not in shown and shown.count("<svg") == 3


def test_a_folder_of_label_folders_gets_a_page_too(rolecli, tmp_path):
    folder = tmp_path / "labelled"
    for name, label in LABELS.items():
        (folder / label).mkdir(parents=True, exist_ok=True)
        (folder / label / name).write_bytes((EXAMPLES / name).read_bytes())
    page = tmp_path / "report.html"
    assert rolecli("evaluate", folder, "--html", page).returncode == 0
    assert "None: every posting got its label." in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("target", ["data", "folder", "missing"])
def test_a_bad_html_target_is_refused_before_any_scoring(rolecli, tmp_path, target):
    data = labelled_table(tmp_path / "labelled.csv")
    path = {"data": data, "folder": tmp_path, "missing": tmp_path / "no" / "r.html"}[target]
    before = data.read_bytes()
    result = rolecli("evaluate", data, "--html", path)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith(f"rolecli: error: --html {path}")
    assert {"data": "is the labelled data itself", "folder": "is a directory",
            "missing": "no such directory"}[target] in line
    assert data.read_bytes() == before and result.stdout == b""
