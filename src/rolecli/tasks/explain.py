"""explain(): the exact reasons for a verdict, as plain data (`Explanation.to_json()`).

A linear model explains itself: each term's tf-idf value times its coefficient,
plus the intercept, is the logit, and P(scientist) = sigmoid(logit). The explanation
leads with what a recruiter reads (verdict, reasons, title check); the arithmetic
follows. Its size is bounded whatever the input's (see LISTED_CHARS).
"""

from __future__ import annotations

import csv
import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypedDict

from ..io.tables import unbounded_fields
from ..model.scorer import Scorer
from ..paths import shipped_data_dir
from ..verdict.decision import Verdict, decide
from ..verdict.evidence import Evidence, gather
from ..verdict.result import Result, Words, result_of
from ..verdict.whatif import WhatIf
from .classify import scorer_for

CLOSEST = 3
# Bounds on what an explanation lists, whatever the input's size: term spans and lines
# are listed for the first LISTED_CHARS characters (cut at a space) and at most
# LISTED_LINES lines; decisive lines are always listed, and the unlisted lines' evidence
# is summed in `unlisted_lines`, so the listed numbers still add up to the logit.
LISTED_CHARS = 100_000
LISTED_LINES = 2_000
LISTED_SECTIONS = 200


class Term(TypedDict):
    term: str
    contribution: float  # toward scientist (+) or engineer (-), in logit units
    occurrences: int
    spans: list[list[int]]


class ListedLine(TypedDict):
    text: str
    start: int
    end: int
    contribution: float
    decisive: bool
    section: str
    heading: bool


class Unlisted(TypedDict):
    count: int
    contribution: float


class Part(TypedDict):
    kind: str
    start: int
    end: int
    heading: list[int] | None


class NamedRoleSpan(TypedDict):
    text: str
    start: int
    end: int
    label: str


class Bullet(TypedDict):
    id: str
    label: str
    text: str
    similarity: float


class Limits(TypedDict):
    listed_chars: int
    listed_lines: int


@dataclass(frozen=True)
class Explanation:
    """The verdict (`result`) and the exact evidence behind it; `to_json()` is what
    `rolecli explain --format json` prints, and the renderers read the fields."""

    result: Result
    mixed_grounds: tuple[str, ...]
    logit: float
    intercept: float
    how: str
    terms: list[Term]
    sentences: list[ListedLine]
    unlisted_lines: Unlisted
    sections: list[Part]
    named_roles: list[NamedRoleSpan]
    closest_article: list[Bullet]
    limits: Limits

    @property
    def words(self) -> Words:
        words = self.result.words
        assert words is not None, "an explanation's result is built with its words"
        return words

    @property
    def what_if(self) -> WhatIf | None:
        return self.words.what_if

    def to_json(self) -> dict[str, Any]:
        result = self.result.to_json()
        return {
            **{k: v for k, v in result.items() if k not in ("top_terms", "model")},
            "mixed_grounds": list(self.mixed_grounds),
            "logit": self.logit,
            "intercept": self.intercept,
            "how": self.how,
            "terms": self.terms,
            "sentences": self.sentences,
            "unlisted_lines": self.unlisted_lines,
            "sections": self.sections,
            "named_roles": self.named_roles,
            "closest_article": self.closest_article,
            "model": result["model"],
            "limits": self.limits,
        }


def explain(
    text: str, model: str | Path | Scorer | None = None, title: str | None = None
) -> dict[str, Any]:
    """The verdict, its reasons, and the exact term, line and section evidence behind it:
    what `rolecli explain --format json` prints."""
    return explanation_of(text, model, title).to_json()


