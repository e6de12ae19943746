"""Where the shipped model and training data live: a checkout, or copies inside the package."""

from __future__ import annotations

import os
import re
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def checkout_root() -> Path | None:
    """The repository root when running from a source checkout (editable install)."""
    root = _PACKAGE.parents[1]
    if (root / "pyproject.toml").is_file() and (root / "data" / "article.csv").is_file():
        return root
    return None


_PROJECT_NAME = re.compile(r'^name\s*=\s*"rolecli"\s*$', re.M)


def enclosing_checkout(directory: Path) -> Path | None:
    """The rolecli checkout holding `directory` (it or a parent), if any."""
    for root in (directory, *directory.parents):
        project = root / "pyproject.toml"
        if (root / "data" / "article.csv").is_file() and project.is_file():
            try:
                if _PROJECT_NAME.search(project.read_text(encoding="utf-8", errors="replace")):
                    return root
            except OSError:
                continue
    return None


def training_checkout() -> Path | None:
    """Where `rolecli train` finds data/ and writes models/default: the checkout this
    package runs from (an editable install), else the one the current directory is in
    (after `pip install .`, the package is a copy, but the checkout is still there)."""
    return checkout_root() or enclosing_checkout(Path.cwd())


def shipped_data_dir() -> Path:
    root = checkout_root()
    return root / "data" if root else _PACKAGE / "_shipped" / "data"


def shipped_model_dir() -> Path:
    """The model that comes with rolecli (in a checkout, or the copy inside the package)."""
    root = checkout_root()
    return root / "models" / "default" if root else _PACKAGE / "_shipped" / "models" / "default"


def default_model_dir() -> Path:
    """--model default: $ROLECLI_MODEL, else the shipped model."""
    env = os.environ.get("ROLECLI_MODEL")
    return Path(env) if env else shipped_model_dir()


def model_directory(model: str | Path | None = None) -> Path:
    """The resolved directory of a model (default: default_model_dir()); a path that
    cannot be resolved (a symbolic link loop) is a ModelError, as any broken model is."""
    from .errors import ModelError

    path = Path(model) if model else default_model_dir()
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: Python 3.12 and older on a loop
        reason = "a symbolic link loop" if "loop" in str(exc).lower() else \
            getattr(exc, "strerror", None) or type(exc).__name__
        raise ModelError(f"{path}: cannot resolve the model directory ({reason})") from None


def default_train_output() -> Path | None:
    root = training_checkout()
    return root / "models" / "default" if root else None


def training_data_dir() -> Path:
    """The data `rolecli train` reads by default: the checkout's data/, else the shipped copy."""
    root = training_checkout()
    return root / "data" if root else shipped_data_dir()
