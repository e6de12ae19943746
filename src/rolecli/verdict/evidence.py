"""Exact evidence for one posting: the title, term contributions, per-line sums, sections.

The body model reads the posting without its title line (the title is read by its own
rule, so the two stay independent): a recognised title line is blanked out, character
for character, so every offset still points into the posting as given.

The logit needs only the term counts; the rest costs more and is computed on first use
(explanations, and the mixed rule when the verdict is not already clear).
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import cached_property
from itertools import accumulate, chain, pairwise, repeat
from operator import add
from typing import NamedTuple, cast

from ..model.scorer import Scorer, sigmoid
from ..text.roles import ENGINEER_STEMS, SCIENTIST_STEMS
from ..text.sections import BOILERPLATE, SECTION_CHARS, Sections
from ..text.sentences import sentence_spans
from ..text.title import NamedRole, TitleLine, blank, leading_title, named_roles, title_label
from ..text.work import describes_a_job, ml_colleagues, ml_work_mentions, names_ml_work
from .decision import names_hybrid

TITLE = "title"  # the section kind of a recognised title line
REST = "rest"  # the kind of the one line holding everything after LINE_CHARS
# Lines, sections and named roles are read in the first this many characters (real
# postings are far shorter); the evidence of the rest is summed as one line, so that a
# huge input stays cheap and the lines still add up to the logit.
LINE_CHARS = SECTION_CHARS
# What a "research engineer" title rule can match, as a quick test on the lowercased body.
_RESEARCH_ENGINEER = re.compile(r"research\s+(?:\w+\s+)?engineer")


class TermEvidence(NamedTuple):
    term: str
    contribution: float  # toward scientist (+) or engineer (-), in logit units
    occurrences: int
    spans: tuple[tuple[int, int], ...]  # those inside the window asked for


class Line(NamedTuple):
    """A line or sentence of the posting with the summed shares of the terms starting in it."""

    start: int
    end: int
    contribution: float
    kind: str  # its section (sections.KINDS, or "title")
    heading: bool  # the line is a section heading

    @property
    def job(self) -> bool:
        """Whether the line describes the job (not a heading, title or boilerplate)."""
        return is_job_line(self.kind, self.heading)


def is_job_line(kind: str, heading: bool) -> bool:
    return not heading and kind not in (TITLE, REST) and kind not in BOILERPLATE


# When no job line carries a strong share (many lines of even weight), the decisive lines
# are this many of the weightiest: an explanation lists them all, so they stay few.
DECISIVE_FALLBACK = 20


class Decisive(NamedTuple):
    """The lines a verdict is read from, each way: the strong job lines (each carrying at
    least the mixed rule's `strong_share` of the evidence of all job lines), or, when no
    line carries that much, the DECISIVE_FALLBACK weightiest job lines (`strong` false)."""

    engineer: tuple[Line, ...]
    scientist: tuple[Line, ...]
    strong: bool

    def toward(self, role: str) -> tuple[Line, ...]:
        return self.engineer if role == "engineer" else self.scientist


class Title(NamedTuple):
    text: str
    label: str | None
    given: bool  # passed in (--title, a title column) rather than read from the posting
    line: TitleLine | None  # where it is in the posting, when read from it


class Lines:
    """Every line of a posting, held compactly (a huge input can have a million). A line's
    section is found when first asked for: the mixed rule asks only for the lines that carry
    evidence, and finding a section is the costly part."""

    def __init__(self, section_of: Callable[[int], tuple[str, bool]]) -> None:
        self.starts = array("q")
        self.ends = array("q")
        self.contributions = array("d")
        self._section_of = section_of  # line number -> (kind, heading)
        self._kinds: list[str | None] = []
        self._headings = bytearray()

    def __len__(self) -> int:
        return len(self.starts)

    def append(self, start: int, end: int, contribution: float, kind: str | None = None) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.contributions.append(contribution)
        self._kinds.append(kind)
        self._headings.append(0)

    def section(self, i: int) -> tuple[str, bool]:
        """(section kind, whether it is a heading) of line i."""
        kind = self._kinds[i]
        if kind is None:
            kind, heading = self._section_of(i)
            self._kinds[i], self._headings[i] = kind, heading
        return kind, bool(self._headings[i])

    def __getitem__(self, i: int) -> Line:
        return Line(self.starts[i], self.ends[i], self.contributions[i], *self.section(i))

    def __iter__(self) -> Iterator[Line]:
        return (self[i] for i in range(len(self)))

    def job_with_evidence(self) -> list[int]:
        """The numbers of the job lines that carry any evidence (sections are found for
        these only, and no Line is built: the mixed rule reads these for most postings)."""
        contributions, section = self.contributions, self.section
        return [i for i in range(len(self)) if contributions[i] and is_job_line(*section(i))]


class Evidence:
    def __init__(
        self, scorer: Scorer, text: str, title: str | None = None,
        counts: dict[int, int] | None = None,
    ) -> None:
        # `counts`: the slot counts when only those are known (a count file's row, text "").
        self.scorer = scorer
        self.text = text
        self._given_title = title.strip() if title and title.strip() else None
        self.title_line = leading_title(text)
        self.body = text if self.title_line is None else blank(text, self.title_line.line)
        self._counts = scorer.term_counts(self.body) if counts is None else counts
        self._weighted = scorer.weigh(self._counts)
        self.intercept = scorer.role_intercept
        self.logit, domain_logit = scorer.logits(self._weighted)
        self.p_scientist = sigmoid(self.logit)
        self.p_on_topic = sigmoid(domain_logit)
        self.known_words = scorer.known_words(self._counts)
        self.names_ml_work = names_ml_work(text) or names_ml_work(self._given_title or "")

    @cached_property
    def describes_job(self) -> bool:
        """Whether it names a role, a hiring phrase or work (read for short texts only)."""
        return describes_a_job(self.text) or describes_a_job(self._given_title or "")

    @cached_property
    def names_ml_work_in_job(self) -> bool:
        """Whether it names ML work as the job's own outside what it says about the company
        (an "About us" section): there, a mention counts only when its sentence hires ("Are
        you a passionate data scientist?"). Sections cost: the off-topic rule reads this only
        for text whose P(ML job) is in doubt."""
        if not self.names_ml_work:
            return False
        if names_ml_work(self._given_title or ""):
            return True
        sections = self.sections
        return any(hires or sections.kind_at(at) != "about"
                   for at, hires in ml_work_mentions(self.text))

    @cached_property
    def ml_colleagues(self) -> str | None:
        """The ML roles it names only as colleagues ("data scientists"), when that is all
        the ML it names (read to word an off-topic reason)."""
        if self.names_ml_work:
            return None
        return ml_colleagues(self.text) or ml_colleagues(self._given_title or "")

    @cached_property
    def families(self) -> dict[str, float] | None:
        """P(each job family) (ml, data_engineer, ...): read by the off-topic rules (and to
        word their verdict) and by the data-role rule; None for a model without the family
        head."""
        return self.scorer.family_probabilities(self._weighted)

    @cached_property
    def title(self) -> Title | None:
        """The title: the one given, else the posting's own title line, else None."""
        if self._given_title is not None:
            return Title(self._given_title, title_label(self._given_title), True, self.title_line)
        if self.title_line is not None:
            text = self.title_line.text(self.text)
            return Title(text, title_label(text), False, self.title_line)
        return None

    @cached_property
    def contributions(self) -> dict[str, float]:
        """Term -> its share of the role logit (explanations need it; a verdict does not)."""
        return self.scorer.contributions(self._weighted)

    @cached_property
    def occurrences(self) -> dict[str, int]:
        term = self.scorer.term
        return {term(slot): count for slot, count in self._counts.items()}

    @cached_property
    def ranked(self) -> tuple[tuple[str, float], ...]:
        """(term, contribution) for every non-zero contribution, strongest first."""
        ranked = sorted(self.contributions.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
        return tuple((t, c) for t, c in ranked if c != 0.0)

    def spans(self, limit: int) -> dict[str, list[tuple[int, int]]]:
        """Term -> the spans of its occurrences in the first `limit` characters, cut at a
        space so that no word is split (an n-gram crossing the cut is left out)."""
        window = self.body[:limit]
        if len(window) < len(self.body):
            window = window[: max(window.rfind(" "), window.rfind("\n"), 0)]
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        contributions = self.contributions
        for term, start, end in self.scorer.analyzer.term_spans(window):
            if term in contributions:
                spans[term].append((start, end))
        return spans

    def terms(self, limit: int) -> tuple[TermEvidence, ...]:
        """`ranked` with each term's count and its spans in the first `limit` characters."""
        spans = self.spans(limit)
        occurrences = self.occurrences
        return tuple(
            TermEvidence(t, c, occurrences[t], tuple(spans.get(t, ()))) for t, c in self.ranked
        )

    @cached_property
    def sections(self) -> Sections:
        return Sections(self.text)

    @cached_property
    def lines(self) -> Lines:
        """Each line or sentence, its section, and the shares of the terms starting in it.

        A term's contribution is shared equally among its occurrences; an n-gram that runs
        across two lines counts in the first. The tokens of the lines, in order, are the
        tokens of the whole text (the gaps between lines are whitespace), so the sums add up
        to the logit exactly. The title line is a line with no evidence; lines starting
        after LINE_CHARS are one line of kind REST.
        """
        # Looked up by slot or None (out of vocabulary): dict.get takes any key, no copy needed.
        shares = cast(dict[int | None, float], self.scorer.occurrence_shares(self._weighted))
        spans: list[tuple[int, int]] = []
        rest = None
        for start, end in sentence_spans(self.text):
            if start >= LINE_CHARS:
                rest = start
                break
            spans.append((start, end))
        # (A line's tokens also serve content_kind's prefilter in the section rules.)
        read = self.body[: spans[-1][1]] if spans else ""
        per_line = self.scorer.analyzer.tokens_of_spans(read, spans)
        title = self.title_line.line if self.title_line is not None else (-1, -1)

        def section_of(number: int) -> tuple[str, bool]:
            start, end = spans[number]
            if title[0] <= start < title[1]:
                return TITLE, False
            return self.sections.of_line(start, end, per_line[number])

        lines = Lines(section_of)
        tokens = list(chain.from_iterable(per_line))
        bounds = [0, *accumulate(map(len, per_line))]  # where each line's tokens start
        # The shares of the n-grams starting at each token (0.0: not a term), summed per
        # token; a line's evidence is then the sum of one slice, in C.
        low, high = self.scorer.analyzer.ngram_range
        keys: list[list[str | tuple[str, ...]]] = [
            tokens if n == 1 else list(zip(*(tokens[i:] for i in range(n))))  # type: ignore[misc]
            for n in range(low, high + 1)
        ]
        slot = self.scorer.vocabulary.lookup(list(chain.from_iterable(keys)))
        at_token = [0.0] * len(tokens)
        for n_grams in keys:
            at_token = list(map(add, at_token, chain(
                map(shares.get, map(slot, n_grams), repeat(0.0)), repeat(0.0))))
        for (start, end), (first, after) in zip(spans, pairwise(bounds)):
            lines.append(start, end, sum(at_token[first:after]))
        if rest is not None:
            # What the read lines leave of the logit (the intercept aside) is theirs.
            lines.append(rest, len(self.text), math.fsum(
                [self.logit - self.intercept, *(-c for c in lines.contributions)]), REST)
        return lines

    @cached_property
    def _lowered(self) -> str:
        return self.body[:LINE_CHARS].lower()

    @cached_property
    def named(self) -> tuple[NamedRole, ...]:
        """The roles the body names as the job itself (not colleagues or teams)."""
        return tuple(named_roles(self.body[:LINE_CHARS], self._lowered))

    def named_labels(self) -> list[str]:
        """Labels of every role named as the job: the title's first, then the body's."""
        title = [self.title.label] if self.title is not None and self.title.label else []
        return title + [role.label for role in self.named]

    def names_hybrid(self) -> bool:
        """Whether the roles named as the job make it a mixed one (the body is read only
        when it holds the nouns that could name the missing role)."""
        title = self.title.label if self.title is not None else None
        if title == "mixed":
            return True
        lowered = self._lowered
        engineer = any(noun in lowered for noun in ENGINEER_STEMS)
        scientist = any(noun in lowered for noun in SCIENTIST_STEMS) or bool(
            _RESEARCH_ENGINEER.search(lowered))
        could = {None: engineer and scientist, "engineer": scientist, "scientist": engineer}
        return could[title] and names_hybrid(self.named_labels())

    def strong_job_lines(self, strong_share: float) -> tuple[list[Line], list[Line]]:
        """(engineering, research) job lines that each carry at least `strong_share` of the
        evidence of all job lines: the lines the split ground counts, and the reasons quote."""
        lines = self.lines
        contributions = lines.contributions
        job = lines.job_with_evidence()
        cut = strong_share * math.fsum(abs(contributions[i]) for i in job)
        if not cut:
            return [], []
        return ([lines[i] for i in job if -contributions[i] >= cut],
                [lines[i] for i in job if contributions[i] >= cut])

    def strong_lines(self, strong_share: float) -> tuple[int, int]:
        engineering, research = self.strong_job_lines(strong_share)
        return len(engineering), len(research)

    @cached_property
    def decisive(self) -> Decisive:
        """The lines reasons count and the explain view lists (see Decisive)."""
        engineering, research = self.strong_job_lines(self.scorer.thresholds.mixed.strong_share)
        if engineering or research:
            return Decisive(tuple(engineering), tuple(research), True)
        lines = self.lines
        job = [lines[i] for i in lines.job_with_evidence()]
        weightiest = sorted(heapq.nlargest(DECISIVE_FALLBACK, job,
                                           key=lambda line: abs(line.contribution)),
                            key=lambda line: line.start)
        return Decisive(tuple(line for line in weightiest if line.contribution < 0),
                        tuple(line for line in weightiest if line.contribution > 0), False)

    @property
    def given_title(self) -> str | None:
        """The title passed in (--title, a title column), if any."""
        return self._given_title


def gather(scorer: Scorer, text: str, title: str | None = None) -> Evidence:
    return Evidence(scorer, text, title)
