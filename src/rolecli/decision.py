"""The decision rule: calibrated P(scientist), split evidence and topicality to a label.

Every number here is a default; the thresholds a model uses live in its card.json.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_THRESHOLDS: dict[str, Any] = {
    # Off-topic when the domain model gives P(ML/data job description) below this.
    "off_topic": {"min_p_on_topic": 0.5},
    # Mixed when P(scientist) is inside [p_low, p_high], or when both kinds of lines are
    # strong: the weaker side's line evidence is at least min_balance of the stronger's
    # and P(scientist) is inside [balance_p_low, balance_p_high].
    "mixed": {
        "p_low": 0.4,
        "p_high": 0.6,
        "min_balance": 1.01,
        "balance_p_low": 0.25,
        "balance_p_high": 0.75,
    },
}

CONFIDENCE_WORDS = ((0.85, "high"), (0.65, "medium"), (0.0, "low"))


@dataclass(frozen=True)
class Verdict:
    label: str | None
    off_topic: bool
    confidence: float

    @property
    def confidence_word(self) -> str:
        return confidence_word(self.confidence)


def confidence_word(confidence: float) -> str:
    return next(word for floor, word in CONFIDENCE_WORDS if confidence >= floor)


def balance(engineer_evidence: float, scientist_evidence: float) -> float:
    """How evenly strong the two kinds of lines are: 0 one-sided, 1 equal."""
    strongest = max(engineer_evidence, scientist_evidence)
    return min(engineer_evidence, scientist_evidence) / strongest if strongest > 0 else 0.0


def decide(
    p_scientist: float,
    p_on_topic: float,
    split: Callable[[], float],
    thresholds: dict[str, Any],
) -> Verdict:
    """The label; `split` is called only when P(scientist) is inside the band that needs it."""
    if p_on_topic < thresholds["off_topic"]["min_p_on_topic"]:
        return Verdict(None, True, round(1.0 - p_on_topic, 6))
    rule = thresholds["mixed"]
    in_band = rule["p_low"] <= p_scientist <= rule["p_high"]
    split_evidence = (
        not in_band
        and rule["min_balance"] <= 1.0
        and rule["balance_p_low"] <= p_scientist <= rule["balance_p_high"]
        and split() >= rule["min_balance"]
    )
    if in_band or split_evidence:
        return Verdict("mixed", False, round(1.0 - abs(2.0 * p_scientist - 1.0), 6))
    label = "scientist" if p_scientist >= 0.5 else "engineer"
    return Verdict(label, False, round(max(p_scientist, 1.0 - p_scientist), 6))
