"""model_info(): a model as plain data (`rolecli model info`): its card, where it lives,
whether every byte was checked, and each role's strongest terms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..paths import default_model_dir
from .classify import load_scorer

TOP_TERMS = 15


def model_info(model: str | Path | None = None, verify: bool = False) -> dict[str, Any]:
    """The object `rolecli model info --format json` prints. `verify` also checks every
    file's sha256 and every term of the scorer, which loading skips."""
    if verify:
        from ..model.directory import verify_model  # (not on the path of a plain `model info`)

        scorer = verify_model(Path(model) if model else default_model_dir())
    else:
        scorer = load_scorer(model)
    return {
        "model": {
            "id": scorer.model_id, "sha256": scorer.sha256, "directory": str(scorer.directory),
            "verified": verify,
        },
        "card": scorer.card,
        "top_terms": top_terms(
            {term: (idf, role) for term, idf, role, _ in scorer.weights()}, TOP_TERMS
        ),
    }


def top_terms(
    weights: dict[str, tuple[float, float]], count: int
) -> dict[str, list[dict[str, float | str]]]:
    """The largest coefficients each way: the words the model ties to each role overall."""
    by_coef = sorted(weights.items(), key=lambda kv: (kv[1][1], kv[0]))
    engineer = [kv for kv in by_coef[:count] if kv[1][1] < 0]
    by_coef.sort(key=lambda kv: (-kv[1][1], kv[0]))
    scientist = [kv for kv in by_coef[:count] if kv[1][1] > 0]
    return {
        role: [{"term": term, "coefficient": coef, "idf": idf} for term, (idf, coef) in side]
        for role, side in (("engineer", engineer), ("scientist", scientist))
    }

