"""classify(): one posting in, the verdict as plain data out."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model.scorer import Scorer
from ..paths import model_directory
from ..verdict.evidence import gather
from ..verdict.result import Result, result_of


@lru_cache(maxsize=8)
def _cached_scorer(directory: Path) -> Scorer:
    return Scorer.load(directory)


def load_scorer(model: str | Path | None = None) -> Scorer:
    """The verified compiled scorer of a model directory (default: the shipped model)."""
    return _cached_scorer(model_directory(model))


def classify(
    text: str, model: str | Path | Scorer | None = None, title: str | None = None
) -> dict[str, Any]:
    """Label a job description: the same object `rolecli classify --format json` prints.

    `title` is the posting's job title when it is not the posting's first line; it is read
    by its own rule (see rolecli.text.title) and never by the body model.
    """
    return classify_result(text, model, title).to_json()


def classify_result(
    text: str, model: str | Path | Scorer | None = None, title: str | None = None
) -> Result:
    """classify()'s verdict as the typed `Result` the renderers take."""
    scorer = scorer_for(model, text, "classify")
    return result_of(scorer, gather(scorer, text, title))


def scorer_for(model: str | Path | Scorer | None, text: str, task: str) -> Scorer:
    """The scorer a task uses (the model first: a bad model is reported before bad text),
    once the text is known to hold something to read."""
    scorer = model if isinstance(model, Scorer) else load_scorer(model)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"no text to {task} (empty or whitespace only)")
    return scorer
