"""The job title, read by its own small rule, and the roles a posting names as the job itself.

The title rule (never the body model, so that the two stay independent):
  1. normalise: lower case; "machine learning" -> ml, "artificial intelligence" -> ai;
  2. **mixed** when the title says "research engineer", or names a scientist
     (scientist, researcher, statistician) and an engineer (engineer, developer, MLOps);
  3. **scientist** when it names only a scientist; **engineer** when only an engineer;
  4. otherwise no label (analyst, manager, ... : nothing to compare the body with).

A leading title line is recognised when the posting's first non-blank line, without
markdown and an optional "Job title:" / "Position:" / "Role:" label, is short (at most
12 words and 100 characters), names a role (the nouns above, or analyst, architect,
manager, lead, specialist, consultant, intern), is not a sentence (no "we", "you",
"is", "are", ..., no closing full stop) and is not a section heading. A labelled line
("Job Title: ...", or a "Position Title" line with the title on the next line) within
the first five non-blank lines counts too.

A role counts as *named as the job* only in the title and in phrases that say the posting
is for it: "we are hiring / looking for / seeking a ...", "join us as a ...",
"As a ..., you will", "you will be a ...", "the ... will", "the role of ...",
"Title: / Position: / Role: ...". Colleagues, teams and reporting lines ("work with data
scientists", "our research engineers", "reporting to the Head of Research") never match:
the phrase between the cue and the role noun may hold only describing words (at most six,
none of "with", "team", "our", "who", "to", ...).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from .roles import ENGINEER_NOUNS, JOB_TITLE_NOUNS, ROLE_STEMS, SCIENTIST_NOUNS
from .sections import heading_kind

_SCIENTIST = SCIENTIST_NOUNS
_ENGINEER = ENGINEER_NOUNS
_SCIENTIST_WORD = re.compile(rf"\b{_SCIENTIST}\b")
_ENGINEER_WORD = re.compile(rf"\b{_ENGINEER}\b")
_RESEARCH_ENGINEER = re.compile(r"\bresearch (?:\w+ )?engineers?\b")
_ROLE_NOUN = re.compile(JOB_TITLE_NOUNS)
_NOT_A_TITLE = re.compile(
    r"\b(?:we|we're|we've|our|us|you|you'll|your|i|is|are|was|were|will|would|has|have|"
    r"join|looking|seeking|hiring|help|build|work|working|please|apply|who|which|that|"
    r"experience|years?|proven|ability|knowledge|degree|strong|must)\b"
)
_LABEL = re.compile(
    r"^(?:job\s*title|position\s*title|title|position|role|job|vacancy|opening|"
    r"job\s*role|designation)\s*(?:[:：\-–—|]\s*|$)",
    re.IGNORECASE,
)
_MARKDOWN_START = " \t#*_>"
_MARKDOWN_END = " \t#*_"
TITLE_MAX_WORDS = 12
TITLE_MAX_CHARS = 100
TITLE_SEARCH_LINES = 5
TITLE_SEARCH_CHARS = 2_000
_LINE = re.compile(r"[^\n\r]+")


def _normalise(title: str) -> str:
    text = title.lower().replace("’", "'")
    text = re.sub(r"machine[\s-]+learning", "ml", text)
    text = re.sub(r"artificial[\s-]+intelligence", "ai", text)
    text = re.sub(r"\bml\s*[-/]?\s*ops\b|\bml\s+operations\b", "mlops", text)
    return " ".join(re.sub(r"[^\w+#']+", " ", text).split())


def title_label(title: str) -> str | None:
    """engineer, scientist or mixed as a job title reads, None when it names neither role."""
    text = _normalise(title)
    scientist = bool(_SCIENTIST_WORD.search(text))
    engineer = bool(_ENGINEER_WORD.search(text))
    if _RESEARCH_ENGINEER.search(text) or (scientist and engineer):
        return "mixed"
    if scientist:
        return "scientist"
    if engineer:
        return "engineer"
    return None


class TitleLine(NamedTuple):
    """A title found in the posting: the line it is on, and the title's own characters."""

    line: tuple[int, int]  # the whole line (or lines, label and value) holding the title
    span: tuple[int, int]  # the title itself

    def text(self, posting: str) -> str:
        return posting[self.span[0] : self.span[1]]


def _candidate(line: str) -> tuple[int, int] | None:
    """The span of the title within one line, or None when the line is not a title."""
    stripped = _unmarked(line)
    if not stripped:
        return None
    start = line.index(stripped)
    label = _LABEL.match(stripped)
    if label:
        start += label.end()
        stripped = stripped[label.end() :].strip(" *_")
        if not stripped:
            return None
    end = start + len(stripped)
    words = stripped.split()
    if len(stripped) > TITLE_MAX_CHARS or len(words) > TITLE_MAX_WORDS:
        return None
    lowered = stripped.lower().replace("’", "'")
    if (
        not _ROLE_NOUN.search(_normalise(stripped))
        or _NOT_A_TITLE.search(lowered)
        or re.search(r"(?<![A-Z][a-z])(?<!\b[A-Z])[.!?:;]$", stripped)
        or heading_kind(stripped) is not None
    ):
        return None
    return start, end


