"""The model card (card.json): read safely, checked against a typed schema, as NamedTuples.

Everything a model directory holds is outside input: a card or scorer may be a FIFO, a
symlink to /dev/zero, a huge file, JSON nested 100,000 deep, a 5,000-digit number, NaN,
or the right keys with the wrong shapes. `read_model_file` takes regular files only,
with a size cap checked before reading; `strict_json` refuses non-finite numbers and
deep nesting; `parse_card` checks every key a command reads (types, ranges, finite
numbers) and refuses keys card format 1 does not define. Each fault is a ModelError
(exit 4) that names the file and the key.

To add a threshold: add a field to its class below and its value to DEFAULT_THRESHOLDS; the
decision rule reads the typed fields.
"""

import json
import math
import os
import re
import stat
from functools import cache
from pathlib import Path
from typing import Annotated, Any, NamedTuple, get_args, get_origin, get_type_hints

from ..errors import ModelError

CARD_FILE = "card.json"
CARD_FORMAT_VERSION = 2  # 2: the thresholds of the graded title check, data roles, short text
CARD_SIZE_LIMIT = 1 << 20  # a card is a few KiB; 1 MiB is generous and bounds parsing
MODEL_FILE_SIZE_LIMIT = 1 << 30  # any other model file (the pickles are about 1 MB)
JSON_DEPTH_LIMIT = 32
_SHA256 = re.compile(r"[0-9a-f]{64}")


# -- reading files --------------------------------------------------------------------------


