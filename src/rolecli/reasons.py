"""Reasons a recruiter can follow: the lines and words that decided a verdict, in plain words.

Everything here reads the evidence and the verdict; nothing is decided again. Reasons
quote only text that is in the posting (between “ and ”), and only from the lines that
describe the job: headings, the title line and boilerplate sections (about the company,
benefits, equal opportunity, how to apply, job details) are never cited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .decision import ROLE_NAMES, Verdict, confidence_word, title_agrees
from .evidence import Evidence, Line
from .sections import WORK

MAX_REASONS = 3
WORDS_PER_REASON = 3
QUOTE_CHARS = 90
SIDES = {"engineer": -1, "scientist": 1}
SIDE_WORDS = {"engineer": "engineering", "scientist": "research"}
OTHER = {"engineer": "scientist", "scientist": "engineer"}


def quote(text: str) -> str:
    """“text” without list markers, cut at a word boundary (with … after the quote) when
    longer than QUOTE_CHARS; what is quoted is always a stretch of the posting."""
    text = text.strip().lstrip("-*•·▪●◦–—>#").strip()
    if "\n" in text or "  " in text or "\t" in text:
        text = text.split("\n")[0].split("\t")[0].split("  ")[0]
    if len(text) <= QUOTE_CHARS:
        return f"“{text}”"
    cut = text[:QUOTE_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:-–")
    return f"“{cut}”…"


@dataclass(frozen=True)
class Group:
    """The lines a sentence counts: the responsibility lines, else every job line."""

    name: str  # as the sentence names them
    lines: tuple[Line, ...]  # the ones with any evidence

    def toward(self, role: str) -> tuple[Line, ...]:
        sign = SIDES[role]
        return tuple(line for line in self.lines if line.contribution * sign > 0)

    def count(self, role: str) -> str:
        return f"{len(self.toward(role))} of {len(self.lines)} {self.name}"


def line_groups(evidence: Evidence) -> tuple[Group, Group | None]:
    """(the work lines, the requirement lines) of a posting, each line with evidence."""
    job = [line for line in evidence.lines if line.job and line.contribution]
    work = tuple(line for line in job if line.kind in WORK)
    requirements = tuple(line for line in job if line.kind == "requirements")
    if len(work) >= 2:
        return Group("responsibility lines", work), (
            Group("requirement lines", requirements) if len(requirements) >= 2 else None
        )
    return Group("lines", tuple(job)), None


def top_words(evidence: Evidence, lines: tuple[Line, ...], role: str) -> list[str]:
    """The posting's own words that pull most toward `role` in these lines, quoted."""
    sign = SIDES[role]
    contributions, occurrences = evidence.contributions, evidence.occurrences
    weight: dict[str, float] = defaultdict(float)
    surface: dict[str, str] = {}
    analyzer = evidence.scorer.analyzer
    for line in lines:
        text = evidence.body[line.start : line.end]
        for term, start, end in analyzer.term_spans(text):
            contribution = contributions.get(term, 0.0)
            if contribution * sign > 0:
                weight[term] += contribution / occurrences[term]
                surface.setdefault(term, text[start:end])
    chosen: list[str] = []
    used: set[str] = set()
    for term in sorted(weight, key=lambda t: (-abs(weight[t]), t)):
        words = set(term.split())
        if words & used:  # "deploying models" makes "models" redundant
            continue
        chosen.append(term)
        used |= words
        if len(chosen) == WORDS_PER_REASON:
            break
    return [quote(surface[term]) for term in chosen]


def _strongest(lines: tuple[Line, ...], role: str) -> Line | None:
    sign = SIDES[role]
    toward = [line for line in lines if line.contribution * sign > 0]
    return max(toward, key=lambda line: line.contribution * sign, default=None)


def _lines_reason(evidence: Evidence, group: Group, role: str) -> str | None:
    toward = group.toward(role)
    if not toward:
        return None
    words = top_words(evidence, toward, role)
    return f"{group.count(role)} read as {SIDE_WORDS[role]}" + (
        f": {', '.join(words)}" if words else ""
    )


def _p(role: str, p_scientist: float) -> str:
    return f"P({role}) {p_scientist if role == 'scientist' else 1.0 - p_scientist:.2f}"


