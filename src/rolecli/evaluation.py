"""evaluate(): how a model does on labelled postings."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .classifier import load_scorer
from .decision import decide
from .evidence import gather
from .io.labelled import BadRow, Example, read_labelled
from .model.calibration import expected_calibration_error, roc_auc
from .model.card import Thresholds
from .model.scorer import Scorer

PREDICTED = ("engineer", "scientist", "mixed", "off_topic")
ROLE_WORD = re.compile(
    r"\b(engineer|engineers|engineering|scientist|scientists|science)\b", re.IGNORECASE
)


def mask_role_words(text: str) -> str:
    """Blank out the words that name the role, so only the described work is left."""
    return ROLE_WORD.sub("xxxxx", text)


@dataclass(frozen=True)
class Scored:
    example: Example
    p_scientist: float
    label: str  # predicted, "off_topic" when flagged


def score_examples(
    scorer: Scorer, examples: list[Example], mask: bool = False,
    thresholds: Thresholds | None = None,
) -> list[Scored]:
    """Each example's verdict; a count row (no text) is scored from its counts, masked by
    leaving out the n-grams that hold a masked word. (Having no text, a count row never
    names ML work in words: the off-topic rule reads it with the stricter floor.)
    `thresholds`: other thresholds than the model card's."""
    from .evidence import Evidence

    scored = []
    thresholds = thresholds or scorer.thresholds
    for example in examples:
        if example.counts is not None:
            counts = {t: n for t, n in example.counts.items()
                      if not (mask and ROLE_WORD.search(t))}
            evidence = Evidence(scorer, "", counts=scorer.slot_counts(counts))
        else:
            text = example.text or ""
            evidence = gather(scorer, mask_role_words(text) if mask else text)
        label = decide(evidence, thresholds).label
        scored.append(Scored(example, evidence.p_scientist, label or "off_topic"))
    return scored


def evaluate(
    data: str | Path | list[Example],
    model: str | Path | Scorer | None = None,
    text_column: str = "text",
    label_column: str = "label",
    mask: bool = False,
) -> dict[str, Any]:
    """Metrics of a model on labelled postings (CSV, JSONL or label folders).

    Rows that cannot be used (as batch would make error rows of them) are left out of the
    metrics and listed under "errors", each with its id (row number or file) and reason.
    """
    bad: list[BadRow] = []
    if isinstance(data, list):
        examples = data
    else:
        examples, bad = read_labelled(Path(data), text_column, label_column)
    scorer = model if isinstance(model, Scorer) else load_scorer(model)
    return metrics(score_examples(scorer, examples, mask)) | {
        "errors": [{"id": row.id, "error": row.error} for row in bad],
        "model": {"id": scorer.model_id, "sha256": scorer.sha256},
    }


def metrics(scored: list[Scored]) -> dict[str, Any]:
    truth = [s.example.label for s in scored]
    predicted = [s.label for s in scored]
    labels = [label for label in PREDICTED if label in truth or label in predicted]
    per_label = {}
    for label in labels:
        tp = sum(t == p == label for t, p in zip(truth, predicted))
        n_pred = predicted.count(label)
        n_true = truth.count(label)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_true if n_true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "support": n_true}
    true_labels = [label for label in labels if truth.count(label)]
    binary = [s for s in scored if s.example.label in ("engineer", "scientist")]
    y = [int(s.example.label == "scientist") for s in binary]
    p = [s.p_scientist for s in binary]
    clear = [s for s in scored if s.example.label in ("engineer", "scientist")]
    mixed = [s for s in scored if s.example.label == "mixed"]
    return {
        "rows": len(scored),
        "labels": dict(Counter(truth)),
        "accuracy": _ratio(sum(t == q for t, q in zip(truth, predicted)), len(scored)),
        "balanced_accuracy": _mean([per_label[label]["recall"] for label in true_labels]),
        "macro_f1": _mean([per_label[label]["f1"] for label in true_labels]),
        "per_label": per_label,
        "engineer_vs_scientist": {
            "rows": len(binary),
            "roc_auc": roc_auc(y, p),
            "balanced_accuracy": _binary_balanced_accuracy(y, p),
            "ece": expected_calibration_error(y, p),
        },
        "mixed": {
            "true_mixed_called_mixed": _ratio(sum(s.label == "mixed" for s in mixed), len(mixed)),
            "clear_called_mixed": _ratio(sum(s.label == "mixed" for s in clear), len(clear)),
        },
        "off_topic_rate": _ratio(predicted.count("off_topic"), len(scored)),
        "confusion": {
            "labels": labels,
            "matrix": [
                [sum(t == a and q == b for t, q in zip(truth, predicted)) for b in labels]
                for a in labels
            ],
        },
    }


def _binary_balanced_accuracy(y: list[int], p: list[float]) -> float | None:
    positives = [q >= 0.5 for q, t in zip(p, y) if t]
    negatives = [q < 0.5 for q, t in zip(p, y) if not t]
    if not positives or not negatives:
        return None
    return (sum(positives) / len(positives) + sum(negatives) / len(negatives)) / 2


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
