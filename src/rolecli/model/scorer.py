"""The compiled scorer: a fitted TF-IDF + logistic-regression model as packed plain data.

`scorer.bin` holds no code: a JSON header (analyzer settings, sizes, intercepts) and
little-endian arrays that load with `array.frombytes` (a memory copy, no per-term work).
Loading checks its sha256 against the model card, then its header against a schema and
every weight for finiteness; scoring needs a lookup per n-gram, a few multiplications and
a sigmoid, so classifying a posting never imports scikit-learn, SciPy or NumPy.

Layout (format 5), V terms (single words first), a hash table of T slots:

    b"rolecli-scorer\\n"     magic
    uint32                  length H of the header
    H bytes                 the header, JSON
    uint32 x (V + 1)        term offsets: term s (s = 1..V) is term_bytes[off[s-1] : off[s]-1]
    uint32 x T              hash table: slot numbers (0 = empty), crc32 of a term's UTF-8,
                            linear probing; every term sits at most `max_probe` steps from home
    float64 x V x (3 + K)   idf, role and domain coefficients, then (when the header has a
                            `family` head of K classes) one column per class, in slot order
    term_bytes              the terms in UTF-8, each followed by a newline (an n-gram's words
                            joined by one space, as scikit-learn writes its vocabulary)

The writer (`encode`, called by `rolecli train`) and the reader live here, together.
"""

import json
import math
import re
import struct
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate, chain, islice, pairwise
from operator import mul, truediv
from pathlib import Path
from typing import Annotated, Any, NamedTuple
from zlib import crc32

from ..errors import ModelError
from . import check_cache
from .analyzer import BOUNDED_TOKEN_PATTERN, TOKEN_PATTERN, Analyzer
from .card import (
    MODEL_FILE_SIZE_LIMIT,
    Card,
    Range,
    Thresholds,
    check_schema,
    load_card,
    read_model_file,
    strict_json,
)

SCORER_FILE = "scorer.bin"
LEGACY_SCORER_FILE = "scorer.json"  # format 2, written by rolecli before packed arrays
SCORER_FORMAT = "rolecli-scorer"
SCORER_FORMAT_VERSION = 5  # 5: the job-family head (K classes) replaced the tech head
MAGIC = b"rolecli-scorer\n"
SCORER_SIZE_LIMIT = 256 << 20  # ~16 MiB per 300k terms; the cap bounds memory before reading
HEADER_SIZE_LIMIT = 1 << 20
MAX_TERMS = 8_000_000
MAX_NGRAM = 4
MAX_TABLE_SIZE = 1 << 26
MAX_PROBE = 64  # the reader's bound on a lookup's steps (the writer keeps chains <= 32)
_WRITER_MAX_PROBE = 32

_U32 = "I" if array("I").itemsize == 4 else "L"
_BIG_ENDIAN = sys.byteorder == "big"


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


class AnalyzerSettings(NamedTuple):
    lowercase: bool
    token_pattern: str
    ngram_range: list[int]
    stop_words: list[str]
    sublinear_tf: bool
    norm: str


class HeadSettings(NamedTuple):
    intercept: float


MAX_FAMILIES = 16
_FAMILY_NAME = re.compile(r"[a-z][a-z_]{0,31}")


class FamilyHead(NamedTuple):
    """A multinomial head: which job family a text reads as (softmax over the classes)."""

    classes: list[str]
    intercepts: list[float]


class Header(NamedTuple):
    format: str
    format_version: int
    classes: list[str]
    analyzer: AnalyzerSettings
    terms: Annotated[int, Range(1, MAX_TERMS)]
    term_bytes: Annotated[int, Range(0, SCORER_SIZE_LIMIT)]
    table_size: Annotated[int, Range(2, MAX_TABLE_SIZE)]
    max_probe: Annotated[int, Range(1, MAX_PROBE)]
    role: HeadSettings
    domain: HeadSettings
    words: Annotated[int, Range(0, MAX_TERMS)]  # slots 1..words are the single-word terms
    family: FamilyHead | None = None


# -- what train writes ------------------------------------------------------------------------


class ScorerData(NamedTuple):
    """A scorer as plain Python values: what `encode` writes and `decode` reads back."""

    analyzer: dict[str, Any]
    classes: list[str]
    terms: list[str]  # in slot order; the three lists below follow it
    idf: list[float]
    role_coef: list[float]
    domain_coef: list[float]
    role_intercept: float
    domain_intercept: float
    # The optional job-family head (see Scorer.family): its classes, one coefficient column
    # per class, and their intercepts.
    family_classes: list[str] | None = None
    family_coef: list[list[float]] | None = None
    family_intercepts: list[float] | None = None


