"""The model: `RoleModel`, fitted as scikit-learn fits an estimator (scikit-learn is
imported only on this path).

A model is three logistic-regression heads over one TF-IDF vocabulary:
  role    P(scientist) of an ML posting (engineer 0, scientist 1), calibrated;
  domain  P(the text is an ML or data-science job description);
  family  which job family a text reads as (ml, data_engineer, data_analyst, software, other):
          it words the off-topic verdict and keeps a data-engineering posting from reading
          as ML science.
Rows are posting texts (CSV, JSONL, label folders) or the text-free n-gram counts of real
postings (`*.counts.jsonl.gz`, see io/counts.py): both become the same term counts. The
steps around the fit: model/vocabulary.py (features), model/directory.py (the card and the
files), tasks/train.py (the workflow).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import UsageError
from ..io.labelled import Example
from ..text.roles import FAMILY_ONLY, ROLES
from .hyperparameters import DEFAULT_HYPERPARAMETERS, SEED, Classifier, Hyperparameters
from .scorer_file import ScorerData
from .vocabulary import (
    BOILERPLATE_FAMILY,
    boilerplate_blocks,
    example_terms,
    job_family,
    role_words_scaled,
    select_vocabulary,
    training_analyzer,
)


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


def fit_family(examples: Sequence[Example], features: Any, settings: Classifier) -> Any:
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


def make_classifier(settings: Classifier) -> Any:
    from sklearn.linear_model import LogisticRegression

    # liblinear's trust-region Newton solver has no randomness and no threads: the same
    # rows give the same bits.
    return LogisticRegression(C=settings.C, solver=settings.solver, max_iter=5000,
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
        folds = self.folds or settings.calibration.folds
        analyzer = training_analyzer(settings)
        blocks = [Counter(analyzer.terms(text)) for text in boilerplate_blocks(examples)]
        examples = [e for e in examples if e.family != BOILERPLATE_FAMILY]
        terms, in_boilerplate = example_terms(examples, analyzer)
        vocabulary = select_vocabulary(examples, terms, settings.vocabulary, blocks,
                                       in_boilerplate)
        roles = [e for e in examples if e.label in ROLES]
        if {e.label for e in roles} != set(ROLES):
            raise UsageError("training data needs both engineer and scientist rows")
        if not any(e.label == "off_topic" for e in examples):
            raise UsageError("training data needs off_topic rows")
        index = {term: i for i, term in enumerate(vocabulary)}
        counts = _count_matrix(terms, index)
        # One idf for every head, from every row (smoothed, as scikit-learn computes it).
        transformer = TfidfTransformer(norm=settings.norm, sublinear_tf=settings.sublinear_tf)
        transformer.fit(counts)
        transformer.idf_ = role_words_scaled(transformer.idf_, vocabulary,
                                             settings.role_words.weight)
        features = transformer.transform(counts)
        vectorizer = TfidfVectorizer(
            lowercase=True, token_pattern=analyzer.token_pattern, ngram_range=analyzer.ngram_range,
            stop_words=sorted(analyzer.stop_words), vocabulary=index,
            sublinear_tf=settings.sublinear_tf, norm=settings.norm,
        )
        vectorizer.idf_ = transformer.idf_

        labels = [e.label for e in examples]
        role_rows = np.array([i for i, label in enumerate(labels) if label in ROLES])
        mixed_rows = np.array([i for i, label in enumerate(labels) if label == "mixed"], dtype=int)
        keys = [(e.group, e.label) for e in examples]
        weight = cell_weights([keys[i] for i in [*role_rows, *mixed_rows]])
        role_weight, mixed_weight = weight[: len(role_rows)], weight[len(role_rows):]
        mixed_weight = mixed_weight * settings.role.mixed_as_neutral
        role_y = np.array([int(labels[i] == "scientist") for i in role_rows])
        # Each role row once more with a boilerplate block added (the blocks in turn): the same
        # label with and without benefits text teaches the head that such text decides nothing.
        with_block = None
        copies = settings.role.boilerplate_copies
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
            classifier = make_classifier(settings.role)
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
        domain = make_classifier(settings.domain)
        domain.fit(features[topical], on_topic,
                   sample_weight=balanced(on_topic, cell_weights(domain_keys)))

        family = fit_family(examples, features, settings.family)

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














































