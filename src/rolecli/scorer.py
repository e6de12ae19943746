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
from itertools import islice
from pathlib import Path
from typing import Any

from .errors import ModelError
from .text import Analyzer

SCORER_FILE = "scorer.json"
CARD_FILE = "card.json"
SCORER_FORMAT = "rolecli-scorer"
SCORER_FORMAT_VERSION = 2
CARD_FORMAT_VERSION = 1


# 1 + log(tf) for the small counts nearly every term has (the same math.log, looked up).
_SUBLINEAR_TF = [0.0] + [1.0 + math.log(count) for count in range(1, 64)]


def sigmoid(z: float) -> float:
    # Numerically stable both ways, matching scipy.special.expit.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True)
class Scorer:
    """Both linear models over one TF-IDF vocabulary: term -> (idf, role coef, domain coef).

    The role model's logit is that of P(scientist), with the calibration folded into its
    weights; the domain model's is that of P(the text is an ML/data job description).
    """

    analyzer: Analyzer
    weights: dict[str, tuple[float, float, float]]
    role_intercept: float
    domain_intercept: float
    card: dict[str, Any]
    sha256: str
    directory: Path

    @property
    def model_id(self) -> str:
        return str(self.card["model_id"])

    @property
    def thresholds(self) -> dict[str, Any]:
        return dict(self.card["thresholds"])

    def ngram_counts(self, text: str) -> dict[str, int]:
        """What Counter(analyzer.terms(text)) gives — same keys, counts and order — faster.

        Tokens and token tuples are counted in C and only the distinct n-grams are joined
        into strings, instead of joining every n-gram as scikit-learn's analyzer does.
        """
        tokens = self.analyzer.tokens(text)
        low, high = self.analyzer.ngram_range
        counts: dict[str, int] = dict(Counter(tokens)) if low == 1 else {}
        for n in range(max(low, 2), high + 1):
            grams = Counter(zip(*(islice(tokens, i, None) for i in range(n))))
            counts.update(zip(map(" ".join, grams), grams.values()))
        return counts

    def _weighted(
        self, counts: dict[str, int]
    ) -> tuple[dict[str, tuple[float, tuple[float, float, float]]], float]:
        """(term -> (tf-idf before normalising, weights), l2 norm) of in-vocabulary terms.

        `counts` is in first-occurrence order (see `ngram_counts`), the order in which
        scikit-learn meets the terms: summing the squares in it fixes how the norm rounds.
        """
        get = self.weights.get
        tf, cached = _SUBLINEAR_TF, len(_SUBLINEAR_TF)
        values = {
            t: ((tf[c] if c < cached else 1.0 + math.log(c)) * w[0], w)
            for t, c in counts.items()
            if (w := get(t)) is not None
        }
        return values, math.sqrt(sum(v * v for v, _ in values.values()))

    def tfidf(self, counts: dict[str, int]) -> dict[str, float]:
        """l2-normalised sublinear tf-idf values of the in-vocabulary terms, as scikit-learn."""
        values, norm = self._weighted(counts)
        return {t: v / norm for t, (v, _) in values.items()} if norm > 0 else {}

    def score(self, counts: dict[str, int]) -> tuple[dict[str, float], float]:
        """(role contribution of each term with a non-zero coefficient, domain logit).

        A contribution is the term's tf-idf value times its coefficient; with the intercept
        they sum to the role logit.
        """
        values, norm = self._weighted(counts)
        if norm == 0:
            return {}, self.domain_intercept
        role = {t: v / norm * w[1] for t, (v, w) in values.items() if w[1] != 0.0}
        domain = math.fsum([v / norm * w[2] for v, w in values.values()])
        return role, self.domain_intercept + domain

    def logits(self, text: str) -> tuple[float, float]:
        """(role logit, domain logit) of a text."""
        role, domain = self.score(self.ngram_counts(text))
        return self.role_intercept + math.fsum(role.values()), domain

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
        vocabulary, idf = spec["vocabulary"], spec["idf"]
        role, domain = spec["role"]["coef"], spec["domain"]["coef"]
        if not len(vocabulary) == len(idf) == len(role) == len(domain):
            raise ValueError("vocabulary, idf and coefficient lengths differ")
        # One C-level pass each: sum() rejects non-numbers and propagates inf/nan.
        if not all(math.isfinite(sum(column)) for column in (idf, role, domain)):
            raise ValueError("non-finite weight")
        return cls(
            analyzer,
            dict(zip(vocabulary, zip(idf, role, domain))),
            float(spec["role"]["intercept"]),
            float(spec["domain"]["intercept"]),
            card,
            sha,
            directory,
        )


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