def encode(data: ScorerData) -> bytes:
    """The bytes of scorer.bin: the same data gives the same bytes."""
    if any("\n" in term for term in data.terms):
        raise ValueError("a term holds a newline")
    encoded = [term.encode("utf-8") for term in data.terms]
    words = next((i for i, t in enumerate(data.terms) if " " in t), len(data.terms))
    if any(" " not in term for term in data.terms[words:]):
        raise ValueError("single-word terms must come before n-grams")
    offsets = array(_U32, accumulate((len(term) + 1 for term in encoded), initial=0))
    table, max_probe = _hash_table(encoded)
    header = {
        "format": SCORER_FORMAT,
        "format_version": SCORER_FORMAT_VERSION,
        "classes": list(data.classes),
        "analyzer": data.analyzer,
        "terms": len(encoded),
        "term_bytes": offsets[-1],
        "table_size": len(table),
        "max_probe": max_probe,
        "role": {"intercept": float(data.role_intercept)},
        "domain": {"intercept": float(data.domain_intercept)},
        "words": words,
    }
    columns = [data.idf, data.role_coef, data.domain_coef]
    if data.family_classes is not None:
        header["family"] = {"classes": list(data.family_classes),
                            "intercepts": [float(b) for b in data.family_intercepts or ()]}
        columns.extend(data.family_coef or ())
    weights = (array("d", column) for column in columns)
    sections: list[array[Any]] = [offsets, table, *weights]
    return join_file(header, b"".join(map(_little_endian, sections)) + b"".join(
        term + b"\n" for term in encoded))


def _hash_table(keys: list[bytes]) -> "tuple[array[int], int]":
    """Open addressing with linear probing, at most half full; doubled until chains are short."""
    size = 8
    while size < 2 * len(keys) + 2:
        size *= 2
    while True:
        table, longest, mask = array(_U32, bytes(4 * size)), 0, size - 1
        for slot, key in enumerate(keys, 1):
            index, steps = crc32(key) & mask, 1
            while table[index]:
                index, steps = (index + 1) & mask, steps + 1
            table[index] = slot
            longest = max(longest, steps)
        if longest <= _WRITER_MAX_PROBE:
            return table, longest
        size *= 2


def _little_endian(values: "array[Any]") -> bytes:
    if _BIG_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def join_file(header: Any, body: bytes) -> bytes:
    """Magic, header length, header JSON, body: the outer layer of scorer.bin."""
    raw = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    return MAGIC + struct.pack("<I", len(raw)) + raw + body


def split_file(raw: bytes) -> tuple[Any, memoryview]:
    """(parsed header JSON, body) of a scorer file; ValueError when it is not one."""
    if not raw.startswith(MAGIC):
        raise ValueError("not a rolecli scorer file (no magic bytes)")
    start = len(MAGIC) + 4
    if len(raw) < start:
        raise ValueError("truncated header")
    (length,) = struct.unpack_from("<I", raw, len(MAGIC))
    if length > HEADER_SIZE_LIMIT or start + length > len(raw):
        raise ValueError(f"header of {length:,} bytes does not fit the file")
    return strict_json(raw[start : start + length]), memoryview(raw)[start + length :]


# -- reading ----------------------------------------------------------------------------------


class _Parsed(NamedTuple):
    header: Header
    analyzer: dict[str, Any]  # the header's analyzer settings as written
    offsets: "array[int]"
    table: "array[int]"
    idf: "array[float]"
    role_coef: "array[float]"
    domain_coef: "array[float]"
    family_coef: "list[array[float]]"  # one column per family class (none without the head)
    term_bytes: bytes


