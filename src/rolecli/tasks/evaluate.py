"""evaluate(): how a model does on labelled postings."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io.labelled import BadRow, Example, read_labelled
from ..model.card import Thresholds
from ..model.platt import ECE_BINS, expected_calibration_error, roc_auc
from ..model.scorer import Scorer
from ..text.roles import MASKED_ROLE_WORD, PREDICTED, ROLES
from ..verdict.decision import decide
from ..verdict.evidence import gather
from .classify import load_scorer


def mask_role_words(text: str) -> str:
    """Blank out the words that name the role, so only the described work is left."""
    return MASKED_ROLE_WORD.sub("xxxxx", text)


@dataclass(frozen=True)
class Scored:
    example: Example
    p_scientist: float
    label: str  # predicted, "off_topic" when flagged
    p_on_topic: float = 1.0  # P(an ML or data-science job description)


def score_examples(
    scorer: Scorer, examples: list[Example], mask: bool = False,
    thresholds: Thresholds | None = None,
) -> list[Scored]:
    """Each example's verdict; a count row (no text) is scored from its counts, masked by
    leaving out the n-grams that hold a masked word. (Having no text, a count row never
    names ML work in words: the off-topic rule reads it with the stricter floor.)
    `thresholds`: other thresholds than the model card's."""
    from ..verdict.evidence import Evidence

    scored = []
    thresholds = thresholds or scorer.thresholds
    for example in examples:
        if example.counts is not None:
            counts = {t: n for t, n in example.counts.items()
                      if not (mask and MASKED_ROLE_WORD.search(t))}
            evidence = Evidence(scorer, "", counts=scorer.slot_counts(counts))
        else:
            text = example.text or ""
            evidence = gather(scorer, mask_role_words(text) if mask else text)
        label = decide(evidence, thresholds).label
        scored.append(Scored(example, evidence.p_scientist, label or "off_topic",
                             evidence.p_on_topic))
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
    return evaluation(data, model, text_column, label_column, mask).report


@dataclass(frozen=True)
class Evaluation:
    """evaluate()'s report, with the scored rows and scorer behind it (for the figures)."""

    report: dict[str, Any]
    scored: list[Scored]
    scorer: Scorer
    default_group: str | None  # the group of rows with no source: the data file's name
    mask: bool = False


def evaluation(
    data: str | Path | list[Example],
    model: str | Path | Scorer | None = None,
    text_column: str = "text",
    label_column: str = "label",
    mask: bool = False,
) -> Evaluation:
    bad: list[BadRow] = []
    if isinstance(data, list):
        examples = data
    else:
        examples, bad = read_labelled(Path(data), text_column, label_column)
    scorer = model if isinstance(model, Scorer) else load_scorer(model)
    scored = score_examples(scorer, examples, mask)
    report = metrics(scored) | {
        "errors": [{"id": row.id, "error": row.error} for row in bad],
        "model": {"id": scorer.model_id, "sha256": scorer.sha256},
    }
    default = None if isinstance(data, list) else Path(data).name
    return Evaluation(report, scored, scorer, default, mask)


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
    binary = [s for s in scored if s.example.label in ROLES]
    y = [int(s.example.label == "scientist") for s in binary]
    p = [s.p_scientist for s in binary]
    clear = [s for s in scored if s.example.label in ROLES]
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


# -- figures for the HTML report (`rolecli evaluate --html`) ------------------------------

CONFIDENT_ERRORS = 10
MAX_CURVE_POINTS = 400  # the ROC curve's vertices; more are thinned, keeping both ends
DECISIVE_LINES = 3


def figures(evaluation: Evaluation, errors: int = CONFIDENT_ERRORS) -> dict[str, Any]:
    """What `evaluate --html` draws: the ROC curve and the reliability bins of P(scientist)
    on the engineer-vs-scientist rows, per-source figures when the rows name sources, and
    the most confident errors with the lines that decided them."""
    scored = evaluation.scored
    binary = [s for s in scored if s.example.label in ROLES]
    y = [int(s.example.label == "scientist") for s in binary]
    p = [s.p_scientist for s in binary]
    return {
        "roc": roc_curve(y, p),
        "reliability": reliability_bins(y, p),
        "per_source": per_source(scored, evaluation.default_group),
        "confident_errors": confident_errors(evaluation, errors),
    }


