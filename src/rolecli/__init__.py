"""rolecli: is this machine-learning job an ML engineer, an ML scientist, or mixed?"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "classify",
    "evaluate",
    "explain",
    "load_pipeline",
    "load_scorer",
    "train",
]


def __getattr__(name: str) -> Any:
    # Lazy so that `import rolecli` stays light: scikit-learn loads only for train/evaluate.
    if name in {"classify", "load_scorer"}:
        from . import classifier

        return getattr(classifier, name)
    if name == "explain":
        from .explanation import explain

        return explain
    if name in {"train", "load_pipeline"}:
        from .model import training

        return getattr(training, name)
    if name == "evaluate":
        from .evaluation import evaluate

        return evaluate
    raise AttributeError(f"module 'rolecli' has no attribute {name!r}")
