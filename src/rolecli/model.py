"""Training, saving and loading models (scikit-learn is imported only here)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .card import CARD_FILE, CARD_FORMAT_VERSION, MODEL_FILE_SIZE_LIMIT, parse_thresholds
from .datasets import ROLE_LABELS, DatasetInfo, Example, describe, load_examples
from .decision import DEFAULT_THRESHOLDS
from .errors import ModelError, UsageError
from .paths import shipped_data_dir
from .scorer import LEGACY_SCORER_FILE, SCORER_FILE, ScorerData, encode, verified_bytes
from .text import ROLE_WORDS, TOKEN_PATTERN

PIPELINE_FILE = "pipeline.joblib"
DOMAIN_FILE = "domain.joblib"
CALIBRATION_FILE = "calibration.json"
OFFTOPIC_FILE = "offtopic.csv"
SEED = 0
# What a calibration is fitted to is the base model's logits, as scorer format 2 defined
# them. Format 3 changed only the file's layout (packed arrays), not a single logit, so the
# training fingerprint keeps this number and calibration files stay valid; bump it when
# scoring itself changes.
LOGIT_VERSION = 2

HYPERPARAMETERS: dict[str, Any] = {
    "ngram_range": [1, 2],
    "sublinear_tf": True,
    "norm": "l2",
    "stop_words": "sklearn-english+role-words",
    # Role head: elastic net keeps a few hundred decisive terms and zeroes the rest.
    "role": {"C": 2.0, "l1_ratio": 0.5, "solver": "saga", "class_weight": "balanced", "min_df": 1},
    "neutral_text": "mixed rows and off-topic lines, once per class",
    # The topic detector reads the role model's own tf-idf features (one vocabulary, one
    # pass per posting). saga for both heads: its Cython loops give the same bits whatever
    # the BLAS build, thread count or memory alignment, so training is reproducible.
    "domain": {"C": 16.0, "l1_ratio": 0.0, "solver": "saga", "class_weight": "balanced"},
    # Pseudo-postings for the topic detector: ML lines mixed with lines of other texts, so
    # that job-ad boilerplate (benefits, EEO lines) reads as neutral and ML content decides.
    "domain_pseudo_postings": 1200,
    "domain_lines_on_topic": 6,
    "domain_lines_other": 5,
}


@dataclass
class TrainResult:
    output: Path
    card: dict[str, Any]


def default_data_files() -> list[Path]:
    return sorted(shipped_data_dir().glob("*.csv"))


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | ROLE_WORDS)


def make_classifier(settings: dict[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=settings["C"],
        l1_ratio=settings["l1_ratio"],
        solver=settings["solver"],
        class_weight=settings["class_weight"],
        max_iter=5000,
        random_state=SEED,
    )


def make_pipeline(settings: dict[str, Any]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline

    vectorizer = TfidfVectorizer(
        lowercase=True,
        token_pattern=TOKEN_PATTERN,
        ngram_range=tuple(HYPERPARAMETERS["ngram_range"]),
        stop_words=_stop_words(),
        min_df=settings["min_df"],
        sublinear_tf=HYPERPARAMETERS["sublinear_tf"],
        norm=HYPERPARAMETERS["norm"],
    )
    return Pipeline([("tfidf", vectorizer), ("clf", make_classifier(settings))])


def neutral_texts(examples: list[Example]) -> list[str]:
    """Text that says nothing about engineer vs scientist: mixed rows and lines of off-topic texts.

    Added once to each class, they pull the weights of their words (boilerplate, benefits,
    generic duties) toward zero, so only words that separate the roles carry weight.
    """
    mixed = [e.text for e in examples if e.label == "mixed"]
    lines = [
        line.strip()
        for e in examples
        if e.label == "off_topic"
        for line in e.text.splitlines()
        if len(line.split()) >= 4
    ]
    return mixed + lines


def fit_role(examples: list[Example]) -> Any:
    rows = [e for e in examples if e.label in ROLE_LABELS]
    if {e.label for e in rows} != set(ROLE_LABELS):
        raise UsageError("training data needs both engineer and scientist rows")
    return _fit_role_rows(rows, neutral_texts(examples))


def _fit_role_rows(rows: list[Example], neutral: list[str]) -> Any:
    texts = [e.text for e in rows] + neutral + neutral
    labels = [int(e.label == "scientist") for e in rows] + [1] * len(neutral) + [0] * len(neutral)
    pipeline = make_pipeline(HYPERPARAMETERS["role"])
    pipeline.fit(texts, labels)
    return pipeline


def fit_domain(examples: list[Example], role: Any) -> Any:
    """On-topic (any ML role row, plus pseudo-postings) against off-topic rows.

    It reuses the role pipeline's fitted vectorizer, so both models read the same features.
    """
    import random

    positives = [e.text for e in examples if e.label != "off_topic"]
    negatives = [e.text for e in examples if e.label == "off_topic"]
    if not negatives:
        raise UsageError("training data needs off_topic rows")
    other_lines = [
        line.strip() for text in negatives for line in text.splitlines() if len(line.split()) >= 4
    ]
    rng = random.Random(SEED)
    k_on = min(HYPERPARAMETERS["domain_lines_on_topic"], len(positives))
    k_other = min(HYPERPARAMETERS["domain_lines_other"], len(other_lines))
    pseudo = []
    for _ in range(HYPERPARAMETERS["domain_pseudo_postings"]):
        lines = rng.sample(positives, k_on) + rng.sample(other_lines, k_other)
        rng.shuffle(lines)
        pseudo.append("\n".join(lines))
    texts = positives + pseudo + negatives
    labels = [1] * (len(positives) + len(pseudo)) + [0] * len(negatives)
    from sklearn.pipeline import Pipeline

    vectorizer = role.named_steps["tfidf"]
    classifier = make_classifier(HYPERPARAMETERS["domain"])
    classifier.fit(vectorizer.transform(texts), labels)
    return Pipeline([("tfidf", vectorizer), ("clf", classifier)])


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


def fold_calibration(pipeline: Any, a: float, b: float) -> None:
    """Make predict_proba calibrated: sigmoid(a*z + b) is a logistic model with scaled weights."""
    classifier = pipeline.named_steps["clf"]
    classifier.coef_ = classifier.coef_ * a
    classifier.intercept_ = classifier.intercept_ * a + b


def scorer_spec(role: Any, domain: Any) -> ScorerData:
    """The two fitted pipelines as the compiled scorer's plain data (columns in slot order)."""
    vectorizer = role.named_steps["tfidf"]
    if domain.named_steps["tfidf"].vocabulary_ != vectorizer.vocabulary_:
        raise ValueError("the role and domain models must share one vectorizer")
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    role_clf, domain_clf = role.named_steps["clf"], domain.named_steps["clf"]
    return ScorerData(
        analyzer={
            "lowercase": vectorizer.lowercase,
            "token_pattern": vectorizer.token_pattern,
            "ngram_range": list(vectorizer.ngram_range),
            "stop_words": sorted(vectorizer.stop_words),
            "sublinear_tf": vectorizer.sublinear_tf,
            "norm": vectorizer.norm,
        },
        classes=list(ROLE_LABELS),
        terms=vocabulary,
        idf=[float(x) for x in vectorizer.idf_],
        role_coef=[float(x) for x in role_clf.coef_[0]],
        domain_coef=[float(x) for x in domain_clf.coef_[0]],
        role_intercept=float(role_clf.intercept_[0]),
        domain_intercept=float(domain_clf.intercept_[0]),
    )


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

    return {
        "python": platform.python_version(),
        "rolecli": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def training_fingerprint(infos: list[DatasetInfo]) -> str:
    """What a base model is a function of: its training data and hyperparameters.

    A calibration file names the fingerprint it was fitted for; it is folded in only when
    a training run has the same one.
    """
    inputs = {
        "data": sorted(info.sha256 for info in infos),
        "hyperparameters": HYPERPARAMETERS,
        "scorer_format": LOGIT_VERSION,
    }
    return hashlib.sha256(_dump_json(inputs)).hexdigest()


def load_calibration(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        float(data["platt"]["a"]), float(data["platt"]["b"])
        dict(data["thresholds"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a calibration file ({type(exc).__name__})") from None
    try:
        parse_thresholds(data["thresholds"])  # the card's schema: refused now, not at load
    except ValueError as exc:
        raise UsageError(f"{path}: not a calibration file ({exc})") from None
    return dict(data)


def train(
    data: list[Path] | None = None,
    output: Path | None = None,
    calibration: Path | None = None,
    cv: int | None = None,
    text_column: str = "text",
    label_column: str = "label",
    on_metrics: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Fit, calibrate and save a model directory: pipeline, domain model, scorer and card.

    `on_metrics` sees the cross-validated metrics before anything is written.
    """
    if output is None:
        raise UsageError("no output directory: pass --output DIR")
    require_training_libraries("rolecli train")
    files = data or default_data_files()
    if not files:
        raise UsageError("no training data found (pass --data FILE)")
    examples: list[Example] = []
    infos: list[DatasetInfo] = []
    for path in files:
        rows = load_examples(path, text_column, label_column)
        examples.extend(rows)
        infos.append(describe(path, rows, _display_path(path)))

    if not any(e.label == "off_topic" for e in examples):
        # The topic detector needs counter-examples; users' postings rarely include any.
        offtopic = shipped_data_dir() / OFFTOPIC_FILE
        rows = load_examples(offtopic)
        examples.extend(rows)
        infos.append(describe(offtopic, rows, _display_path(offtopic)))

    from threadpoolctl import threadpool_limits

    # One BLAS thread: multi-threaded reductions can change the last bits of a fit, and
    # the same data must give the same files whatever the machine or process state.
    with threadpool_limits(limits=1):
        role = fit_role(examples)
        domain = fit_domain(examples, role)
    fingerprint = training_fingerprint(infos)

    settings = load_calibration(calibration)
    calibration_info: dict[str, Any] = {"method": "none", "a": 1.0, "b": 0.0}
    thresholds: dict[str, Any] = json.loads(json.dumps(DEFAULT_THRESHOLDS))
    if settings is not None:
        if settings.get("training_fingerprint") == fingerprint:
            platt = settings["platt"]
            fold_calibration(role, float(platt["a"]), float(platt["b"]))
            calibration_info = {
                "method": "platt",
                "a": float(platt["a"]),
                "b": float(platt["b"]),
                "fitted_on": settings.get("fitted_on"),
                "source": _display_path(calibration) if calibration else None,
            }
            thresholds = dict(settings["thresholds"])
        else:
            calibration_info["note"] = (
                f"{calibration} was fitted for another base model; not applied "
                "(re-run `rolecli calibrate`)"
            )

    with threadpool_limits(limits=1):
        metrics = {"cross_validation": cross_validate(examples, cv or 5)}
    if on_metrics is not None:
        on_metrics(metrics["cross_validation"])
    _deterministic(role)  # the domain pipeline shares its vectorizer
    spec = scorer_spec(role, domain)
    blobs = {
        PIPELINE_FILE: _dump_joblib(role),
        DOMAIN_FILE: _dump_joblib(domain),
        SCORER_FILE: encode(spec),
    }
    hashes = {name: hashlib.sha256(blob).hexdigest() for name, blob in sorted(blobs.items())}
    card = {
        "card_format_version": CARD_FORMAT_VERSION,
        "model_id": f"rolecli-{hashes[SCORER_FILE][:12]}",
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "training_fingerprint": fingerprint,
        "training_data": [asdict(info) for info in infos],
        "hyperparameters": HYPERPARAMETERS,
        "vocabulary_size": len(spec.terms),
        "nonzero_coefficients": {
            "role": sum(c != 0.0 for c in spec.role_coef),
            "domain": sum(c != 0.0 for c in spec.domain_coef),
        },
        "calibration": calibration_info,
        "thresholds": thresholds,
        "metrics": metrics,
        "libraries": library_versions(),
        "files": hashes,
    }
    output.mkdir(parents=True, exist_ok=True)
    for name, blob in blobs.items():
        (output / name).write_bytes(blob)
    # A scorer of the previous format would sit there unvouched for by the new card.
    (output / LEGACY_SCORER_FILE).unlink(missing_ok=True)
    (output / CARD_FILE).write_bytes(_dump_json(card))
    return TrainResult(output, card)


def cross_validate(examples: list[Example], folds: int) -> dict[str, Any]:
    """Stratified k-fold metrics of the role model on the training rows (fixed seed)."""
    import numpy as np
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    rows = [e for e in examples if e.label in ROLE_LABELS]
    neutral = neutral_texts(examples)
    y = np.array([int(e.label == "scientist") for e in rows])
    folds = max(2, min(folds, int(np.bincount(y).min())))
    scores = np.zeros(len(rows))
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(y, y):
        pipeline = _fit_role_rows([rows[i] for i in train_idx], neutral)
        scores[test_idx] = pipeline.predict_proba([rows[i].text for i in test_idx])[:, 1]
    return {
        "folds": folds,
        "rows": len(rows),
        "roc_auc": round(float(roc_auc_score(y, scores)), 4),
        "balanced_accuracy": round(float(balanced_accuracy_score(y, scores >= 0.5)), 4),
    }


def _display_path(path: Path) -> str:
    from .paths import checkout_root

    root = checkout_root()
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
    from .paths import shipped_model_dir

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
