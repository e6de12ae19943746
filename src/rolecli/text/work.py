"""Words that name the work: which kind of science a posting's lines describe, and which of its
words may be quoted as evidence of a role.

The scientist side of the model spans two kinds of work, and a reason names the one the
lines describe:
  - data science: analysis, statistics, experiments and A/B tests, forecasting, insight for
    the business (the work of most industry data scientists);
  - research: papers and conferences, new methods, the state of the art.
Reporting tools (SQL, Excel, Tableau, dashboards) are neither: a reason never quotes them as
evidence of science, and never calls them research. Quotes are content words and phrases
of the posting: never a role's name, a generic word ("looking", "team", "experience"), or
a pair of words the posting does not write side by side ("looking for a data").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

# Words that name machine-learning or data-science work. An ML job description almost
# always uses one (99% of 2,258 real ones); an ad for another job rarely does, so the topic
# model needs less evidence to set aside a text without any. The words are searched in the
# lowercased text, the acronyms as written ("ml" is also a millilitre). Neither pattern
# starts with a word boundary: a pattern whose branches all start with a letter lets the
# regex engine skip, in C, every position no branch can start at (an off-topic ad has no
# match, so every position is tried; this was a fifth of a batch's time).
ML_WORDS = re.compile(
    r"(?:machine[- ]learning|data[- ]scien(?:ce|tists?)|artificial intelligence"
    r"|deep[- ]learning|neural net(?:work)?s?|natural language processing|computer vision"
    r"|predictive (?:model(?:l?ing|s)?|analytics)|statistical model(?:l?ing|s)?"
    r"|forecasting models?|causal inference"
    r"|large language models?|generative ai|reinforcement learning|tensorflow|pytorch"
    r"|keras|scikit-learn|sklearn|mlops|chatgpt|gpt-?\d*)\b"
)
ML_ACRONYMS = re.compile(r"(?:AI|ML|NLP|LLMs?|GenAI)\b")


# Other ML roles named as colleagues, not as the job ("work closely with our data
# scientists", "the data science team"): an ad for a data-engineering or analyst job that
# names ML only so describes no ML work of its own (59 of the 255 data-engineering ads in
# adjacent_dev.csv that name ML at all, and 89 of the 197 data-analyst ones). Plural roles
# and team nouns only: "a Data Scientist" is the job itself.
_COLLEAGUES = re.compile(
    r"(?:data[- ]scientists|(?:machine[- ]learning|ml|ai) (?:engineers|researchers|scientists)"
    r"|data[- ]science(?: and [a-z]+)? (?:teams?|groups?|functions?|departments?|colleagues"
    r"|community|organi[sz]ations?|practitioners|partners|experts))\b"
)
# ... unless the sentence hires them ("we are looking for data scientists").
_HIRING = re.compile(
    r"\b(?:looking for|seeking|hiring|recruiting|searching for|we need|wanted|join (?:us |our "
    r"\w+ )?as|one of (?:our|the)|are you|become)\b"
)
# ... or puts the job among or over them ("join our data science team", "lead a team of
# data scientists"): the words just before the mention.
_AMONG = re.compile(
    r"\b(?:join|joining|part of|within|member of|lead|leading|manage|managing|mentor"
    r"|mentoring|head|heading)\b(?:\W+\w+){0,4}\W*$"
)
# How far back, within its sentence, a hiring phrase is looked for.
_HIRING_CHARS = 80


def _word_starts(pattern: re.Pattern[str], searched: str, text: str) -> Iterator[int]:
    """Where pattern matches `searched` (text, or text lowercased character for character)
    at the start of a word of text, as a leading \\b would require."""
    found = pattern.search(searched)
    while found is not None:
        at = found.start()
        if at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_"):  # as \\w reads
            yield at
        found = pattern.search(searched, at + 1)


def _lowercased(text: str) -> str:
    """text.lower() with one character for each of text's (so offsets still match): "İ"
    becomes "i", as a case-insensitive pattern reads it, not "i" and a combining dot."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(char.lower()[0] for char in text)


