"""Sections (text/sections.py): headings in real layouts, lists and paragraphs, perks without
a heading, and the sections the explanation shows."""

from __future__ import annotations

import re

import pytest
from conftest import shared_rows
from recruiter_postings import ENGINEER_BODY, _json

from rolecli.text.sections import Sections, heading_kind
from rolecli.text.sentences import sentence_spans

# --- sections -----------------------------------------------------------------------


def kinds(text: str) -> list[tuple[str, str]]:
    found = Sections(text)
    return [(found.of_line(s, e)[0], text[s:e]) for s, e in sentence_spans(text)]


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("Responsibilities", "responsibilities"), ("Key Responsibilities:", "responsibilities"),
        ("What You'll Do", "responsibilities"), ("In this role, you will:", "responsibilities"),
        ("## Minimum Qualifications", "requirements"), ("**Who you are**", "requirements"),
        ("Requirements", "requirements"), ("Nice to have", "requirements"),
        ("About Us", "about"), ("About Acme Robotics", "about"), ("Who we are", "about"),
        ("About the role", "role"), ("Job Description", "role"),
        ("Benefits & Perks", "benefits"), ("What we offer:", "benefits"),
        ("What's in it for you?", "benefits"), ("Salary", "benefits"),
        ("Equal Employment Opportunity", "equal_opportunity"),
        ("EEO Statement", "equal_opportunity"),
        ("How to apply", "how_to_apply"), ("2. Requirements", "requirements"),
        ("Location", "details"),
    ],
)
def test_headings_in_real_layouts(heading, kind):
    assert heading_kind(heading) == kind


@pytest.mark.parametrize("line", ["- Remote", "* Python", "Data Scientist", "We are hiring",
                                  "Deploy models to production"])
def test_list_items_and_sentences_are_not_headings(line):
    assert heading_kind(line) is None


def test_sections_with_bullets_numbers_and_colons():
    text = (
        "Acme builds robots.\n"
        "Responsibilities:\n"
        "1. Deploy models\n"
        "2) Build pipelines\n"
        "Location: Remote\n"
        "• Monitor drift\n"
        "**Requirements**\n"
        "* 3+ years of Python\n"
        "Benefits\n"
        "- Dental and vision\n"
        "Acme is an equal opportunity employer.\n"
    )
    assert kinds(text) == [
        ("intro", "Acme builds robots."),
        ("responsibilities", "Responsibilities:"),
        ("responsibilities", "1. Deploy models"),
        ("responsibilities", "2) Build pipelines"),
        ("details", "Location: Remote"),  # one detail; the list goes on after it
        ("responsibilities", "• Monitor drift"),
        ("requirements", "**Requirements**"),
        ("requirements", "* 3+ years of Python"),
        ("benefits", "Benefits"),
        ("benefits", "- Dental and vision"),
        ("equal_opportunity", "Acme is an equal opportunity employer."),
    ]


def test_perks_listed_without_a_heading_are_benefits():
    text = (
        "Responsibilities\n"
        "- Train models within a compute budget\n"
        "- Build flexible pipelines for streaming data\n"
        "- Free snacks and catered lunches\n"
        "- An annual learning and development budget\n"
        "- Flexible working hours and a home office allowance\n"
        "- Gym membership and team offsites\n"
    )
    assert [k for k, _ in kinds(text)] == ["responsibilities"] * 3 + ["benefits"] * 4


def test_sections_of_a_one_paragraph_posting():
    text = (
        "Acme is hiring a data scientist to study churn. Responsibilities: build models of "
        "churn and run experiments. Requirements: a degree in statistics and SQL. Benefits: "
        "medical, dental and a 401(k) plan. We are an equal opportunity employer."
    )
    assert [k for k, _ in kinds(text)] == [
        "intro", "responsibilities", "requirements", "benefits", "equal_opportunity"
    ]


def test_explanations_show_the_sections(invoke):
    data = _json(invoke("explain", "-", "-f", "json", input=ENGINEER_BODY).stdout)
    assert [s["kind"] for s in data["sections"]] == [
        "about", "responsibilities", "requirements", "benefits"
    ]
    # A sentence's own words make it boilerplate too, whatever section it stands in.
    assert data["sentences"][-1]["section"] == "equal_opportunity"
    out = " ".join(invoke("explain", "-", input=ENGINEER_BODY).stdout.split())
    assert "sections: about us 1 · responsibilities 4 · requirements 3 · benefits 2 · " in out


def test_the_text_view_without_colour_shows_strength_with_marks(rolecli):
    result = rolecli("explain", "-", "--all-lines", input=ENGINEER_BODY.encode(),
                     env={"NO_COLOR": "1", "COLUMNS": "120"})
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "\x1b[3" not in out  # no colour
    assert "◀◀◀" in out and "◀ toward ML engineer" in out
    assert re.search(r"◀+ │ +-\d\.\d{3} │ responsibilities +│ - Deploy machine learning", out), out
    assert " weak " not in out  # no legend of colour swatches, which would be empty





def test_real_postings_have_their_sections_recognised():
    rows = shared_rows("postings_dev.csv") + shared_rows("postings_more.csv")
    with_work = 0
    boiler_share = []
    for row in rows:
        parts = Sections(row["text"]).parts
        with_work += any(p.kind in ("responsibilities", "requirements") for p in parts)
        boiler_share.append(sum(p.end - p.start for p in parts if p.kind in (
            "about", "benefits", "equal_opportunity", "how_to_apply", "details"
        )) / len(row["text"]))
    assert with_work / len(rows) >= 0.75
    assert sum(boiler_share) / len(rows) < 0.4
