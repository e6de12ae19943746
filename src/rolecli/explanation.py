"""explain(): the exact reasons for a verdict, as plain data.

A linear model explains itself: each term's tf-idf value times its coefficient,
plus the intercept, is the logit, and P(scientist) = sigmoid(logit).
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from .classifier import load_scorer, verdict
from .decision import decide
from .errors import InputError
from .evidence import Evidence, gather
from .paths import shipped_data_dir
from .scorer import Scorer

CLOSEST = 3
DECISIVE_LINES = 3


def explain(text: str, model: str | Path | Scorer | None = None) -> dict[str, Any]:
    """Term, line and article evidence for a posting: what `rolecli explain -f json` prints."""
    scorer = model if isinstance(model, Scorer) else load_scorer(model)
    if not isinstance(text, str) or not text.strip():
        raise InputError("no text to explain (empty or whitespace only)")
    evidence = gather(scorer, text)
    result = verdict(scorer, evidence)
    decision = decide(evidence, scorer.thresholds)
    calibration = scorer.card.get("calibration", {})
    return {
        "label": result["label"],
        "probabilities": result["probabilities"],
        "confidence": result["confidence"],
        "off_topic": result["off_topic"],
        "reasons": list(decision.reasons),
        "logit": evidence.logit,
        "intercept": evidence.intercept,
        "how": (
            "logit = intercept + sum of term contributions (tf-idf value x coefficient; "
            "positive toward scientist, negative toward engineer); "
            "P(scientist) = 1/(1+exp(-logit)). "
            f"The Platt calibration (a={float(calibration.get('a', 1.0)):.4g}, "
            f"b={float(calibration.get('b', 0.0)):.4g}) is folded into the weights."
        ),
        "terms": [
            {"term": t.term, "contribution": t.contribution, "spans": [list(s) for s in t.spans]}
            for t in evidence.terms
        ],
        "sentences": _sentences(text, evidence, result["label"]),
        "hybrid_role_mentions": [list(span) for span in evidence.hybrid_role_spans],
        "closest_article": closest_article(scorer, text),
        "model": result["model"],
    }


def _sentences(text: str, evidence: Evidence, label: str | None) -> list[dict[str, Any]]:
    """Every line with its summed contribution; the lines that carried the verdict are marked."""
    sides = {"engineer": (-1,), "scientist": (1,), "mixed": (-1, 1)}.get(label or "", ())
    decisive: set[int] = set()
    for sign in sides:
        ranked = sorted(
            (i for i, s in enumerate(evidence.sentences) if s.contribution * sign > 0),
            key=lambda i: -abs(evidence.sentences[i].contribution),
        )
        decisive.update(ranked[:DECISIVE_LINES])
    if label == "mixed":  # a line that names a hybrid role is evidence of its own
        for start, _ in evidence.hybrid_role_spans:
            decisive.update(i for i, s in enumerate(evidence.sentences) if s.start <= start < s.end)
    return [
        {
            "text": text[s.start : s.end],
            "start": s.start,
            "end": s.end,
            "contribution": s.contribution,
            "decisive": i in decisive,
        }
        for i, s in enumerate(evidence.sentences)
    ]


@lru_cache(maxsize=1)
def article_bullets() -> tuple[tuple[str, str, str], ...]:
    """(id, label, text) of the article's responsibility bullets: the roles' definitions."""
    path = shipped_data_dir() / "article.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(
            (row["id"], row["label"], row["text"])
            for row in csv.DictReader(handle)
            if "-desc-" not in row["id"]
        )


def closest_article(scorer: Scorer, text: str) -> list[dict[str, Any]]:
    """The article bullets nearest the posting by tf-idf cosine similarity."""
    posting = scorer.tfidf(scorer.term_counts(text))
    ranked = []
    for bullet_id, label, bullet in article_bullets():
        similarity = _cosine(posting, scorer.tfidf(scorer.term_counts(bullet)))
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
