"""train(): labelled postings in, a model directory out, in named steps: read the rows
(io/labelled.py), check there are enough, fit (model/training.py: vocabulary, heads, Platt
scaling), check the fit, and write the directory with its card (model/directory.py).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from ..extras import require_extra
from ..io import counts as count_form
from ..io.labelled import DatasetInfo, Example, describe, load_examples
from ..model.directory import check_model_output, display_path, load_threshold_settings, save_model
from ..model.training import RoleModel
from ..paths import shipped_data_dir
from ..text.roles import ROLES

OFFTOPIC_FILE = "offtopic.csv"
BOILERPLATE_FILE = "boilerplate.csv"


@dataclass
class TrainResult:
    output: Path
    card: dict[str, Any]
    warnings: list[str]  # the libraries' warnings during the fit, in plain lines



def default_data_files(data: Path | None = None) -> list[Path]:
    """The training files in `data` (default: the shipped data/)."""
    data = data or shipped_data_dir()
    return sorted([*data.glob("*.csv"), *data.glob("*" + count_form.SUFFIX)])



def load_training_data(
    files: Iterable[Path], text_column: str = "text", label_column: str = "label"
) -> tuple[list[Example], list[DatasetInfo]]:
    """Every labelled row of the files; the shipped off-topic data joins data without any."""
    examples: list[Example] = []
    infos: list[DatasetInfo] = []
    for path in files:
        rows = load_examples(path, text_column, label_column)
        examples.extend(rows)
        infos.append(describe(path, rows, display_path(path)))
    if not any(e.label == "off_topic" for e in examples):
        # The topic detector needs counter-examples; users' postings rarely include any.
        for path in [shipped_data_dir() / OFFTOPIC_FILE, shipped_data_dir() / BOILERPLATE_FILE,
                     *sorted(shipped_data_dir().glob("*" + count_form.SUFFIX))]:
            rows = [e for e in load_examples(path) if e.label == "off_topic"]
            examples.extend(rows)
            infos.append(describe(path, rows, display_path(path) + " (off_topic rows)"))
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
        raise UsageError("no output directory: pass output", "pass --output DIR",
                         cli_message="no output directory", join=": ")
    pin_blas_kernel()
    require_extra("train", "rolecli train")
    files = data or default_data_files()
    if not files:
        raise UsageError("no training data found (pass data)",
                         cli_message="no training data found (pass --data FILE)")
    load_threshold_settings(calibration)  # a bad file or output is refused before any work
    check_model_output(output)
    if not force and output.is_dir() and any(output.iterdir()):
        raise UsageError(f"output {output} already holds a model; pass force=True to replace it",
                         "pass --force to replace it",
                         cli_message=f"--output {output} already holds a model")
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
    card = save_model(model, output, infos, examples, calibration)
    return TrainResult(output, card, plain_warnings(caught))



# What a model needs before its verdicts mean anything: rows of each role to learn from,
# role weights on more than a handful of terms, and out-of-fold ranking clearly above chance.
MIN_ROWS_PER_ROLE = 20



MIN_ROLE_TERMS = 20



MIN_OUT_OF_FOLD_AUC = 0.7



# The remedy for too little data, to a library caller (parameters) and on the CLI (flags).
_MORE_DATA = "add rows, or pass the shipped data (default_data_files()) with yours"
_MORE_DATA_HINT = "add rows, or pass --with-shipped-data to train on yours and the shipped data"


def _too_little(problem: str, join: str = "; ") -> InputError:
    """InputError: `problem`, then how to get more data (on the CLI, the flag)."""
    return InputError(f"{problem}{join}{_MORE_DATA}", _MORE_DATA_HINT, cli_message=problem,
                      join=join)



def check_enough_rows(examples: Sequence[Example]) -> None:
    """InputError when a role has too few rows to learn from."""
    counts = Counter(e.label for e in examples)
    short = [f"{counts[label]} {label}" for label in ROLES
             if counts[label] < MIN_ROWS_PER_ROLE]
    if short:
        raise _too_little(f"too little data for a model: {' and '.join(short)} rows (at least "
                          f"{MIN_ROWS_PER_ROLE} of each role are needed)")



def check_fit(model: RoleModel) -> None:
    """InputError when the fit is degenerate or ranks the roles barely better than chance."""
    terms = int((model.role_.coef_ != 0).sum())
    auc = model.metrics_["out_of_fold"]["roc_auc"]
    if terms < MIN_ROLE_TERMS:
        raise _too_little(f"the fit is degenerate: only {terms} terms carry any weight")
    if auc < MIN_OUT_OF_FOLD_AUC:
        raise _too_little(
            f"the model would be little better than chance: out-of-fold ROC AUC {auc:.2f} "
            f"(needs {MIN_OUT_OF_FOLD_AUC}); check the labels, or", join=" ")



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