def roc_curve(y: list[int], p: list[float]) -> list[tuple[float, float]]:
    """(false positive rate, true positive rate) at every threshold, from (0, 0) to (1, 1);
    empty without both classes."""
    positives = sum(y)
    negatives = len(y) - positives
    if not positives or not negatives:
        return []
    ranked = sorted(zip(p, y), reverse=True)
    points = [(0.0, 0.0)]
    tp = fp = 0
    for index, (score, label) in enumerate(ranked):
        tp += label
        fp += 1 - label
        if index + 1 == len(ranked) or ranked[index + 1][0] != score:  # ties: one step
            points.append((fp / negatives, tp / positives))
    if len(points) > MAX_CURVE_POINTS:
        step = (len(points) - 1) / (MAX_CURVE_POINTS - 1)
        points = [points[round(i * step)] for i in range(MAX_CURVE_POINTS)]
    return points


def reliability_bins(y: list[int], p: list[float], bins: int = ECE_BINS) -> list[dict[str, Any]]:
    """The bins expected_calibration_error uses: rows, mean P(scientist), observed share."""
    found = []
    for number in range(bins):
        members = [(q, t) for q, t in zip(p, y) if min(int(q * bins), bins - 1) == number]
        found.append({
            "low": number / bins, "high": (number + 1) / bins, "rows": len(members),
            "mean_p": math.fsum(q for q, _ in members) / len(members) if members else None,
            "observed": sum(t for _, t in members) / len(members) if members else None,
        })
    return found


def per_source(scored: list[Scored], default_group: str | None) -> list[dict[str, Any]] | None:
    """Each source's figures, or None when the rows name no source (a table without a
    source column has one group: the file's name)."""
    groups = sorted({s.example.group for s in scored})
    if len(groups) < 2 and (not groups or groups[0] == default_group):
        return None
    rows = []
    for group in groups:
        found = metrics([s for s in scored if s.example.group == group])
        rows.append({
            "source": group, "rows": found["rows"], "labels": found["labels"],
            "accuracy": found["accuracy"], "balanced_accuracy": found["balanced_accuracy"],
            "roc_auc": found["engineer_vs_scientist"]["roc_auc"],
            "ece": found["engineer_vs_scientist"]["ece"],
            "off_topic_rate": found["off_topic_rate"],
        })
    return rows


def error_confidence(scored: Scored) -> float:
    """How far a wrong verdict's score was from the truth, 0 to 1: P(scientist) on an
    engineer posting, P(engineer) on a scientist one, how one-sided P is on a mixed one;
    P(not an ML job) on an ML posting called off-topic, P(an ML job) on an off-topic one."""
    truth, p = scored.example.label, scored.p_scientist
    if scored.label == "off_topic":
        return 1.0 - scored.p_on_topic
    if truth == "off_topic":
        return scored.p_on_topic
    if truth == "mixed":
        return abs(2 * p - 1)
    return p if truth == "engineer" else 1.0 - p


def confident_errors(evaluation: Evaluation, count: int) -> list[dict[str, Any]]:
    """The `count` errors said with most confidence, each with the lines that decided it
    (a count row has no text, so no lines)."""
    from .explain import explain

    wrong = [s for s in evaluation.scored if s.label != s.example.label]
    wrong.sort(key=lambda s: (-error_confidence(s), s.example.id))
    found = []
    for scored in wrong[:count]:
        lines: list[dict[str, Any]] = []
        if scored.example.text:
            text = scored.example.text
            explained = explain(mask_role_words(text) if evaluation.mask else text,
                                evaluation.scorer)
            decisive = [line for line in explained["sentences"] if line["decisive"]]
            decisive.sort(key=lambda line: -abs(line["contribution"]))
            lines = [{"text": line["text"], "contribution": line["contribution"],
                      "section": line["section"]} for line in decisive[:DECISIVE_LINES]]
        found.append({
            "id": scored.example.id, "source": scored.example.group,
            "true": scored.example.label, "predicted": scored.label,
            "p_scientist": scored.p_scientist, "p_on_topic": scored.p_on_topic,
            "confidence": error_confidence(scored), "lines": lines,
        })
    return found
