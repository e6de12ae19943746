"""The training run's settings, typed: `Hyperparameters` and its defaults, the shipped model's.

A name these classes do not define is refused with the list of known ones (as fastText's
`read_args` refuses an unknown option), never ignored; the card holds `to_json()`, and so
does the training fingerprint a threshold-settings file is matched against.

Row weights are not a setting: each (source, label) cell weighs the square root of its size,
so one big scrape cannot dictate the vocabulary of a role, and classes are then balanced by
weight (off-topic cells by job family). The card states that rule under "weighting"
(`WEIGHTING`), as every card has since the rule was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

SEED = 0  # of every random choice in training: folds, boilerplate blocks
WEIGHTING = "sqrt(cell size) per (source, label); off-topic cells by job family"


@dataclass(frozen=True)
class RoleWords:
    # Postings often name their role in the body ("As a Data Scientist, you will"): real
    # evidence, but a verdict must rest on the work described, so every term holding
    # engineer(s)/engineering/scientist(s) (text.roles.WEIGHTED_DOWN_ROLE_WORDS) has its idf
    # scaled by `weight` (on every source held out in turn, 0.4 kept masking those words
    # within 0.01 of AUC, bench/quality.py).
    weight: float = 0.4


@dataclass(frozen=True)
class VocabularyRules:
    """Which n-grams become features (model/vocabulary.py).

    Posting counts arrive already filtered (>= 5 postings from >= 2 sources); the team's
    texts add their terms found in >= `min_text_rows` of them. Only plain lower-case words
    (no mojibake, no non-ASCII scraper debris). A term whose share of on-topic rows (the ML
    postings and the team's one-sentence texts alike, which makes the rule stricter than 3x
    the postings' rate) is under `boilerplate_ratio` times its share of non-technical job
    ads, or of the team's boilerplate blocks (benefits, equal-opportunity, how-to-apply
    words), is left out: every job ad has them, so they would only dilute the evidence, and
    could tilt a verdict by source; rating whole postings only let benefits text move
    P(scientist) by 0.133 (docs/quality.md). (Also leaving out the n-grams built of such
    words cost AUC on almost every held-out source.) So is a term with at least
    `boilerplate_line_share` (70%) of its occurrences in the postings' boilerplate lines
    (benefits, equal opportunity, about the company, how to apply, job details, as
    text/sections.py reads them): "learning budget", "health insurance", "equal opportunity".
    With `keep_work_words`, terms with a word that names ML work (text.work.names_work:
    "research", "analysis", "production", "deploy") are exempt from the ads comparison:
    without them the model could not tell research from engineering work (docs/quality.md).
    """

    min_text_rows: int = 2
    boilerplate_ratio: float = 3.0
    boilerplate_line_share: float = 0.7
    keep_work_words: bool = True


@dataclass(frozen=True)
class Classifier:
    """A logistic-regression head: liblinear's trust-region Newton solver and lbfgs have no
    randomness, so the same rows give the same bits."""

    C: float
    solver: str


@dataclass(frozen=True)
class RoleHead(Classifier):
    C: float = 2.0
    solver: str = "liblinear"
    # A mixed posting's row weighs this much on each side of the role head.
    mixed_as_neutral: float = 0.5
    # How many times the boilerplate blocks are added to each side of the role head, so
    # that such text learns to decide nothing.
    boilerplate_copies: int = 3


@dataclass(frozen=True)
class PlattScaling:
    """The probability map: Platt scaling fitted on out-of-fold logits (stratified folds,
    fixed seed), folded into the role head (model/platt.py). Not the label thresholds,
    which `rolecli calibrate` fits (tasks/fit_thresholds.py)."""

    method: str = "platt"
    folds: int = 5


@dataclass(frozen=True)
class Hyperparameters:
    ngram_range: tuple[int, int] = (1, 2)
    # N-grams stop at the end of a line or sentence (analyzer.BOUNDED_TOKEN_PATTERN).
    ngrams_within_sentences: bool = True
    sublinear_tf: bool = True
    norm: str = "l2"
    stop_words: str = "sklearn-english"
    role_words: RoleWords = field(default_factory=RoleWords)
    vocabulary: VocabularyRules = field(default_factory=VocabularyRules)
    role: RoleHead = field(default_factory=RoleHead)
    # (the card's key for the Platt scaling settings, kept so that cards stay comparable)
    calibration: PlattScaling = field(default_factory=PlattScaling)
    domain: Classifier = field(default_factory=lambda: Classifier(C=3.0, solver="liblinear"))
    # Multinomial (softmax) over the job families of the rows: ML postings, and the
    # off-topic rows by their family (vocabulary.FAMILIES); lbfgs, which has no randomness.
    family: Classifier = field(default_factory=lambda: Classifier(C=1.0, solver="lbfgs"))

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> Hyperparameters:
        """The defaults with `settings` over them, section by section (as a card's
        "hyperparameters" reads); ValueError names any name that is not a setting."""
        return _over(cls(), settings, "hyperparameters")

    def to_json(self) -> dict[str, Any]:
        """As the card and the training fingerprint hold them (WEIGHTING included)."""
        return {**_plain(self), "weighting": WEIGHTING}


def _over(base: Any, settings: Mapping[str, Any], where: str) -> Any:
    if not isinstance(settings, Mapping):
        raise ValueError(f"{where}: expected a mapping of settings, got {type(settings).__name__}")
    known = {f.name: f for f in fields(base)}
    extra = {"weighting"} if where == "hyperparameters" else set()
    unknown = sorted(set(settings) - set(known) - extra)
    if unknown:
        raise ValueError(f"{where}: unknown setting {unknown[0]!r} "
                         f"(known: {', '.join(sorted(known))})")
    if extra and settings.get("weighting", WEIGHTING) != WEIGHTING:
        raise ValueError(f"{where}.weighting is a description of a fixed rule, not a setting")
    changes: dict[str, Any] = {}
    for name, value in settings.items():
        if name in extra:
            continue
        current = getattr(base, name)
        if hasattr(current, "__dataclass_fields__"):
            changes[name] = _over(current, value, f"{where}.{name}")
        elif isinstance(current, tuple):
            changes[name] = tuple(value)
        else:
            changes[name] = value
    return replace(base, **changes)


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# The shipped model's settings; frozen, so a run that wants others builds its own.
DEFAULT_HYPERPARAMETERS = Hyperparameters()