def explanation_of(
    text: str, model: str | Path | Scorer | None = None, title: str | None = None
) -> Explanation:
    """explain()'s answer as the typed `Explanation` the renderers take."""
    scorer = scorer_for(model, text, "explain")
    evidence = gather(scorer, text, title)
    decision = decide(evidence, scorer.thresholds, every=True)
    calibration = scorer.card.get("calibration", {})
    sentences, unlisted = _sentences(evidence, decision)
    return Explanation(
        result=result_of(scorer, evidence),
        mixed_grounds=decision.grounds,
        logit=evidence.logit,
        intercept=evidence.intercept,
        how=(
            "logit = intercept + sum of term contributions (tf-idf value x coefficient; "
            "positive toward scientist, negative toward engineer); "
            "P(scientist) = 1/(1+exp(-logit)). "
            f"The Platt calibration (a={float(calibration.get('a', 1.0)):.4g}, "
            f"b={float(calibration.get('b', 0.0)):.4g}) is folded into the weights. "
            "A recognised title line is left out: the title is read by its own rule."
        ),
        terms=[
            {
                "term": t.term, "contribution": t.contribution, "occurrences": t.occurrences,
                "spans": [list(s) for s in t.spans],
            }
            for t in evidence.terms(LISTED_CHARS)
        ],
        sentences=sentences,
        unlisted_lines=unlisted,
        sections=[
            {"kind": part.kind, "start": part.start, "end": part.end,
             "heading": list(part.heading) if part.heading else None}
            for part in evidence.sections.parts[:LISTED_SECTIONS]
        ],
        named_roles=[
            {"text": role.text(text), "start": role.start, "end": role.end, "label": role.label}
            for role in evidence.named
        ],
        closest_article=closest_article(scorer, evidence.body),
        limits={"listed_chars": LISTED_CHARS, "listed_lines": LISTED_LINES},
    )


def decisive_lines(evidence: Evidence, decision: Verdict) -> set[int]:
    """The lines the reasons count (Evidence.decisive, both ways), and the lines naming a
    role that is both."""
    lines = evidence.lines
    if decision.off_topic:  # no line decides between roles in a text that is no ML posting
        return set()
    decisive = evidence.decisive
    starts = {line.start for line in (*decisive.engineer, *decisive.scientist)}
    if "named" in decision.grounds:
        named = [role.start for role in evidence.named if role.label == "mixed"]
        title = evidence.title
        title = title if title is not None and not title.given else None
        if title is not None and title.line is not None and title.label == "mixed":
            named.append(title.line.span[0])
        starts |= {lines.starts[max(0, bisect_right(lines.starts, start) - 1)] for start in named}
    return {i for i in range(len(lines)) if lines.starts[i] in starts}


def _sentences(evidence: Evidence, decision: Verdict) -> tuple[list[ListedLine], Unlisted]:
    """The listed lines with their evidence and section, and the sum over the others."""
    text, lines = evidence.text, evidence.lines
    decisive = decisive_lines(evidence, decision)
    listed = [
        i for i in range(min(len(lines), LISTED_LINES)) if lines.ends[i] <= LISTED_CHARS
    ]
    shown = sorted(set(listed) | decisive)
    keep = set(shown)
    unlisted = [lines.contributions[i] for i in range(len(lines)) if i not in keep]
    return [
        {
            "text": text[lines.starts[i] : lines.ends[i]],
            "start": lines.starts[i],
            "end": lines.ends[i],
            "contribution": lines.contributions[i],
            "decisive": i in decisive,
            "section": lines.section(i)[0],
            "heading": lines.section(i)[1],
        }
        for i in shown
    ], {"count": len(unlisted), "contribution": math.fsum(unlisted)}


@lru_cache(maxsize=1)
def article_bullets() -> tuple[tuple[str, str, str], ...]:
    """(id, label, text) of the article's responsibility bullets: the roles' definitions."""
    path = shipped_data_dir() / "article.csv"
    with path.open(newline="", encoding="utf-8") as handle, unbounded_fields():
        return tuple(
            (row["id"], row["label"], row["text"])
            for row in csv.DictReader(handle)
            if "-desc-" not in row["id"]
        )


def closest_article(scorer: Scorer, text: str) -> list[Bullet]:
    """The article bullets nearest the posting by tf-idf cosine similarity."""
    posting = scorer.tfidf(scorer.weigh(scorer.term_counts(text)))
    ranked = []
    for bullet_id, label, bullet in article_bullets():
        similarity = _cosine(posting, scorer.tfidf(scorer.weigh(scorer.term_counts(bullet))))
        ranked.append((-similarity, bullet_id, label, bullet))
    ranked.sort()
    return [
        {"id": bullet_id, "label": label, "text": bullet, "similarity": round(-negative, 6)}
        for negative, bullet_id, label, bullet in ranked[:CLOSEST]
    ]


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    # Both vectors are already l2-normalised by Scorer.tfidf.
    if len(a) > len(b):
        a, b = b, a
    return math.fsum(v * b[t] for t, v in a.items() if t in b)
