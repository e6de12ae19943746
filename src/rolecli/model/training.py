"""Training, saving and loading models (scikit-learn is imported only here).

A model is three logistic-regression heads over one TF-IDF vocabulary:
  role    P(scientist) of an ML posting (engineer 0, scientist 1), calibrated;
  domain  P(the text is an ML or data-science job description);
  family  which job family a text reads as (ml, data_engineer, data_analyst, software, other):
          it words the off-topic verdict and keeps a data-engineering posting from reading
          as ML science.
Rows are posting texts (CSV, JSONL, label folders) or the text-free n-gram counts of real
postings (`*.counts.jsonl.gz`, see io/counts.py): both become the same term counts.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import re
import secrets
import shutil
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .. import __version__
from ..errors import InputError, ModelError, UsageError
from ..io import counts as count_form
from ..io.labelled import DatasetInfo, Example, describe, load_examples
from ..paths import shipped_data_dir
from ..text.roles import FAMILY_ONLY, ROLES, WEIGHTED_DOWN_ROLE_WORDS
from ..text.work import names_work
from .analyzer import BOUNDED_TOKEN_PATTERN, TOKEN_PATTERN, Analyzer
from .card import (
    CARD_FILE,
    CARD_FORMAT_VERSION,
    DEFAULT_THRESHOLDS,
    MODEL_FILE_SIZE_LIMIT,
    Thresholds,
)
from .scorer import LEGACY_SCORER_FILE, SCORER_FILE, ScorerData, encode, verified_bytes

PIPELINE_FILE = "pipeline.joblib"
DOMAIN_FILE = "domain.joblib"
FAMILY_FILE = "family.joblib"
THRESHOLD_SETTINGS_FILE = "calibration.json"
OFFTOPIC_FILE = "offtopic.csv"
BOILERPLATE_FILE = "boilerplate.csv"
SEED = 0
# What a calibration file is fitted to is the base model's logits; bump this when scoring
# itself changes (format 3 changed only the scorer file's layout, not a logit).
LOGIT_VERSION = 2

_DEFAULTS: dict[str, Any] = {
    "ngram_range": [1, 2],
    # N-grams stop at the end of a line or sentence (analyzer.BOUNDED_TOKEN_PATTERN).
    "ngrams_within_sentences": True,
    "sublinear_tf": True,
    "norm": "l2",
    "stop_words": "sklearn-english",
    # Postings often name their role in the body ("As a Data Scientist, you will"): real
    # evidence, but a verdict must rest on the work described, so every term holding
    # engineer(s)/engineering/scientist(s) has its idf scaled by `weight` (on every source
    # held out in turn, 0.4 kept masking those words within 0.01 of AUC, bench/quality.py).
    "role_words": {"weight": 0.4},
    # Which n-grams become features. Posting counts arrive already filtered (>= 5 postings
    # from >= 2 sources); the team's texts add their terms found in >= 2 of them. Only
    # plain lower-case words (no mojibake, no non-ASCII scraper debris). A term whose share
    # of on-topic rows (the ML postings and the team's one-sentence texts alike, which
    # makes the rule stricter than 3x the postings' rate) is under `boilerplate_ratio` times
    # its share of non-technical job ads, or of the team's boilerplate blocks (benefits,
    # equal-opportunity, how-to-apply words), is left out: every job ad has them, so they
    # would only dilute the evidence, and could tilt a verdict by source; rating whole
    # postings only let benefits text move P(scientist) by 0.133 (docs/quality.md). (Also
    # leaving out the n-grams built of such words cost AUC on almost every held-out
    # source.) So is a term with at least
    # `boilerplate_line_share` (70%) of its occurrences in the postings' boilerplate lines
    # (benefits, equal opportunity, about the company, how to apply, job details, as
    # sections.py reads them): "learning budget", "health insurance", "equal opportunity".
    # Terms with a word that names ML work (work.names_work: "research", "analysis",
    # "production", "deploy") are exempt from the ads comparison: without them the model
    # could not tell research from engineering work (docs/quality.md).
    "vocabulary": {"min_text_rows": 2, "boilerplate_ratio": 3.0, "boilerplate_line_share": 0.7,
                   "keep_work_words": True},
    # Row weights: each (source, label) cell weighs the square root of its size, so one big
    # scrape cannot dictate the vocabulary of a role; classes are then balanced by weight.
    "weighting": "sqrt(cell size) per (source, label); off-topic cells by job family",
    "role": {"C": 2.0, "solver": "liblinear", "mixed_as_neutral": 0.5,
             "boilerplate_copies": 3},
    # Platt scaling fitted on out-of-fold logits (stratified folds, fixed seed), folded in.
    "calibration": {"method": "platt", "folds": 5},
    "domain": {"C": 3.0, "solver": "liblinear"},
    # Multinomial (softmax) over the job families of the rows: ML postings, and the
    # off-topic rows by their family (FAMILIES); lbfgs, which has no randomness either.
    "family": {"C": 1.0, "solver": "lbfgs"},
}


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


def plain(value: Any) -> Any:
    """Hyperparameters as JSON data (dicts and lists), for the card and the fingerprint."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


