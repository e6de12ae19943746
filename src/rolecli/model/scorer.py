"""The compiled scorer: a fitted TF-IDF + logistic-regression model as packed plain data.

`scorer.bin` holds no code: a JSON header (analyzer settings, sizes, intercepts) and
little-endian arrays that load with `array.frombytes` (a memory copy, no per-term work).
Loading checks its sha256 against the model card, then its header against a schema and
every weight for finiteness; scoring needs a lookup per n-gram, a few multiplications and
a sigmoid, so classifying a posting never imports scikit-learn, SciPy or NumPy.

The file's layout, its writer (`encode`) and its reader (`decode`, `Vocabulary`) are in
model/scorer_file.py; `Scorer` scores with what it reads.
"""

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from operator import mul, truediv
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ModelError
from . import check_cache
from .analyzer import Analyzer
from .card import (
    Card,
    Thresholds,
    load_card,
    read_model_file,
)
from .scorer_file import (
    LEGACY_SCORER_FILE,
    SCORER_FILE,
    SCORER_SIZE_LIMIT,
    Unsupported,
    Vocabulary,
    parse,
)


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


# -- the header's schema ---------------------------------------------------------------------


class Weighted(NamedTuple):
    """A posting's counted terms with their tf-idf before normalising (Scorer.weigh)."""

    counts: dict[int, int]  # slot -> count
    values: list[float]  # in the counts' order
    norm: float  # l2 norm of the values












# -- what train writes ------------------------------------------------------------------------














# -- reading ----------------------------------------------------------------------------------






















# Texts with more tokens than this are counted with the whole vocabulary's dict.
PROBED_TOKENS = 50_000


