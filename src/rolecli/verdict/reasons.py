"""Reasons a recruiter can follow: the lines and words that decided a verdict, in plain words.

Everything here reads the evidence and the verdict; nothing is decided again. Reasons
quote only text that is in the posting (between “ and ”), and only from the lines that
describe the job: headings, the title line and boilerplate sections (about the company,
benefits, equal opportunity, how to apply, job details) are never cited.

The lines a sentence counts are the posting's decisive lines (`Evidence.decisive`): the
job lines that each carry a large share of the evidence, which the explain view and the
HTML report list. The scientist side is named for the work its lines describe: data
science or research (work.science_kind).
"""

from __future__ import annotations

import re
from collections import defaultdict

from ..text.roles import ROLE_NAMES
from ..text.work import quotable, science_kind
from .decision import DATA_ENGINEER, Verdict, confidence_word
from .evidence import Decisive, Evidence, Line

MAX_REASONS = 3
WORDS_PER_REASON = 3
QUOTE_CHARS = 90
SIDES = {"engineer": -1, "scientist": 1}
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


def side_name(evidence: Evidence, role: str, lines: tuple[Line, ...] = ()) -> str:
    """What a role's side of the evidence is called: engineering, or the kind of science
    these lines (else the posting's decisive scientist lines) describe."""
    if role == "engineer":
        return "engineering"
    lines = lines or evidence.decisive.scientist
    return science_kind([evidence.body[line.start : line.end] for line in lines])


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
            if contribution * sign > 0 and quotable(term, text[start:end], role == "scientist"):
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


def _words(evidence: Evidence, lines: tuple[Line, ...], role: str) -> str:
    words = top_words(evidence, lines, role)
    return f": {', '.join(words)}" if words else ""


def lines_counted(decisive: Decisive) -> str:
    """How the counted lines are named: the decisive ones, or every job line."""
    total = len(decisive.engineer) + len(decisive.scientist)
    if decisive.strong:
        return f"the {total} lines that decide it" if total > 1 else "the line that decides it"
    return f"the {total} lines that weigh most" if total > 1 else "its one line with evidence"


def count_sentence(evidence: Evidence, role: str, words: bool = True) -> str | None:
    """“5 of the 6 lines that decide it read as research: “…”, “…””, or None when no
    counted line reads toward `role`."""
    decisive = evidence.decisive
    toward = decisive.toward(role)
    if not toward:
        return None
    total = len(decisive.engineer) + len(decisive.scientist)
    counted = lines_counted(decisive)
    if total == 1:
        subject, verb = counted[0].upper() + counted[1:], "reads"
    elif len(toward) == total:
        subject, verb = f"All {total} {counted.split(' ', 2)[2]}", "read"
    else:
        subject, verb = f"{len(toward)} of {counted}", "read"
    said = f"{subject} {verb} as {side_name(evidence, role, toward)}"
    return said + (_words(evidence, toward, role) if words else "")


def _strongest(lines: tuple[Line, ...], role: str) -> Line | None:
    sign = SIDES[role]
    return max(lines, key=lambda line: line.contribution * sign, default=None)


def _p(role: str, p_scientist: float) -> str:
    return f"P({role}) {p_scientist if role == 'scientist' else 1.0 - p_scientist:.2f}"


def _p_data_engineering(evidence: Evidence) -> str:
    return f"P(data engineering) {(evidence.families or {}).get(DATA_ENGINEER, 0.0):.2f}"


def reasons(evidence: Evidence, verdict: Verdict) -> list[str]:
    """One to three plain-language reasons for the verdict."""
    p = evidence.p_scientist
    if verdict.off_topic:
        return [str(verdict.off_topic_reason)]
    decisive = evidence.decisive
    found: list[str] = []
    if verdict.label in SIDES:
        role = str(verdict.label)
        if verdict.data_engineering:
            found.append(f"It reads as a data-engineering job ({_p_data_engineering(evidence)}):"
                         " its ML work is engineering, never ML science")
        counted = count_sentence(evidence, role)
        if counted is not None:
            if verdict.short_text:
                counted = (f"A short text ({_known_words(evidence)}): "
                           f"{counted[0].lower()}{counted[1:]}")
            found.append(counted)
        line = _strongest(decisive.toward(role), role)
        if line is not None and not verdict.short_text:
            found.append(f"The line that pulls most toward {side_name(evidence, role)}: "
                         f"{quote(evidence.text[line.start : line.end])}")
        other = decisive.toward(OTHER[role])
        if other and len(found) < MAX_REASONS:
            lines = "line reads" if len(other) == 1 else "lines read"
            found.append(f"{len(other)} {lines} the other way, as "
                         f"{side_name(evidence, OTHER[role], other)}"
                         f"{_words(evidence, other, OTHER[role])}")
        if not found:
            found.append(f"{ROLE_NAMES[role]} by a small margin of evidence ({_p(role, p)})")
        return found[:MAX_REASONS]
    for ground in verdict.grounds:
        if ground == "split":
            engineering, science = decisive.engineer, decisive.scientist
            found.append(
                f"Mixed: of {lines_counted(decisive)}, {len(engineering)} read as engineering"
                f"{_paren(evidence, engineering, 'engineer')} and {len(science)} as "
                f"{side_name(evidence, 'scientist', science)}"
                f"{_paren(evidence, science, 'scientist')}"
            )
        elif ground == "named":
            found.append(_named_reason(evidence))
        elif ground == "band":
            found.append(f"Neither role dominates: {_p('scientist', p)}, close to even")
    lean = "engineer" if p < 0.5 else "scientist"
    if len(found) < MAX_REASONS and abs(p - 0.5) >= 0.1:
        found.append(f"The words as a whole lean to {side_name(evidence, lean)} "
                     f"({_p(lean, p)})")
    return found[:MAX_REASONS]


