"""The title check (text/title.py): which line is a posting's title, the role a title names,
and what the body says against it, through the library and the real CLI."""

from __future__ import annotations

import re

import pytest
from conftest import shared_rows
from recruiter_postings import ENGINEER_BODY, _json

from rolecli import classify
from rolecli.text.sections import heading_kind
from rolecli.text.title import leading_title, title_label

# --- the title ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "label"),
    [
        ("Senior Machine Learning Engineer – Search", "engineer"),
        ("MLOps Engineer", "engineer"),
        ("Software Engineer, Machine Learning", "engineer"),
        ("AI/ML Developer", "engineer"),
        ("Data Scientist II", "scientist"),
        ("Senior Research Scientist, NLP", "scientist"),
        ("Applied Scientist", "scientist"),
        ("Statistician", "scientist"),
        ("Machine Learning Research Engineer", "mixed"),
        ("Data Scientist / ML Engineer", "mixed"),
        ("Machine Learning Scientist or Engineer", "mixed"),
        ("Senior Data Analyst", None),
        ("Product Manager, AI", None),
    ],
)
def test_title_rule(title, label):
    assert title_label(title) == label


# First lines written in the layouts real postings open with (markdown, labels, ids,
# locations, levels), and first lines that are not titles.
TITLE_LINES = [
    ("Senior Machine Learning Engineer – Search", "Senior Machine Learning Engineer – Search"),
    ("Job title: Data Scientist", "Data Scientist"),
    ("Job Title : Lead ML Engineer (Remote)", "Lead ML Engineer (Remote)"),
    ("Position: Machine Learning Engineer", "Machine Learning Engineer"),
    ("Role: AI/ML Engineer", "AI/ML Engineer"),
    ("## Staff Data Scientist", "Staff Data Scientist"),
    ("**Applied Scientist, Ads Ranking**", "Applied Scientist, Ads Ranking"),
    ("Principal Data Scientist - (2400001234)", "Principal Data Scientist - (2400001234)"),
    ("Data Scientist, Senior, Austin, TX", "Data Scientist, Senior, Austin, TX"),
    ("Sr. ML Engineer", "Sr. ML Engineer"),
    ("Machine Learning Engineer (m/f/d)", "Machine Learning Engineer (m/f/d)"),
]
NOT_TITLE_LINES = [
    "About Us",
    "Job Description",
    "Responsibilities:",
    "Agencies: please do not send us CVs for this opening.",
    "Acme is seeking a Senior Machine Learning Engineer to join our platform team",
    "AS OUR DATA SCIENTIST, EACH WEEK YOU WILL:",
    "Three or more years spent as a data scientist",
    "You have shipped work as a speech ML engineer or in a like role",
    "Our engineers build the systems behind every search.",
    "Company Overview",
]


@pytest.mark.parametrize(("line", "title"), TITLE_LINES)
def test_leading_title_line_is_recognised(line, title):
    found = leading_title(f"{line}\n\nWe build search.\n- Deploy models\n")
    assert found is not None and found.text(f"{line}\n") == title


@pytest.mark.parametrize("line", NOT_TITLE_LINES)
def test_other_first_lines_are_not_titles(line):
    assert leading_title(f"{line}\n\nWe build search.\n- Deploy models\n") is None


def test_a_labelled_title_on_the_line_after_its_label():
    text = "Position Title\n\nData Scientist / AI Engineer\nLocation: Remote\n"
    found = leading_title(text)
    assert found is not None and found.text(text) == "Data Scientist / AI Engineer"


def test_the_title_line_is_never_scored_with_the_body():
    body = ENGINEER_BODY
    for title in ("Research Scientist, Causal Inference", "Machine Learning Engineer"):
        with_line = classify(f"{title}\n\n{body}")
        given = classify(body, title=title)
        assert with_line["probabilities"] == given["probabilities"]
        assert with_line["title"] == given["title"] | {"text": title}


def test_a_title_that_disagrees_gives_agrees_false_and_the_sentence(invoke, tmp_path):
    posting = tmp_path / "posting.txt"
    posting.write_text(ENGINEER_BODY, encoding="utf-8")
    result = invoke("classify", posting, "--title", "Senior Data Scientist", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = _json(result.stdout)
    assert data["label"] == "engineer"
    assert data["title"] == {"text": "Senior Data Scientist", "label": "scientist",
                             "agrees": False, "grade": "contradicts"}
    sentence = data["title_check"]
    assert sentence.startswith("Titled “Senior Data Scientist” (ML scientist), but the body "
                               "reads as ML engineer: ")
    assert re.search(r"(all \d+|\d+ of the \d+) lines that decide it read as engineering "
                     r"\(P\(engineer\) [01]\.\d\d", sentence), sentence
    shown = " ".join(invoke("explain", posting, "--title", "Senior Data Scientist").stdout.split())
    assert sentence in shown
    wrote = invoke("explain", posting, "--title", "Senior Data Scientist",
                   "--html", tmp_path / "r.html")
    assert wrote.exit_code == 0 and wrote.stdout == ""
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'class="check warn"' in page and "Titled &ldquo;" not in page
    assert "Titled “Senior Data Scientist” (ML scientist), but" in page
    agreeing = _json(invoke("classify", posting, "-t", "ML Engineer", "-f", "json").stdout)
    assert agreeing["title"]["agrees"] is True
    assert "and the body agrees" in agreeing["title_check"]


def test_the_title_check_in_the_classify_panel(invoke, tmp_path):
    posting = tmp_path / "posting.txt"
    posting.write_text(f"Research Scientist\n\n{ENGINEER_BODY}", encoding="utf-8")
    out = " ".join(invoke("classify", posting).stdout.replace("│", " ").split())
    assert "Titled “Research Scientist” (ML scientist), but" in out


def test_no_title_leaves_the_title_object_empty():
    data = classify(ENGINEER_BODY)
    assert data["title"] == {"text": None, "label": None, "agrees": None, "grade": None}
    assert data["title_check"] is None


# --- real postings (read from ../shared/data; skipped without it) ----------------------


def _plain(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())


@pytest.mark.parametrize("name", ["postings_dev.csv", "postings_more.csv"])
def test_the_title_rule_reads_real_titles_as_their_labels_do(name):
    rows = shared_rows(name)
    agree = sum(title_label(r["title"]) == r["label"] for r in rows)
    assert agree / len(rows) >= 0.99


@pytest.mark.parametrize("name", ["postings_dev.csv", "postings_more.csv", "offtopic_dev.csv"])
def test_real_first_lines(name):
    rows = shared_rows(name)
    repeated = [r for r in rows
                if _plain(r["text"].strip().splitlines()[0]) == _plain(r["title"])
                and title_label(r["title"]) is not None]
    found = [leading_title(r["text"]) for r in repeated]
    assert repeated and sum(f is not None for f in found) / len(repeated) >= 0.9
    # A first line that is a heading or a sentence is never taken for the title ("Role:"
    # may label the title on the next line).
    for row in rows:
        text = row["text"]
        first = text.splitlines()[0] if text.splitlines() else ""
        if heading_kind(first) is not None or len(first.split()) > 15:
            found = leading_title(text)
            assert found is None or found.span[0] >= len(first), (first, found)
