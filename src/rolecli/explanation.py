"""explain(): the exact reasons for a verdict, as plain data.

A linear model explains itself: each term's tf-idf value times its coefficient,
plus the intercept, is the logit, and P(scientist) = sigmoid(logit). The explanation
leads with what a recruiter reads (verdict, reasons, title check); the arithmetic
follows. Its size is bounded whatever the input's (see LISTED_CHARS).
"""

from __future__ import annotations

import csv
import math
from bisect import bisect_right
from functools import lru_cache
from pathlib import Path
from typing import Any

from .classifier import load_scorer
from .decision import Verdict, decide
from .errors import InputError
from .evidence import Evidence, gather
from .io.tables import unbounded_fields
from .model.scorer import Scorer
from .paths import shipped_data_dir
from .result import result_of

CLOSEST = 3
# Bounds on what an explanation lists, whatever the input's size: term spans and lines
# are listed for the first LISTED_CHARS characters (cut at a space) and at most
# LISTED_LINES lines; decisive lines are always listed, and the unlisted lines' evidence
# is summed in `unlisted_lines`, so the listed numbers still add up to the logit.
LISTED_CHARS = 100_000
LISTED_LINES = 2_000
LISTED_SECTIONS = 200


def explain(
    text: str, model: str | Path | Scorer | None = None, title: str | None = None
) -> dict[str, Any]:
    """The verdict, its reasons, and the exact term, line and section evidence behind it:
    what `rolecli explain --format json` prints."""
    scorer = model if isinstance(model, Scorer) else load_scorer(model)
    if not isinstance(text, str) or not text.strip():
        raise InputError("no text to explain (empty or whitespace only)")
    evidence = gather(scorer, text, title)
    result = result_of(scorer, evidence).to_json()
    decision = decide(evidence, scorer.thresholds, every=True)
    calibration = scorer.card.get("calibration", {})
    sentences, unlisted = _sentences(evidence, decision)
    return {
        **{k: v for k, v in result.items() if k not in ("top_terms", "model")},
        "mixed_grounds": list(decision.grounds),
        "logit": evidence.logit,
        "intercept": evidence.intercept,
        "how": (
            "logit = intercept + sum of term contributions (tf-idf value x coefficient; "
            "positive toward scientist, negative toward engineer); "
            "P(scientist) = 1/(1+exp(-logit)). "
            f"The Platt calibration (a={float(calibration.get('a', 1.0)):.4g}, "
            f"b={float(calibration.get('b', 0.0)):.4g}) is folded into the weights. "
            "A recognised title line is left out: the title is read by its own rule."
        ),
        "terms": [
            {
                "term": t.term, "contribution": t.contribution, "occurrences": t.occurrences,
                "spans": [list(s) for s in t.spans],
            }
            for t in evidence.terms(LISTED_CHARS)
        ],
        "sentences": sentences,
        "unlisted_lines": unlisted,
        "sections": [
            {"kind": part.kind, "start": part.start, "end": part.end,
             "heading": list(part.heading) if part.heading else None}
            for part in evidence.sections.parts[:LISTED_SECTIONS]
        ],
        "named_roles": [
            {"text": role.text(text), "start": role.start, "end": role.end, "label": role.label}
            for role in evidence.named
        ],
        "closest_article": closest_article(scorer, evidence.body),
        "model": result["model"],
        "limits": {"listed_chars": LISTED_CHARS, "listed_lines": LISTED_LINES},
    }


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


def _sentences(
    evidence: Evidence, decision: Verdict
) -> tuple[list[dict[str, Any]], dict[str, float | int]]:
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


def closest_article(scorer: Scorer, text: str) -> list[dict[str, Any]]:
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