class Scorer(NamedTuple):
    """Both linear models over one TF-IDF vocabulary.

    The role model's logit is that of P(scientist), with the calibration folded into its
    weights; the domain model's is that of P(the text is an ML/data job description).
    (A NamedTuple, like every type here: defining one costs a twentieth of a dataclass,
    and every `rolecli classify` defines them.)
    """

    analyzer: Analyzer
    vocabulary: Vocabulary
    # Packed doubles indexed by slot (slot 0 stays empty, so that filter(None, ...) drops
    # the lookups that missed without dropping a term). A posting's few hundred terms are
    # scattered over the vocabulary, and contiguous arrays take few cache misses.
    idf: "array[float]"
    role_coef: "array[float]"
    domain_coef: "array[float]"
    role_intercept: float
    domain_intercept: float
    # Which job family a text reads as (ml, data_engineer, data_analyst, software, other):
    # (classes, one coefficient column per class, intercepts), None for a model without it.
    family: "tuple[tuple[str, ...], list[array[float]], tuple[float, ...]] | None"
    words: int  # slots 1..words hold the single-word terms
    model_card: Card
    sha256: str
    directory: Path

    @property
    def model_id(self) -> str:
        return self.model_card.model_id

    @property
    def card(self) -> dict[str, Any]:
        """The card as parsed JSON (validated), for display."""
        return self.model_card.data or {}

    @property
    def thresholds(self) -> Thresholds:
        return self.model_card.thresholds

    def term(self, slot: int) -> str:
        return self.vocabulary.term(slot)

    def weights(self) -> Iterator[tuple[str, float, float, float]]:
        """(term, idf, role coefficient, domain coefficient) of each term, in slot order."""
        return zip(self.vocabulary.terms(), *(islice(column, 1, None) for column in
                                               (self.idf, self.role_coef, self.domain_coef)))

    def term_counts(self, text: str) -> dict[int, int]:
        """Slot -> count of each in-vocabulary n-gram of a text.

        The counts scikit-learn's vectorizer gives, restricted to the vocabulary (all a
        linear model reads), in first-occurrence order (words, then longer n-grams). An
        n-gram is a word or a tuple of words, never joined into a string on the dict path,
        where the lookups and the counting run in C with no Python code per token.
        """
        tokens = self.analyzer.tokens(text)
        low, high = self.analyzer.ngram_range
        grams: Iterable[Any] = chain.from_iterable([
            tokens if n == 1 else zip(*(islice(tokens, i, None) for i in range(n)))
            for n in range(low, high + 1)
        ])
        index = self.vocabulary.index
        if index is None and len(tokens) > PROBED_TOKENS:
            # A long text: building the whole dict (~30 ms) costs less than holding every
            # one of its n-grams at once to probe them (a 7 MB text took 600 MB).
            self.vocabulary.build_index()
            index = self.vocabulary.index
        if index is None:
            grams = list(grams)
            return Counter(filter(None, map(self.vocabulary.lookup(grams), grams)))
        return Counter(filter(None, map(index.get, grams)))

    def weigh(self, counts: dict[int, int]) -> Weighted:
        """The sublinear tf-idf of each counted term before normalising, and their l2 norm
        (computed once per posting; every head and explanation reads them).

        Plain sums in the counts' (deterministic) order: a posting gets the same bits in
        every process and every run.
        """
        values = list(map(mul, map(_SUBLINEAR_TF.__getitem__, counts.values()),
                          map(self.idf.__getitem__, counts)))
        return Weighted(counts, values, math.sqrt(sum(map(mul, values, values))))

    def logits(self, weighted: Weighted) -> tuple[float, float]:
        """(role logit, domain logit) of a text's weighted terms."""
        counts, values, norm = weighted
        if norm == 0:
            return self.role_intercept, self.domain_intercept
        role = sum(map(mul, values, map(self.role_coef.__getitem__, counts)))
        domain = sum(map(mul, values, map(self.domain_coef.__getitem__, counts)))
        role, domain = self.role_intercept + role / norm, self.domain_intercept + domain / norm
        if role != role or domain != domain:  # NaN: finite weights so large they overflow
            raise ModelError(f"{self.vocabulary.source}: malformed scorer (weights overflow)")
        return role, domain

    def family_probabilities(self, weighted: Weighted) -> dict[str, float] | None:
        """P(each job family) of a text (a softmax over the family head), None without it."""
        if self.family is None:
            return None
        classes, columns, intercepts = self.family
        counts, values, norm = weighted
        logits = [
            b + (sum(map(mul, values, map(coef.__getitem__, counts))) / norm if norm else 0.0)
            for coef, b in zip(columns, intercepts)
        ]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return {name: e / total for name, e in zip(classes, exps)}

    def known_words(self, counts: dict[int, int]) -> int:
        """How many of a text's words (not n-grams) are in the vocabulary."""
        words = self.words
        return sum(n for slot, n in counts.items() if slot <= words)

    def slot_counts(self, terms: dict[str, int]) -> dict[int, int]:
        """`term_counts` for n-gram counts given as strings (the rows of a count file)."""
        found = {}
        for term, n in terms.items():
            if slot := self.vocabulary.probe(term):
                found[slot] = n
        return found

    def tfidf(self, weighted: Weighted) -> dict[str, float]:
        """l2-normalised sublinear tf-idf values of the in-vocabulary terms, as scikit-learn."""
        counts, values, norm = weighted
        if norm == 0:
            return {}
        term = self.vocabulary.term
        return {term(slot): v / norm for slot, v in zip(counts, values)}

    def contributions(self, weighted: Weighted) -> dict[str, float]:
        """Each term's share of the role logit: its tf-idf value times its coefficient.

        Terms with a zero coefficient are left out; with the intercept the shares sum to
        the role logit (up to rounding in the last bits).
        """
        counts, values, norm = weighted
        if norm == 0:
            return {}
        term, coef = self.vocabulary.term, self.role_coef
        return {term(s): v / norm * coef[s] for s, v in zip(counts, values) if coef[s]}

    def build_index(self) -> None:
        """Build the whole vocabulary's dict now, checking every term (for a process about
        to score many postings: a malformed term is found before anything is scored)."""
        self.vocabulary.build_index()

    def check(self) -> None:
        """The per-term checks loading skips (`rolecli model info --verify` runs them)."""
        self.vocabulary.check(self.words)

    def occurrence_shares(self, weighted: Weighted) -> dict[int, float]:
        """Slot -> each counted term's share of the role logit per occurrence (contribution
        / count); a term with a zero coefficient has a share of 0.0."""
        counts, values, norm = weighted
        if norm == 0:
            return {}
        # value * coefficient / (norm * count), in C.
        return dict(zip(
            counts,
            map(truediv, map(mul, values, map(self.role_coef.__getitem__, counts)),
                map(norm.__mul__, counts.values())),
        ))

    @classmethod
    def from_bytes(cls, raw: bytes, card: Card, sha256: str, path: Path,
                   check_weights: bool = True) -> "Scorer":
        """A scorer from the bytes of its file (already checked against the card's hash)."""
        try:
            parsed = parse(raw, check_weights=check_weights)
        except Unsupported as exc:
            raise ModelError(f"{path}: unsupported scorer format {exc}") from None
        except ValueError as exc:
            raise ModelError(f"{path}: malformed scorer ({exc})") from None
        settings = parsed.header.analyzer
        low, high = settings.ngram_range
        analyzer = Analyzer(
            token_pattern=settings.token_pattern,
            ngram_range=(low, high),
            stop_words=frozenset(settings.stop_words),
            lowercase=settings.lowercase,
        )
        vocabulary = Vocabulary(parsed.term_bytes, parsed.offsets, parsed.table,
                                parsed.header.max_probe, (low, high), path)
        header = parsed.header
        family = None
        if header.family is not None:
            family = (tuple(header.family.classes), parsed.family_coef,
                      tuple(header.family.intercepts))
        return cls(analyzer, vocabulary, parsed.idf, parsed.role_coef, parsed.domain_coef,
                   header.role.intercept, header.domain.intercept, family, header.words,
                   card, sha256, path.parent)

    @classmethod
    def load(cls, directory: Path, recheck: bool = False) -> "Scorer":
        """The scorer of a model directory, checked against its card and its schema.

        The sha256 and the finiteness of every weight are checked once per file identity
        (check_cache); `recheck` checks them whatever the record says.
        """
        card = load_card(directory)
        path = directory / SCORER_FILE
        expected = _expected_hash(directory, SCORER_FILE, card)
        raw, info = read_model_file(path, SCORER_SIZE_LIMIT)
        known = not recheck and check_cache.already_checked(path, info, expected)
        if not known:
            _check_hash(path, raw, expected)
        scorer = cls.from_bytes(raw, card, expected, path, check_weights=not known)
        if not known:
            check_cache.remember_checked(path, info, expected)
        return scorer


def verified_bytes(directory: Path, name: str, card: Card | None = None,
                   limit: int = SCORER_SIZE_LIMIT) -> bytes:
    """A model file's bytes, after checking them against the sha256 its card records."""
    card = card or load_card(directory)
    expected = _expected_hash(directory, name, card)
    raw, _ = read_model_file(directory / name, limit)
    _check_hash(directory / name, raw, expected)
    return raw


def _expected_hash(directory: Path, name: str, card: Card) -> str:
    expected = card.files.get(name)
    if expected is None:
        if name == SCORER_FILE and LEGACY_SCORER_FILE in card.files:
            raise ModelError(f"{directory}: a model from an older rolecli ({LEGACY_SCORER_FILE}"
                             f" instead of {SCORER_FILE})")
        raise ModelError(f"{directory / 'card.json'}: no hash recorded for {name}")
    return expected


def _check_hash(path: Path, raw: bytes, expected: str) -> None:
    import hashlib  # here, not at the top: a run whose scorer is on record never hashes

    if hashlib.sha256(raw).hexdigest() != expected:
        raise ModelError(f"{path}: sha256 does not match the model card (corrupted or tampered)")




