"""calibrate(): fit the probability map and the label thresholds on labelled postings.

The result is a handful of numbers (Platt's a and b, the mixed band, the off-topic
floor) saved as JSON; `rolecli train` folds them into the model it builds, so the
shipped model is reproducible from data/ without the postings themselves.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .classifier import load_scorer
from .datasets import load_examples, sha256_file
from .decision import DEFAULT_THRESHOLDS, mixed_reasons
from .errors import UsageError
from .evidence import gather
from .scorer import sigmoid

# Budgets the thresholds are chosen under (issue targets, with a safety margin).
CLEAR_CALLED_MIXED_BUDGET = 0.07
OFF_TOPIC_BUDGET = 0.008


def fit_platt(logits: list[float], y: list[int], ridge: float = 1e-3) -> tuple[float, float]:
    """Maximum-likelihood a, b of P(y=1) = sigmoid(a*z + b), by Newton's method.

    Each class is weighted to half the total, so P = 0.5 is the balanced-accuracy decision
    point whatever the mix of the calibration postings.
    """
    positives = sum(y)
    weights = {1: len(y) / (2 * positives), 0: len(y) / (2 * (len(y) - positives))}
    a, b = 1.0, 0.0
    for _ in range(100):
        ga, gb = ridge * (a - 1.0), 0.0
        haa = hab = hbb = ridge
        for z, t in zip(logits, y):
            p = sigmoid(a * z + b)
            w = weights[t]
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


def balanced_cut(logits: list[float], y: list[int]) -> float:
    """The logit that best separates the classes by balanced accuracy (middle of the best gap)."""
    ranked = sorted(zip(logits, y))
    positives = sum(y)
    negatives = len(y) - positives
    below_neg = below_pos = 0
    best, cut = -1.0, 0.0
    for i in range(len(ranked) - 1):
        below_neg += ranked[i][1] == 0
        below_pos += ranked[i][1] == 1
        if ranked[i][0] == ranked[i + 1][0]:
            continue
        score = below_neg / negatives + (positives - below_pos) / positives
        if score > best:
            best, cut = score, (ranked[i][0] + ranked[i + 1][0]) / 2
    return cut


def calibrate(
    data: str | Path,
    model: str | Path | None = None,
    text_column: str = "text",
    label_column: str = "label",
) -> dict[str, Any]:
    """Calibration settings for the model's base (uncalibrated) weights, fitted on `data`."""
    path = Path(data)
    examples = load_examples(path, text_column, label_column)
    scorer = load_scorer(model)
    current = scorer.card["calibration"]
    a0, b0 = float(current["a"]), float(current["b"])
    rows = []
    for example in examples:
        evidence = gather(scorer, example.text)
        raw = (evidence.logit - b0) / a0  # undo the calibration already folded in
        rows.append(
            (
                example.label,
                raw,
                evidence.split(),
                evidence.names_hybrid_role(),
                evidence.p_on_topic,
            )
        )
    binary = [
        (raw, int(label == "scientist"))
        for label, raw, *_ in rows
        if label in ("engineer", "scientist")
    ]
    if len({t for _, t in binary}) < 2:
        raise UsageError(f"{path}: calibration needs both engineer and scientist rows")
    a, _ = fit_platt([z for z, _ in binary], [t for _, t in binary])
    b = -a * balanced_cut([z for z, _ in binary], [t for _, t in binary])
    calibrated = [
        (label, _Fixed(sigmoid(a * raw + b), on, split, hybrid))
        for label, raw, split, hybrid, on in rows
    ]
    thresholds = {
        "off_topic": {"min_p_on_topic": _off_topic_floor([s.p_on_topic for _, s in calibrated])},
        "mixed": _mixed_rule(calibrated),
    }
    return {
        "training_fingerprint": scorer.card["training_fingerprint"],
        "platt": {"a": a, "b": b},
        "thresholds": thresholds,
        "fitted_on": {
            "file": path.name,
            "sha256": sha256_file(path) if path.is_file() else None,
            "rows": len(examples),
        },
    }


def _off_topic_floor(p_on_topic: list[float]) -> float:
    """0.5, lowered only as far as needed to flag at most the budgeted share of real postings."""
    ranked = sorted(p_on_topic)
    allowed = int(OFF_TOPIC_BUDGET * len(ranked))
    floor = 0.5
    if ranked and sum(p < floor for p in ranked) > allowed:
        floor = ranked[allowed]  # the (allowed+1)-th lowest is kept
    return round(floor, 6)


@dataclass(frozen=True)
class _Fixed:
    """Signals of one posting, computed once so the threshold search is cheap."""

    p_scientist: float
    p_on_topic: float
    split_value: float
    hybrid: bool

    def split(self) -> float:
        return self.split_value

    def names_hybrid_role(self) -> bool:
        return self.hybrid


def _mixed_rule(rows: list[tuple[str, _Fixed]]) -> dict[str, float]:
    """The mixed rule that best separates true mixed rows from clear ones, within the budget."""
    mixed = [signals for label, signals in rows if label == "mixed"]
    clear = [signals for label, signals in rows if label in ("engineer", "scientist")]
    if not mixed or not clear:
        return dict(DEFAULT_THRESHOLDS["mixed"])
    bands = [(round(0.5 - w, 2), round(0.5 + w, 2)) for w in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)]
    wide = [(0.0, 1.0), (0.05, 0.95), (0.1, 0.9), (0.2, 0.8), (0.3, 0.7)]
    best: tuple[float, float, dict[str, float]] | None = None
    for (low, high), (h_low, h_high), (b_low, b_high), min_balance in itertools.product(
        bands, wide, wide, (0.4, 0.5, 0.6, 0.7, 0.8, 1.01)
    ):
        rule = {
            "p_low": low,
            "p_high": high,
            "min_balance": min_balance,
            "balance_p_low": b_low,
            "balance_p_high": b_high,
            "hybrid_p_low": h_low,
            "hybrid_p_high": h_high,
        }
        false_rate = sum(bool(mixed_reasons(s, rule)) for s in clear) / len(clear)
        if false_rate > CLEAR_CALLED_MIXED_BUDGET:
            continue
        recall = sum(bool(mixed_reasons(s, rule)) for s in mixed) / len(mixed)
        # Youden's J (recall minus false-alarm rate): a signal earns its place only if it
        # finds a larger share of mixed postings than of clear ones it mislabels; ties keep
        # the earlier (narrower) rule.
        if best is None or (recall - false_rate, -false_rate) > best[:2]:
            best = (recall - false_rate, -false_rate, rule)
    return best[2] if best else dict(DEFAULT_THRESHOLDS["mixed"])


def save_calibration(settings: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n", encoding="utf-8")