def _unmarked(line: str) -> str:
    """A line without markdown around it (`## Title`, `**Title**`)."""
    return line.lstrip(_MARKDOWN_START).rstrip(_MARKDOWN_END)


def _first_lines(text: str) -> list[tuple[int, int]]:
    """Spans of the first non-blank lines, looking no further than TITLE_SEARCH_CHARS."""
    spans = []
    for line in _LINE.finditer(text, 0, TITLE_SEARCH_CHARS):
        if not line.group().isspace():
            spans.append(line.span())
            if len(spans) == TITLE_SEARCH_LINES:
                break
    return spans


def leading_title(text: str) -> TitleLine | None:
    """The title line a posting opens with (or labels near its top), if it has one."""
    lines = _first_lines(text)
    for number, (start, end) in enumerate(lines):
        body = text[start:end]
        unmarked = _unmarked(body)
        label = _LABEL.match(unmarked)
        if number > 0 and not label:
            continue
        if label and not unmarked[label.end() :].strip(" *_:"):
            # "Position Title" alone: the title is the next line.
            if number + 1 < len(lines):
                next_start, next_end = lines[number + 1]
                found = _candidate(text[next_start:next_end])
                if found is not None:
                    return TitleLine(
                        (start, next_end), (next_start + found[0], next_start + found[1])
                    )
            continue
        found = _candidate(body)
        if found is not None:
            return TitleLine((start, end), (start + found[0], start + found[1]))
    return None


# -- roles named as the job in the body ---------------------------------------------------

_FUNCTION_WORDS = (
    "who|whom|which|that|with|to|for|of|in|on|at|by|from|into|has|have|had|will|would|"
    "can|could|is|are|was|be|been|work|works|working|worked|join|joins|team|teams|our|"
    "their|his|her|your|you|we|us|they|them|the|a|an|this|these|those|other|others|help|"
    "support|alongside|across|between|among|like|such|including|and|or|as|report|reports|"
    "reporting|manager|managers|lead|leads|head|partner|partners|collaborate|colleagues|"
    "peers|group|groups|experience|years|candidates?|someone|people|individuals?|"
    "professionals?|talent"
)
_QUALIFIER = rf"(?:(?!(?:{_FUNCTION_WORDS})\b)[\w+#.&/'’-]+\s+){{0,6}}?"
# A role noun, with a level after it: "Engineer II", "Scientist 3".
_ROLE = rf"(?:{_SCIENTIST}|{_ENGINEER})\b(?:\s+(?:i{{1,3}}|iv|v|[1-5])\b)?"
_JOINED = rf"\s*(?:/|&|\bor\b|\band/or\b|\band\b|\s-\s)\s*{_QUALIFIER}{_ROLE}"
_PHRASE = rf"(?P<role>{_QUALIFIER}{_ROLE}(?:{_JOINED})?)"
_ARTICLE = r"(?:(?:an?|the|one|two|several|multiple|our next|a new|an? experienced)\s+)?"

class _Cue(NamedTuple):
    """A phrase that says the posting is for a role: the words it starts with (found by
    substring search, then the regex is matched right there) and what must come before it."""

    anchors: tuple[str, ...]
    before: str  # "word": a word boundary; "sentence": a sentence or list item start; "line"
    pattern: re.Pattern[str]
    group: str = "role"
    needs: tuple[str, ...] = ()  # words the text must also hold (any one), tested first


def _cue(
    anchors: str, before: str, pattern: str, group: str = "role", needs: str = ""
) -> _Cue:
    return _Cue(tuple(anchors.split("|")), before, re.compile(pattern, re.IGNORECASE), group,
                tuple(needs.split("|")) if needs else ())


