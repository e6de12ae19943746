"""The HTML report (and so the page) leads with plain words: the verdict, the title check and
the few lines that decided it, each with its reason; the maths sits in one closed fold.
A result's `what_if` (which lines would have to go for the verdict to change) is shown
beside those lines when the result carries one, and its absence changes nothing else."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from conftest import EXAMPLES

from rolecli.render.html import html_report, report_sections, verdict_heading
from rolecli.tasks.explain import explanation_of
from rolecli.verdict.whatif import WhatIf

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.txt"))


def fold(page: str) -> tuple[str, str]:
    """(what comes before the maths fold, the fold)."""
    start = page.index('<details class="card how">')
    end = page.index("</details>", start)
    return page[:start], page[start:end]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_plain_words_first_and_the_maths_folded(path):
    text = path.read_text(encoding="utf-8")
    explained = explanation_of(text)
    explanation = explained.to_json()
    page = html_report(explained, text, path.name)
    plain, maths = fold(page)
    assert f"<h1>{verdict_heading(explanation['label'])}</h1>" in plain
    assert "Title check." in plain
    assert '<details class="card how"><summary>' in page  # closed: no `open`
    # The verdict's own sentences (reasons.py) quote P(role) as they are; the rest is plain.
    said = [explanation["confidence_text"], *explanation["reasons"], explanation["title_check"],
            explanation["what_if"]["sentence"]]
    for sentence in filter(None, said):
        plain = plain.replace(html.escape(sentence, quote=True), "")
    for jargon in ("P(scientist)", "P(engineer)", "logit", "intercept", "Platt", "tf-idf",
                   "similarity"):
        assert jargon not in plain, jargon
        assert jargon in maths, jargon
    decided = re.findall(r'<li class="line [esz]( would)?">(.*?)</li>', plain, re.S)
    wanted = sum(s["decisive"] for s in explanation["sentences"])
    would_go = len(explanation["what_if"]["lines"]) if explanation["what_if"]["changed"] else 0
    assert min(4, wanted) <= len(decided) <= min(4, wanted) + would_go
    for _, item in decided:
        reason = re.search(r'<p class="why">.*?</span> (.*?)</p>', item, re.S)
        assert reason is not None and reason.group(1)


def test_line_reasons_name_the_words_that_pull():
    text = (EXAMPLES / "ml-engineer.txt").read_text(encoding="utf-8")
    explained = explanation_of(text)
    explanation = explained.to_json()
    page = html_report(explained, text, "ml-engineer.txt")
    reasons = re.findall(r'<p class="why">.*?</span> (.*?)</p>', page)
    assert reasons and all(r.startswith("Pulls") or r.startswith("The job title") for r in reasons)
    words = re.findall(r"“(.*?)”", " ".join(reasons))
    terms = {t["term"] for t in explanation["terms"]}
    assert words and set(words) <= terms


def test_what_if_is_shown_beside_the_decisive_lines_and_marks_its_lines():
    text = (EXAMPLES / "ranking-scientist-engineer.txt").read_text(encoding="utf-8")
    explained = explanation_of(text)
    explanation = explained.to_json()
    what_if = explanation["what_if"]
    assert what_if["changed"] and what_if["lines"]
    page = "".join(report_sections(explained, text, "t"))
    plain, _ = fold(page)
    assert f'<p class="what-if"><b>What would change it.</b> {what_if["sentence"]}</p>' in plain
    marked = re.findall(r'<li class="line [esz] would"><p class="said">(.*?)</p>', plain)
    named = [text[line["start"]:line["end"]].lstrip("- ") for line in what_if["lines"]]
    # (a long line is cut in the summary: compare the starts)
    assert sorted(html.unescape(m)[:200] for m in marked) == sorted(n[:200] for n in named)
    assert plain.count("One of the lines that would have to go") == len(named)


@pytest.mark.parametrize("what_if", [None, WhatIf((), None, 0.5, False, "")])
def test_no_what_if_changes_nothing(what_if):
    text = (EXAMPLES / "ml-engineer.txt").read_text(encoding="utf-8")
    explained = explanation_of(text)
    plain = report_sections(explained, text, "t")
    words = explained.words._replace(what_if=what_if)
    other = replace(explained, result=explained.result._replace(words=words))
    assert report_sections(other, text, "t") == plain
    assert "What would change it" not in "".join(plain)


def test_the_page_gets_line_buttons_and_the_report_none():
    text = (EXAMPLES / "research-scientist.txt").read_text(encoding="utf-8")
    explained = explanation_of(text)
    explanation = explained.to_json()
    report = "".join(report_sections(explained, text, "t"))
    page = "".join(report_sections(explained, text, "t", interactive=True))
    assert "<button" not in report
    buttons = re.findall(r'<button type="button" class="without" data-start="(\d+)" '
                         r'data-end="(\d+)" hidden>', page)
    decided = re.findall(r'<li class="line', page)
    assert len(buttons) == len(decided) > 0
    spans = {(s["start"], s["end"]) for s in explanation["sentences"]}
    assert {(int(a), int(b)) for a, b in buttons} <= spans


def test_off_topic_text_says_no_line_decides_between_the_roles():
    text = (EXAMPLES / "not-a-job.txt").read_text(encoding="utf-8")
    explained = explanation_of(text)
    explanation = explained.to_json()
    assert explanation["off_topic"]
    plain, _ = fold(html_report(explained, text, "not-a-job.txt"))
    assert "<h1>Off-topic</h1>" in plain
    assert ("does not read as a machine-learning job, so no line decides between the two "
            "roles") in plain
