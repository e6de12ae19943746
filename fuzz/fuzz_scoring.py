#!/usr/bin/env python3
"""Coverage-guided fuzzing of rolecli's text path with atheris (libFuzzer for Python).

Each input is raw bytes plus a file suffix: `inputs.text_from_bytes` must either return
non-blank text or raise `InputError`, and whatever text comes out (or any text at all,
decoded leniently from the same bytes) must go through the analyzer, `classify` and
`explain` without raising, with probabilities in [0, 1] summing to 1, contributions
summing to the logit, spans inside the text, and the same answer twice.

Run it with fuzz/run.sh (see fuzz/README.md); a crash is written as crash-<sha1> and
belongs in tests/test_fuzz_regressions.py.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable

import atheris

# Instrument our code and the parsers the bytes go through, so coverage guides the search
# (lxml, which reads HTML, is C: not instrumented). rolecli imports the parsers lazily, so
# they are imported here, inside the block.
with atheris.instrument_imports(include=["rolecli", "charset_normalizer", "pypdf", "docx"]):
    import charset_normalizer  # noqa: F401
    import docx  # noqa: F401
    import pypdf  # noqa: F401

    from rolecli.errors import InputError
    from rolecli.io import extraction
    from rolecli.io.documents import text_from_bytes
    from rolecli.io.parsers import PARSERS
    from rolecli.model.analyzer import BREAK_TOKEN, is_break
    from rolecli.tasks.classify import classify, load_scorer
    from rolecli.tasks.explain import explain

# The harness runs the parsers in its own process, where atheris sees their coverage (the CLI
# runs them in extraction workers; -timeout stands in for the CPU cap).
extraction.extract = lambda kind, data, name: PARSERS[kind](data, name)

SUFFIXES = ("", ".txt", ".md", ".html", ".htm", ".pdf", ".docx")
SCORER = load_scorer()


def _collapsed(tokens: Iterable[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        token = BREAK_TOKEN if is_break(token) else token
        if not (token == BREAK_TOKEN and out and out[-1] == BREAK_TOKEN):
            out.append(token)
    return out


def check_text(text: str) -> None:
    """Everything the scorer promises about one text."""
    analyzer = SCORER.analyzer
    # The split fast path and the analyzer's own regex (with its line and sentence breaks,
    # one-character tokens whatever character they are) give the same tokens; a run of
    # breaks counts as one (the fast path reads ".\n" as one break, the regex as two: no
    # n-gram holds a break, so the terms are the same).
    regex = re.compile(analyzer.token_pattern)
    regex_tokens = _collapsed(t for t in regex.findall(text.lower())
                              if t not in analyzer.stop_words)
    assert _collapsed(analyzer.tokens(text)) == regex_tokens, "tokens differ from the regex's"
    analyzer.terms(text)
    try:
        result = classify(text, SCORER)
    except InputError:
        assert not text.strip(), "classify refused text that is not blank"
        return
    p = result["probabilities"]
    assert 0.0 <= p["engineer"] <= 1.0 and 0.0 <= p["scientist"] <= 1.0, p
    assert abs(p["engineer"] + p["scientist"] - 1.0) <= 1e-12, p
    assert result["label"] in ("engineer", "scientist", "mixed", None), result["label"]
    assert classify(text, SCORER) == result, "classify is not deterministic"

    explanation = explain(text, SCORER)
    assert explanation["probabilities"] == p, "explain and classify disagree"
    total = explanation["intercept"] + math.fsum(t["contribution"] for t in explanation["terms"])
    assert abs(total - explanation["logit"]) <= 1e-9, (total, explanation["logit"])
    sentences = explanation["sentences"]
    lines = explanation["intercept"] + math.fsum(s["contribution"] for s in sentences)
    assert abs(lines - explanation["logit"]) <= 1e-9, (lines, explanation["logit"])
    for term in explanation["terms"]:
        for start, end in term["spans"]:
            assert 0 <= start < end <= len(text), (term["term"], start, end, len(text))


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    suffix = SUFFIXES[provider.ConsumeIntInRange(0, len(SUFFIXES) - 1)]
    lenient = provider.ConsumeBool()
    raw = provider.ConsumeBytes(provider.remaining_bytes())
    if lenient:
        # Scoring must be total on any text, not only on what decoding lets through.
        check_text(raw.decode("utf-8", "replace"))
        return
    try:
        text = text_from_bytes(raw, "fuzz", suffix)
    except InputError as exc:
        assert exc.message.startswith("fuzz"), exc.message  # errors name their input
        return
    assert isinstance(text, str) and text.strip(), "text_from_bytes returned blank text"
    check_text(text)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
