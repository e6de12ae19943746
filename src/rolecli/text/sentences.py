"""A posting's lines and sentences, as character spans: the units evidence is read in and
count files keep."""

from __future__ import annotations

import re
from collections.abc import Iterator

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[^\sa-z])")


# A list number or letter ("1.", "a.", "iv.") is the start of its line, not a sentence.
_ENUMERATOR = re.compile(r"\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]")


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the lines and sentences of a posting (bullets are lines), blank ones skipped.

    Every token of the text lies inside one span: the gaps between them are whitespace.
    """
    for line in _LINE.finditer(text):
        body = line.group()
        if "." in body or "!" in body or "?" in body or ";" in body:
            yield from _sentences(body, line.start())
            continue
        stripped = body.strip()
        if stripped:  # one sentence: the whole line
            start = line.start() + len(body) - len(body.lstrip())
            yield start, start + len(stripped)


_LINE = re.compile(r"[^\n\r]+")


def _sentences(body: str, offset: int) -> Iterator[tuple[int, int]]:
    begin = 0
    for split in _SENTENCE_END.finditer(body):
        if _ENUMERATOR.fullmatch(body[begin : split.start()].strip()):
            continue
        yield from _stripped(body, offset, begin, split.start())
        begin = split.end()
    yield from _stripped(body, offset, begin, len(body))


def _stripped(body: str, offset: int, start: int, end: int) -> Iterator[tuple[int, int]]:
    piece = body[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        yield offset + start + lead, offset + start + lead + len(stripped)
