"""The result of scoring one posting: built in one place (`result_of`), shown by every output.

classify's JSON is `Result.to_json()`, explain's starts from it, and a batch row is
`Result.row(id)`; the same evidence gives the same label, probabilities, confidence and
title verdict in all three. (`decision.Verdict` is the decision alone; a Result adds the
probabilities, the title and, for classify and explain, the words that explain it.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ..model.scorer import Scorer
from ..text.roles import Label
from .decision import decide, title_grade
from .evidence import Evidence

if TYPE_CHECKING:
    from .whatif import WhatIf

TOP_TERMS = 8


class Title(NamedTuple):
    """The posting's job title, the role it names, and how the body compares with it:
    `grade` agrees, leans or contradicts (decision.title_grade); `agrees` is false only
    when the body contradicts the title."""

    text: str | None = None
    label: str | None = None
    grade: str | None = None

    @property
    def agrees(self) -> bool | None:
        return None if self.grade is None else self.grade != "contradicts"

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "label": self.label, "agrees": self.agrees,
                "grade": self.grade}


class Words(NamedTuple):
    """What classify and explain say about a verdict; batch rows leave it out."""

    confidence_text: str
    reasons: list[str]
    title_check: str | None
    top_terms: dict[str, list[str]]
    what_if: WhatIf | None


class Result(NamedTuple):
    label: Label | None  # None when off-topic
    p_scientist: float
    confidence: float
    off_topic: bool
    title: Title
    model: dict[str, str]  # id and sha256 of the scorer
    words: Words | None = None
    family: str | None = None  # off-topic: the job family it reads as
    short_text: bool = False  # the verdict rests on little text

    def probabilities(self) -> dict[str, float]:
        return {"engineer": 1.0 - self.p_scientist, "scientist": self.p_scientist}

    def to_json(self) -> dict[str, Any]:
        """What `rolecli classify --format json` prints."""
        if self.words is None:
            raise ValueError("a result built without words has no classify JSON")
        return {
            "label": self.label,
            "probabilities": self.probabilities(),
            "confidence": self.confidence,
            "confidence_text": self.words.confidence_text,
            "off_topic": self.off_topic,
            "off_topic_family": self.family,
            "short_text": self.short_text,
            "reasons": self.words.reasons,
            "title": self.title.to_json(),
            "title_check": self.words.title_check,
            "top_terms": self.words.top_terms,
            "what_if": None if self.words.what_if is None else self.words.what_if.to_json(),
            "model": self.model,
        }

    def row(self, item_id: str) -> dict[str, Any]:
        """A batch row (see items.error_row for an item that could not be scored)."""
        return {
            "id": item_id, "status": "ok", "label": self.label,
            "probabilities": self.probabilities(), "confidence": self.confidence,
            "off_topic": self.off_topic, "off_topic_family": self.family,
            "short_text": self.short_text, "title": self.title.to_json(), "error": None,
        }


def result_of(scorer: Scorer, evidence: Evidence, *, words: bool = True) -> Result:
    """The result of the evidence; `words=False` (batch) skips building reasons and texts."""
    decision = decide(evidence, scorer.thresholds, every=words)
    title = Title()
    if evidence.title is not None:
        title = Title(evidence.title.text, evidence.title.label,
                      title_grade(evidence.title.label, decision, scorer.thresholds))
    said = None
    if words:
        from .reasons import confidence_text, reasons, title_check  # not needed for batch rows
        from .whatif import what_if

        said = Words(
            confidence_text=confidence_text(evidence, decision),
            reasons=reasons(evidence, decision),
            title_check=title_check(evidence, decision, title.grade),
            top_terms={
                "engineer": [t for t, c in evidence.ranked if c < 0][:TOP_TERMS],
                "scientist": [t for t, c in evidence.ranked if c > 0][:TOP_TERMS],
            },
            what_if=what_if(evidence, decision),
        )
    return Result(decision.label, evidence.p_scientist, decision.confidence, decision.off_topic,
                  title, {"id": scorer.model_id, "sha256": scorer.sha256}, said,
                  decision.family if decision.off_topic else None, decision.short_text)
