"""Property tests over arbitrary text: classify and explain never raise, and stay exact."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolecli import classify, explain, load_scorer
from rolecli.errors import InputError

TEXT = st.one_of(
    st.text(max_size=2000),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.lists(
        st.sampled_from(
            [
                "Deploy",
                "models",
                "to",
                "Kubernetes.",
                "Run",
                "A/B",
                "tests",
                "and",
                "statistics",
                "\n",
                "•",
                "research",
                "PhD",
                "ΣΑΣ",
                "!!!",
                "\u200b",
                "ﬁne-tune",
                "LLM",
                "   ",
            ]
        ),
        max_size=80,
    ).map(" ".join),
)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_classify_is_total_bounded_and_deterministic(text):
    try:
        first = classify(text)
    except InputError:
        assert not text.strip()
        return
    p = first["probabilities"]
    assert 0.0 <= p["scientist"] <= 1.0 and 0.0 <= p["engineer"] <= 1.0
    assert math.isclose(p["engineer"] + p["scientist"], 1.0, abs_tol=1e-12)
    assert first["label"] in {"engineer", "scientist", "mixed", None}
    assert (first["label"] is None) == first["off_topic"]
    assert classify(text) == first


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_explanation_sums_to_logit_and_spans_point_at_the_terms(text):
    try:
        result = explain(text)
    except InputError:
        assert not text.strip()
        return
    total = result["intercept"] + math.fsum(t["contribution"] for t in result["terms"])
    assert abs(total - result["logit"]) <= 1e-9
    line_total = result["intercept"] + math.fsum(s["contribution"] for s in result["sentences"])
    assert abs(line_total - result["logit"]) <= 1e-9
    p = 1.0 / (1.0 + math.exp(-result["logit"])) if result["logit"] > -700 else 0.0
    assert abs(p - result["probabilities"]["scientist"]) <= 1e-12
    analyzer = load_scorer().analyzer
    for term in result["terms"]:
        for start, end in term["spans"]:
            assert 0 <= start < end <= len(text)
            assert " ".join(analyzer.tokens(text[start:end])) == term["term"]
    assert explain(text) == result


def test_empty_text_is_an_input_error():
    with pytest.raises(InputError):
        classify("   \n")


ROLE_TEXT = st.lists(
    st.sampled_from(
        ["research", "Research", "RESEARCH", "engineer", "Engineers", "scientist", "Scientists",
         " ", "  ", "\n", "/", " or ", " - ", "-", "&", " and/or ", "ML ", "machine learning ",
         "Data ", "applied ", "x", "_", "ß", "Σ", "K", "résumé", "researcher"]
    ),
    max_size=14,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(ROLE_TEXT, TEXT))
def test_hybrid_role_spans_are_every_regex_match_of_the_lowercased_text(text):
    from rolecli.text import HYBRID_ROLE, hybrid_role_spans

    lowered = text.lower()
    spans = hybrid_role_spans(text)
    if len(lowered) == len(text):
        assert spans == [m.span() for m in HYBRID_ROLE.finditer(lowered)]
    else:
        assert len(spans) == len(HYBRID_ROLE.findall(lowered))
    for start, end in spans:
        assert HYBRID_ROLE.fullmatch(text[start:end].lower())
