"""What would change a verdict: the fewest of the posting's lines whose removal changes it.

A recruiter fixing a posting needs to know which lines carry the verdict. The lines that
pull hardest toward the verdict's side (for a mixed verdict, the lines of one side:
whichever side changes it with fewer) are taken out, strongest first, and the posting is
scored again exactly as given without them (each removed line is blanked, so nothing else
moves): the fewest that change the verdict are found by bisection over how many of the
strongest go. The statement is therefore exact: scoring the posting without the named
lines gives the stated verdict and probability. At most MAX_LINES lines are tried.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..text.roles import ROLE_NAMES
from ..text.title import blank
from .decision import Verdict, decide
from .evidence import Evidence, Line
from .reasons import side_name

MAX_LINES = 8


class WhatIf(NamedTuple):
    lines: tuple[tuple[int, int], ...]  # (start, end) in the posting as given
    label: str | None  # the verdict without them (None: not an ML job description)
    p_scientist: float  # P(scientist) without them
    changed: bool  # False: even without these lines the verdict stands
    sentence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence,
            "lines": [{"start": start, "end": end} for start, end in self.lines],
            "label": self.label,
            "changed": self.changed,
            "probabilities": {"engineer": 1.0 - self.p_scientist, "scientist": self.p_scientist},
        }


def without(evidence: Evidence, spans: list[tuple[int, int]]) -> Evidence:
    """The evidence of the posting with these spans blanked out (its title unchanged)."""
    text = evidence.text
    for span in spans:
        text = blank(text, span)
    return Evidence(evidence.scorer, text, evidence.given_title)


def _candidates(evidence: Evidence, role: str) -> list[Line]:
    """Job lines pulling toward `role`, strongest first: never every job line (what would
    be left is no posting)."""
    sign = -1 if role == "engineer" else 1
    job = [line for line in evidence.lines if line.job]
    lines = [line for line in job if line.contribution * sign > 0]
    ranked = sorted(lines, key=lambda line: (-line.contribution * sign, line.start))
    return ranked[: min(MAX_LINES, len(job) - 1)]


def _attempt(
    evidence: Evidence, verdict: Verdict, lines: list[Line]
) -> tuple[list[Line], Evidence, Verdict]:
    """The fewest of `lines` (strongest first) whose removal changes the verdict's label:
    (removed, evidence and verdict without them). All of them are tried first (when even
    that changes nothing, that is the answer), then the shortest prefix that still changes
    it is found by bisection; every answer is a real rescoring of what it names."""

    def score(count: int) -> tuple[Evidence, Verdict]:
        after = without(evidence, [(line.start, line.end) for line in lines[:count]])
        return after, decide(after, evidence.scorer.thresholds)

    best = score(len(lines))
    if best[1].label == verdict.label:
        return lines, *best
    low, high = 0, len(lines)  # unchanged without `low` lines, changed without `high`
    while high - low > 1:
        middle = (low + high) // 2
        tried = score(middle)
        if tried[1].label != verdict.label:
            high, best = middle, tried
        else:
            low = middle
    return lines[:high], *best


def _reads(label: str | None, p: float, verb: str = "reads") -> str:
    if label is None:
        return "it no longer reads as an ML job description"
    if label == "mixed":
        return f"it {verb} as mixed (P(scientist) {p:.2f})"
    shown = p if label == "scientist" else 1.0 - p
    return f"it {verb} as {ROLE_NAMES[label]} (P({label}) {shown:.2f})"


def what_if(evidence: Evidence, verdict: Verdict) -> WhatIf:
    """Which lines would have to go for the verdict to change, and the verdict without them."""
    p = evidence.p_scientist
    if verdict.off_topic:
        return WhatIf((), None, p, False,
                      "No line to take out: to read as an ML job description it would need "
                      "lines that describe machine-learning work")
    sides = ["engineer", "scientist"] if verdict.label == "mixed" else [str(verdict.label)]
    tried = []
    for side in sides:
        lines = _candidates(evidence, side)
        if lines:
            tried.append((side, *_attempt(evidence, verdict, lines)))
    if not tried:
        if sum(line.job for line in evidence.lines) <= 1:
            reason = "It is a single line: only rewriting it would change the verdict"
        else:
            reason = "No line of it pulls its way: the verdict rests on the words as a whole"
        return WhatIf((), verdict.label, p, False, reason)
    # Fewest lines that change it; else the attempt that moved P furthest.
    side, removed, after, changed = min(
        tried, key=lambda t: (t[3].label == verdict.label, len(t[1]), -abs(t[2].p_scientist - p)))
    spans = tuple((line.start, line.end) for line in removed)
    count = "this line" if len(removed) == 1 else f"these {len(removed)} lines"
    if changed.label != verdict.label:
        return WhatIf(spans, changed.label, after.p_scientist, True,
                      f"Without {count} {_reads(changed.label, after.p_scientist)}")
    pull = side_name(evidence, side)
    return WhatIf(spans, changed.label, after.p_scientist, False,
                  f"Even without the {len(removed)} lines that pull most toward {pull} "
                  f"{_reads(changed.label, after.p_scientist, 'still reads')}")
