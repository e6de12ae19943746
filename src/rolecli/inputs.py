"""Turning files, stdin and raw bytes into posting text, or a clear InputError."""

from __future__ import annotations

import codecs
import io
import re
import sys
from pathlib import Path
from typing import BinaryIO

from .errors import InputError, UsageError

# Postings are a few KB; past this it is a data dump or the wrong file.
MAX_INPUT_BYTES = 8 * 1024 * 1024
_READ_CHUNK = 64 * 1024

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x7fELF": "an executable",
    b"\x1f\x8b": "a gzip archive",
    b"PK\x03\x04": "a ZIP archive",
    b"%PDF": "a PDF",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_HTML_START = re.compile(rb"\A\s*(<!doctype html|<html|<head|<body)", re.IGNORECASE)


def read_document(path: Path) -> str:
    """The text of a posting file (.txt, .md, .html, .pdf, .docx, or sniffed from its bytes)."""
    try:
        with path.open("rb") as handle:
            data = _read_limited(handle, str(path))
    except IsADirectoryError:
        raise UsageError(
            f"{path} is a directory, not a file (use `rolecli batch` for folders)"
        ) from None
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return text_from_bytes(data, str(path), path.suffix.lower())


def read_stdin() -> str:
    stream = sys.stdin
    if stream is None or stream.closed:
        raise UsageError("no input: stdin is closed; give a FILE")
    try:
        buffer: BinaryIO = stream.buffer
        data = _read_limited(buffer, "stdin")
    except (OSError, ValueError):
        raise UsageError("no input: stdin is closed; give a FILE") from None
    return text_from_bytes(data, "stdin", "")


def _read_limited(handle: BinaryIO, name: str) -> bytes:
    # In chunks: one read(MAX_INPUT_BYTES + 1) would allocate 8 MiB for every small posting.
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_INPUT_BYTES and (chunk := handle.read(_READ_CHUNK)):
        chunks.append(chunk)
        size += len(chunk)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(
            f"{name}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB; "
            "a job description is a few KB (split the file, or use `rolecli batch` on a CSV)"
        )
    return data


def text_from_bytes(data: bytes, name: str, suffix: str = "") -> str:
    """Decode and extract posting text; raise InputError when there is none."""
    if suffix == ".pdf" or data.startswith(b"%PDF"):
        text = _pdf_text(data, name)
    elif suffix == ".docx" or (data.startswith(b"PK\x03\x04") and b"word/" in data[:4096]):
        text = _docx_text(data, name)
    else:
        text = decode_bytes(data, name)
        if suffix in {".html", ".htm"} or _HTML_START.match(data[:512]):
            try:
                text = html_text(text)
            except Exception as exc:  # like the PDF and Word parsers below: the file's fault
                raise InputError(f"{name}: unreadable HTML ({type(exc).__name__})") from None
    if not text.strip():
        raise InputError(f"{name}: no text to classify (empty or whitespace only)")
    return text


def posting_text(text: str, name: str) -> str:
    """Text that arrived already decoded (a table cell) held to the rules files meet."""
    if len(text) > MAX_INPUT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise InputError(f"{name}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB")
    text = _reject_control(text, name)
    if not text.strip():
        raise InputError(f"{name}: no text to classify (empty or whitespace only)")
    return text


def decode_bytes(data: bytes, name: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _reject_control(data.decode(encoding), name)
            except UnicodeDecodeError:
                raise InputError(
                    f"{name}: starts with a {encoding} mark but does not decode"
                ) from None
    for magic, kind in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise InputError(f"{name}: binary data ({kind}), not text")
    try:
        return _reject_control(data.decode("utf-8"), name)
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise InputError(f"{name}: binary data (contains NUL bytes), not text")
    return _reject_control(_decode_guess(data), name)


def _decode_guess(data: bytes) -> str:
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None or not best.encoding:
        return data.decode("cp1252", errors="replace")
    # On English text with a few accents the detector often ties cp1250, cp1252, cp1257...,
    # which read "é" alike but not "ï" or curly quotes, and may pick any of them. A tie goes
    # to Windows-1252, the usual non-UTF-8 encoding of Western postings (a superset of
    # Latin-1's printable range); a clearly better guess (Cyrillic, Polish...) still wins.
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos + 0.01:
            return str(match)
    return str(best)


def _reject_control(text: str, name: str) -> str:
    # Any NUL means binary, as for grep and git: text never holds one, while a few stray
    # control characters (form feeds, pasted escapes) are tolerated and blanked below.
    if "\x00" in text:
        raise InputError(f"{name}: binary data (contains NUL bytes), not text")
    # Counted on the UTF-8 bytes, where each is one byte that no other character's bytes
    # contain: bytes.translate counts them several times faster than the regex can.
    sample = text[:65536].encode("utf-8", "surrogatepass")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls and controls > 0.01 * min(len(text), 65536):
        raise InputError(f"{name}: binary data (control characters), not text")
    return _CONTROL.sub(" ", text) if controls else text


def html_text(markup: str) -> str:
    """Visible text of an HTML page: scripts, styles and markup dropped, block breaks kept."""
    import warnings

    from bs4 import BeautifulSoup, ParserRejectedMarkup

    with warnings.catch_warnings():
        # bs4 warns on stderr about markup that looks like a URL or like XML; a posting is
        # what it is, and stderr is kept for the one error line.
        warnings.simplefilter("ignore")
        try:
            soup = BeautifulSoup(markup, "html.parser")
        except ParserRejectedMarkup:
            # html.parser gives up on marked sections it does not know (`<![x[ ... ]]>`, as
            # in some Word exports); lxml, which python-docx already needs, reads them.
            soup = BeautifulSoup(markup, "lxml")
    for hidden in soup(["script", "style", "noscript", "template", "head"]):
        hidden.decompose()
    return soup.get_text("\n")


# The PDF and Word parsers meet hostile bytes here, and raise whatever their internals do
# (pypdf: PdfStreamError, IndexError, RecursionError...; python-docx: lxml's XMLSyntaxError,
# PackageNotFoundError...). Any exception from parsing a file is that file's fault, so each
# becomes one InputError line; a parser is never allowed to print a traceback.


def _pdf_text(data: bytes, name: str) -> str:
    import logging

    from pypdf import PdfReader

    # pypdf logs warnings ("EOF marker not found") on stderr; the one error line says it all.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:  # see above: any parser failure is an unreadable file
        raise InputError(f"{name}: unreadable PDF ({type(exc).__name__})") from None


def _docx_text(data: bytes, name: str) -> str:
    from docx import Document

    try:
        document = Document(io.BytesIO(data))
        lines = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                lines.append("\t".join(cell.text for cell in row.cells))
    except Exception as exc:  # see above: any parser failure is an unreadable file
        raise InputError(f"{name}: unreadable Word document ({type(exc).__name__})") from None
    return "\n".join(lines)
