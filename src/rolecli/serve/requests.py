"""Request bodies, read within bounds and checked field by field: JSON, JSONL and the form.

Every body is held to `inputs.MAX_INPUT_BYTES`, the limit files meet, while it streams in:
a Content-Length over it is refused before a byte is read, and a body that grows past it is
refused as soon as it does, so no more than the limit is ever held. Uploads stay in memory.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PureWindowsPath
from typing import Any

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from ..batch.items import Item, printable
from ..batch.sources import UniqueIds, row_item
from ..errors import InputError
from ..io.documents import MAX_INPUT_BYTES, posting_text
from ..io.tables import MAX_TITLE_CHARS, byte_records, table_rows
from ..quiet import quiet

# A slow client may take this long to send its body; then it gets 408.
BODY_SECONDS = 30
MAX_NAME_CHARS = 200
MIB = 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FIELDS = {"text", "title"}
_FORM_FIELDS = {"text", "title", "file", "token"}
# The spreadsheet form's own fields (its file comes as "file" too).
SHEET_FIELDS = {"format", "text_column", "title_column", "id_column"}
JSON_TYPES = ("application/json",)
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines",
               "application/json-lines", "application/json")


class RequestError(Exception):
    """A request the server refuses: its HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def too_large() -> RequestError:
    return RequestError(
        413,
        f"request body larger than {MAX_INPUT_BYTES // MIB} MiB; a job description is a few "
        "KB (send a big batch as several requests)",
    )


async def read_body(
    request: Request, take: Callable[[int], Awaitable[None]] | None = None
) -> bytes:
    """The whole body, or RequestError 413 (too large), 408 (too slow) or 400.

    `take(n)` is awaited before n more bytes are held: the whole declared Content-Length at
    once, a chunked body chunk by chunk (the server's byte budget)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, "Content-Length is not a number")
        if int(declared) > MAX_INPUT_BYTES:
            raise too_large()
        if take is not None:
            await take(int(declared))
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(BODY_SECONDS):
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_INPUT_BYTES:
                    raise too_large()
                if take is not None and (declared is None or size > int(declared)):
                    await take(len(chunk))
                chunks.append(chunk)
    except TimeoutError:
        raise RequestError(408, f"the body took over {BODY_SECONDS} s to arrive") from None
    except ClientDisconnect:
        raise RequestError(400, "the client went away before its body arrived") from None
    return b"".join(chunks)


def require_type(request: Request, accepted: tuple[str, ...]) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in accepted:
        raise RequestError(
            415, f"Content-Type must be {' or '.join(accepted)}, not {media or 'missing'}"
        )


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes) -> Any:
    """JSON as RFC 8259 has it (UTF-8 only, no NaN or Infinity), or RequestError 400 with
    the reason. (json.loads would take UTF-16 and UTF-32 bytes too.)"""
    if b"\0" in data:  # never in JSON; UTF-16 and UTF-32 text is full of them
        raise RequestError(400, "malformed JSON: not UTF-8")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constants)
    except RecursionError:
        raise RequestError(400, "malformed JSON: nested too deeply") from None
    except UnicodeDecodeError:
        raise RequestError(400, "malformed JSON: not UTF-8") from None
    except ValueError as exc:
        raise RequestError(400, f"malformed JSON: {exc}") from None


def posting_fields(data: Any) -> tuple[str, str | None]:
    """(text, title) from a request object, or RequestError 422 naming what is wrong."""
    text, title = typed_fields(data, _FIELDS)
    return checked_text(text, "text"), title


def typed_fields(data: Any, allowed: set[str]) -> tuple[str, str | None]:
    """(text, title) of the right types; the text's own rules are checked by the caller."""
    if not isinstance(data, dict):
        raise RequestError(422, 'the body must be a JSON object such as {"text": "..."}')
    unknown = sorted(set(data) - allowed)
    if unknown:
        fields = ", ".join(sorted(allowed))
        raise RequestError(422, f"unknown field {printable(unknown[0])!r}; the fields are {fields}")
    text = data.get("text")
    if not isinstance(text, str):
        raise RequestError(422, '"text" is required and must be a string'
                           if text is None else '"text" must be a string')
    _require_unicode(text, "text")
    return text, checked_title(data.get("title"))


def checked_text(text: str, name: str) -> str:
    """Posting text held to the rules files meet (size, binary, empty), or 422."""
    try:
        return posting_text(text, name)
    except InputError as exc:
        raise RequestError(422, exc.message) from None


def checked_title(title: Any) -> str | None:
    if title is None:
        return None
    if not isinstance(title, str):
        raise RequestError(422, '"title" must be a string or null')
    _require_unicode(title, "title")
    if len(title) > MAX_TITLE_CHARS:
        raise RequestError(422, f'"title" is longer than {MAX_TITLE_CHARS} characters')
    if _CONTROL.search(title):
        raise RequestError(422, '"title" must be one line without control characters')
    return title.strip() or None