Hyperparameters = Mapping[str, Any]
# The shipped model's settings; read-only, so a run that wants others passes its own.
DEFAULT_HYPERPARAMETERS: Hyperparameters = _frozen(_DEFAULTS)
del _DEFAULTS
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


@dataclass
class TrainResult:
    output: Path
    card: dict[str, Any]
    warnings: list[str]  # the libraries' warnings during the fit, in plain lines


def default_data_files(data: Path | None = None) -> list[Path]:
    """The training files in `data` (default: the shipped data/)."""
    data = data or shipped_data_dir()
    return sorted([*data.glob("*.csv"), *data.glob("*" + count_form.SUFFIX)])


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
    low, high = settings["ngram_range"]
    pattern = BOUNDED_TOKEN_PATTERN if settings.get("ngrams_within_sentences") else TOKEN_PATTERN
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
    examples: Sequence[Example], terms: Sequence[Counter[str]], settings: Mapping[str, Any],
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
    chosen = from_counts | {t for t, n in text_rows.items() if n >= settings["min_text_rows"]}
    chosen = {t for t in chosen if PLAIN_TERM.fullmatch(t)}
    if in_boilerplate:
        total: Counter[str] = Counter()
        for counts in terms:
            total.update(counts)
        share = settings["boilerplate_line_share"]
        chosen = {t for t in chosen if in_boilerplate.get(t, 0) < share * total[t]}
    ads = [c for e, c in zip(examples, terms) if e.label == "off_topic" and e.family
           and e.family != BOILERPLATE_FAMILY and job_family(e) == "other"]
    on_topic = [c for e, c in zip(examples, terms) if e.label not in ("off_topic", FAMILY_ONLY)]
    if on_topic:
        ratio = settings["boilerplate_ratio"]
        in_ml = _document_rates(on_topic)
        # Words that name the work itself ("research", "analysis", "production") stay even
        # where other jobs' ads use them too; benefits text never keeps one.
        work = ({t for t in chosen if names_work(t)} if settings.get("keep_work_words")
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


def _count_matrix(terms: Sequence[Counter[str]], index: dict[str, int]) -> Any:
    import numpy as np
    from scipy import sparse

    rows, cols, values = [], [], []
    for i, counts in enumerate(terms):
        for term, n in counts.items():
            j = index.get(term)
            if j is not None:
                rows.append(i)
                cols.append(j)
                values.append(n)
    return sparse.csr_matrix(
        (np.asarray(values, dtype=float), (rows, cols)), shape=(len(terms), len(index))
    )


def cell_weights(keys: Sequence[Any]) -> Any:
    """1/sqrt(cell size) for each row's cell, scaled to mean 1."""
    import numpy as np

    sizes = Counter(keys)
    weights = np.array([sizes[k] ** -0.5 for k in keys])
    return weights * (len(weights) / weights.sum())


def balanced(y: Any, weights: Any) -> Any:
    """Weights rescaled so that both classes carry the same total."""
    import numpy as np

    out = np.array(weights, dtype=float)
    total = out.sum()
    for value in (0, 1):
        mask = y == value
        out[mask] *= total / (2 * out[mask].sum())
    return out


def fit_family(examples: Sequence[Example], features: Any, settings: Mapping[str, Any]) -> Any:
    """The job-family head on every row (None when the rows hold one family only): each
    (source, family) cell weighs the square root of its size, and the families weigh
    alike."""
    import numpy as np

    y = np.array([job_family(e) for e in examples])
    if len(set(y)) < 2:
        return None
    weights = cell_weights([(e.group, family) for e, family in zip(examples, y)])
    for family in set(y):
        weights[y == family] *= len(y) / (len(set(y)) * weights[y == family].sum())
    family = make_classifier(settings)
    family.fit(features, y, sample_weight=weights)
    return family


def make_classifier(settings: Mapping[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    # liblinear's trust-region Newton solver has no randomness and no threads: the same
    # rows give the same bits.
    return LogisticRegression(C=settings["C"], solver=settings["solver"], max_iter=5000,
                              random_state=SEED)


class RoleModel:
    """The model, as scikit-learn's estimators read: the parameters stored verbatim by
    `__init__`, the learned state (names ending in `_`) set by `fit`. `compile` gives the
    plain-data scorer; `save` writes the model directory.

    Three heads over one TF-IDF vocabulary, fitted on text and count rows alike.
    """

    vectorizer_: Any
    role_: Any
    domain_: Any
    family_: Any | None  # None when the rows hold only one job family
    platt_: tuple[float, float]  # (a, b), folded into the role head
    metrics_: dict[str, Any]  # out-of-fold metrics

    def __init__(
        self, hyperparameters: Hyperparameters = DEFAULT_HYPERPARAMETERS, folds: int | None = None
    ) -> None:
        self.hyperparameters = hyperparameters
        self.folds = folds  # of the out-of-fold logits; None: the hyperparameters' folds

    def fit(self, examples: Sequence[Example]) -> RoleModel:
        """Fit the three heads on the examples' text and count rows alike; returns self."""
        import numpy as np
        from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

        settings = self.hyperparameters
        folds = self.folds or settings["calibration"]["folds"]
        analyzer = training_analyzer(settings)
        blocks = [Counter(analyzer.terms(text)) for text in boilerplate_blocks(examples)]
        examples = [e for e in examples if e.family != BOILERPLATE_FAMILY]
        terms, in_boilerplate = example_terms(examples, analyzer)
        vocabulary = select_vocabulary(examples, terms, settings["vocabulary"], blocks,
                                       in_boilerplate)
        roles = [e for e in examples if e.label in ROLES]
        if {e.label for e in roles} != set(ROLES):
            raise UsageError("training data needs both engineer and scientist rows")
        if not any(e.label == "off_topic" for e in examples):
            raise UsageError("training data needs off_topic rows")
        index = {term: i for i, term in enumerate(vocabulary)}
        counts = _count_matrix(terms, index)
        # One idf for every head, from every row (smoothed, as scikit-learn computes it).
        transformer = TfidfTransformer(norm=settings["norm"], sublinear_tf=settings["sublinear_tf"])
        transformer.fit(counts)
        transformer.idf_ = role_words_scaled(transformer.idf_, vocabulary,
                                             settings["role_words"]["weight"])
        features = transformer.transform(counts)
        vectorizer = TfidfVectorizer(
            lowercase=True, token_pattern=analyzer.token_pattern, ngram_range=analyzer.ngram_range,
            stop_words=sorted(analyzer.stop_words), vocabulary=index,
            sublinear_tf=settings["sublinear_tf"], norm=settings["norm"],
        )
        vectorizer.idf_ = transformer.idf_

        labels = [e.label for e in examples]
        role_rows = np.array([i for i, label in enumerate(labels) if label in ROLES])
        mixed_rows = np.array([i for i, label in enumerate(labels) if label == "mixed"], dtype=int)
        keys = [(e.group, e.label) for e in examples]
        weight = cell_weights([keys[i] for i in [*role_rows, *mixed_rows]])
        role_weight, mixed_weight = weight[: len(role_rows)], weight[len(role_rows):]
        mixed_weight = mixed_weight * settings["role"]["mixed_as_neutral"]
        role_y = np.array([int(labels[i] == "scientist") for i in role_rows])
        # Each role row once more with a boilerplate block added (the blocks in turn): the same
        # label with and without benefits text teaches the head that such text decides nothing.
        with_block = None
        copies = settings["role"]["boilerplate_copies"]
        if blocks and copies:
            from scipy import sparse

            block_counts = _count_matrix(blocks, index)
            base = counts[role_rows]
            with_block = sparse.vstack([
                transformer.transform(base + block_counts[(np.arange(len(role_rows)) * copies + k)
                                                          % len(blocks)])
                for k in range(copies)
            ]).tocsr()

        def fit_role(train: Any) -> Any:
            from scipy import sparse

            # Mixed postings count once as each class: their words pull toward neither.
            rows = np.concatenate([role_rows[train], mixed_rows, mixed_rows])
            x = features[rows]
            y = np.concatenate([role_y[train], np.ones(len(mixed_rows)), np.zeros(len(mixed_rows))])
            w = np.concatenate([role_weight[train], mixed_weight, mixed_weight])
            if with_block is not None:
                copy_rows = np.concatenate([train + k * len(role_rows) for k in range(copies)])
                x = sparse.vstack([x, with_block[copy_rows]]).tocsr()
                y = np.concatenate([y, np.tile(role_y[train], copies)])
                w = np.concatenate([w, np.tile(role_weight[train], copies) / copies])
            classifier = make_classifier(settings["role"])
            classifier.fit(x, y, sample_weight=balanced(y, w))
            return classifier

        out_of_fold = _out_of_fold(role_y, folds, fit_role,
                                   lambda c, test: c.decision_function(features[role_rows[test]]))
        from .platt import fit_platt

        a, b = fit_platt(list(out_of_fold), list(role_y), weights=list(role_weight))
        role = fit_role(np.arange(len(role_rows)))
        role.coef_ = role.coef_ * a  # calibrated: sigmoid(a*z + b) is a logistic model too
        role.intercept_ = role.intercept_ * a + b

        # Rows whose topic is unknown (family_only) teach the family head alone.
        topical = np.array([i for i, label in enumerate(labels) if label != FAMILY_ONLY])
        on_topic = np.array([int(labels[i] != "off_topic") for i in topical])
        domain_keys = [(examples[i].family or examples[i].group)
                       if labels[i] == "off_topic" else keys[i] for i in topical]
        domain = make_classifier(settings["domain"])
        domain.fit(features[topical], on_topic,
                   sample_weight=balanced(on_topic, cell_weights(domain_keys)))

        family = fit_family(examples, features, settings["family"])

        from .platt import expected_calibration_error, roc_auc

        p = 1.0 / (1.0 + np.exp(-(a * out_of_fold + b)))
        metrics = {
            "out_of_fold": {
                "folds": folds,
                "rows": len(role_rows),
                "note": "stratified folds over all sources: optimistic for unseen sources; "
                        "bench/quality.py measures leave-one-source-out",
                "roc_auc": round(float(roc_auc(list(role_y), list(p)) or 0.0), 4),
                "balanced_accuracy": round(float(
                    ((p[role_y == 1] >= 0.5).mean() + (p[role_y == 0] < 0.5).mean()) / 2), 4),
                "ece": round(float(expected_calibration_error(list(role_y), list(p)) or 0.0), 4),
            },
        }
        self.vectorizer_, self.role_, self.domain_, self.family_ = vectorizer, role, domain, family
        self.platt_ = (float(a), float(b))
        self.metrics_ = metrics
        return self

    def pipeline(self, head: str) -> Any:
        """A fitted head ("role", "domain", "family") as a scikit-learn pipeline."""
        from sklearn.pipeline import Pipeline

        return Pipeline([("tfidf", self.vectorizer_), ("clf", getattr(self, head + "_"))])

    def compile(self) -> ScorerData:
        """The fitted heads as the compiled scorer's plain data (columns in slot order)."""
        vectorizer = self.vectorizer_
        vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        family = self.family_
        return ScorerData(
            analyzer={
                "lowercase": vectorizer.lowercase,
                "token_pattern": vectorizer.token_pattern,
                "ngram_range": list(vectorizer.ngram_range),
                "stop_words": sorted(vectorizer.stop_words),
                "sublinear_tf": vectorizer.sublinear_tf,
                "norm": vectorizer.norm,
            },
            classes=list(ROLES),
            terms=vocabulary,
            idf=[float(x) for x in vectorizer.idf_],
            role_coef=[float(x) for x in self.role_.coef_[0]],
            domain_coef=[float(x) for x in self.domain_.coef_[0]],
            role_intercept=float(self.role_.intercept_[0]),
            domain_intercept=float(self.domain_.intercept_[0]),
            family_classes=None if family is None else [str(c) for c in family.classes_],
            family_coef=None if family is None else [[float(x) for x in row]
                                                     for row in family.coef_],
            family_intercepts=None if family is None else [float(b)
                                                           for b in family.intercept_],
        )

    def save(
        self,
        output: Path,
        infos: list[DatasetInfo],
        examples: Sequence[Example],
        calibration: Path | None = None,
    ) -> dict[str, Any]:
        """Write the model directory (pipelines, scorer, card), atomically; returns the card."""
        fingerprint = training_fingerprint(infos, self.hyperparameters)
        a, b = self.platt_
        calibration_info: dict[str, Any] = {
            "method": "platt", "a": a, "b": b,
            "fitted_on": {"logits": "out-of-fold, stratified folds, seed 0",
                          "folds": self.metrics_["out_of_fold"]["folds"],
                          "rows": self.metrics_["out_of_fold"]["rows"]},
        }
        thresholds = DEFAULT_THRESHOLDS.as_dict()
        calibrated = load_threshold_settings(calibration)
        if calibrated is not None:
            if calibrated.get("training_fingerprint") == fingerprint:
                thresholds = Thresholds.from_dict(calibrated["thresholds"]).as_dict()
                calibration_info["thresholds_from"] = {
                    "source": _display_path(calibration) if calibration else None,
                    "fitted_on": calibrated.get("fitted_on"),
                }
            else:
                calibration_info["note"] = (
                    f"{calibration} was fitted for another base model; its thresholds are not "
                    "applied (re-run `rolecli calibrate`)"
                )
        pipelines = {PIPELINE_FILE: "role", DOMAIN_FILE: "domain"}
        if self.family_ is not None:
            pipelines[FAMILY_FILE] = "family"
        spec = self.compile()
        blobs = {name: _dump_joblib(_deterministic(self.pipeline(head)))
                 for name, head in pipelines.items()}
        blobs[SCORER_FILE] = encode(spec)
        hashes = {name: hashlib.sha256(blob).hexdigest() for name, blob in sorted(blobs.items())}
        by_source: dict[str, Counter[str]] = {}
        for example in examples:
            by_source.setdefault(example.group, Counter())[example.label] += 1
        card = {
            "card_format_version": CARD_FORMAT_VERSION,
            "model_id": f"rolecli-{hashes[SCORER_FILE][:12]}",
            "training_fingerprint": fingerprint,
            "training_data": [asdict(info) for info in infos],
            "rows_by_source": {s: dict(sorted(c.items())) for s, c in sorted(by_source.items())},
            "hyperparameters": plain(self.hyperparameters),
            "vocabulary_size": len(spec.terms),
            "nonzero_coefficients": {
                head: sum(c != 0.0 for c in coef)
                for head, coef in (("role", spec.role_coef), ("domain", spec.domain_coef),
                                   *(("family." + name, coef) for name, coef in
                                     zip(spec.family_classes or (), spec.family_coef or ())))
                if coef
            },
            "calibration": calibration_info,
            "thresholds": thresholds,
            "metrics": self.metrics_,
            "libraries": library_versions(),
            "files": hashes,
        }
        write_model_directory(output, {**blobs, CARD_FILE: _dump_json(card)})
        return card


def _out_of_fold(
    y: Any, folds: int, fit_rows: Callable[[Any], Any], score: Callable[[Any, Any], Any]
) -> Any:
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    folds = max(2, min(folds, int(np.bincount(y).min())))
    result = np.zeros(len(y))
    splits = StratifiedKFold(folds, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y)
    for train, test in splits:
        result[test] = score(fit_rows(train), test)
    return result


def _deterministic(pipeline: Any) -> Any:
    """The pipeline, ready to pickle the same bytes every time (call right before dumping)."""
    # Drop what would make two trainings differ byte for byte: stop_words_ is a set (pickled
    # in hash order; scikit-learn documents it as safe to drop) and _stop_words_id is a
    # memory address cached by the stop-word consistency check (recomputed when missing).
    vectorizer = pipeline.named_steps["tfidf"]
    for attribute in ("stop_words_", "_stop_words_id"):
        if hasattr(vectorizer, attribute):
            delattr(vectorizer, attribute)
    return pipeline



def _dump_json(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=True) + "\n").encode()


def _dump_joblib(obj: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


def library_versions() -> dict[str, str]:
    import joblib
    import numpy
    import scipy
    import sklearn
    from threadpoolctl import threadpool_info

    return {
        "python": platform.python_version(),
        "rolecli": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
        # Which kernels did the sums (see pin_blas_kernel): the same data and versions give
        # the same files only on the same kernels.
        "blas": ", ".join(sorted({f"{i.get('internal_api')} {i.get('version')} "
                                  f"{i.get('architecture')}" for i in threadpool_info()
                                  if i.get("user_api") == "blas"})),
    }


def training_fingerprint(
    infos: list[DatasetInfo], settings: Hyperparameters = DEFAULT_HYPERPARAMETERS
) -> str:
    """What a base model is a function of: its training data and hyperparameters.

    A calibration file names the fingerprint it was fitted for; it is folded in only when
    a training run has the same one.
    """
    inputs = {
        "data": sorted(info.sha256 for info in infos),
        "hyperparameters": plain(settings),
        "scorer_format": LOGIT_VERSION,
    }
    return hashlib.sha256(_dump_json(inputs)).hexdigest()


def load_threshold_settings(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        dict(data["thresholds"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a calibration file ({type(exc).__name__})") from None
    try:
        Thresholds.from_dict(data["thresholds"])  # the card's schema: refused now, not at load
    except ValueError as exc:
        raise UsageError(f"{path}: not a calibration file ({exc})") from None
    return dict(data)


def load_training_data(
    files: Iterable[Path], text_column: str = "text", label_column: str = "label"
) -> tuple[list[Example], list[DatasetInfo]]:
    """Every labelled row of the files; the shipped off-topic data joins data without any."""
    examples: list[Example] = []
    infos: list[DatasetInfo] = []
    for path in files:
        rows = load_examples(path, text_column, label_column)
        examples.extend(rows)
        infos.append(describe(path, rows, _display_path(path)))
    if not any(e.label == "off_topic" for e in examples):
        # The topic detector needs counter-examples; users' postings rarely include any.
        for path in [shipped_data_dir() / OFFTOPIC_FILE, shipped_data_dir() / BOILERPLATE_FILE,
                     *sorted(shipped_data_dir().glob("*" + count_form.SUFFIX))]:
            rows = [e for e in load_examples(path) if e.label == "off_topic"]
            examples.extend(rows)
            infos.append(describe(path, rows, _display_path(path) + " (off_topic rows)"))
    return examples, infos


def train(
    data: list[Path] | None = None,
    output: Path | None = None,
    calibration: Path | None = None,
    cv: int | None = None,
    text_column: str = "text",
    label_column: str = "label",
    on_metrics: Callable[[dict[str, Any]], None] | None = None,
    force: bool = False,
) -> TrainResult:
    """Fit, calibrate and save a model directory: pipelines, scorer and card.

    `on_metrics` sees the out-of-fold metrics before anything is written. A model
    directory that exists is replaced only with `force`; data too thin to support a model
    is refused (InputError) before anything is written.
    """
    if output is None:
        raise UsageError("no output directory: pass --output DIR")
    pin_blas_kernel()
    require_training_libraries("rolecli train")
    files = data or default_data_files()
    if not files:
        raise UsageError("no training data found (pass --data FILE)")
    load_threshold_settings(calibration)  # a bad file or output is refused before any work
    check_model_output(output)
    if not force and output.is_dir() and any(output.iterdir()):
        raise UsageError(f"--output {output} already holds a model; pass --force to replace it")
    examples, infos = load_training_data(files, text_column, label_column)
    check_enough_rows(examples)
    from threadpoolctl import threadpool_limits

    # One BLAS thread: multi-threaded reductions can change the last bits of a fit, and
    # the same data must give the same files whatever the machine or process state.
    with threadpool_limits(limits=1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = RoleModel(folds=cv).fit(examples)
    check_fit(model)
    if on_metrics is not None:
        on_metrics(model.metrics_["out_of_fold"])
    card = model.save(output, infos, examples, calibration)
    return TrainResult(output, card, plain_warnings(caught))


# What a model needs before its verdicts mean anything: rows of each role to learn from,
# role weights on more than a handful of terms, and out-of-fold ranking clearly above chance.
MIN_ROWS_PER_ROLE = 20
MIN_ROLE_TERMS = 20
MIN_OUT_OF_FOLD_AUC = 0.7
_MORE_DATA_HINT = "add rows, or pass --with-shipped-data to train on yours and the shipped data"


def check_enough_rows(examples: Sequence[Example]) -> None:
    """InputError when a role has too few rows to learn from."""
    counts = Counter(e.label for e in examples)
    short = [f"{counts[label]} {label}" for label in ROLES
             if counts[label] < MIN_ROWS_PER_ROLE]
    if short:
        raise InputError(
            f"too little data for a model: {' and '.join(short)} rows (at least "
            f"{MIN_ROWS_PER_ROLE} of each role are needed); {_MORE_DATA_HINT}"
        )


def check_fit(model: RoleModel) -> None:
    """InputError when the fit is degenerate or ranks the roles barely better than chance."""
    terms = int((model.role_.coef_ != 0).sum())
    auc = model.metrics_["out_of_fold"]["roc_auc"]
    if terms < MIN_ROLE_TERMS:
        raise InputError(f"the fit is degenerate: only {terms} terms carry any weight; "
                         f"{_MORE_DATA_HINT}")
    if auc < MIN_OUT_OF_FOLD_AUC:
        raise InputError(
            f"the model would be little better than chance: out-of-fold ROC AUC {auc:.2f} "
            f"(needs {MIN_OUT_OF_FOLD_AUC}); check the labels, or {_MORE_DATA_HINT}"
        )


def plain_warnings(caught: Sequence[warnings.WarningMessage]) -> list[str]:
    """The libraries' warnings during a fit, one plain line per kind (and how often)."""
    kinds = Counter(
        (w.category.__name__, " ".join(str(w.message).split())[:160]) for w in caught
    )
    return [f"{message} ({name}{f', {n} times' if n > 1 else ''})"
            for (name, message), n in sorted(kinds.items())]


def pin_blas_kernel() -> None:
    """Use OpenBLAS's Haswell kernels wherever the CPU has them (AVX2, every x86-64 CPU
    since 2013), unless the user chose a kernel.

    OpenBLAS picks its kernels for the CPU it runs on, and kernels for other CPUs (AVX-512
    ones, say) sum in another order: the same data would give coefficients that differ in
    the last bits, and model files that differ, from one machine to the next. It must be
    set before NumPy loads OpenBLAS; when NumPy is already loaded this does nothing.
    """
    if "numpy" in sys.modules or "OPENBLAS_CORETYPE" in os.environ:
        return
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            has_avx2 = any(line.startswith("flags") and " avx2" in line for line in cpuinfo)
    except OSError:
        return
    if has_avx2:
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"



# Every file a model directory of this or an older rolecli holds ("tech.joblib": the head
# the family head replaced), so that retraining replaces an older model in place.
MODEL_FILES = frozenset({CARD_FILE, PIPELINE_FILE, DOMAIN_FILE, FAMILY_FILE, SCORER_FILE,
                         LEGACY_SCORER_FILE, "tech.joblib"})


def write_model_directory(output: Path, files: dict[str, bytes]) -> None:
    """Write `files` as the model directory `output`, replacing the model there.

    They are written into a new directory beside it, which then takes its place by two
    renames: a crash or a full disk midway leaves the old model whole, never half of each,
    and no file of the old model (a head the new one lacks) lingers. A directory that
    holds anything but model files is refused, not replaced.
    """
    check_model_output(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(output, "new")
    try:
        for name, blob in files.items():
            (staging / name).write_bytes(blob)
        if output.exists():
            retired = _sibling(output, "old")
            os.replace(output, retired)  # onto an empty directory: a plain rename
            os.replace(staging, output)
            shutil.rmtree(retired)
        else:
            os.replace(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_model_output(output: Path) -> None:
    """UsageError unless `output` is absent, empty or a model directory (it will be replaced)."""
    try:
        os.stat(output)  # (exists() takes a symbolic link loop for "absent")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UsageError(f"--output {output}: {exc.strerror or exc}; name another directory") \
            from None
    if not output.is_dir():
        raise UsageError(f"--output {output} is a file; name a directory")
    foreign = sorted(p.name for p in output.iterdir() if p.name not in MODEL_FILES)
    if foreign:
        raise UsageError(f"--output {output} holds files that are not a model's "
                         f"({', '.join(foreign[:3])}); name an empty or model directory")


def _sibling(output: Path, kind: str) -> Path:
    """A new empty directory beside `output` (same file system: renames stay renames),
    made with the umask's mode as `output` would be."""
    while True:
        path = output.with_name(f".{output.name}.{kind}-{secrets.token_hex(4)}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _display_path(path: Path) -> str:
    from ..paths import training_checkout

    root = training_checkout()
    resolved = path.resolve()
    if root and resolved.is_relative_to(root):
        return resolved.relative_to(root).as_posix()
    data_dir = shipped_data_dir().resolve()
    if resolved.is_relative_to(data_dir):
        return "data/" + resolved.relative_to(data_dir).as_posix()
    return path.name


def load_pipeline(
    model_dir: str | Path | None = None, name: str = PIPELINE_FILE, *, trusted: bool = False
) -> Any:
    """The fitted scikit-learn pipeline of a model directory (default: the shipped model).

    Unpickling runs whatever code the file names, and the sha256 that guards it comes from
    a card in the same directory: it proves the file is intact, not who wrote it. So only
    the shipped model loads by default; any other directory needs `trusted=True`, which
    says the caller trusts whoever could write it. Scoring never needs this (the compiled
    scorer is plain data).
    """
    from ..paths import shipped_model_dir

    require_training_libraries("load_pipeline")
    directory = Path(model_dir) if model_dir else shipped_model_dir()
    if not trusted and not _same_directory(directory, shipped_model_dir()):
        raise UsageError(
            f"{directory}: load_pipeline unpickles code, and only the shipped model is "
            "trusted by default; pass trusted=True if you trust whoever can write this "
            "directory (scoring never needs the pickle: use rolecli.classify)"
        )
    blob = verified_bytes(directory, name, limit=MODEL_FILE_SIZE_LIMIT)
    import joblib

    try:
        pipeline = joblib.load(io.BytesIO(blob))
    except Exception as exc:  # unpickling can raise anything; the hash already matched
        raise ModelError(f"{directory / name}: cannot load ({type(exc).__name__})") from None
    if not hasattr(pipeline, "predict_proba") or not hasattr(pipeline, "named_steps"):
        raise ModelError(f"{directory / name}: not a scikit-learn pipeline")
    return pipeline


def _same_directory(a: Path, b: Path) -> bool:
    try:
        return a.resolve(strict=True) == b.resolve(strict=True)
    except OSError:
        return False


TRAIN_EXTRA_HINT = "pip install 'rolecli[train]'"


def require_training_libraries(what: str) -> None:
    """One clear line, naming the extra, when scikit-learn and friends are not installed."""
    from importlib import import_module

    try:
        for name in ("sklearn", "joblib", "numpy", "threadpoolctl"):
            import_module(name)
    except ImportError:
        raise UsageError(
            f"{what} needs scikit-learn, joblib and NumPy, which the light install leaves "
            f"out: {TRAIN_EXTRA_HINT}"
        ) from None
