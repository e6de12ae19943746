"""The compiled scorer: a fitted TF-IDF + logistic-regression model as plain JSON data.

Loading it parses JSON (no pickle, no code) after checking its sha256 against the
model card; scoring needs a dict lookup per term, a few multiplications and a
sigmoid, so classifying a posting never imports scikit-learn, SciPy or NumPy.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ModelError
from .text import Analyzer

SCORER_FILE = "scorer.json"
CARD_FILE = "card.json"
SCORER_FORMAT = "rolecli-scorer"
SCORER_FORMAT_VERSION = 1
CARD_FORMAT_VERSION = 1


@dataclass(frozen=True)
class LinearHead:
    """One TF-IDF vocabulary with logistic-regression weights: term -> (idf, coefficient)."""

    weights: dict[str, tuple[float, float]]
    intercept: float

    def tfidf(self, terms: list[str]) -> dict[str, float]:
        """l2-normalised sublinear tf-idf values of the in-vocabulary terms, as scikit-learn."""
        weights = self.weights
        counts = Counter(t for t in terms if t in weights)
        values = {t: (1.0 + math.log(c)) * weights[t][0] for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        return {t: v / norm for t, v in values.items()} if norm > 0 else {}

    def contributions(self, terms: list[str]) -> dict[str, float]:
        weights = self.weights
        return {t: v * weights[t][1] for t, v in self.tfidf(terms).items()}

    def logit(self, terms: list[str]) -> float:
        return self.intercept + math.fsum(self.contributions(terms).values())


def sigmoid(z: float) -> float:
    # Numerically stable both ways, matching scipy.special.expit.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True)
class Scorer:
    analyzer: Analyzer
    role: LinearHead  # logit of P(scientist); calibration is folded into the weights
    domain: LinearHead  # logit of P(an ML/data job description)
    card: dict[str, Any]
    sha256: str
    directory: Path

    @property
    def model_id(self) -> str:
        return str(self.card["model_id"])

    @property
    def thresholds(self) -> dict[str, Any]:
        return dict(self.card["thresholds"])

    @classmethod
    def load(cls, directory: Path) -> Scorer:
        card = load_card(directory)
        path = directory / SCORER_FILE
        raw = _read_verified(path, card)
        try:
            spec = json.loads(raw)
            return cls.from_spec(spec, card, hashlib.sha256(raw).hexdigest(), directory)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise ModelError(f"{path}: malformed scorer ({type(exc).__name__}: {exc})") from None

    @classmethod
    def from_spec(
        cls, spec: dict[str, Any], card: dict[str, Any], sha: str, directory: Path
    ) -> Scorer:
        if (
            spec.get("format") != SCORER_FORMAT
            or spec.get("format_version") != SCORER_FORMAT_VERSION
        ):
            raise ModelError(
                f"{directory / SCORER_FILE}: unsupported scorer format "
                f"{spec.get('format')!r} v{spec.get('format_version')!r}"
            )
        settings = spec["analyzer"]
        analyzer = Analyzer(
            token_pattern=settings["token_pattern"],
            ngram_range=(int(settings["ngram_range"][0]), int(settings["ngram_range"][1])),
            stop_words=frozenset(settings["stop_words"]),
            lowercase=bool(settings["lowercase"]),
        )
        if settings.get("sublinear_tf") is not True or settings.get("norm") != "l2":
            raise ModelError(
                f"{directory / SCORER_FILE}: only sublinear tf with l2 norm is supported"
            )
        return cls(analyzer, _head(spec["role"]), _head(spec["domain"]), card, sha, directory)


def _head(spec: dict[str, Any]) -> LinearHead:
    vocabulary, idf, coef = spec["vocabulary"], spec["idf"], spec["coef"]
    if not len(vocabulary) == len(idf) == len(coef):
        raise ValueError("vocabulary, idf and coef lengths differ")
    # One C-level pass each: sum() rejects non-numbers and propagates inf/nan.
    if not (math.isfinite(sum(idf)) and math.isfinite(sum(coef))):
        raise ValueError("non-finite weight")
    return LinearHead(dict(zip(vocabulary, zip(idf, coef))), float(spec["intercept"]))


def load_card(directory: Path) -> dict[str, Any]:
    path = directory / CARD_FILE
    if not directory.is_dir():
        raise ModelError(f"model directory not found: {directory}")
    try:
        card = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ModelError(f"{path}: missing model card") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable model card ({type(exc).__name__})") from None
    if not isinstance(card, dict) or card.get("card_format_version") != CARD_FORMAT_VERSION:
        version = card.get("card_format_version") if isinstance(card, dict) else None
        raise ModelError(f"{path}: incompatible model card version {version!r}")
    for key in ("model_id", "files", "thresholds"):
        if key not in card:
            raise ModelError(f"{path}: model card lacks {key!r}")
    return card


def _read_verified(path: Path, card: dict[str, Any]) -> bytes:
    """The file's bytes, after checking them against the sha256 the card records."""
    expected = card["files"].get(path.name)
    if expected is None:
        raise ModelError(f"{path.parent / CARD_FILE}: no hash recorded for {path.name}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: missing model file") from None
    except OSError as exc:
        raise ModelError(f"{path}: unreadable ({exc.strerror or exc})") from None
    if hashlib.sha256(raw).hexdigest() != expected:
        raise ModelError(f"{path}: sha256 does not match the model card (corrupted or tampered)")
    return raw


def verified_bytes(directory: Path, name: str) -> bytes:
    """Any model file's bytes, verified against the card (used before unpickling)."""
    return _read_verified(directory / name, load_card(directory))
