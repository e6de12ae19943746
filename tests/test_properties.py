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


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["text", "id", "label", "x"]), inner, max_size=3),
    max_leaves=8,
)


@given(st.lists(JSON_VALUES | st.text(max_size=40), max_size=12), st.booleans())
@settings(max_examples=150, deadline=None)
def test_every_jsonl_line_is_one_row_or_one_reason(tmp_path_factory, lines, with_id):
    """Whatever a JSON Lines table holds, each non-blank line is one TableRow: its text, or
    the reason it has none, and a text id (batch and the labelled-data commands share it)."""
    import json

    from rolecli.io.tables import iter_table

    texts = [v if isinstance(v, str) and not v.startswith("{") else json.dumps(v)
             for v in lines]
    texts = [t.replace("\n", " ").replace("\r", " ") for t in texts]
    path = tmp_path_factory.mktemp("jsonl") / "rows.jsonl"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    try:
        rows = list(iter_table(path, "text", "id" if with_id else None))
    except InputError:
        return
    except Exception as exc:  # a missing column is a UsageError, the only other answer
        assert type(exc).__name__ == "UsageError", exc
        return
    assert len(rows) == sum(1 for t in texts if t.strip())
    for row in rows:
        assert isinstance(row.id, str)
        assert (row.text is None) != (row.error is None)


# Where the ML mentions must be: where the plain pattern matches, a word boundary first and
# case ignored (its words) or kept (its acronyms). The shipped search avoids the leading \b,
# for speed.
def _plain_ml_mentions(text: str) -> set[int]:
    import re

    from rolecli.text.work import ML_ACRONYMS, ML_WORDS

    words = re.compile(r"(?=\b" + ML_WORDS.pattern + ")", re.IGNORECASE)
    acronyms = re.compile(r"(?=\b" + ML_ACRONYMS.pattern + ")")
    return {m.start() for pattern in (words, acronyms) for m in pattern.finditer(text)}


ML_WORK_TEXT = st.one_of(TEXT, st.lists(st.sampled_from([
    "machine learning", "Machine-Learning", "xmachine learning", "Data Scientists", "AI", "ai",
    "GenAI", "xAI", "_ML", "ML_", "LLMs", "gpt-4", "ChatGPT5", "sklearnx", "\u0130", "İdeep",
    "machİne learning", "\u017f", "\u0307", "ß", "ﬁ", "\u212a", "é", " ", "-", "_", "1",
]), max_size=6).map("".join))


@given(ML_WORK_TEXT)
@settings(max_examples=500, deadline=None)
def test_ml_mentions_are_where_the_plain_pattern_matches(text):
    from rolecli.text.work import _lowercased, _ml_mentions

    assert set(_ml_mentions(text, _lowercased(text))) == _plain_ml_mentions(text)


SPAN_TEXT = st.one_of(TEXT, st.lists(st.sampled_from([
    "Build", "models", ".", "!", "?", ";", ":", " ", "\n", "\r", "\t", "\x0b", "\xa0", "é",
    "Straße", "İ", "“", "•", "1.", "a.", "Next", "x", "_",
]), max_size=60).map("".join))


@given(SPAN_TEXT, st.sampled_from(["the", ""]))
@settings(max_examples=400, deadline=None)
def test_tokens_of_spans_are_the_tokens_of_each_span(text, stop_words):
    # Split at once, with marks between the spans, each span still gets exactly its own
    # tokens (bounded: with the gap after it, where the breaks of line ends are).
    from rolecli.model.analyzer import BOUNDED_TOKEN_PATTERN, TOKEN_PATTERN, Analyzer
    from rolecli.text.sentences import sentence_spans

    spans = list(sentence_spans(text))
    for pattern in (BOUNDED_TOKEN_PATTERN, TOKEN_PATTERN):
        analyzer = Analyzer(pattern, (1, 2), frozenset(stop_words.split()))
        ends = ([start for start, _ in spans[1:]] + [len(text)] if analyzer.bounded
                else [end for _, end in spans])
        expected = [analyzer.tokens(text[a:b]) for (a, _), b in zip(spans, ends)]
        assert analyzer.tokens_of_spans(text, spans) == expected


def test_the_non_ascii_word_scan_reads_every_character_as_the_regex_engine_does():
    # The scan tests the non-ASCII characters it finds with str.isalnum: exactly \w there.
    import re

    from rolecli.model.analyzer import _non_ascii_words

    every = "".join(chr(i) for i in range(0x80, 0x110000) if not 0xD800 <= i <= 0xDFFF)
    word = re.compile(r"[^\W\x00-\x7f]")
    assert list(_non_ascii_words(every)) == [m.start() for m in word.finditer(every)]


@given(st.text(max_size=300))
def test_the_non_ascii_word_scan_finds_what_the_regex_finds(text):
    import re

    from rolecli.model.analyzer import _non_ascii_words

    word = re.compile(r"[^\W\x00-\x7f]")
    assert list(_non_ascii_words(text)) == [m.start() for m in word.finditer(text)]
