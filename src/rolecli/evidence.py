"""Exact evidence for one posting: term contributions, their spans, and per-line sums."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from .decision import balance
from .scorer import Scorer, sigmoid
from .text import sentence_spans


@dataclass(frozen=True)
class TermEvidence:
    term: str
    contribution: float  # toward scientist (+) or engineer (-), in logit units
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SentenceEvidence:
    start: int
    end: int
    contribution: float


@dataclass(frozen=True)
class Evidence:
    logit: float
    intercept: float
    p_scientist: float
    p_on_topic: float
    terms: tuple[TermEvidence, ...]  # strongest first
    sentences: tuple[SentenceEvidence, ...]  # in text order

    @property
    def split(self) -> float:
        """Balance of engineering lines against research lines."""
        engineer = sum(-s.contribution for s in self.sentences if s.contribution < 0)
        scientist = sum(s.contribution for s in self.sentences if s.contribution > 0)
        return balance(engineer, scientist)


def gather(scorer: Scorer, text: str) -> Evidence:
    terms = scorer.analyzer.terms(text)
    contributions = scorer.role.contributions(terms)
    logit = scorer.role.intercept + math.fsum(contributions.values())
    p_on_topic = sigmoid(scorer.domain.logit(terms))

    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for term, start, end in scorer.analyzer.term_spans(text):
        if term in contributions:
            spans[term].append((start, end))

    lines = sentence_spans(text)
    starts = [s for s, _ in lines]
    per_line = [0.0] * len(lines)
    for term, places in spans.items():
        share = contributions[term] / len(places)  # each occurrence carries an equal share
        for start, _ in places:
            per_line[_line_of(starts, start)] += share

    ranked = sorted(contributions.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
    return Evidence(
        logit=logit,
        intercept=scorer.role.intercept,
        p_scientist=sigmoid(logit),
        p_on_topic=p_on_topic,
        terms=tuple(TermEvidence(t, c, tuple(spans[t])) for t, c in ranked if c != 0.0),
        sentences=tuple(
            SentenceEvidence(start, end, total) for (start, end), total in zip(lines, per_line)
        ),
    )


def _line_of(starts: list[int], position: int) -> int:
    from bisect import bisect_right

    return max(0, bisect_right(starts, position) - 1)
