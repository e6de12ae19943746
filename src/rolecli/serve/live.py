"""The page's live updates: the verdict of the text as it is written, or without some lines.

One function answers both, so "what if this line were gone?" is the same scoring as any
update: the text with those lines cut out, scored again, exactly.
"""

from __future__ import annotations

import time
from typing import Any

from ..model.scorer import Scorer
from ..render.html import verdict_class, verdict_heading
from ..verdict.result import Result
from . import page, scoring
from .requests import checked_text

PASTED = "pasted text"


def live_answer(
    scorer: Scorer, text: str, title: str | None, without: list[tuple[int, int]]
) -> dict[str, Any]:
    """The verdict (and, for the whole text, the result's HTML) with the server's time."""
    started = time.perf_counter()
    if without:
        rest = checked_text(text_without(text, without), "the text without those lines")
        answer = _verdict(scoring.classify_posting_result(scorer, rest, title))
    else:
        explanation = scoring.posting_explanation(scorer, text, title)
        answer = {
            **_verdict(explanation.result),
            "html": page.result_html(explanation, text, PASTED),
            "document_title": page.document_title(explanation.result.label, PASTED),
        }
    answer["server_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return answer


def _verdict(result: Result) -> dict[str, Any]:
    assert result.words is not None, "classify and explain build a result's words"
    return {
        "label": result.label,
        "heading": verdict_heading(result.label),
        "verdict_class": verdict_class(result.label),
        "confidence_text": result.words.confidence_text,
        "probabilities": result.probabilities(),
        "off_topic": result.off_topic,
    }


def text_without(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with each [start, end) cut out (overlaps merged), and a line's newline with it."""
    pieces = []
    at = 0
    for start, end in sorted(spans):
        if end <= at:
            continue
        pieces.append(text[at:max(start, at)])
        at = end + 1 if text[end:end + 1] == "\n" else end
    pieces.append(text[at:])
    return "".join(pieces)
