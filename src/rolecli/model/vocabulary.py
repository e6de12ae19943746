"""Training's first step: which n-grams become features, and the term counts of each row.

The rules are the hyperparameters' `vocabulary` section (model/hyperparameters.py says why
each is there); every model and count file is built with `training_analyzer`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UsageError
from ..io import counts as count_form
from ..io.labelled import Example
from ..text.roles import FAMILY_ONLY, WEIGHTED_DOWN_ROLE_WORDS
from ..text.work import names_work
from .analyzer import BOUNDED_TOKEN_PATTERN, TOKEN_PATTERN, Analyzer
from .hyperparameters import DEFAULT_HYPERPARAMETERS, SEED, Hyperparameters, VocabularyRules

# The job families the family head tells apart, in class order: every ML row is "ml"; an
# off-topic row's `family` column (job families such as offtopic_dev.csv's and
# adjacent_dev.csv's) maps to the first pattern it matches, and a row without one is "other".
FAMILIES = (
    ("ml", None),
    ("data_engineer", re.compile(r"^data_engineer")),
    ("data_analyst", re.compile(r"^data_analyst")),
    ("software", re.compile(r"^tech_")),
    ("other", re.compile(r"")),
)



def job_family(example: Example) -> str:
    """The family head's class for a row (its label first: an ML row is always "ml")."""
    if example.label not in ("off_topic", FAMILY_ONLY):
        return "ml"
    family = example.family or ""
    return next(name for name, pattern in FAMILIES[1:] if pattern.match(family))



# The family of data/boilerplate.csv: benefits, pay, equal-opportunity, how-to-apply and
# about-the-company phrases the team wrote. Training assembles them into blocks (like the
# ones real postings end with) that teach the vocabulary rule what every job ad says and
# the role head that such text decides nothing; no head is fitted on them alone.
BOILERPLATE_FAMILY = "boilerplate"



BOILERPLATE_BLOCKS = 400



# A feature is a plain word or a run of plain words (what the ASCII analyzer gives).
PLAIN_TERM = re.compile(r"[a-z][a-z0-9_]*(?: [a-z][a-z0-9_]*)*")



def stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS)



def role_words_scaled(idf: Any, vocabulary: Sequence[str], weight: float) -> Any:
    """The idf with every term that names a role (WEIGHTED_DOWN_ROLE_WORDS) scaled by `weight`."""
    scaled = idf.copy()
    for j, term in enumerate(vocabulary):
        if WEIGHTED_DOWN_ROLE_WORDS.intersection(term.split(" ")):
            scaled[j] *= weight
    return scaled



def training_analyzer(settings: Hyperparameters = DEFAULT_HYPERPARAMETERS) -> Analyzer:
    """The analyzer every model and count file is built with."""
    low, high = settings.ngram_range
    pattern = BOUNDED_TOKEN_PATTERN if settings.ngrams_within_sentences else TOKEN_PATTERN
    return Analyzer(token_pattern=pattern, ngram_range=(low, high),
                    stop_words=frozenset(stop_words()), lowercase=True)



def example_terms(
    examples: Sequence[Example], analyzer: Analyzer
) -> tuple[list[Counter[str]], Counter[str]]:
    """Each example's n-gram counts: its text's (as the body model reads it), or the counts
    it arrived as (which must have been counted as this analyzer counts); and, summed over
    all of them, each n-gram's occurrences in boilerplate lines."""
    settings = count_form.analyzer_settings(analyzer)
    terms = []
    boilerplate: Counter[str] = Counter()
    for example in examples:
        if example.counts is None:
            counts, in_boilerplate = count_form.posting_counts(example.text or "", analyzer)
            terms.append(counts)
            boilerplate.update(in_boilerplate)
            continue
        if example.counted_with != settings:
            raise UsageError(
                f"{example.id}: count rows built with another analyzer than this rolecli "
                "trains with; rebuild them with `rolecli data build`"
            )
        terms.append(Counter(example.counts))
        boilerplate.update(example.boilerplate or {})
    return terms, boilerplate



def boilerplate_blocks(examples: Sequence[Example], count: int = BOILERPLATE_BLOCKS) -> list[str]:
    """Blocks of the boilerplate phrases in varied order and layout (bullets, one
    paragraph), as postings end with them; the same phrases give the same blocks."""
    import random

    phrases = sorted(e.text for e in examples if e.family == BOILERPLATE_FAMILY and e.text)
    if not phrases:
        return []
    rng = random.Random(SEED)
    blocks = []
    for _ in range(count):
        chosen = rng.sample(phrases, min(len(phrases), rng.randint(4, 10)))
        bullet = rng.choice(("- ", "* ", "• ", ""))
        joiner = "\n" + bullet if bullet else " "
        blocks.append((bullet if bullet else "") + joiner.join(
            p if bullet or p.endswith(".") else p + "." for p in chosen))
    return blocks



def select_vocabulary(
    examples: Sequence[Example], terms: Sequence[Counter[str]], settings: VocabularyRules,
    blocks: Sequence[Counter[str]] = (), in_boilerplate: Mapping[str, int] | None = None,
) -> list[str]:
    """The feature terms (rules in the hyperparameters' "vocabulary"), single words first.

    `in_boilerplate`: each term's occurrences in boilerplate lines, over all `terms`."""
    from_counts: set[str] = set()
    text_rows: Counter[str] = Counter()
    for example, counts in zip(examples, terms):
        if example.counts is not None:
            from_counts.update(counts)
        else:
            text_rows.update(counts.keys())
    chosen = from_counts | {t for t, n in text_rows.items() if n >= settings.min_text_rows}
    chosen = {t for t in chosen if PLAIN_TERM.fullmatch(t)}
    if in_boilerplate:
        total: Counter[str] = Counter()
        for counts in terms:
            total.update(counts)
        share = settings.boilerplate_line_share
        chosen = {t for t in chosen if in_boilerplate.get(t, 0) < share * total[t]}
    ads = [c for e, c in zip(examples, terms) if e.label == "off_topic" and e.family
           and e.family != BOILERPLATE_FAMILY and job_family(e) == "other"]
    on_topic = [c for e, c in zip(examples, terms) if e.label not in ("off_topic", FAMILY_ONLY)]
    if on_topic:
        ratio = settings.boilerplate_ratio
        in_ml = _document_rates(on_topic)
        # Words that name the work itself ("research", "analysis", "production") stay even
        # where other jobs' ads use them too; benefits text never keeps one.
        work = ({t for t in chosen if names_work(t)} if settings.keep_work_words
                else set())
        boilerplate: set[str] = set()
        for reference, kept in ((ads, work), (blocks, set())):
            if not reference:
                continue
            rates = _document_rates(reference)
            boilerplate |= {t for t in chosen | set(rates) if t not in kept
                            and in_ml.get(t, 0.0) < ratio * rates.get(t, 0.0)}
        chosen -= boilerplate
    return sorted(chosen, key=lambda t: (" " in t, t))



def _document_rates(rows: Sequence[Counter[str]]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for counts in rows:
        df.update(counts.keys())
    return {term: n / len(rows) for term, n in df.items()}

