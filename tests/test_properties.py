"""Property tests over arbitrary text: classify and explain never raise, and stay exact."""

from __future__ import annotations

import pytest
from conftest import check_classification, check_explanation
from hypothesis import given, settings
from hypothesis import strategies as st

from rolecli import classify
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
    check_classification(text)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_explanation_sums_to_logit_and_spans_point_at_the_terms(text):
    check_explanation(text)


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
