"""The decision rule: P(scientist), the posting's own evidence and its topic to a label.

Every number it reads is a field of the model's `Thresholds` (model/card.py), chosen by
`rolecli calibrate` on labelled postings, or for the shipped model on what careful readers
say the postings' bodies describe (bench/quality.py --save-calibration).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from ..model.card import DataRoleThresholds, MixedThresholds, OffTopicThresholds, Thresholds
from ..text.roles import Label

GROUNDS = ("split", "named", "band")
# What an off-topic text reads as, by the family head's most likely class other than ML.
FAMILY_READS = {
    "data_engineer": "a data-engineering job without ML work",
    "data_analyst": "a data-analyst job without ML work",
    "software": "a software or IT job without ML work",
}
DATA_ENGINEER = "data_engineer"
CONFIDENCE_WORDS = ((0.85, "high"), (0.65, "medium"), (0.0, "low"))
# A verdict resting on little text is never more than low confidence, whatever P says:
# on excerpts of real postings that short, P overstates how often it is right.
SHORT_TEXT_CONFIDENCE = 0.6
GRADES = ("agrees", "leans", "contradicts")


class MixedSignals(Protocol):
    """What the mixed rule reads; the costly signals are methods, called only when needed."""

    @property
    def p_scientist(self) -> float: ...

    def names_hybrid(self) -> bool: ...

    def strong_lines(self, strong_share: float) -> tuple[int, int]: ...


class Signals(MixedSignals, Protocol):
    """What the label rule reads."""

    @property
    def p_on_topic(self) -> float: ...

    @property
    def known_words(self) -> int: ...

    @property
    def names_ml_work(self) -> bool: ...

    @property
    def describes_job(self) -> bool: ...  # read for short texts only

    @property
    def names_ml_work_in_job(self) -> bool: ...  # read when P(ML job) is in doubt

    @property
    def ml_colleagues(self) -> str | None: ...  # read for off-topic reasons only

    @property
    def families(self) -> dict[str, float] | None: ...


class Verdict(NamedTuple):
    label: Label | None  # None when off-topic
    off_topic: bool
    confidence: float
    grounds: tuple[str, ...] = ()  # which of GROUNDS made it mixed
    off_topic_reason: str | None = None  # why it is not an ML job description
    family: str | None = None  # off-topic: the job family it reads as (FAMILY_READS, other)
    short_text: bool = False  # it rests on little text (confidence low)
    data_engineering: bool = False  # it reads as data engineering, so not ML science


def confidence_word(confidence: float) -> str:
    return next(word for floor, word in CONFIDENCE_WORDS if confidence >= floor)


def names_hybrid(labels: list[str]) -> bool:
    """Whether the roles named as the job make it a mixed one."""
    return "mixed" in labels or {"engineer", "scientist"} <= set(labels)


def _within(p: float, width: float | None) -> bool:
    return width is not None and abs(p - 0.5) <= width


def split_holds(strong: tuple[int, int], rule: MixedThresholds) -> bool:
    """Whether (engineering, research) strong job lines are enough of each for mixed."""
    if rule.min_balance is None:
        return False
    smaller = min(strong)
    return smaller >= rule.min_lines and smaller >= rule.min_balance * sum(strong)


def mixed_grounds(
    signals: MixedSignals, rule: MixedThresholds, every: bool = False
) -> tuple[str, ...]:
    """Why a posting counts as mixed (empty when it does not): the first ground that holds,
    cheapest first, or every one with `every`."""
    p = signals.p_scientist
    grounds = []
    if _within(p, rule.band):
        grounds.append("band")
    if (every or not grounds) and _within(p, rule.named_band) and signals.names_hybrid():
        grounds.append("named")
    if (
        (every or not grounds)
        and rule.min_balance is not None
        and rule.split_p_low <= p <= rule.split_p_high
        and split_holds(signals.strong_lines(rule.strong_share), rule)
    ):
        grounds.append("split")
    return tuple(sorted(grounds, key=GROUNDS.index))


def reads_as_family(families: dict[str, float] | None) -> str:
    """The job family an off-topic text reads as: the most likely one other than ML."""
    if not families:
        return "other"
    others = {name: p for name, p in families.items() if name != "ml"}
    return max(sorted(others), key=others.__getitem__) if others else "other"


def too_little_text(signals: Signals, rule: OffTopicThresholds) -> bool:
    """Fewer known words than a verdict needs: a text naming ML work and a role or work
    done ("Own ML model deployment") needs fewer; naming ML alone ("I love machine
    learning") is no job description."""
    if signals.known_words >= max(rule.min_known_words, rule.min_known_words_named):
        return False  # (the job words are read only for the few texts this short)
    named = signals.names_ml_work and signals.describes_job
    return signals.known_words < (rule.min_known_words_named if named else rule.min_known_words)


class OffTopic(NamedTuple):
    """Why a text is not an ML job description, and P(it is not one) by the rule that said so."""

    reason: str
    p_not: float
    family: str  # the job family it reads as (FAMILY_READS, or other)
    too_little: bool = False


def off_topic(signals: Signals, rule: OffTopicThresholds) -> OffTopic | None:
    """Why a text is not an ML job description (None when it is one): too little text to
    read; the topic model's P(ML job description) under its floor (higher for a text that
    names no ML work of the job's own: none, only colleagues, or only in what it says about
    the company); or, for such a text, the family head reading it as another job more than
    as an ML one."""
    if too_little_text(signals, rule):
        # Too little to read: say so, never "surely not a job" from a few words.
        no_job = signals.names_ml_work and not signals.describes_job
        said = ("It names machine learning but no role or work, in too few words to read as a "
                "job description" if no_job else
                "It has almost none of the words machine-learning job descriptions use")
        return OffTopic(f"{said} ({signals.known_words} the model knows)",
                        min(1.0 - signals.p_on_topic, SHORT_TEXT_CONFIDENCE), "other", True)
    # (Whether a text names ML work outside its About section is read only where its P(ML
    # job) is in doubt, under the higher floor or the family head's bar: sections cost.)
    unnamed_floor = rule.min_p_on_topic_unnamed
    raised = (unnamed_floor is not None and signals.p_on_topic < unnamed_floor
              and not signals.names_ml_work_in_job)
    floor = unnamed_floor if raised and unnamed_floor is not None else rule.min_p_on_topic
    if signals.p_on_topic < floor:
        family = reads_as_family(signals.families)
        # Said when it explains the raised floor: always of ML named only about the company
        # or as colleagues; of no ML at all, when P(ML job) alone would have passed.
        tell = raised and (signals.names_ml_work or bool(signals.ml_colleagues)
                           or signals.p_on_topic >= 0.5)
        unnamed = f", and {_unnamed(signals)}" if tell else ""
        return OffTopic(f"{_reads(family)} (P(ML job) {signals.p_on_topic:.2f}{unnamed})",
                        1.0 - signals.p_on_topic, family)
    if rule.min_p_ml_family_unnamed is None:
        return None
    p_ml = (signals.families or {}).get("ml", 1.0)
    if p_ml < rule.min_p_ml_family_unnamed and not signals.names_ml_work_in_job:
        family = reads_as_family(signals.families)
        return OffTopic(f"{_reads(family)}: {_unnamed(signals)}, and its words "
                        f"read as another job (P(ML job) {p_ml:.2f} by job family)",
                        1.0 - p_ml, family)
    return None


def _unnamed(signals: Signals) -> str:
    """What a text that names no ML work of the job's own says of ML."""
    if signals.names_ml_work:
        return "it names ML only in what it says about the company"
    if signals.ml_colleagues:
        return f"the only ML it names is colleagues (“{signals.ml_colleagues}”)"
    return "it never names machine-learning work"


def _reads(family: str) -> str:
    return (f"It reads as {FAMILY_READS[family]}" if family in FAMILY_READS else
            "It does not read like a machine-learning job description")


def reads_as_data_engineering(signals: Signals, rule: DataRoleThresholds) -> bool:
    families = signals.families or {}
    return families.get(DATA_ENGINEER, 0.0) >= rule.engineering_min_p


def decide(signals: Signals, thresholds: Thresholds, every: bool = False) -> Verdict:
    """The verdict; `every` lists every mixed ground that holds (for the reasons)."""
    outside = off_topic(signals, thresholds.off_topic)
    if outside is not None:
        return Verdict(None, True, round(outside.p_not, 6), off_topic_reason=outside.reason,
                       family=outside.family, short_text=outside.too_little)
    short = signals.known_words < thresholds.short_text.max_known_words
    p = signals.p_scientist
    grounds = mixed_grounds(signals, thresholds.mixed, every)
    label: Label = "mixed" if grounds else "scientist" if p >= 0.5 else "engineer"
    # How close P is to even, for mixed; P of the role, for a role.
    confidence = 1.0 - abs(2.0 * p - 1.0) if grounds else max(p, 1.0 - p)
    data_engineering = label != "engineer" and reads_as_data_engineering(
        signals, thresholds.data_roles)
    if data_engineering:
        # Sure only as far as the body reads as engineering, or as a data-engineering job.
        families = signals.families or {}
        label, grounds = "engineer", ()
        confidence = max(1.0 - p, families.get(DATA_ENGINEER, 0.0))
    if short:
        confidence = min(confidence, SHORT_TEXT_CONFIDENCE)
    return Verdict(label, False, round(confidence, 6), grounds, short_text=short,
                   data_engineering=data_engineering)


def title_grade(title_label: str | None, verdict: Verdict, thresholds: Thresholds) -> str | None:
    """How the body compares with the role its title names: agrees, leans (the other way,
    or only partly the title's way) or contradicts; None when there is nothing to compare.

    It contradicts only when the verdict is the other role with at least
    `title.contradicts_min_p` confidence (never on a short text, whose confidence is low).
    """
    if title_label is None or verdict.label is None:
        return None
    if verdict.label == title_label:
        return "agrees"
    if title_label == "mixed" or verdict.label == "mixed":
        return "leans"
    if verdict.confidence >= thresholds.title.contradicts_min_p:
        return "contradicts"
    return "leans"
