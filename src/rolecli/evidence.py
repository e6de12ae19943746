"""Exact evidence for one posting: term contributions, their spans, and per-line sums.

The logit needs only the term counts; spans and line sums cost more, so they are
computed on first use (explanations, and the mixed rule when P is near the middle).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from .decision import balance
from .scorer import Scorer, sigmoid
from .text import hybrid_role_spans, names_ml_work, sentence_spans


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


class Evidence:
    def __init__(self, scorer: Scorer, text: str, counts: dict[int, int] | None = None) -> None:
        # `counts`: the slot counts when only those are known (a count file's row, text "").
        self._scorer = scorer
        self._text = text
        self._counts = scorer.term_counts(text) if counts is None else counts
        self.intercept = scorer.role_intercept
        self.logit, domain_logit = scorer.logits(self._counts)
        self.p_scientist = sigmoid(self.logit)
        self.p_on_topic = sigmoid(domain_logit)
        self.known_words = scorer.known_words(self._counts)
        self.names_ml_work = names_ml_work(text)

    @cached_property
    def p_tech(self) -> float:
        """P(a data or software job), read only for texts that are off-topic."""
        logit = self._scorer.tech_logit(self._counts)
        return 0.0 if logit is None else sigmoid(logit)

    @cached_property
    def contributions(self) -> dict[str, float]:
        """Term -> its share of the role logit (explanations need it; a verdict does not)."""
        return self._scorer.contributions(self._counts)

    @cached_property
    def spans(self) -> dict[str, list[tuple[int, int]]]:
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for term, start, end in self._scorer.analyzer.term_spans(self._text):
            if term in self.contributions:
                spans[term].append((start, end))
        return spans

    @cached_property
    def ranked(self) -> tuple[tuple[str, float], ...]:
        """(term, contribution) for every non-zero contribution, strongest first."""
        ranked = sorted(self.contributions.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
        return tuple((t, c) for t, c in ranked if c != 0.0)

    @cached_property
    def terms(self) -> tuple[TermEvidence, ...]:
        """`ranked` with each term's character spans in the text."""
        return tuple(TermEvidence(t, c, tuple(self.spans[t])) for t, c in self.ranked)

    @cached_property
    def sentences(self) -> tuple[SentenceEvidence, ...]:
        """Each line or sentence with the contributions of the terms that start in it."""
        lines = sentence_spans(self._text)
        starts = [s for s, _ in lines]
        per_line = [0.0] * len(lines)
        for term, places in self.spans.items():
            share = self.contributions[term] / len(places)  # equal share per occurrence
            for start, _ in places:
                per_line[max(0, bisect_right(starts, start) - 1)] += share
        return tuple(SentenceEvidence(s, e, total) for (s, e), total in zip(lines, per_line))

    @cached_property
    def hybrid_role_spans(self) -> list[tuple[int, int]]:
        return hybrid_role_spans(self._text)

    def names_hybrid_role(self) -> bool:
        return bool(self.hybrid_role_spans)

    def split(self) -> float:
        """Balance of engineering lines against research lines (0 one-sided, 1 equal)."""
        engineer = sum(-s.contribution for s in self.sentences if s.contribution < 0)
        scientist = sum(s.contribution for s in self.sentences if s.contribution > 0)
        return balance(engineer, scientist)


def gather(scorer: Scorer, text: str) -> Evidence:
    return Evidence(scorer, text)