def read_model_file(path: Path, limit: int) -> tuple[bytes, os.stat_result]:
    """(bytes, fstat) of a regular file of at most `limit` bytes, or a ModelError saying why.

    Opened non-blocking, so a FIFO cannot stall the open; anything but a regular file
    (FIFO, device such as /dev/zero, directory, socket) is refused before a byte is read,
    and so is a file over the limit, whatever it claims while growing.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ModelError(f"{path}: missing model file") from None
    except OSError as exc:
        raise ModelError(f"{path}: unreadable ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ModelError(f"{path}: not a regular file")
        if info.st_size > limit:
            raise ModelError(f"{path}: {info.st_size:,} bytes, over the {limit:,}-byte limit")
        # The first read asks for the whole file (and a byte more, to see the end): one
        # buffer, which join hands back without copying when it is the only chunk.
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1, max(info.st_size + 1, size + (1 << 16))) - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ModelError(f"{path}: unreadable ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if size > limit:
        raise ModelError(f"{path}: grew past the {limit:,}-byte limit while being read")
    return b"".join(chunks), info


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf
        raise ValueError(f"non-finite number {text[:20]}")
    return value


def strict_json(raw: bytes, depth_limit: int = JSON_DEPTH_LIMIT) -> Any:
    """Parse JSON with finite numbers only and at most `depth_limit` levels of nesting.

    Raises ValueError (also for nesting deep enough to exhaust the parser's recursion,
    and for integers longer than Python's digit limit).
    """
    try:
        data = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 ({exc.reason})") from None
    if _depth(data, depth_limit) > depth_limit:
        raise ValueError(f"JSON nested more than {depth_limit} levels deep")
    return data


def _depth(data: Any, limit: int) -> int:
    """Nesting depth of parsed JSON (a scalar is 0, `{}` is 1), counted up to limit + 1."""
    level, frontier = 0, [data]
    while level <= limit:
        containers = [node for node in frontier if isinstance(node, (dict, list))]
        if not containers:
            break
        level += 1
        frontier = [
            child
            for node in containers
            for child in (node.values() if isinstance(node, dict) else node)
        ]
    return level


# -- the schema -----------------------------------------------------------------------------


class _Invalid(Exception):
    """A schema violation at a dotted key path; ModelError adds the file name."""


class Range(NamedTuple):
    """Bounds of a number, attached to a field as Annotated[float, Range(low, high)]."""

    low: float
    high: float


UNIT = Range(0.0, 1.0)  # a probability
Unit = Annotated[float, UNIT]

# The schema is NamedTuples, not dataclasses: immutable all the same, and a twentieth of
# the cost to define (every `rolecli classify` defines them at import).


class OffTopicThresholds(NamedTuple):
    """When a text is not an ML job description (decision.off_topic)."""

    # P(ML/data job description) below which it is not one; below the higher
    # `min_p_on_topic_unnamed` when the text never names ML work (None: the same floor).
    min_p_on_topic: Unit
    min_p_on_topic_unnamed: Unit | None
    # A text that never names ML work is also not one when the family head gives the ML
    # family less than this: it reads as another job (a data-engineering one, say).
    min_p_ml_family_unnamed: Unit | None
    # Fewer words the model knows than this: too little to read, unless the text names ML
    # work and has at least `min_known_words_named` (then it is a short-text verdict).
    min_known_words: Annotated[int, Range(0, 10_000)]
    min_known_words_named: Annotated[int, Range(0, 10_000)]


class ShortTextThresholds(NamedTuple):
    # A verdict resting on fewer known words than this is marked short, with low confidence.
    max_known_words: Annotated[int, Range(0, 10_000)]


class DataRoleThresholds(NamedTuple):
    # P(the text reads as a data-engineering job), from the family head, from which an ML
    # posting is never ML science (nor mixed): it reads as ML engineering.
    engineering_min_p: Unit


class TitleThresholds(NamedTuple):
    # The body contradicts its title when the verdict is the other role with at least this
    # confidence; below it, the body leans the other way.
    contradicts_min_p: Annotated[float, Range(0.5, 1.0)]


class MixedThresholds(NamedTuple):
    """When a posting is mixed (decision.mixed_grounds); None switches a ground off."""

    # split: a job line reads strongly toward a role when it carries at least
    # `strong_share` of the evidence of all job lines; mixed when each role has at least
    # `min_lines` such lines, the smaller side at least `min_balance` of them, and
    # P(scientist) is within [split_p_low, split_p_high].
    strong_share: Annotated[float, Range(0.0, 1.0)]
    min_lines: Annotated[int, Range(1, 10_000)]
    min_balance: Annotated[float, Range(0.0, 0.5)] | None
    split_p_low: Unit
    split_p_high: Unit
    # band: P(scientist) within 0.5 +- band.
    band: Annotated[float, Range(0.0, 0.5)] | None
    # named: the posting names its job as both roles, and P(scientist) is within
    # 0.5 +- named_band.
    named_band: Annotated[float, Range(0.0, 0.5)] | None


class Thresholds(NamedTuple):
    """Every number the decision rule reads. A card holds every one of them: none is filled
    in by default when a card lacks it (DEFAULT_THRESHOLDS are what a new model starts
    from, before `rolecli calibrate` or the shipped calibration fits them)."""

    off_topic: OffTopicThresholds
    short_text: ShortTextThresholds
    data_roles: DataRoleThresholds
    title: TitleThresholds
    mixed: MixedThresholds

    def as_dict(self) -> dict[str, Any]:
        return {name: dict(part._asdict()) for name, part in self._asdict().items()}

    @classmethod
    def from_dict(cls, data: Any, where: str = "thresholds") -> "Thresholds":
        """Thresholds from parsed JSON; ValueError naming the key that is wrong or missing."""
        thresholds: Thresholds = check_schema(cls, data, where)
        return thresholds


DEFAULT_THRESHOLDS = Thresholds(
    off_topic=OffTopicThresholds(min_p_on_topic=0.1, min_p_on_topic_unnamed=0.6,
                                 min_p_ml_family_unnamed=0.5, min_known_words=5,
                                 min_known_words_named=2),
    short_text=ShortTextThresholds(max_known_words=20),
    data_roles=DataRoleThresholds(engineering_min_p=0.25),
    title=TitleThresholds(contradicts_min_p=0.75),
    mixed=MixedThresholds(strong_share=0.03, min_lines=1, min_balance=0.4, split_p_low=0.01,
                          split_p_high=0.99, band=None, named_band=None),
)


class DatasetEntry(NamedTuple):
    path: str
    sha256: str
    rows: int
    labels: dict[str, int]


class Calibration(NamedTuple):
    method: str
    a: float
    b: float
    fitted_on: dict[str, Any] | None = None
    source: str | None = None
    note: str | None = None
    thresholds_from: dict[str, Any] | None = None


class Card(NamedTuple):
    """A validated card.json (format 1). `data` is the parsed JSON itself, for display."""

    card_format_version: int
    model_id: str
    files: dict[str, str]
    thresholds: Thresholds
    calibration: Calibration
    created: str | None = None  # written by older rolecli; cards now carry no timestamp
    training_fingerprint: str | None = None
    training_data: list[DatasetEntry] | None = None
    rows_by_source: dict[str, dict[str, int]] | None = None
    count_data: list[dict[str, Any]] | None = None
    hyperparameters: dict[str, Any] | None = None
    vocabulary_size: int | None = None
    nonzero_coefficients: dict[str, int] | None = None
    metrics: dict[str, Any] | None = None
    libraries: dict[str, str] | None = None
    data: dict[str, Any] | None = None  # the parsed JSON, set by parse_card (not a key)


def _check(value: Any, hint: Any, where: str) -> Any:
    """value checked against a type hint (the few kinds the schema uses), converted."""
    bounds = None
    if get_origin(hint) is Annotated:
        hint, bounds = get_args(hint)[:2]
    origin = getattr(hint, "__origin__", None)
    args: tuple[Any, ...] = getattr(hint, "__args__", ())
    if origin is None and hasattr(hint, "_fields"):
        return _build(hint, value, where)
    if type(None) in args:  # X | None
        if value is None:
            return None
        (hint,) = [a for a in args if a is not type(None)]
        return _check(value, hint, where)
    if hint is Any:
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Invalid(f"{where} is {_kind(value)}, not a number")
        value = float(value)
        if not math.isfinite(value):
            raise _Invalid(f"{where} is not a finite number")
        low, high = bounds or (-math.inf, math.inf)
        if not low <= value <= high:
            raise _Invalid(f"{where} is {value}, outside [{low}, {high}]")
        return value
    if hint is int:
        low, high = bounds or (0, 1 << 53)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"{where} is {_kind(value)}, not an integer")
        if not low <= value <= high:
            raise _Invalid(f"{where} is {value}, outside [{low}, {high}]")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise _Invalid(f"{where} is {_kind(value)}, not true or false")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise _Invalid(f"{where} is {_kind(value)}, not a string")
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise _Invalid(f"{where} is {_kind(value)}, not an object")
        _, value_hint = args
        return {k: _check(v, value_hint, f"{where}.{k}") for k, v in value.items()}
    if origin is list:
        if not isinstance(value, list):
            raise _Invalid(f"{where} is {_kind(value)}, not a list")
        return [_check(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"schema type {hint!r} is not supported")  # a bug in the schema


def _build(cls: Any, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise _Invalid(f"{where or 'the card'} is {_kind(value)}, not an object")
    hints, known = _schema(cls)
    unknown = sorted(set(value) - set(known))
    if unknown:
        prefix = f"{where}." if where else ""
        raise _Invalid(f"unknown key {prefix}{unknown[0]} (known: {', '.join(sorted(known))})")
    values = {}
    for name in known:
        path = f"{where}.{name}" if where else name
        if name not in value:
            if name not in cls._field_defaults:
                raise _Invalid(f"lacks {path}")
            continue
        values[name] = _check(value[name], hints[name], path)
    return cls(**values)


@cache
def _schema(cls: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
    """(type hints, keys) of a schema class: evaluated once, not on every load."""
    known = tuple(name for name in cls._fields if (cls, name) != (Card, "data"))
    return get_type_hints(cls, include_extras=True), known


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             type(None): "null", int: "an integer", float: "a number"}
    return names.get(type(value), type(value).__name__)


def check_schema(cls: Any, data: Any, where: str) -> Any:
    """An instance of schema class `cls` (a NamedTuple) from parsed JSON, checked field by
    field; ValueError naming the key when a value has the wrong type, is out of range, is
    missing, or is not a field of `cls`."""
    try:
        return _build(cls, data, where)
    except _Invalid as exc:
        raise ValueError(str(exc)) from None


def parse_card(data: Any, path: Path) -> Card:
    if not isinstance(data, dict) or data.get("card_format_version") != CARD_FORMAT_VERSION:
        version = data.get("card_format_version") if isinstance(data, dict) else None
        raise ModelError(f"{path}: incompatible model card version {version!r}")
    try:
        card: Card = _build(Card, data, "")
    except _Invalid as exc:
        raise ModelError(f"{path}: invalid model card: {exc}") from None
    for name, digest in card.files.items():
        if not _SHA256.fullmatch(digest) or "/" in name or name in ("", ".", ".."):
            raise ModelError(f"{path}: invalid model card: files.{name} is not a file's sha256")
    return card._replace(data=data)


def load_card(directory: Path) -> Card:
    """The validated card of a model directory."""
    if not directory.is_dir():
        raise ModelError(f"model directory not found: {directory}")
    path = directory / CARD_FILE
    raw, _ = read_model_file(path, CARD_SIZE_LIMIT)
    try:
        data = strict_json(raw)
    except ValueError as exc:
        raise ModelError(f"{path}: unreadable model card ({exc})") from None
    return parse_card(data, path)
