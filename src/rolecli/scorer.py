"""The compiled scorer: a fitted TF-IDF + logistic-regression model as plain JSON data.

Loading it parses JSON (no pickle, no code) after checking its sha256 against the
model card; scoring needs a dict lookup per term, a few multiplications and a
sigmoid, so classifying a posting never imports scikit-learn, SciPy or NumPy.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from operator import mul, truediv
from pathlib import Path
from typing import Any

from .errors import ModelError
from .text import TOKEN_PATTERN, Analyzer

SCORER_FILE = "scorer.json"
CARD_FILE = "card.json"
SCORER_FORMAT = "rolecli-scorer"
SCORER_FORMAT_VERSION = 2
CARD_FORMAT_VERSION = 1


class _SublinearTF(dict[int, float]):
    """count -> 1 + log(count): a C-level lookup for the small counts nearly every term has."""

    def __missing__(self, count: int) -> float:
        return 1.0 + math.log(count)


_SUBLINEAR_TF = _SublinearTF((count, 1.0 + math.log(count)) for count in range(1, 256))


def sigmoid(z: float) -> float:
    # Numerically stable both ways, matching scipy.special.expit.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True)
class Scorer:
    """Both linear models over one TF-IDF vocabulary, stored term by term.

    The role model's logit is that of P(scientist), with the calibration folded into its
    weights; the domain model's is that of P(the text is an ML/data job description).
    """

    analyzer: Analyzer
    # Slot of each term, keyed as a text's tokens give it: a word, or a tuple of words for
    # an n-gram, so the n-grams of a text are looked up without joining them. Slot s holds
    # column s - 1: slot 0 stays empty so that filter(None, ...) drops the lookups that
    # missed (None) without dropping a term.
    slots: dict[str | tuple[str, ...], int]
    terms: tuple[str, ...]  # by slot, like the three below
    # Packed doubles: a posting's few hundred terms are scattered over the vocabulary, and
    # contiguous arrays take far fewer cache misses than tuples of float objects.
    idf: array[float]
    role_coef: array[float]
    domain_coef: array[float]
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

    def weights(self) -> Iterator[tuple[str, float, float, float]]:
        """(term, idf, role coefficient, domain coefficient) of each term, in column order."""
        return islice(zip(self.terms, self.idf, self.role_coef, self.domain_coef), 1, None)

    def term_counts(self, text: str) -> dict[int, int]:
        """Slot -> count of each in-vocabulary n-gram of a text.

        The counts scikit-learn's vectorizer gives, restricted to the vocabulary (all a
        linear model reads), in first-occurrence order (words, then longer n-grams). The
        n-grams are looked up and counted in C: none is joined into a string, and no Python
        code runs per token.
        """
        tokens = self.analyzer.tokens(text)
        low, high = self.analyzer.ngram_range
        grams: list[Iterable[Any]] = [
            tokens if n == 1 else zip(*(islice(tokens, i, None) for i in range(n)))
            for n in range(low, high + 1)
        ]
        return Counter(filter(None, map(self.slots.get, chain.from_iterable(grams))))

    def _tfidf(self, counts: dict[int, int]) -> tuple[list[float], float]:
        """(sublinear tf-idf of each counted term before normalising, their l2 norm).

        Plain sums in the counts' (deterministic) order: a posting gets the same bits in
        every process and every run.
        """
        values = list(map(mul, map(_SUBLINEAR_TF.__getitem__, counts.values()),
                          map(self.idf.__getitem__, counts)))
        return values, math.sqrt(sum(map(mul, values, values)))

    def logits(self, counts: dict[int, int]) -> tuple[float, float]:
        """(role logit, domain logit) of a text's term counts."""
        values, norm = self._tfidf(counts)
        if norm == 0:
            return self.role_intercept, self.domain_intercept
        role = sum(map(mul, values, map(self.role_coef.__getitem__, counts)))
        domain = sum(map(mul, values, map(self.domain_coef.__getitem__, counts)))
        return self.role_intercept + role / norm, self.domain_intercept + domain / norm

    def tfidf(self, counts: dict[int, int]) -> dict[str, float]:
        """l2-normalised sublinear tf-idf values of the in-vocabulary terms, as scikit-learn."""
        values, norm = self._tfidf(counts)
        if norm == 0:
            return {}
        terms = self.terms
        return {terms[slot]: v / norm for slot, v in zip(counts, values)}

    def contributions(self, counts: dict[int, int]) -> dict[str, float]:
        """Each term's share of the role logit: its tf-idf value times its coefficient.

        Terms with a zero coefficient are left out; with the intercept the shares sum to
        the role logit (up to rounding in the last bits).
        """
        values, norm = self._tfidf(counts)
        if norm == 0:
            return {}
        terms, coef = self.terms, self.role_coef
        return {terms[s]: v / norm * coef[s] for s, v in zip(counts, values) if coef[s]}

    def occurrence_shares(self, counts: dict[int, int]) -> dict[int, float]:
        """Slot -> each counted term's share of the role logit per occurrence (contribution
        / count); a term with a zero coefficient has a share of 0.0."""
        values, norm = self._tfidf(counts)
        if norm == 0:
            return {}
        # value * coefficient / (norm * count), in C.
        return dict(zip(
            counts,
            map(truediv, map(mul, values, map(self.role_coef.__getitem__, counts)),
                map(norm.__mul__, counts.values())),
        ))

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
        if analyzer.token_pattern != TOKEN_PATTERN:
            # Terms are split back into tokens on spaces, which these tokens never hold.
            raise ModelError(
                f"{directory / SCORER_FILE}: unsupported token pattern {analyzer.token_pattern!r}"
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
            _slots(vocabulary, analyzer.ngram_range),
            ("", *vocabulary),
            array("d", [0.0, *idf]),
            array("d", [0.0, *role]),
            array("d", [0.0, *domain]),
            float(spec["role"]["intercept"]),
            float(spec["domain"]["intercept"]),
            card,
            sha,
            directory,
        )


def _slots(
    vocabulary: list[str], ngram_range: tuple[int, int]
) -> dict[str | tuple[str, ...], int]:
    # scikit-learn joins an n-gram's tokens with one space, and its word tokens hold none,
    # so splitting on spaces gives the tokens back. Interned: an n-gram's words are then
    # the very strings keying those words, which leaves lookups less memory to wander through.
    # (Built with C-level loops: every batch worker builds this table when it starts.)
    low, high = ngram_range
    split = [tuple(map(sys.intern, term.split(" "))) for term in vocabulary]
    sizes = set(map(len, split))
    if not sizes <= set(range(low, high + 1)) or any(map(_has_empty_word, split)):
        bad = next(t for t, w in zip(vocabulary, split) if not low <= len(w) <= high or "" in w)
        raise ValueError(f"term {bad!r} is not a {low}- to {high}-gram")
    keys = [words[0] if len(words) == 1 else words for words in split]
    slots = dict(zip(keys, range(1, len(keys) + 1)))
    if len(slots) != len(keys):
        raise ValueError("a term appears twice in the vocabulary")
    return slots


def _has_empty_word(words: tuple[str, ...]) -> bool:
    return "" in words


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
