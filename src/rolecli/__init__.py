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
    "model_info",
    "threshold_settings",
    "train",
]


def __getattr__(name: str) -> Any:
    # Lazy so that `import rolecli` stays light: scikit-learn loads only for train/evaluate.
    if name in {"classify", "load_scorer"}:
        from .tasks import classify

        return getattr(classify, name)
    if name == "explain":
        from .tasks.explain import explain

        return explain
    if name == "train":
        from .tasks.train import train

        return train
    if name == "load_pipeline":
        from .model.directory import load_pipeline

        return load_pipeline
    if name == "evaluate":
        from .tasks.evaluate import evaluate

        return evaluate
    if name == "model_info":
        from .tasks.model_info import model_info

        return model_info
    if name == "threshold_settings":
        from .tasks.fit_thresholds import threshold_settings

        return threshold_settings
    raise AttributeError(f"module 'rolecli' has no attribute {name!r}")