def _paren(evidence: Evidence, lines: tuple[Line, ...], role: str) -> str:
    words = top_words(evidence, lines, role)
    return f" ({', '.join(words)})" if words else ""


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


def _known_words(evidence: Evidence) -> str:
    n = evidence.known_words
    return f"{n} word{'' if n == 1 else 's'} the model knows"


def confidence_text(evidence: Evidence, verdict: Verdict) -> str:
    """The confidence in words, never at odds with the reasons beside it: a short text is
    low whatever P says, and a mixed verdict says why it is mixed and which way it leans."""
    p = evidence.p_scientist
    word = confidence_word(verdict.confidence)
    if verdict.off_topic:
        if verdict.short_text:
            return f"{word}: too little text to tell ({_known_words(evidence)})"
        return f"{word}: P(not an ML job) {verdict.confidence:.2f}"
    short = (f"a short text ({_known_words(evidence)}); "
             if verdict.short_text else "")
    if verdict.data_engineering:
        return (f"{word}: {short}it reads as a data-engineering job "
                f"({_p_data_engineering(evidence)}); the words alone lean to "
                f"{side_name(evidence, 'engineer' if p < 0.5 else 'scientist')} "
                f"({_p('engineer' if p < 0.5 else 'scientist', p)})")
    if verdict.label in SIDES:
        role = str(verdict.label)
        if short:
            return f"{word}: {short}its words lean to {side_name(evidence, role)} ({_p(role, p)})"
        return f"{word}: {_p(role, p)}"
    why = {"named": "the job named is both roles", "split": "its lines split both ways",
           "band": "the words are balanced"}
    grounds = " and ".join(why[g] for g in verdict.grounds)
    if abs(p - 0.5) < 0.1:
        lean = f"neither role dominates ({_p('scientist', p)})"
    else:
        role = "engineer" if p < 0.5 else "scientist"
        lean = f"the words lean to {side_name(evidence, role)} ({_p(role, p)})"
    return f"mixed because {short}{grounds}; {lean}"


def title_check(evidence: Evidence, verdict: Verdict, grade: str | None) -> str | None:
    """The one plain sentence about the title against the body (None without a title); its
    numbers are the verdict's and its line counts the decisive lines the view lists."""
    title = evidence.title
    if title is None:
        return None
    shown = quote(title.text)
    if verdict.off_topic or verdict.label is None:
        reads = re.split(r"[:(]", str(verdict.off_topic_reason))[0].strip().removeprefix("It ")
        return f"Titled {shown}, but the posting {reads}"
    if title.label is None:
        return (f"Titled {shown}, which names neither an ML engineer nor an ML scientist: "
                "nothing to check the body against")
    decisive = evidence.decisive
    label = str(verdict.label)
    role = "research and engineering" if title.label == "mixed" else ROLE_NAMES[title.label]
    named = f"Titled {shown} ({role})"
    short = " (on a short text)" if verdict.short_text else ""
    if label == "mixed":
        both = (f"of {lines_counted(decisive)}, {len(decisive.engineer)} read as engineering "
                f"and {len(decisive.scientist)} as {side_name(evidence, 'scientist')}")
        if title.label == "mixed":
            return f"{named}, and the body is mixed too: {both}"
        return f"{named}; the body mixes both roles: {both}{short}"
    p = evidence.p_scientist
    counted = count_sentence(evidence, label, words=False)
    because = f": {counted[0].lower()}{counted[1:]}" if counted else ""
    if verdict.data_engineering:
        because = f": it reads as a data-engineering job ({_p_data_engineering(evidence)})"
        evidence_p = ""
    else:
        evidence_p = f" ({_p(label, p)})"
    if grade == "agrees":
        return f"{named}, and the body agrees{because}{evidence_p}{short}"
    if grade == "contradicts":
        return f"{named}, but the body reads as {ROLE_NAMES[label]}{because}{evidence_p}"
    if title.label == "mixed":
        return f"{named}; the body reads as {ROLE_NAMES[label]} only{because}{evidence_p}{short}"
    return (f"{named}; the body leans to {ROLE_NAMES[label]}{because}{evidence_p}{short}, "
            "not clearly enough to contradict the title")