def reasons(evidence: Evidence, verdict: Verdict) -> list[str]:
    """One to three plain-language reasons for the verdict."""
    p = evidence.p_scientist
    if verdict.off_topic:
        return [f"{verdict.off_topic_reason} (P(ML/data job) {evidence.p_on_topic:.2f})"]
    work, requirements = line_groups(evidence)
    found: list[str] = []
    if verdict.label in SIDES:
        role = str(verdict.label)
        if (reason := _lines_reason(evidence, work, role)) is not None:
            found.append(reason)
        if requirements is not None:
            same = _lines_reason(evidence, requirements, role)
            other = _lines_reason(evidence, requirements, OTHER[role])
            if same is not None:
                found.append(same)
            elif other is not None:
                found.append(f"The requirements point the other way: {other}")
        line = _strongest(work.lines, role)
        if line is not None and len(found) < MAX_REASONS:
            text = evidence.text[line.start : line.end]
            found.append(f"The line that pulls most toward {SIDE_WORDS[role]}: {quote(text)}")
        if not found:
            found.append(f"{ROLE_NAMES[role]} by a small margin of evidence ({_p(role, p)})")
        return found[:MAX_REASONS]
    for ground in verdict.grounds:
        if ground == "named":
            found.append(_named_reason(evidence))
            lean = "engineer" if p < 0.5 else "scientist"
            if (reason := _lines_reason(evidence, work, lean)) is not None:
                found.append(f"{reason}; the posting leans that way ({_p(lean, p)})")
        elif ground == "split":
            sides = [
                f"{SIDE_WORDS[role]} lines "
                f"({', '.join(top_words(evidence, work.toward(role), role))})"
                for role in ("scientist", "engineer")
            ]
            found.append(
                f"Mixed: {sides[0]} and {sides[1]} are both strong: "
                f"{len(work.toward('scientist'))} and {len(work.toward('engineer'))} of "
                f"{len(work.lines)} {work.name}"
            )
        elif ground == "band":
            found.append(f"Neither role dominates: {_p('scientist', p)}, close to even")
    return found[:MAX_REASONS]


def _named_reason(evidence: Evidence) -> str:
    title = evidence.title
    if title is not None and title.label == "mixed":
        if title.given:
            return "The title names a role that is both research and engineering"
        return (f"The title line {quote(title.text)} names a role that is both research "
                "and engineering")
    hybrid = [role for role in evidence.named if role.label == "mixed"]
    if hybrid:
        named_as = quote(hybrid[0].text(evidence.text))
        return f"The posting names the job as {named_as}, a role that is both"
    named: dict[str, str] = {}
    for role in evidence.named:
        named.setdefault(role.label, quote(role.text(evidence.text)))
    if title is not None and title.label in SIDES and not title.given:
        named.setdefault(title.label, quote(title.text))
    if title is not None and title.given and title.label in SIDES:
        named.setdefault(title.label, "its title")
    parts = [named[label] for label in ("scientist", "engineer") if label in named]
    return f"The posting names the job both as {' and as '.join(parts)}"


def confidence_text(evidence: Evidence, verdict: Verdict) -> str:
    """The confidence in words: for a mixed verdict, why it is mixed and which way it leans."""
    p = evidence.p_scientist
    if verdict.off_topic:
        word = confidence_word(verdict.confidence)
        return f"{word}: P(not an ML/data job) {verdict.confidence:.2f}"
    if verdict.label in SIDES:
        return f"{confidence_word(verdict.confidence)}: {_p(str(verdict.label), p)}"
    why = {"named": "the job named is both roles", "split": "its lines split both ways",
           "band": "the words are balanced"}
    grounds = " and ".join(why[g] for g in verdict.grounds)
    if abs(p - 0.5) < 0.1:
        lean = f"neither role dominates ({_p('scientist', p)})"
    else:
        role = "engineer" if p < 0.5 else "scientist"
        lean = f"the words lean to {SIDE_WORDS[role]} ({_p(role, p)})"
    return f"mixed because {grounds}; {lean}"


def title_check(
    evidence: Evidence, verdict: Verdict, thresholds: dict[str, Any]
) -> str | None:
    """The one plain sentence about the title against the body (None without a title)."""
    title = evidence.title
    if title is None:
        return None
    p = evidence.p_scientist
    shown = quote(title.text)
    if verdict.off_topic or verdict.label is None:
        sentence = (f"Titled {shown}, but the posting does not read like an ML or data job "
                    "description")
        return sentence
    if title.label is None:
        sentence = (f"Titled {shown}, which names neither an ML engineer nor an ML scientist: "
                    "nothing to check the body against")
        return sentence
    work, _ = line_groups(evidence)
    label = verdict.label
    agrees = title_agrees(title.label, verdict, p, thresholds)
    role = "research and engineering" if title.label == "mixed" else ROLE_NAMES[title.label]
    named = f"{shown} ({role})"
    if label == "mixed":
        both = (f"{len(work.toward('engineer'))} {work.name} read as engineering and "
                f"{len(work.toward('scientist'))} as research")
        if title.label == "mixed":
            sentence = f"Titled {named}, and the body is mixed too: {both}"
        else:
            sentence = f"Titled {named}; the body mixes both roles: {both}"
    elif not agrees:
        sentence = (f"Titled {named}, but {work.count(str(label))} read as "
                    f"{SIDE_WORDS[str(label)]} ({_p(str(label), p)})")
    elif label == title.label:
        sentence = (f"Titled {named}, and the body agrees: {work.count(str(label))} read as "
                    f"{SIDE_WORDS[str(label)]} ({_p(str(label), p)})")
    else:
        sentence = (f"Titled {named}; the body leans to {SIDE_WORDS[str(label)]} "
                    f"({work.count(str(label))}, {_p(str(label), p)}), not strongly enough "
                    "to contradict it")
    return sentence