def _parse(raw: bytes, check_weights: bool = True) -> _Parsed:
    """Everything in a scorer file, checked without per-term work; ValueError when malformed.

    `check_weights`: every weight finite (a C-level pass over each array).
    """
    data, body = split_file(raw)
    if not isinstance(data, dict):
        raise ValueError("the header is not a JSON object")
    if data.get("format") != SCORER_FORMAT or data.get("format_version") != SCORER_FORMAT_VERSION:
        raise _Unsupported(f"{data.get('format')!r} v{data.get('format_version')!r}")
    header: Header = check_schema(Header, data, "header")
    settings = header.analyzer
    if len(settings.ngram_range) != 2 or not 1 <= settings.ngram_range[0] <= \
            settings.ngram_range[1] <= MAX_NGRAM:
        raise ValueError(f"header.analyzer.ngram_range {settings.ngram_range} is not within "
                         f"[1, {MAX_NGRAM}]")
    if settings.sublinear_tf is not True or settings.norm != "l2":
        raise ValueError("only sublinear tf with l2 norm is supported")
    if settings.token_pattern not in (TOKEN_PATTERN, BOUNDED_TOKEN_PATTERN):
        # Terms are split back into tokens on spaces, which these tokens never hold.
        raise ValueError(f"unsupported token pattern {settings.token_pattern!r}")
    n, size = header.terms, header.table_size
    if size & (size - 1) or size <= n:
        raise ValueError(f"hash table of {size} slots for {n} terms")
    heads = 3 + _family_classes(header.family)
    if header.words > n:
        raise ValueError(f"{header.words} single words of {n} terms")
    lengths = (4 * (n + 1), 4 * size, *[8 * n] * heads, header.term_bytes)
    if sum(lengths) != len(body):
        raise ValueError(f"{len(body):,} bytes of arrays where the header implies {sum(lengths):,}")
    ends = list(accumulate(lengths, initial=0))
    sections = [body[a:b] for a, b in pairwise(ends)]  # views: no copies
    offsets, table = (_array(_U32, section) for section in sections[:2])
    # Weights indexed by slot: a leading 0.0 for slot 0.
    columns = [_array("d", section, [0.0]) for section in sections[2 : 2 + heads]]
    if offsets[0] != 0 or offsets[-1] != header.term_bytes:
        raise ValueError("term offsets do not span the terms")
    # One C-level pass each: sum() propagates inf and nan.
    if check_weights and not all(math.isfinite(sum(column)) for column in columns):
        raise ValueError("non-finite weight")
    idf, role, domain = columns[:3]
    return _Parsed(header, data["analyzer"], offsets, table, idf, role, domain, columns[3:],
                   bytes(sections[-1]))


def _family_classes(family: FamilyHead | None) -> int:
    """How many coefficient columns the family head adds; ValueError when it is malformed."""
    if family is None:
        return 0
    classes = family.classes
    if not 2 <= len(classes) <= MAX_FAMILIES or len(set(classes)) != len(classes):
        raise ValueError(f"header.family.classes: 2 to {MAX_FAMILIES} distinct names expected")
    if not all(_FAMILY_NAME.fullmatch(name) for name in classes):
        raise ValueError("header.family.classes: names are lower-case words")
    if len(family.intercepts) != len(classes) or not all(map(math.isfinite, family.intercepts)):
        raise ValueError("header.family.intercepts: one finite number per class expected")
    return len(classes)


class _Unsupported(ValueError):
    pass


def _array(typecode: str, raw: memoryview, lead: list[Any] | None = None) -> "array[Any]":
    values = array(typecode, lead or [])
    values.frombytes(raw)
    if _BIG_ENDIAN:
        values.byteswap()
    return values


def decode(raw: bytes) -> ScorerData:
    """The plain data of a scorer file (tools and tests; scoring reads the arrays directly)."""
    parsed = _parse(raw)
    vocabulary = Vocabulary(parsed.term_bytes, parsed.offsets, parsed.table,
                            parsed.header.max_probe, (1, MAX_NGRAM), Path(SCORER_FILE))
    header = parsed.header
    return ScorerData(
        analyzer=parsed.analyzer,
        classes=header.classes,
        terms=vocabulary.terms(),
        idf=parsed.idf.tolist()[1:],
        role_coef=parsed.role_coef.tolist()[1:],
        domain_coef=parsed.domain_coef.tolist()[1:],
        role_intercept=header.role.intercept,
        domain_intercept=header.domain.intercept,
        family_classes=None if header.family is None else header.family.classes,
        family_coef=None if header.family is None else [c.tolist()[1:] for c in
                                                        parsed.family_coef],
        family_intercepts=None if header.family is None else header.family.intercepts,
    )


# Texts with more tokens than this are counted with the whole vocabulary's dict.
PROBED_TOKENS = 50_000


