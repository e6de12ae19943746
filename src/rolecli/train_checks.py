"""Whether training data can support a model, and what training tells the user: checks
`rolecli train` runs before it fits and before it writes anything."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError, UsageError

# Below this many postings of a role, the folds hold a handful each and the fit learns
# the rows, not the roles (a 14-row CSV gave one non-zero weight and CV AUC 0.44).
MIN_ROWS_PER_ROLE = 20
# Out-of-fold ROC AUC at or below this is close enough to a coin toss to refuse.
MIN_CV_AUC = 0.6
_HINT = ("add your rows to the shipped data with --with-shipped-data, or label more "
         "postings")


def check_rows(labels: Sequence[str], source: str) -> None:
    """Refuse (exit 3) data with fewer than MIN_ROWS_PER_ROLE engineer or scientist rows."""
    counts = Counter(labels)
    short = [f"{counts[role]} {role}" for role in ("engineer", "scientist")
             if counts[role] < MIN_ROWS_PER_ROLE]
    if short:
        raise InputError(
            f"{source}: too few rows to train on ({', '.join(short)}; need at least "
            f"{MIN_ROWS_PER_ROLE} of each role); {_HINT}"
        )


def check_fit(metrics: dict[str, Any]) -> None:
    """Refuse (exit 3), before anything is written, a fit no better than chance."""
    auc = metrics["roc_auc"]
    if auc <= MIN_CV_AUC:
        raise InputError(
            f"the fit cannot tell engineers from scientists (out-of-fold ROC AUC {auc:.2f}, "
            f"at most {MIN_CV_AUC} is near chance); nothing was written; {_HINT}"
        )


def check_output(target: Path, force: bool) -> None:
    """An existing, non-empty model directory is overwritten only with --force."""
    if target.is_dir() and any(target.iterdir()) and not force:
        raise UsageError(f"{target} already exists; pass --force to overwrite it, or "
                         "--output another directory")
    if target.exists() and not target.is_dir():
        raise UsageError(f"--output {target} is a file; give a directory")


@contextmanager
def plain_warnings(say: Callable[[str], None]) -> Iterator[None]:
    """Library warnings (scikit-learn's ConvergenceWarning, …) as one plain line each kind."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for kind in dict.fromkeys(type(w.message).__name__ for w in caught
                              if not issubclass(w.category, DeprecationWarning)):
        if kind == "ConvergenceWarning":
            say("warning: the fit did not fully converge (scikit-learn ConvergenceWarning); "
                "the model may be weak: check the metrics above")
        else:
            say(f"warning: training raised a {kind} from a library; check the metrics above")