@lru_cache(maxsize=1)
def _cues() -> tuple[_Cue, ...]:
    """The cues, compiled on first use: a confident verdict never needs them, and their
    regexes take a noticeable share of a one-posting `classify` to compile."""
    return (
        # "We are hiring a ...", "Acme is seeking an ...", "looking to add ..."
        _cue("hiring|seeking|looking|searching|recruiting|in search|want|need|require", "word",
             rf"(?:hiring|seeking|looking\s+for|searching\s+for|recruiting(?:\s+for)?|"
             rf"looking\s+to\s+(?:hire|add|recruit)|in\s+search\s+of|wants?\s+to\s+hire|"
             rf"(?:need|needs|require|requires)\s+(?:an?|the))\s+{_ARTICLE}{_PHRASE}"),
        # "As a ..., you will", at the start of a sentence; "join us as a ..."
        _cue("as", "sentence",
             rf"as\s+(?:(?:an?|the|our)\s+)?{_PHRASE}"
             rf"(?=\s*[,(:–-]|\s+(?:on|in|at|with|within|you|for|here|based|and|to|working|"
             rf"focused|who|responsible|reporting|joining|part|of)\b)"),
        _cue("join", "word",
             rf"join\s+(?:us|our\s+team|the\s+team|[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){{0,2}})"
             rf"\s+as\s+{_ARTICLE}{_PHRASE}"),
        _cue("you", "word",
             rf"you(?:'ll|’ll|\s+will)\s+(?:be|join\s+us\s+as|work\s+as)\s+(?:an?|the|our)\s+"
             rf"{_PHRASE}", needs=" be | as "),
        # "The Senior Data Scientist will ..." at the start of a sentence
        _cue("the", "sentence",
             rf"the\s+(?P<single>{_QUALIFIER}(?:scientist|researcher|statistician|engineer|"
             rf"developer)(?:{_JOINED})?)\s+(?:will|is\s+responsible)\b", "single",
             needs="will|responsible"),
        _cue("role|position|opening|vacancy", "word",
             rf"(?:role|position|opening|vacancy)\s+(?:of|as|for)\s+{_ARTICLE}{_PHRASE}"),
        _cue("for", "word",
             rf"for\s+(?:an?|the|this)\s+{_PHRASE}\s+(?:role|position|opening|vacancy)\b",
             needs="role|position|opening|vacancy"),
        # "Title: ...", "Position: ...", "Role: ..." starting a line
        _cue("job|position|title|role", "line",
             rf"(?:job\s*title|position\s*title|title|position|role|job\s*role)"
             rf"[ \t*_]*[:\-–]?\s*{_ARTICLE}{_PHRASE}"),
    )


def _starts_right(lowered: str, at: int, before: str) -> bool:
    """Whether what precedes position `at` is what the cue needs there."""
    if before == "word":
        return at == 0 or not (lowered[at - 1].isalnum() or lowered[at - 1] == "_")
    lead = lowered[max(0, at - 8) : at].rstrip(" \t")
    if before == "sentence":
        lead = lead.rstrip("*•-–").rstrip(" \t") if lead[-1:] in "*•-–" else lead
        ends = ".!?:;\n\r"
    else:
        lead = lead.rstrip("*#_").rstrip(" \t")
        ends = "\n\r"
    if lead:
        return lead[-1] in ends
    return at - 8 <= 0 or lowered[at - 9] in ends  # only spaces before, up to the window


class NamedRole(NamedTuple):
    """A role the posting names as the job itself."""

    start: int
    end: int
    label: str  # engineer, scientist or mixed

    def text(self, posting: str) -> str:
        return posting[self.start : self.end]


def named_roles(text: str, lowered: str | None = None) -> list[NamedRole]:
    """Every place the posting names its own job (the title line aside), in order.

    The cues are tried only near the role nouns (found by fast substring searches), in a
    window from at most WINDOW_BEFORE characters before a noun (not before its line) to
    WINDOW_AFTER after it: a cue and its role are a few words apart. `lowered` is
    text.lower(), when the caller has it.
    """
    lowered = text.lower() if lowered is None else lowered
    if len(lowered) != len(text):  # lowercasing grew a character: match on a same-length copy
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    windows = _windows(lowered)
    found: dict[tuple[int, int], str] = {}
    for start, end in windows:
        for cue in _cues():
            if cue.needs and not any(lowered.find(word, start, end) >= 0 for word in cue.needs):
                continue
            for anchor in cue.anchors:
                at = lowered.find(anchor, start, end)
                while at >= 0:
                    if _starts_right(lowered, at, cue.before) and (
                        match := cue.pattern.match(text, at, end)
                    ):
                        span = match.span(cue.group)
                        label = title_label(text[span[0] : span[1]])
                        if label is not None:
                            found.setdefault(span, label)
                    at = lowered.find(anchor, at + 1, end)
    spans = sorted(found)
    kept = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]
    return [NamedRole(start, end, found[(start, end)]) for start, end in kept]


WINDOW_BEFORE = 130
WINDOW_AFTER = 70
_NOUNS = ROLE_STEMS


def _windows(lowered: str) -> list[tuple[int, int]]:
    """Merged stretches of text around every role noun."""
    nouns = []
    for noun in _NOUNS:
        at = lowered.find(noun)
        while at >= 0:
            after = lowered[at + len(noun) : at + len(noun) + 1]
            if not after.isalpha() or after == "s":  # not "engineering", "engineered"
                nouns.append(at)
            at = lowered.find(noun, at + len(noun))
    windows: list[tuple[int, int]] = []
    for at in sorted(nouns):
        reach = max(0, at - WINDOW_BEFORE)
        line = max(lowered.rfind("\n", reach, at), lowered.rfind("\r", reach, at)) + 1
        start, end = max(line, reach), min(len(lowered), at + WINDOW_AFTER)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def blank(text: str, span: tuple[int, int]) -> str:
    """text with span replaced by as many spaces (offsets elsewhere unchanged)."""
    start, end = span
    return text[:start] + " " * (end - start) + text[end:]


def body_text(text: str) -> str:
    """What the body model reads: the posting with its leading title line blanked (the title
    is read by its own rule, above). Evidence, training and the count form all use it."""
    line = leading_title(text)
    return text if line is None else blank(text, line.line)
