"""classify(): one posting in, the verdict as plain data out."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from .decision import decide
from .errors import InputError
from .evidence import Evidence, gather
from .model.scorer import Scorer
from .paths import default_model_dir

TOP_TERMS = 8


@lru_cache(maxsize=8)
def _cached_scorer(directory: Path) -> Scorer:
    return Scorer.load(directory)


def load_scorer(model: str | Path | None = None) -> Scorer:
    """The verified compiled scorer of a model directory (default: the shipped model)."""
    return _cached_scorer(Path(model).resolve() if model else default_model_dir().resolve())


def classify(
    text: str, model: str | Path | Scorer | None = None, title: str | None = None
) -> dict[str, Any]:
    """Label a job description: the same object `rolecli classify --format json` prints.

    `title` is the posting's job title when it is not the posting's first line; it is read
    by its own rule (see rolecli.title) and never by the body model.
    """
    scorer = model if isinstance(model, Scorer) else load_scorer(model)
    if not isinstance(text, str) or not text.strip():
        raise InputError("no text to classify (empty or whitespace only)")
    return verdict(scorer, gather(scorer, text, title))


def verdict(scorer: Scorer, evidence: Evidence) -> dict[str, Any]:
    from .reasons import confidence_text, reasons, title_check  # not needed to load a model

    result = decide(evidence, scorer.thresholds, every=True)
    p = evidence.p_scientist
    title, sentence = title_check(evidence, result, scorer.thresholds)
    return {
        "label": result.label,
        "probabilities": {"engineer": 1.0 - p, "scientist": p},
        "confidence": result.confidence,
        "confidence_text": confidence_text(evidence, result),
        "off_topic": result.off_topic,
        "reasons": reasons(evidence, result),
        "title": title,
        "title_check": sentence,
        "top_terms": {
            "engineer": [t for t, c in evidence.ranked if c < 0][:TOP_TERMS],
            "scientist": [t for t, c in evidence.ranked if c > 0][:TOP_TERMS],
        },
        "model": {"id": scorer.model_id, "sha256": scorer.sha256},
    }