def _hires(lowered: str, at: int) -> bool:
    """Whether the sentence up to `at` of the lowercased text hires what it names there, or
    puts the job among or over them."""
    before = lowered[max(0, at - _HIRING_CHARS) : at]
    sentence = before[max(map(before.rfind, ".!?;\n")) + 1 :]
    return bool(_HIRING.search(sentence) or _AMONG.search(sentence))


def _colleagues(lowered: str, at: int) -> re.Match[str] | None:
    """The colleagues named at `at` of the lowercased text, unless its sentence hires them."""
    named = _COLLEAGUES.match(lowered, at)
    return None if named is None or _hires(lowered, at) else named


def _ml_mentions(text: str, lowered: str) -> Iterator[int]:
    """Where a text names ML or data-science work: the start of each mention."""
    yield from _word_starts(ML_ACRONYMS, text, text)
    yield from _word_starts(ML_WORDS, lowered, text)


def names_ml_work(text: str) -> bool:
    """Whether a text names ML or data-science work as its own: a mention that is not other
    ML roles named as colleagues."""
    return next(ml_work_mentions(text), None) is not None


def ml_work_mentions(text: str) -> Iterator[tuple[int, bool]]:
    """Each mention of ML or data-science work as the text's own (not colleagues): where it
    starts, and whether its sentence hires ("we are looking for an AI engineer")."""
    lowered = _lowercased(text)
    for at in _ml_mentions(text, lowered):
        if _colleagues(lowered, at) is None:
            yield at, _hires(lowered, at)


def ml_colleagues(text: str) -> str | None:
    """When all the ML a text names is other ML roles as colleagues, the first of them as
    written ("Data Scientists", for the off-topic reason); None otherwise."""
    lowered = _lowercased(text)
    spans = []
    for at in _ml_mentions(text, lowered):
        named = _colleagues(lowered, at)
        if named is None:
            return None
        spans.append(named.span())
    if not spans:
        return None
    start, end = min(spans)
    return text[start:end]


_RESEARCH = (
    r"\b(?:research\w*|publish\w*|publications?|papers?|conferences?|journals?|neurips|nips"
    r"|icml|iclr|cvpr|iccv|eccv|acl|emnlp|naacl|kdd|aaai|ijcai|novel|state[- ]of[- ]the[- ]art"
    r"|sota|phd|ph\.d|doctorate|literature|theor(?:y|ies|etical)|first[- ]author|peer[- ]review\w*"
    r"|patents?|inventions?|breakthroughs?"
    r"|new (?:methods|algorithms|architectures|approaches|techniques))\b"
)
_DATA_SCIENCE = (
    r"\b(?:statistic\w*|analy[sz](?:e|es|ed|ing|is)\b|analyses|analytic(?:al|s)?|experiment\w*"
    r"|a/b|ab test\w*|split test\w*|hypothes[ie]s|causal|forecast\w*|time[- ]series|regression"
    r"|predictive"
    r"|propensity|churn|insights?|exploratory|econometric\w*|bayesian|probabilit\w*"
    r"|segmentation|clustering|optimi[sz]ation|simulation\w*|kpis?|metrics|measurement"
    r"|stakeholders?|business (?:questions|problems|decisions|impact)|data[- ]driven)\b"
)
# Engineering words that name ML engineering work and nothing else: not "tests" (A/B tests
# are science) nor "implement" or "maintain" (everyone implements and maintains).
_ENGINEERING = (
    r"\b(?:production|productioni[sz]\w*|deploy\w*|pipelines?|infrastructure|serving|inference"
    r"|latency|throughput|scalab\w*|monitoring|observability|reliability|on-call|oncall"
    r"|docker|kubernetes|containers?|containeri[sz]\w*|mlops|devops|apis?|microservices?"
    r"|backend|orchestration)\b"
)
_REPORTING = (
    r"^(?:sql|mysql|t-sql|tsql|pl/sql|excel|vba|tableau|power\s?bi|powerbi|looker|qlik\w*"
    r"|ssrs|ssis|dashboard\w*|report|reports|reporting|spreadsheets?|google sheets"
    r"|data studio|pivot tables?|microstrategy|cognos|sas|spss)$"
)
# Words that make a short text a job description: a role, a hiring phrase, or work done.
# A text of a few words that names machine learning needs one of them, or one of the work
# words above, to get a (short-text) verdict: "Own ML model deployment and monitoring" is
# a job; "I love machine learning and pizza" is not.
_JOB = (
    r"\b(?:engineers?|scientists?|developers?|researchers?|analysts?|architects?|interns?"
    r"|internships?|specialists?|consultants?|leads?|managers?|hiring|hire|roles?|positions?"
    r"|jobs?|vacanc(?:y|ies)|openings?|candidates?|join|responsibilit(?:y|ies)|requirements?"
    r"|qualifications?|experience|you will|you'll|looking for|seeking|build\w*|develop\w*"
    r"|design\w*|train\w*|implement\w*|maintain\w*|own|ship\w*|deliver\w*|improv\w*"
    r"|evaluat\w*|collaborat\w*|write|writing)\b"
)
WORDS = {"research": _RESEARCH, "data science": _DATA_SCIENCE, "engineering": _ENGINEERING,
         "reporting": _REPORTING, "job": _JOB}


