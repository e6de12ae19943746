"""The probability map: Platt scaling (fitted by `rolecli train` on out-of-fold logits)
and the measures of how well a map ranks and is calibrated (ROC AUC, expected
calibration error), which training reports and `rolecli evaluate` shows.

Fitting the label thresholds on postings (`rolecli calibrate`) reads evidence, so it
lives above this layer, in `rolecli.tasks.fit_thresholds`.
"""

from __future__ import annotations

import math

from .scorer import sigmoid

ECE_BINS = 10


def fit_platt(
    logits: list[float], y: list[int], ridge: float = 1e-3, weights: list[float] | None = None
) -> tuple[float, float]:
    """Maximum-likelihood a, b of P(y=1) = sigmoid(a*z + b), by Newton's method.

    Each class is weighted to half the total (after any row `weights`), so P = 0.5 is the
    balanced-accuracy decision point whatever the mix of the calibration rows.
    """
    rows = weights or [1.0] * len(y)
    totals = {t: sum(w for w, label in zip(rows, y) if label == t) for t in (0, 1)}
    scale = sum(totals.values()) / 2
    row_weights = [w * scale / totals[t] for w, t in zip(rows, y)]
    a, b = 1.0, 0.0
    for _ in range(100):
        ga, gb = ridge * (a - 1.0), 0.0
        haa = hab = hbb = ridge
        for z, t, w in zip(logits, y, row_weights):
            p = sigmoid(a * z + b)
            ga += w * (p - t) * z
            gb += w * (p - t)
            curvature = w * p * (1.0 - p)
            haa += curvature * z * z
            hab += curvature * z
            hbb += curvature
        det = haa * hbb - hab * hab
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) < 1e-12 and abs(db) < 1e-12:
            break
    return a, b


def roc_auc(y: list[int], p: list[float]) -> float | None:
    """Mann-Whitney form of the ROC AUC, ties counted half."""
    positives = sum(y)
    negatives = len(y) - positives
    if not positives or not negatives:
        return None
    ranked = sorted(zip(p, y))
    rank_sum = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average_rank = (i + j + 1) / 2  # 1-based ranks i+1..j
        rank_sum += average_rank * sum(label for _, label in ranked[i:j])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def expected_calibration_error(y: list[int], p: list[float], bins: int = ECE_BINS) -> float | None:
    if not y:
        return None
    total = 0.0
    for b in range(bins):
        members = [(q, t) for q, t in zip(p, y) if min(int(q * bins), bins - 1) == b]
        if members:
            confidence = math.fsum(q for q, _ in members) / len(members)
            frequency = sum(t for _, t in members) / len(members)
            total += len(members) / len(y) * abs(confidence - frequency)
    return total
