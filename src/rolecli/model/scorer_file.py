"""The compiled scorer's file, `scorer.bin`: a fitted TF-IDF + logistic-regression model as
packed plain data, written by `encode` and read by `decode` (model/scorer.py scores with it).

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
from collections.abc import Callable
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Annotated, Any, NamedTuple
from zlib import crc32

from ..errors import ModelError
from .analyzer import BOUNDED_TOKEN_PATTERN, TOKEN_PATTERN
from .card import Range, check_schema, strict_json

SCORER_FILE = "scorer.bin"
LEGACY_SCORER_FILE = "scorer.json"  # format 2, written by rolecli before packed arrays
U32 = "I" if array("I").itemsize == 4 else "L"


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



_BIG_ENDIAN = sys.byteorder == "big"



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
    offsets = array(U32, accumulate((len(term) + 1 for term in encoded), initial=0))
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
        table, longest, mask = array(U32, bytes(4 * size)), 0, size - 1
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



class Parsed(NamedTuple):
    header: Header
    analyzer: dict[str, Any]  # the header's analyzer settings as written
    offsets: "array[int]"
    table: "array[int]"
    idf: "array[float]"
    role_coef: "array[float]"
    domain_coef: "array[float]"
    family_coef: "list[array[float]]"  # one column per family class (none without the head)
    term_bytes: bytes



def parse(raw: bytes, check_weights: bool = True) -> Parsed:
    """Everything in a scorer file, checked without per-term work; ValueError when malformed.

    `check_weights`: every weight finite (a C-level pass over each array).
    """
    data, body = split_file(raw)
    if not isinstance(data, dict):
        raise ValueError("the header is not a JSON object")
    if data.get("format") != SCORER_FORMAT or data.get("format_version") != SCORER_FORMAT_VERSION:
        raise Unsupported(f"{data.get('format')!r} v{data.get('format_version')!r}")
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
    offsets, table = (read_array(U32, section) for section in sections[:2])
    # Weights indexed by slot: a leading 0.0 for slot 0.
    columns = [read_array("d", section, [0.0]) for section in sections[2 : 2 + heads]]
    if offsets[0] != 0 or offsets[-1] != header.term_bytes:
        raise ValueError("term offsets do not span the terms")
    # One C-level pass each: sum() propagates inf and nan.
    if check_weights and not all(math.isfinite(sum(column)) for column in columns):
        raise ValueError("non-finite weight")
    idf, role, domain = columns[:3]
    return Parsed(header, data["analyzer"], offsets, table, idf, role, domain, columns[3:],
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



class Unsupported(ValueError):
    pass



def read_array(typecode: str, raw: memoryview, lead: list[Any] | None = None) -> "array[Any]":
    values = array(typecode, lead or [])
    values.frombytes(raw)
    if _BIG_ENDIAN:
        values.byteswap()
    return values





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
                    array(U32, ends) != self._offsets[1:]:
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



def decode(raw: bytes) -> ScorerData:
    """The plain data of a scorer file (tools and tests; scoring reads the arrays directly)."""
    parsed = parse(raw)
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

