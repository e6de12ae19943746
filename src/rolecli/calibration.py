"""calibrate(): fit the probability map and the label thresholds on labelled postings.

The result is a handful of numbers (Platt's a and b, the mixed band, the off-topic
floor) saved as JSON; `rolecli train` folds them into the model it builds, so the
shipped model is reproducible from data/ without the postings themselves.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from .classifier import load_scorer
from .datasets import load_examples, sha256_file
from .decision import decide
from .errors import UsageError
from .evidence import gather
from .scorer import sigmoid

# Budgets the thresholds are chosen under (issue targets, with a safety margin).
CLEAR_CALLED_MIXED_BUDGET = 0.07
OFF_TOPIC_BUDGET = 0.008


def fit_platt(logits: list[float], y: list[int], ridge: float = 1e-3) -> tuple[float, float]:
    """Maximum-likelihood a, b of P(y=1) = sigmoid(a*z + b), by Newton's method."""
    a, b = 1.0, 0.0
    for _ in range(100):
        ga = gb = 0.0
        haa = hab = hbb = ridge
        ga += ridge * (a - 1.0)
        for z, t in zip(logits, y):
            p = sigmoid(a * z + b)
            ga += (p - t) * z
            gb += p - t
            w = p * (1.0 - p)
            haa += w * z * z
            hab += w * z
            hbb += w
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
        rows.append((example.label, raw, evidence.split(), evidence.p_on_topic))
    binary = [(raw, int(label == "scientist")) for label, raw, _, _ in rows
              if label in ("engineer", "scientist")]
    if len({t for _, t in binary}) < 2:
        raise UsageError(f"{path}: calibration needs both engineer and scientist rows")
    a, b = fit_platt([z for z, _ in binary], [t for _, t in binary])
    calibrated = [(label, sigmoid(a * raw + b), split, on) for label, raw, split, on in rows]
    thresholds = {
        "off_topic": {"min_p_on_topic": _off_topic_floor([on for *_, on in calibrated])},
        "mixed": _mixed_rule(calibrated),
    }
    return {
        "base_model_sha256": scorer.card["base_model_sha256"],
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


def _mixed_rule(rows: list[tuple[str, float, float, float]]) -> dict[str, float]:
    """The mixed band that finds the most true mixed rows within the clear-row budget."""
    mixed = [r for r in rows if r[0] == "mixed"]
    clear = [r for r in rows if r[0] in ("engineer", "scientist")]
    grid = [round(0.05 * i, 2) for i in range(1, 20)]
    balances = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.01]
    everything = {"off_topic": {"min_p_on_topic": -1.0}}
    best: tuple[float, float, dict[str, float]] | None = None
    for low, high in itertools.combinations(grid, 2):
        if not low < 0.5 < high:
            continue
        for min_balance in balances:
            for wide_low, wide_high in ((low, high), (max(0.05, low - 0.15), min(0.95, high + 0.15))):
                rule = {"p_low": low, "p_high": high, "min_balance": min_balance,
                        "balance_p_low": wide_low, "balance_p_high": wide_high}
                thresholds = everything | {"mixed": rule}

                def called_mixed(row: tuple[str, float, float, float]) -> bool:
                    return decide(row[1], 1.0, lambda: row[2], thresholds).label == "mixed"

                false_rate = sum(map(called_mixed, clear)) / max(1, len(clear))
                if false_rate > CLEAR_CALLED_MIXED_BUDGET:
                    continue
                recall = sum(map(called_mixed, mixed)) / max(1, len(mixed))
                # Prefer recall, then fewer false alarms, then the simplest (narrowest) rule.
                key = (recall, -false_rate)
                if best is None or key > best[:2]:
                    best = (recall, -false_rate, rule)
    if best is None:
        return {"p_low": 0.45, "p_high": 0.55, "min_balance": 1.01,
                "balance_p_low": 0.45, "balance_p_high": 0.55}
    return best[2]


def save_calibration(settings: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n", encoding="utf-8")