@cache
def pattern(name: str) -> re.Pattern[str]:
    """One of the WORDS lists, compiled on first use (a verdict for a batch row never names
    its words, and compiling them is a visible share of a one-posting classify)."""
    return re.compile(WORDS[name], re.IGNORECASE)


def describes_a_job(text: str) -> bool:
    """Whether a text names a role, a hiring phrase or work (for texts of a few words)."""
    return any(pattern(name).search(text)
               for name in ("job", "engineering", "research", "data science"))


# Words that name no work: a reason never quotes them (alone or as a phrase of only these).
GENERIC = frozenset({
    "ability", "able", "across", "additional", "also", "apply", "applicants", "based",
    "best", "big", "candidate", "candidates", "company", "core", "data", "day", "deep",
    "degree", "desired", "develop", "develops", "developing", "different", "drive", "eager",
    "employer", "environment", "etc", "excellent", "experience", "experienced", "expert",
    "expertise", "field", "fields", "good", "great", "help", "high", "highly", "ideal",
    "including", "join", "key", "knowledge", "large", "level", "like", "looking", "make",
    "new", "opportunity", "opportunities", "order", "plus", "position", "positions",
    "preferred", "proven", "related", "relevant", "required", "requirement", "requirements",
    "responsibilities", "responsible", "role", "roles", "seeking", "similar", "skills",
    "solid", "strong", "successful", "support", "team", "teams", "understanding", "use",
    "used", "using", "value", "variety", "various", "way", "ways", "well", "work",
    "working", "works", "world", "year", "years", "engineer", "engineers", "engineering",
    "scientist", "scientists", "science", "sciences", "researcher", "researchers", "ml",
    "ai", "machine", "learning",
})


def names_work(term: str) -> bool:
    """Whether one of a term's words names ML work of either side (research, data science,
    engineering): training keeps such terms even where other jobs' ads use them too."""
    return any(pattern(name).fullmatch(word) for word in term.split()
               for name in ("research", "data science", "engineering"))


def science_kind(texts: list[str]) -> str:
    """How to name the scientist-side work of these lines: "research" when they hold at least
    two research words and at least half as many as data-science words (research words are
    rarer and more telling), "data science" otherwise. (On the texts of real postings this
    names 76% of research-scientist postings research, and 14% of data-scientist ones.)"""
    research = data_science = 0
    for text in texts:
        research += len(pattern("research").findall(text))
        data_science += len(pattern("data science").findall(text))
    return "research" if research >= 2 and 2 * research >= data_science else "data science"


def quotable(term: str, surface: str, scientist_side: bool) -> bool:
    """Whether a term, written `surface` in the posting, may be quoted as evidence: its words
    stand side by side in the posting, not all of them are generic, and on the scientist
    side it is no reporting tool."""
    words = term.split()
    if len(surface.split()) != len(words):  # stop words between: "looking for a data"
        return False
    if all(word in GENERIC for word in words):
        return False
    return not (scientist_side and pattern("reporting").match(surface.strip()))
