"""Calibration: Platt scaling (fitted by training) and the label thresholds (`rolecli calibrate`).

`calibrate` fits the mixed rule on labelled postings and saves it as JSON;
`rolecli train` folds it into the model it builds when it was fitted for the same base
model, so the shipped model is reproducible from data/ without the postings themselves.
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

# Budget the mixed rule is chosen under (issue target, with a safety margin).
CLEAR_CALLED_MIXED_BUDGET = 0.07


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


def calibrate(
    data: str | Path,
    model: str | Path | None = None,
    text_column: str = "text",
    label_column: str = "label",
) -> dict[str, Any]:
    """Label thresholds (the mixed rule) for a model, fitted on the labelled postings in `data`.

    The probability map itself is fitted by `rolecli train` on out-of-fold logits; the
    off-topic thresholds stay those of the model's card.
    """
    path = Path(data)
    examples = [e for e in load_examples(path, text_column, label_column) if e.text is not None]
    if not examples:
        raise UsageError(f"{path}: calibration needs posting texts (count rows have none)")
    scorer = load_scorer(model)
    rows = []
    for example in examples:
        evidence = gather(scorer, example.text or "")
        signals = _Fixed(evidence.p_scientist, evidence.p_on_topic, evidence.split(),
                         evidence.names_hybrid_role())
        rows.append((example.label, signals))
    if not {"engineer", "scientist"} <= {label for label, _ in rows}:
        raise UsageError(f"{path}: calibration needs both engineer and scientist rows")
    thresholds = {"off_topic": scorer.thresholds["off_topic"], "mixed": _mixed_rule(rows)}
    return {
        "training_fingerprint": scorer.card["training_fingerprint"],
        "thresholds": thresholds,
        "fitted_on": {
            "file": path.name,
            "sha256": sha256_file(path) if path.is_file() else None,
            "rows": len(examples),
        },
    }


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
