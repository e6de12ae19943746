"""A model directory: the card assembled at training's end, files written atomically, the
trust check before unpickling a pipeline, and the full verification of a model.

The scoring path never comes here: it reads the card and the plain-data scorer only
(model/card.py, model/scorer.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import secrets
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import ModelError, UsageError
from ..extras import require_extra
from ..io.labelled import DatasetInfo, Example
from ..paths import shipped_data_dir
from .card import (
    CARD_FILE,
    CARD_FORMAT_VERSION,
    DEFAULT_THRESHOLDS,
    MODEL_FILE_SIZE_LIMIT,
    Thresholds,
)
from .hyperparameters import DEFAULT_HYPERPARAMETERS, Hyperparameters
from .scorer import Scorer, verified_bytes
from .scorer_file import LEGACY_SCORER_FILE, SCORER_FILE, encode

if TYPE_CHECKING:
    from .training import RoleModel

PIPELINE_FILE = "pipeline.joblib"
DOMAIN_FILE = "domain.joblib"
FAMILY_FILE = "family.joblib"
# The label thresholds `rolecli calibrate` fits (tasks/fit_thresholds.py), in data/.
THRESHOLD_SETTINGS_FILE = "calibration.json"
# What a threshold-settings file is fitted to is the base model's logits; bump this when
# scoring itself changes (format 3 changed only the scorer file's layout, not a logit).
LOGIT_VERSION = 2


def save_model(
    model: RoleModel,
    output: Path,
    infos: list[DatasetInfo],
    examples: Sequence[Example],
    calibration: Path | None = None,
) -> dict[str, Any]:
    """Write the model directory (pipelines, scorer, card), atomically; returns the card."""
    fingerprint = training_fingerprint(infos, model.hyperparameters)
    a, b = model.platt_
    calibration_info: dict[str, Any] = {
        "method": "platt", "a": a, "b": b,
        "fitted_on": {"logits": "out-of-fold, stratified folds, seed 0",
                      "folds": model.metrics_["out_of_fold"]["folds"],
                      "rows": model.metrics_["out_of_fold"]["rows"]},
    }
    thresholds = DEFAULT_THRESHOLDS.as_dict()
    calibrated = load_threshold_settings(calibration)
    if calibrated is not None:
        if calibrated.get("training_fingerprint") == fingerprint:
            thresholds = Thresholds.from_dict(calibrated["thresholds"]).as_dict()
            calibration_info["thresholds_from"] = {
                "source": display_path(calibration) if calibration else None,
                "fitted_on": calibrated.get("fitted_on"),
            }
        else:
            calibration_info["note"] = (
                f"{calibration} was fitted for another base model; its thresholds are not "
                "applied (re-run `rolecli calibrate`)"
            )
    pipelines = {PIPELINE_FILE: "role", DOMAIN_FILE: "domain"}
    if model.family_ is not None:
        pipelines[FAMILY_FILE] = "family"
    spec = model.compile()
    blobs = {name: _dump_joblib(_deterministic(model.pipeline(head)))
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
        "hyperparameters": model.hyperparameters.to_json(),
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
        "metrics": model.metrics_,
        "libraries": library_versions(),
        "files": hashes,
    }
    write_model_directory(output, {**blobs, CARD_FILE: _dump_json(card)})
    return card


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
        "hyperparameters": settings.to_json(),
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
        raise UsageError(f"output {output}: {exc.strerror or exc}", "name another directory",
                         cli_message=f"--output {output}: {exc.strerror or exc}") from None
    if not output.is_dir():
        raise UsageError(f"output {output} is a file", "name a directory",
                         cli_message=f"--output {output} is a file")
    foreign = sorted(p.name for p in output.iterdir() if p.name not in MODEL_FILES)
    if foreign:
        held = f"{output} holds files that are not a model's ({', '.join(foreign[:3])})"
        raise UsageError(f"output {held}", "name an empty or model directory",
                         cli_message=f"--output {held}")



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


def display_path(path: Path) -> str:
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

    require_extra("train", "load_pipeline")
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


def verify_model(directory: Path) -> Scorer:
    """Every check there is: each file the card lists against its sha256, and the scorer's
    per-term structure (`rolecli model info --verify`; loading does the rest on each run)."""
    scorer = Scorer.load(directory, recheck=True)
    scorer.check()
    for name in scorer.model_card.files:
        verified_bytes(directory, name, scorer.model_card, MODEL_FILE_SIZE_LIMIT)
    return scorer
