"""The decision rule: calibrated P(scientist), split evidence and topicality to a label.

Every number here is a default; the thresholds a model uses live in its card.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

DEFAULT_THRESHOLDS: dict[str, Any] = {
    # Off-topic (measured leave-one-source-out on real postings, bench/quality.py) when:
    #  - the text has fewer than `min_known_words` words the model knows (gibberish, another
    #    language, a few words), or
    #  - the domain model gives P(ML/data job description) below `min_p_on_topic`, or below
    #    `min_p_on_topic_unnamed` when the text never names ML work (text.ML_WORK): a
    #    posting that names it needs stronger evidence against it.
    "off_topic": {"min_known_words": 5, "min_p_on_topic": 0.1, "min_p_on_topic_unnamed": 0.6},
    # Mixed when any of three signals holds:
    #  - P(scientist) inside [p_low, p_high];
    #  - both kinds of lines are strong (weaker side's line evidence >= min_balance of the
    #    stronger's) and P(scientist) inside [balance_p_low, balance_p_high];
    #  - the posting names a hybrid role ("Research Engineer", "Data Scientist / ML
    #    Engineer") and P(scientist) inside [hybrid_p_low, hybrid_p_high].
    "mixed": {
        "p_low": 0.4,
        "p_high": 0.6,
        "min_balance": 1.01,
        "balance_p_low": 0.25,
        "balance_p_high": 0.75,
        "hybrid_p_low": 0.0,
        "hybrid_p_high": 1.0,
    },
}

CONFIDENCE_WORDS = ((0.85, "high"), (0.65, "medium"), (0.0, "low"))


class Signals(Protocol):
    """What the rule reads; the costly signals are methods, called only when needed."""

    @property
    def p_scientist(self) -> float: ...

    @property
    def p_on_topic(self) -> float: ...

    @property
    def known_words(self) -> int: ...

    @property
    def names_ml_work(self) -> bool: ...

    @property
    def p_tech(self) -> float: ...

    def split(self) -> float: ...

    def names_hybrid_role(self) -> bool: ...


@dataclass(frozen=True)
class Verdict:
    label: str | None
    off_topic: bool
    confidence: float
    reasons: tuple[str, ...] = field(default=())


def confidence_word(confidence: float) -> str:
    return next(word for floor, word in CONFIDENCE_WORDS if confidence >= floor)


def balance(engineer_evidence: float, scientist_evidence: float) -> float:
    """How evenly strong the two kinds of lines are: 0 one-sided, 1 equal."""
    strongest = max(engineer_evidence, scientist_evidence)
    return min(engineer_evidence, scientist_evidence) / strongest if strongest > 0 else 0.0


def _within(p: float, low: float, high: float) -> bool:
    return low <= p <= high


def mixed_reasons(signals: Signals, rule: dict[str, float]) -> tuple[str, ...]:
    """Why a posting counts as mixed (empty when it does not)."""
    p = signals.p_scientist
    if _within(p, rule["p_low"], rule["p_high"]):
        return (
            f"P(scientist) {p:.2f} is within the mixed band [{rule['p_low']}, {rule['p_high']}]",
        )
    if _within(p, rule["hybrid_p_low"], rule["hybrid_p_high"]) and signals.names_hybrid_role():
        return ("the posting names a hybrid role (research engineer, or scientist and engineer)",)
    if rule["min_balance"] <= 1.0 and _within(p, rule["balance_p_low"], rule["balance_p_high"]):
        split = signals.split()
        if split >= rule["min_balance"]:
            return (
                "engineering and research lines are balanced "
                f"({split:.2f} >= {rule['min_balance']})",
            )
    return ()


def off_topic_reason(signals: Signals, rule: dict[str, float]) -> str | None:
    """Why a text is not an ML job description (None when it is one)."""
    if signals.known_words < rule.get("min_known_words", 0):
        return (f"it has too few words a job description in English would use "
                f"({signals.known_words} known)")
    floor = rule["min_p_on_topic"]
    if not signals.names_ml_work and rule.get("min_p_on_topic_unnamed") is not None:
        floor = rule["min_p_on_topic_unnamed"]
    if signals.p_on_topic >= floor:
        return None
    if signals.p_tech >= 0.5:
        return "it reads as a data or software job without machine-learning work"
    return "it does not read like an ML or data-science job description"


def decide(signals: Signals, thresholds: dict[str, Any]) -> Verdict:
    p_on_topic = signals.p_on_topic
    off_topic = off_topic_reason(signals, thresholds["off_topic"])
    if off_topic is not None:
        return Verdict(None, True, round(1.0 - p_on_topic, 6), (off_topic,))
    p = signals.p_scientist
    reasons = mixed_reasons(signals, thresholds["mixed"])
    if reasons:
        return Verdict("mixed", False, round(1.0 - abs(2.0 * p - 1.0), 6), reasons)
    label = "scientist" if p >= 0.5 else "engineer"
    return Verdict(label, False, round(max(p, 1.0 - p), 6), (f"P({label}) {max(p, 1 - p):.2f}",))