class Vocabulary:
    """Term -> slot, looked up in the file's own hash table or in a dict built from it.

    Its faults (found by per-term work) are ModelErrors naming the file.

    A single posting probes the table once per distinct n-gram: no per-term work at load,
    whatever the vocabulary's size. Once probing has cost about what building a dict of
    the whole vocabulary would (a quarter as many probes as terms), the dict is built, so
    a batch worker or an evaluation pays the build once and then looks up in C.
    """

    def __init__(
        self, term_bytes: bytes, offsets: "array[int]", table: "array[int]", max_probe: int,
        ngram_range: tuple[int, int], source: Path,
    ) -> None:
        self.source = source  # the file, for error messages
        self._bytes, self._offsets, self._table = term_bytes, offsets, table
        self._max_probe, self._ngram_range = max_probe, ngram_range
        self._probe_budget = len(self) // 4 + 64
        self._index: dict[str | tuple[str, ...], int] | None = None
        self._terms: list[str] | None = None

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def index(self) -> dict[str | tuple[str, ...], int] | None:
        """The dict of every term (keyed as `Scorer.term_counts` looks them up), once built."""
        return self._index

    def lookup(self, grams: list[str | tuple[str, ...]]) -> Callable[[Any], int | None]:
        """A function giving the slot of each of these n-grams (None when out of vocabulary)."""
        if self._index is None:
            distinct = set(grams)
            if len(distinct) <= self._probe_budget:
                self._probe_budget -= len(distinct)
                probe = self.probe
                found = {}
                for gram in distinct:
                    if slot := probe(gram if isinstance(gram, str) else " ".join(gram)):
                        found[gram] = slot
                return found.get
            self.build_index()
        assert self._index is not None
        return self._index.get

    def probe(self, term: str) -> int:
        """The slot of a term in the hash table, 0 when it is not in the vocabulary."""
        key = term.encode("utf-8", "surrogatepass")  # lone surrogates: bytes no term has
        table, offsets, blob = self._table, self._offsets, self._bytes
        mask, span = len(table) - 1, len(key) + 1
        index = crc32(key) & mask
        try:
            for _ in range(self._max_probe):
                slot = table[index]
                if not slot:
                    return 0
                start = offsets[slot - 1]
                if offsets[slot] - start == span and blob.startswith(key, start):
                    return slot
                index = (index + 1) & mask
        except IndexError:  # only a forged file names a slot past the last term
            raise self._malformed(ValueError("its hash table names a slot past the last "
                                             "term")) from None
        return 0

    def term(self, slot: int) -> str:
        if self._terms is not None:
            return self._terms[slot - 1]
        return self._bytes[self._offsets[slot - 1] : self._offsets[slot] - 1].decode("utf-8")

    def terms(self) -> list[str]:
        """Every term in slot order, checked to agree with the offsets (per-term work)."""
        if self._terms is None:
            try:
                terms = self._bytes.decode("utf-8").split("\n")
            except UnicodeDecodeError:
                raise self._malformed(ValueError("terms are not UTF-8")) from None
            ends = accumulate(map((1).__add__, map(len, self._bytes.split(b"\n")[:-1])))
            if terms.pop() != "" or len(terms) != len(self) or \
                    array(_U32, ends) != self._offsets[1:]:
                raise self._malformed(ValueError("term offsets do not match the terms"))
            self._terms = terms
        return self._terms

    def build_index(self) -> None:
        if self._index is None:
            try:
                self._index = _slots(self.terms(), self._ngram_range)
            except ValueError as exc:
                raise self._malformed(exc) from None

    def _malformed(self, exc: ValueError) -> ModelError:
        return ModelError(f"{self.source}: malformed scorer ({exc})")

    def check(self, words: int | None = None) -> None:
        """Every per-term promise: n-grams of the right size, each once, each found by probing,
        and (given `words`) exactly the first `words` terms single words."""
        self.build_index()
        if words is not None and [" " in t for t in self.terms()] != \
                [False] * words + [True] * (len(self) - words):
            raise self._malformed(ValueError(f"the first {words} terms are not the single "
                                             "words"))
        if len(self._table) - self._table.count(0) != len(self):
            raise self._malformed(ValueError("the hash table does not hold each term once"))
        probe = self.probe
        for slot, term in enumerate(self.terms(), 1):
            if probe(term) != slot:
                raise self._malformed(ValueError(f"term {term!r} is not where the hash table "
                                                 "says"))


def _slots(terms: list[str], ngram_range: tuple[int, int]) -> dict[str | tuple[str, ...], int]:
    # scikit-learn joins an n-gram's tokens with one space, and its word tokens hold none,
    # so splitting on spaces gives the tokens back. Interned: an n-gram's words are then
    # the very strings keying those words, which leaves lookups less memory to wander through.
    # (Built with C-level loops: every batch worker builds this table when it starts.)
    low, high = ngram_range
    split = [tuple(map(sys.intern, term.split(" "))) for term in terms]
    sizes = set(map(len, split))
    if not sizes <= set(range(low, high + 1)) or any(map(_has_empty_word, split)):
        bad = next(t for t, w in zip(terms, split) if not low <= len(w) <= high or "" in w)
        raise ValueError(f"term {bad!r} is not a {low}- to {high}-gram")
    keys = [words[0] if len(words) == 1 else words for words in split]
    slots = dict(zip(keys, range(1, len(keys) + 1)))
    if len(slots) != len(keys):
        raise ValueError("a term appears twice in the vocabulary")
    return slots


def _has_empty_word(words: tuple[str, ...]) -> bool:
    return "" in words


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
            parsed = _parse(raw, check_weights=check_weights)
        except _Unsupported as exc:
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


def verify_model(directory: Path) -> Scorer:
    """Every check there is: each file the card lists against its sha256, and the scorer's
    per-term structure (`rolecli model info --verify`; loading does the rest on each run)."""
    scorer = Scorer.load(directory, recheck=True)
    scorer.check()
    for name in scorer.model_card.files:
        verified_bytes(directory, name, scorer.model_card, MODEL_FILE_SIZE_LIMIT)
    return scorer
