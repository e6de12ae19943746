"""The reasons (verdict/reasons.py): they name the lines and words that decided a verdict,
never benefits text, and only text that is in the posting; explanations stay bounded."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from recruiter_postings import ENGINEER_BODY, SCIENTIST_BODY, _json, quotes

from rolecli import explain

# --- reasons ------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "role", "side"), [
    (ENGINEER_BODY, "engineer", "engineering"), (SCIENTIST_BODY, "scientist", "research")
])
def test_reasons_name_the_lines_and_words(invoke, body, role, side):
    data = _json(invoke("classify", "-", "-f", "json", input=body).stdout)
    assert data["label"] == role
    assert 1 <= len(data["reasons"]) <= 3
    first = data["reasons"][0]
    assert re.match(rf"(All \d+|\d+ of the \d+) lines that decide it read as {side}: “",
                    first), first
    assert all(q in body for reason in data["reasons"] for q in quotes(reason))
    assert not re.search(r"\bP\(\w+\) \d", " ".join(data["reasons"][:1]))  # words, not maths


def test_benefits_lines_never_appear_in_the_reasons(invoke):
    # The benefits are written to pull hard toward research ("match", "research" are strong
    # scientist terms); the reasons still cite only the work.
    benefits = ("Benefits\n- 401(k) matching and research sabbaticals\n"
                "- Tuition matching for statistics courses\n"
                "- Matching gifts; experiments with a four-day week\n")
    boilerplate = ("benefits", "equal_opportunity", "about", "how_to_apply", "details")
    only_in_benefits = ["401(k)", "sabbatical", "Tuition", "gifts", "four-day", "dental",
                        "paid time off", "equal opportunity"]
    for body in (ENGINEER_BODY + benefits, SCIENTIST_BODY + benefits):
        data = _json(invoke("explain", "-", "-f", "json", input=body).stdout)
        boiler = [s["text"] for s in data["sentences"] if s["section"] in boilerplate]
        assert any("401(k)" in line for line in boiler)
        said = " ".join(data["reasons"])
        assert not [word for word in only_in_benefits if word.lower() in said.lower()], said
        for reason in data["reasons"]:
            for quoted in quotes(reason):
                assert quoted not in boiler, (quoted, reason)  # no benefits line is quoted
                assert any(quoted in s["text"] for s in data["sentences"]
                           if s["section"] not in boilerplate and not s["heading"])
        decisive = [s for s in data["sentences"] if s["decisive"]]
        assert decisive and not any(s["section"] == "benefits" for s in decisive)


FRAGMENTS = [
    "Deploy models to Kubernetes.", "Run A/B tests and causal inference studies.",
    "Build CI/CD pipelines.", "Publish research papers.", "PhD in statistics.",
    "401(k) match and dental insurance.", "We are an equal opportunity employer.",
    "Responsibilities", "Requirements:", "## Benefits", "About us", "- ", "• ", "1. ",
    "We are hiring a Research Engineer.", "Work with our data scientists.",
    "Serve LLM inference on GPUs with low latency.", "Design experiments; analyse results!",
    "\n", "\n\n", "How to apply: send your CV.", "Location: Remote",
]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=40).map(" ".join),
    st.one_of(st.none(), st.sampled_from(["Data Scientist", "ML Engineer", "Research Engineer"])),
)
def test_every_reason_names_text_that_is_in_the_posting(text, title):
    if not text.strip():
        return
    result = explain(text, title=title)
    assert 1 <= len(result["reasons"]) <= 3
    for reason in result["reasons"]:
        for quoted in quotes(reason):
            assert quoted and quoted in text, (quoted, text)
    if result["title_check"] is not None:
        assert result["title"]["text"] is not None


# --- bounded output -----------------------------------------------------------------


@pytest.mark.slow
def test_explanation_output_is_bounded_on_huge_input(rolecli, tmp_path):
    import resource

    posting = tmp_path / "huge.txt"
    lines = ["- Deploy models", "- Run experiments", "Benefits", "- dental", "ok"]
    posting.write_text("\n".join(lines[i % len(lines)] for i in range(700_000)) + "\n")
    assert posting.stat().st_size < 8 * 1024 * 1024
    assert posting.stat().st_size > 8_000_000 - 2_000_000
    page = tmp_path / "r.html"
    for args in (("--html", page), ("--all-lines", "--html", page), ("-f", "json")):
        result = rolecli("explain", posting, *args, timeout=300)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout) < 3_000_000, (args, len(result.stdout))
        assert page.stat().st_size < 8_000_000
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert children < 1_200_000, f"peak RSS {children} KiB"


def test_explanation_json_sums_every_line_even_when_not_listed():
    from rolecli.tasks.explain import LISTED_LINES

    text = "\n".join(f"- Deploy model {i} to production" for i in range(LISTED_LINES + 500))
    result = explain(text)
    assert len(result["sentences"]) <= LISTED_LINES + 10
    assert result["unlisted_lines"]["count"] >= 490
