"""The decision rule: calibrated P(scientist), the posting's own evidence and topicality to a label.

Every number here is a default; the thresholds a model uses live in its card.json, fitted
by `rolecli calibrate` on labelled postings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_THRESHOLDS: dict[str, Any] = {
    # Off-topic (measured leave-one-source-out on real postings, bench/quality.py) when:
    #  - the text has fewer than `min_known_words` words the model knows (gibberish, another
    #    language, a few words), or
    #  - the domain model gives P(ML/data job description) below `min_p_on_topic`, or below
    #    `min_p_on_topic_unnamed` when the text never names ML work (text.ML_WORK): a
    #    posting that names it needs stronger evidence against it.
    "off_topic": {"min_known_words": 5, "min_p_on_topic": 0.1, "min_p_on_topic_unnamed": 0.6},
    # A role verdict is confident when P(that role) is at least this: naming a role never
    # overrides it, and a title naming the other role disagrees with it.
    "confident": {"min_p": 0.97},
    # Mixed when any of three grounds holds:
    #  - named: the posting names a role that is both as the job itself (its title, "we are
    #    hiring a Research Engineer", "as a Data Scientist / ML Engineer, you will"), and
    #    the body verdict is not confident;
    #  - split: at least min_split of the job lines read strongly toward each role (a line
    #    is strong when its evidence is at least strong_line in logit units) and
    #    P(scientist) is inside [split_p_low, split_p_high];
    #  - band: P(scientist) is inside [p_low, p_high].
    "mixed": {
        "p_low": 0.5,
        "p_high": 0.5,
        "strong_line": 0.25,
        "min_split": 0.2,
        "split_p_low": 0.03,
        "split_p_high": 0.97,
    },
}
GROUNDS = ("named", "split", "band")
ROLE_NAMES = {"engineer": "ML engineer", "scientist": "ML scientist", "mixed": "mixed"}

CONFIDENCE_WORDS = ((0.85, "high"), (0.65, "medium"), (0.0, "low"))


class MixedSignals(Protocol):
    """What the mixed rule reads (calibration's PostingSignals hold just this)."""

    @property
    def p_scientist(self) -> float: ...

    def names_hybrid(self) -> bool: ...

    def split(self, strong_line: float) -> float: ...


class Signals(MixedSignals, Protocol):
    """What the label rule reads; the costly signals are methods, called only when needed."""

    @property
    def p_on_topic(self) -> float: ...

    @property
    def known_words(self) -> int: ...

    @property
    def names_ml_work(self) -> bool: ...

    @property
    def p_tech(self) -> float: ...


@dataclass(frozen=True)
class Verdict:
    label: str | None
    off_topic: bool
    confidence: float
    grounds: tuple[str, ...] = ()  # which of GROUNDS made it mixed
    off_topic_reason: str | None = None  # why it is not an ML job description


def confidence_word(confidence: float) -> str:
    return next(word for floor, word in CONFIDENCE_WORDS if confidence >= floor)


def names_hybrid(labels: list[str]) -> bool:
    """Whether the roles named as the job make it a mixed one."""
    return "mixed" in labels or {"engineer", "scientist"} <= set(labels)


def is_confident(p_scientist: float, thresholds: dict[str, Any]) -> bool:
    return max(p_scientist, 1.0 - p_scientist) >= float(thresholds["confident"]["min_p"])


def _within(p: float, low: float, high: float) -> bool:
    return low <= p <= high


def mixed_grounds(
    signals: MixedSignals, thresholds: dict[str, Any], every: bool = False
) -> tuple[str, ...]:
    """Why a posting counts as mixed (empty when it does not); cheapest test first, and
    only the first that holds unless `every`."""
    rule = thresholds["mixed"]
    p = signals.p_scientist
    grounds = []
    if _within(p, rule["p_low"], rule["p_high"]):
        grounds.append("band")
        if not every:
            return tuple(grounds)
    if not is_confident(p, thresholds) and signals.names_hybrid():
        grounds.append("named")
        if not every:
            return tuple(grounds)
    if (
        rule["min_split"] <= 0.5
        and _within(p, rule["split_p_low"], rule["split_p_high"])
        and signals.split(rule["strong_line"]) >= rule["min_split"]
    ):
        grounds.append("split")
    return tuple(sorted(grounds, key=GROUNDS.index))


# P(a data or software job) from which an off-topic text is called one (the tech head's
# balanced point on real non-ML postings: 99% of tech families, 5% of the others).
TECH_JOB_MIN_P = 0.45


def off_topic_reason(signals: Signals, rule: dict[str, float]) -> str | None:
    """Why a text is not an ML job description (None when it is one)."""
    floor = rule["min_p_on_topic"]
    if not signals.names_ml_work and rule.get("min_p_on_topic_unnamed") is not None:
        floor = rule["min_p_on_topic_unnamed"]
    too_few = signals.known_words < rule.get("min_known_words", 0)
    if signals.p_on_topic >= floor and not too_few:
        return None
    if signals.p_tech >= TECH_JOB_MIN_P:
        return "It reads as a data or software job without machine-learning work"
    if too_few:
        return (f"It has almost none of the words machine-learning job descriptions use "
                f"({signals.known_words} the model knows)")
    return "It does not read like a machine-learning or data-science job description"


def decide(signals: Signals, thresholds: dict[str, Any], every: bool = False) -> Verdict:
    p_on_topic = signals.p_on_topic
    off_topic = off_topic_reason(signals, thresholds["off_topic"])
    if off_topic is not None:
        return Verdict(None, True, round(1.0 - p_on_topic, 6), off_topic_reason=off_topic)
    p = signals.p_scientist
    grounds = mixed_grounds(signals, thresholds, every)
    if grounds:
        # How close the probability itself is to even; the grounds say why it is mixed.
        return Verdict("mixed", False, round(1.0 - abs(2.0 * p - 1.0), 6), grounds)
    label = "scientist" if p >= 0.5 else "engineer"
    return Verdict(label, False, round(max(p, 1.0 - p), 6))


def title_agrees(
    title_label: str | None, verdict: Verdict, p_scientist: float, thresholds: dict[str, Any]
) -> bool | None:
    """False when the body's verdict is confidently a role the title does not name (for a
    title naming both, confidently one role); None when there is nothing to compare."""
    if title_label is None or verdict.label is None:
        return None
    if verdict.label == "mixed" or verdict.label == title_label:
        return True
    return not is_confident(p_scientist, thresholds)