def _require_unicode(value: str, name: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RequestError(422, f'"{name}" holds a lone surrogate, not valid Unicode') from None


# -- batch --------------------------------------------------------------------------------


# A batch request's items, and the length of an id it echoes in its row: with them an
# answer is bounded (a row is a few hundred bytes past its id) whatever the body holds.
MAX_BATCH_ITEMS = 10_000


def batch_items(body: bytes) -> Iterator[Item]:
    """The items of a JSONL body, read as `rolecli batch` reads a JSONL file (one reading of
    every table: io.tables.table_rows), ids made unique as it makes them. A body of more
    than MAX_BATCH_ITEMS items is refused (413) before any is scored."""
    count = sum(1 for line in body.splitlines() if line.strip())
    if count > MAX_BATCH_ITEMS:
        raise RequestError(413, f"{count:,} items in one batch (the limit is "
                                f"{MAX_BATCH_ITEMS:,}); send them as several requests")
    return _unique(row_item(row) for row in table_rows(byte_records(body)))


def _unique(items: Iterator[Item]) -> Iterator[Item]:
    unique = UniqueIds().unique
    for item in items:
        item_id = unique(item.id)
        yield item if item_id == item.id else item._replace(id=item_id)


# -- the page's form ------------------------------------------------------------------------


@dataclass
class Upload:
    name: str
    data: bytes


@dataclass
class Form:
    """What the page's form sent; the file, when one was chosen, is kept in memory."""

    text: str = ""
    title: str = ""
    token: str = ""
    file: Upload | None = None
    options: dict[str, str] = field(default_factory=dict)  # the spreadsheet form's choices


class _FormCollector:
    """python-multipart callbacks that gather the form's parts in memory."""

    def __init__(self) -> None:
        self.form = Form()
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.data = bytearray()
        self.parts = 0

    def on_part_begin(self) -> None:
        self.disposition = b""
        self.data = bytearray()
        self.parts += 1
        if self.parts > len(_FORM_FIELDS) + len(SHEET_FIELDS):
            raise RequestError(400, "the form has more parts than it has fields")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.data += data[start:end]

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.strip().lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name = self.header_value = b""

    def on_part_end(self) -> None:
        _, options = parse_options_header(self.disposition)
        field = options.get(b"name", b"").decode("utf-8", "replace")
        data = bytes(self.data)
        if field == "file":
            filename = options.get(b"filename", b"").decode("utf-8", "replace")
            if filename or data:  # an empty file input still sends a part
                self.form.file = Upload(_base_name(filename), data)
        elif field in _FORM_FIELDS:
            setattr(self.form, field, data.decode("utf-8", "replace"))
        elif field in SHEET_FIELDS:
            self.form.options[field] = data.decode("utf-8", "replace")[:MAX_TITLE_CHARS]


def _base_name(filename: str) -> str:
    # Some browsers send the whole path; the name is what the posting is known by.
    name = PureWindowsPath(filename).name or "upload"
    return name[:MAX_NAME_CHARS]


def parse_form(content_type: str, body: bytes) -> Form:
    """The page's multipart/form-data, or RequestError 400/415."""
    media, options = parse_options_header(content_type)
    if media != b"multipart/form-data":
        raise RequestError(415, "the form must be sent as multipart/form-data")
    boundary = options.get(b"boundary")
    if not boundary:
        raise RequestError(400, "malformed form: no multipart boundary")
    collector = _FormCollector()
    callbacks: Any = {
        name: getattr(collector, name)
        for name in ("on_part_begin", "on_part_data", "on_part_end", "on_header_field",
                     "on_header_value", "on_header_end")
    }
    # python-multipart logs each parse error as a warning before raising it; the answer
    # carries the error, and the server's log keeps to one line per request.
    try:
        with quiet("python_multipart", logging.CRITICAL):
            parser = MultipartParser(boundary, callbacks, max_size=MAX_INPUT_BYTES)
            parser.write(body)
            parser.finalize()
    except FormParserError as exc:  # a malformed body, or a boundary over 256 characters
        raise RequestError(400, f"malformed form: {' '.join(str(exc).split())}") from None
    return collector.form


# -- live scoring: the page's updates as the posting is written --------------------------

MAX_WITHOUT = 50  # lines one update may leave out
# Live updates are for a posting being written (a few KB); a longer text is checked once,
# by the form, so that typing into it does not queue one slow update after another.
MAX_LIVE_CHARS = 100_000


def live_fields(data: Any) -> tuple[str, str | None, list[tuple[int, int]]]:
    """(text, title, spans to leave out) of a live update, or RequestError 422."""
    text, title = typed_fields(data, _FIELDS | {"without"})
    text = checked_text(text, "text")
    if len(text) > MAX_LIVE_CHARS:
        raise RequestError(413, f"text longer than {MAX_LIVE_CHARS:,} characters: check it "
                           "with the form's button instead of live")
    spans = data.get("without") or []
    if not isinstance(spans, list) or len(spans) > MAX_WITHOUT:
        raise RequestError(422, f'"without" must be a list of at most {MAX_WITHOUT} lines')
    checked = []
    for span in spans:
        start = span.get("start") if isinstance(span, dict) else None
        end = span.get("end") if isinstance(span, dict) else None
        if not (isinstance(start, int) and isinstance(end, int)
                and not isinstance(start, bool) and not isinstance(end, bool)
                and 0 <= start < end <= len(text)):
            raise RequestError(422, '"without" lines are {"start": N, "end": M} within the text')
        checked.append((start, end))
    return text, title, checked
