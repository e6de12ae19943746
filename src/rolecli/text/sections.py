"""The sections of a posting: responsibilities, requirements, about us, benefits, ...

Real postings mark their sections in a handful of ways, all recognised here:
  - a heading on its own line, with or without a colon, in any case, optionally as
    markdown (`## Responsibilities`, `**What we offer:**`) or numbered (`2. Requirements`);
  - a heading that starts a line and is followed by its content (`Requirements: 3+ years`),
    or that starts a sentence inside a one-paragraph posting (`... today. Benefits: ...`);
  - and, with no heading at all, a sentence whose wording gives it away: equal-opportunity
    statements, benefits (401(k), dental, paid time off) and how-to-apply lines.

A heading is a short line whose words, once normalised, are one of the phrases below;
everything up to the next heading belongs to its section. Text before the first
heading is `intro`. Short `label: value` lines (`Location: Remote`, `Job type: Contract`)
are job details for that line only. Boilerplate sections (about the company, benefits,
equal opportunity, how to apply, job details) describe the employer, not the work: the
reasons never cite them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

INTRO = "intro"
KINDS = (
    INTRO, "role", "responsibilities", "requirements",
    "about", "benefits", "equal_opportunity", "how_to_apply", "details",
)
# What the posting says about the employer and the paperwork rather than the work.
BOILERPLATE = frozenset({"about", "benefits", "equal_opportunity", "how_to_apply", "details"})
# Where a posting describes the work to be done.
WORK = frozenset({"role", "responsibilities"})
KIND_NAMES = {
    INTRO: "introduction", "role": "the role", "responsibilities": "responsibilities",
    "requirements": "requirements", "about": "about the company", "benefits": "benefits",
    "equal_opportunity": "equal opportunity", "how_to_apply": "how to apply",
    "details": "job details",
}

_YOU_WILL = r"(?:you(?:'ll| will)|you'd|we'd like you to)"
_HEADINGS: tuple[tuple[str, str], ...] = (
    ("responsibilities", r"(?:(?:key|main|primary|core|principal|major|your|job|role|the|"
     r"essential|general|specific|position|day to day|daily|additional|other|detailed)\s+)*"
     r"(?:responsibilities|duties|functions|accountabilities|tasks|activities)"
     r"(?:\s+(?:include|and (?:duties|responsibilities|tasks|accountabilities)|"
     r"of the (?:role|job|position)|will include))?"),
    ("responsibilities", r"(?:roles?|duties|job duties|tasks) and responsibilities"),
    ("responsibilities", rf"what {_YOU_WILL}? ?(?:do|be doing|work on|own|achieve|build)"
     r"(?: here| in this role| day to day)?"),
    ("responsibilities", r"what (?:will you|you will|you'll) (?:do|be doing|work on)"),
    ("responsibilities", r"(?:in this (?:role|position|job),? )?you will(?: be)?|"
     r"in this role(?:,? you will)?|as (?:a|an|the) .{1,40}? you will"),
    ("responsibilities", r"(?:a )?(?:typical )?day in the life(?: of .{1,40})?|day to day|"
     r"your (?:day to day|mission|impact|tasks|job|work|challenge|contribution)|"
     r"the (?:work|job|challenge|impact you will make)|what the job involves|"
     r"the impact you(?:'ll| will) (?:make|have)|how you(?:'ll| will) (?:contribute|"
     r"make an impact)|key (?:job )?functions|job functions|scope of work|"
     r"what you(?:'ll| will) be responsible for|responsible for"),
    ("requirements", r"(?:(?:basic|minimum|required|preferred|desired|desirable|key|"
     r"additional|essential|your|job|the|technical|must have|other|professional|"
     r"mandatory|nice to have|bonus|special|ideal|candidate|position|role|core|general|"
     r"soft|hard|necessary|relevant)\s+)*"
     r"(?:qualifications?|requirements?|skills?|experience|skill ?set|competenc(?:y|ies)|"
     r"knowledge|education|certifications?|abilities|expertise|background|"
     r"attributes|profile|criteria)"
     r"(?:\s+(?:and|&)\s+(?:experience|qualifications|skills|education|abilities|"
     r"knowledge|requirements|competencies|attributes))*"
     r"(?:\s+(?:required|preferred|needed|we(?:'re| are) looking for|desired))?"),
    ("requirements", r"knowledge,? skills,? (?:and|&) abilities|ksas?|"
     r"who (?:you are|we(?:'re| are) looking for)|about you|you(?: have| are| bring)?|"
     r"what (?:are )?(?:we(?:'re| are)?|we're) (?:looking|look) for(?: in you)?|"
     r"what you(?:'ll| will)? (?:need|bring|have)(?: to succeed)?|what you bring(?: to .{1,30})?|"
     r"your (?:profile|background|skills|experience|qualifications)|"
     r"(?:nice|good) to haves?(?: skills)?|desirable|qualifications requirements|"
     r"bonus(?: points| skills)?|good to have|must haves?|preferred|required|"
     r"desired|(?:the )?ideal candidate(?: will have)?|is this you|are you|"
     r"you and your talent|who you will be|how to succeed|what makes you a great fit|"
     r"what it takes|(?:we )?expect|you should have|we(?:'d| would) love (?:it )?if you"
     r"(?: have| had)?|do you have what it takes|requirements and qualifications"),
    ("about", r"about (?!(?:the |this )?(?:role|job|position|opportunity|you)\b).{1,40}|"
     r"about|who (?:we are|are we)|company(?: description| overview| profile| information|"
     r" background| summary)?|our (?:company|mission|story|values|culture|client|vision|"
     r"purpose|team|business)|the (?:company|team|client|organi[sz]ation)|"
     r"overview of (?:the )?company|why (?:join us|us|work (?:here|with us)|join .{1,30})|"
     r"what we do|life at .{1,30}|who you(?:'ll| will) work with|meet the team|"
     r"organi[sz]ation(?:al)? (?:overview|description)|our commitment|the business|"
     r"company description and overview|business overview|intro(?:duction)?|"
     r"more about .{1,30}|how we work"),
    ("role", r"(?:job|position|role|opportunity|vacancy) (?:description|summary|overview|"
     r"purpose|profile|details|brief)(?: summary)?|description|summary|overview|(?:the )?role|"
     r"about (?:the |this )?(?:role|job|position|opportunity)|the (?:position|opportunity)|"
     r"your role|(?:the )?job|position|(?:the )?opportunity|what is the role|role purpose|"
     r"job brief|purpose of (?:the )?(?:role|position|job)|the role in brief"),
    ("benefits", r"(?:(?:our|the|additional|employee|other|great|amazing|some of our|"
     r"key)\s+)*(?:benefits?|perks)(?:\s+(?:and|&)\s+(?:perks|benefits|compensation|"
     r"rewards))?(?: package| overview| include| summary)?|"
     r"what (?:we|you) (?:can )?(?:offer|get|expect)(?: you| from us| in return)?|we offer|"
     r"pay and benefits|supplemental pay(?: types)?|"
     r"what(?:'s| is) in it for you|why you(?:'ll| will) love (?:working )?"
     r"(?:here|with us|it here|this job)|(?:total )?(?:compensation|rewards?)(?: (?:and|&) "
     r"benefits| range| package)?|salary(?: range| and benefits| details)?|pay(?: range)?|"
     r"we are offering|what you(?:'ll| will) get|what you can expect(?: from us)?|"
     r"(?:pay|salary) transparency|compensation and benefits|working (?:at|with|for) us|"
     r"career development(?: opportunities)?|working environment"),
    ("equal_opportunity", r"(?:an? )?equal (?:employment )?opportunit(?:y|ies)(?: .{1,40})?|"
     r"eeo(?:c)?(?: .{1,30})?|e ?o ?e(?: statement)?|"
     r"(?:our )?(?:commitment to )?diversity(?:,? equity)?(?:,? (?:and|&) inclusion)?"
     r"(?: .{1,30})?|(?:diversity,? )?equity,? (?:and|&) inclusion|"
     r"(?:reasonable )?accommodations?(?: .{1,30})?|affirmative action(?: .{1,30})?|"
     r"non ?discrimination(?: .{1,30})?|inclusion(?: (?:and|&) belonging)?"),
    ("how_to_apply", r"how to apply|to apply|apply(?: now| today| here)?|"
     r"(?:the )?(?:application|hiring|interview|recruitment|selection) process|next steps|"
     r"ready to apply|interested|any questions|questions|contact(?: us| information)?|"
     r"you and the job application process|ready to (?:join|make an impact)|"
     r"sound like you|does this sound like you|start your (?:job )?application|"
     r"application questions?|join us"),
    ("details", r"(?:job |work |primary |other )?locations?|job types?|employment type|"
     r"schedule|duration|(?:job|req(?:uisition)?|posting|reference) (?:id|number|code)|"
     r"shift|travel(?: requirements)?|date posted|posted|closing date|start date|"
     r"(?:working |weekly )?hours|contract(?: type| length)?|department|"
     r"reports? to|reporting (?:to|line|structure)|job category|category|"
     r"(?:security )?clearance|additional information|other information|disclaimer|"
     r"please note|note|physical (?:requirements|demands)|work environment|"
     r"(?:job )?details|employee status|employment|remote|hybrid|on ?site|division|group|"
     r"level|seniority(?: level)?|industry|valid through|"
     r"type|job function|function|position type|job family|(?:additional|more) "
     r"(?:details|information)|working conditions|work authori[sz]ation|"
     r"work (?:schedule|hours|setting|arrangement)"),
)
# One regex for them all (the first phrase that matches the whole heading wins): a line
# costs one match, whatever the number of phrases.
_HEADING_KINDS = {f"h{i}": kind for i, (kind, _) in enumerate(_HEADINGS)}


@lru_cache(maxsize=1)
def _heading() -> re.Pattern[str]:
    """Compiled on first use: a command that reads no sections (a batch row, --version)
    does not pay the few milliseconds."""
    return re.compile("|".join(f"(?P<h{i}>{pattern})" for i, (_, pattern) in enumerate(_HEADINGS)))
# `Location: Remote` or `Salary: ...` on one line is one detail (pay is a benefit), and
# the section before it goes on; `Requirements: 3+ years ...` starts a section.
_ONE_LINE_BENEFITS = re.compile(r"salary|pay|compensation|bonus")

HEADING_MAX_CHARS = 70
HEADING_MAX_WORDS = 9
_BULLET = re.compile(r"^\s*(?:[-•·▪●◦–—]|\*(?!\*))")
_LINE = re.compile(r"[^\n\r]+")
# Markdown and list decoration around a heading: ##, **, __, bullets, "2.", "(iv)".
_LEAD = " \t#*_>•·▪●◦-–—=|"
_TRAIL = " \t#*_:.-–—=|"
_NUMBER = re.compile(r"\(?[0-9ivx]{1,3}[.)]\s+")
_LABELLED = re.compile(
    r"^[\s#*_>•·▪●◦\-–—]*([A-Za-z][A-Za-z'’&/ ,()-]{1,45}?)\s*\**\s*[:：]\s*\**\s*(?=\S)"
)
_INLINE = re.compile(r"(?<=[.!?])\s+([A-Z][A-Za-z'’&/ ,-]{2,45}?)\s*[:：]\s+(?=\S)")


def normalise(heading: str) -> str:
    """Lower case, plain quotes, '&' as 'and', no punctuation, single spaces."""
    text = heading.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"[^\w'&/ ]+", " ", text).replace("&", " and ").replace("/", " ")
    return " ".join(text.split())


def heading_kind(line: str) -> str | None:
    """The section a heading line opens, or None when the line is not a heading."""
    if len(line) > HEADING_MAX_CHARS:
        return None
    tail = line.rstrip()[-1:]
    if tail == "." and line.count(" ") > 3:
        return None  # a sentence
    if tail not in (":", "：") and _BULLET.match(line):
        return None  # a list item ("- Remote", "* Python") unless it introduces a list
    core = line.lstrip(_LEAD)
    if number := _NUMBER.match(core):
        core = core[number.end() :]
    core = normalise(core.rstrip(_TRAIL))
    if not core or len(core.split()) > HEADING_MAX_WORDS:
        return None
    match = _heading().fullmatch(core)
    return _HEADING_KINDS[match.lastgroup] if match and match.lastgroup else None


class Section(NamedTuple):
    kind: str
    start: int  # character offsets into the posting
    end: int
    heading: tuple[int, int] | None  # span of the heading's words, None for the intro


def sections(text: str) -> list[Section]:
    """The posting cut into consecutive sections, from its first character to its last."""
    result: list[Section] = []
    current, current_start, current_heading = INTRO, 0, None
    for mark in _marks(text):
        if mark.start > current_start:
            result.append(Section(current, current_start, mark.start, current_heading))
        if mark.one_line:  # a detail: the section around it goes on after it
            result.append(Section(mark.kind, mark.start, mark.end, mark.heading))
            current_start = mark.end
        else:
            current, current_start, current_heading = mark.kind, mark.start, mark.heading
    if current_start < len(text):
        result.append(Section(current, current_start, len(text), current_heading))
    return result or [Section(INTRO, 0, len(text), None)]


class _Mark(NamedTuple):
    kind: str
    start: int
    end: int  # of the line, for a one-line detail
    heading: tuple[int, int]
    one_line: bool


def _marks(text: str) -> list[_Mark]:
    """Every heading of the posting, in order."""
    marks = []
    for line in _LINE.finditer(text):
        body, offset = line.group(), line.start()
        kind = heading_kind(body)
        if kind is not None:
            lead = len(body) - len(body.lstrip())
            marks.append(_Mark(kind, offset + lead, line.end(), (offset + lead, line.end()), False))
            continue
        if ":" not in body and "：" not in body:  # no label, no inline heading
            continue
        labelled = _LABELLED.match(body)
        if labelled and (kind := heading_kind(labelled.group(1))) is not None:
            one_line = kind == "details"
            if one_line and _ONE_LINE_BENEFITS.search(labelled.group(1).lower()):
                kind = "benefits"
            span = (offset + labelled.start(1), offset + labelled.end(1))
            marks.append(_Mark(kind, span[0], line.end(), span, one_line))
        if len(body) > HEADING_MAX_CHARS:  # a paragraph: headings may start its sentences
            for inline in _INLINE.finditer(body, labelled.end() if labelled else 0):
                kind = heading_kind(inline.group(1))
                if kind is not None and kind != "details":
                    span = (offset + inline.start(1), offset + inline.end(1))
                    marks.append(_Mark(kind, span[0], line.end(), span, False))
    return marks


# Sentences whose own words make them boilerplate, wherever they stand. Each rule is a
# gate word (one of the sentence's lowercased words) and the phrases, one of which must also
# be in the sentence (none: the word alone is enough). Words, not a regex: a line costs a
# set test, and only lines holding a gate word look further.
_WORD_RULES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}


def _rule(kind: str, words: str, phrases: tuple[str, ...] = ()) -> None:
    for word in words.split():
        _WORD_RULES[word] = (*_WORD_RULES.get(word, ()), (kind, phrases))


_EO = "equal_opportunity"
_rule(_EO, "eeo eeoc affirmative discrimination discriminate discriminatory nondiscrimination")
_rule(_EO, "equal", ("equal opportunit", "equal employment"))
_rule(_EO, "regard", ("without regard",))
_rule(_EO, "regardless", ("regardless of race", "regardless of age", "regardless of gender",
                          "regardless of sex", "regardless of their"))
_rule(_EO, "protected", ("protected veteran", "protected class", "protected characteristic",
                         "protected status", "legally protected"))
_rule(_EO, "qualified", ("all qualified applicants", "qualified applicants will"))
_rule(_EO, "accommodation accommodations", ("reasonable accommodation",))
_rule(_EO, "orientation", ("sexual orientation",))
_rule(_EO, "identity", ("gender identity",))
_rule(_EO, "verify", ("e-verify",))
_rule(_EO, "religion creed", ("race", "color", "colour", "national origin"))
_BE = "benefits"
_rule(_BE, "401 401k dental pto maternity paternity pension rsu rsus")
_rule(_BE, "paid", ("paid time off", "paid holiday", "paid vacation", "paid sick", "paid leave",
                    "paid parental"))
_rule(_BE, "parental", ("parental leave",))
_rule(_BE, "tuition", ("tuition reimbursement", "tuition assistance"))
_rule(_BE, "insurance", ("health insurance", "medical insurance", "life insurance",
                         "disability insurance", "vision insurance", "dental insurance"))
_rule(_BE, "health healthcare medical", ("health benefits", "health coverage", "health plan",
                                         "medical coverage", "medical benefits", "medical, "))
_rule(_BE, "benefits", ("benefits package", "commuter benefits", "retirement benefits",
                        "competitive benefits", "benefits include", "full benefits",
                        "comprehensive benefits"))
_rule(_BE, "competitive", ("competitive salary", "competitive compensation", "competitive pay",
                           "competitive base", "competitive total"))
_rule(_BE, "stock", ("stock options", "stock purchase"))
_rule(_BE, "equity", ("equity package", "equity grant", "equity compensation"))
_rule(_BE, "vacation", ("vacation days", "vacation time", "vacation policy"))
_rule(_BE, "retirement", ("retirement plan", "retirement savings"))
_rule(_BE, "assistance", ("employee assistance", "relocation assistance"))
_rule(_BE, "spending", ("flexible spending",))
_rule(_BE, "wellness", ("wellness program", "wellness stipend", "wellness allowance"))
_rule(_BE, "salary pay", ("salary range", "pay range", "base salary", "base pay"))
_rule(_BE, "provident", ("provident fund",))
_rule(_BE, "hour year annum", ("per hour", "per year", "per annum"))
# Perks listed without a heading ("- Free snacks and catered lunches").
_rule(_BE, "snacks lunch lunches gym offsite offsites stipend stipends")
_rule(_BE, "budget", ("learning budget", "learning and development budget",
                      "development budget", "education budget", "conference budget",
                      "book budget"))
_rule(_BE, "flexible", ("flexible working", "flexible hours", "flexible work hours",
                        "flexible schedule", "flexible hybrid", "flexible remote"))
_rule(_BE, "allowance", ("wellbeing allowance", "well-being allowance",
                         "home office allowance", "meal allowance", "vacation allowance",
                         "holiday allowance", "learning allowance"))
_AP = "how_to_apply"
_rule(_AP, "apply", ("apply now", "apply today", "apply here", "apply online", "apply via",
                     "apply through", "apply at", "apply by", "to apply", "click apply",
                     "apply for this"))
_rule(_AP, "submit send", ("your resume", "your cv", "your application", "us your", "a resume",
                           "a cv"))
_rule(_AP, "recruitment agencies agency", ("recruitment agenc",))
# Money with a number (a pay range) and an e-mail address need no gate word.
_MONEY = re.compile(r"[$€£]\s?\d|\d\s?usd\b")
_EMAIL = re.compile(r"[\w.+-]+@\w[\w-]*\.\w")
_NON_WORD_TO_SPACE = str.maketrans({c: " " for c in "()[]{}.,;:!?/\\'\"’‘“”-–—*•+&|<>=#%^~`"})
# Gate words the analyzer might drop as stop words cannot be gates (tested).
GATE_WORDS = frozenset(_WORD_RULES)


# Sections are read in the posting's first this many characters (real postings are far
# shorter); lines after it belong to the last section begun, so huge input stays cheap.
SECTION_CHARS = 200_000


def content_kind(sentence: str, words: Iterable[str] | None = None) -> str | None:
    """The boilerplate kind a sentence's own wording shows, whatever section it is in.

    `words` are its lowercased words when the caller has them already (its tokens).
    """
    if words is None:
        words = sentence.lower().translate(_NON_WORD_TO_SPACE).split()
    if not GATE_WORDS.isdisjoint(words):
        lowered = sentence.lower()
        for word in words:
            for kind, phrases in _WORD_RULES.get(word, ()):
                if not phrases or any(phrase in lowered for phrase in phrases):
                    return kind
    if ("$" in sentence or "€" in sentence or "£" in sentence or "usd" in words) and (
        _MONEY.search(sentence.lower())
    ):
        return "benefits"
    if "@" in sentence and _EMAIL.search(sentence):
        return "how_to_apply"
    return None


class Sections:
    """The sections of a posting, and the section each of its lines belongs to."""

    def __init__(self, text: str) -> None:
        self.text = text
        parts = sections(text[:SECTION_CHARS])
        last = parts[-1]
        self.parts = (*parts[:-1], Section(last.kind, last.start, len(text), last.heading))
        self._starts = [part.start for part in self.parts]
        self._heading_ends = {p.heading[0]: p.heading[1] for p in self.parts if p.heading}

    def kind_at(self, offset: int) -> str:
        """The kind of the section holding the character at `offset`."""
        return self.parts[max(0, bisect_right(self._starts, offset) - 1)].kind

    def of_line(
        self, start: int, end: int, words: Iterable[str] | None = None
    ) -> tuple[str, bool]:
        """(section kind, whether the line is the heading itself) of the line at [start, end);
        `words`, its lowercased words if known, spare content_kind splitting it again."""
        kind = self.kind_at(start)
        heading_end = self._heading_ends.get(start)
        if heading_end is not None and heading_end >= end:
            return kind, True
        if kind in ("equal_opportunity", "how_to_apply") or start >= SECTION_CHARS:
            return kind, False
        return content_kind(self.text[start:end], words) or kind, False
