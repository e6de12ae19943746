"""Turning files, stdin and raw bytes into posting text, or a clear InputError.

The work is bounded whatever the bytes: a file is read up to MAX_INPUT_BYTES, what a PDF,
Word document or HTML page expands to is held to the limits below before it is parsed,
and the parsing itself runs in a worker process that is killed after MAX_EXTRACT_SECONDS
of CPU time (io.extraction; docs/bad-input.md).
"""

from __future__ import annotations

import codecs
import os
import re
import sys
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError, UsageError

# Postings are a few KB; past this it is a data dump or the wrong file. The same limit
# holds for the text a PDF, DOCX or HTML file gives.
MAX_INPUT_BYTES = 8 * 1024 * 1024
_MIB = 1024 * 1024
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


def read_document(path: Path, regular_only: bool = False) -> str:
    """The text of a posting file (.txt, .md, .html, .pdf, .docx, or sniffed from its bytes).

    `regular_only` (batch): a FIFO, socket or device is refused without waiting on it,
    however it got there (it is opened without blocking, then checked).
    """
    try:
        with (open_regular(path) if regular_only else path.open("rb")) as handle:
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


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading if it is a regular file; else InputError, at once. Opening
    does not block (a FIFO with no writer would wait for one), and the type is checked on
    the file opened, so a file swapped for a FIFO after a check is caught too."""
    import fcntl
    import stat

    from .walk import file_kind, not_regular

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(21, "Is a directory", str(path))
            raise InputError(f"{path}: {not_regular(file_kind(mode) or 'not a file')}")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_stdin() -> str:
    return text_from_bytes(read_stdin_bytes(), "stdin", "")


def read_stdin_bytes(limit: int = MAX_INPUT_BYTES) -> bytes:
    stream = sys.stdin
    try:
        buffer = stdin_stream()
        return _read_limited(buffer, "stdin", interactive=stream.isatty(), limit=limit)
    except (OSError, ValueError):
        raise UsageError("no input: stdin is closed; give a FILE") from None


def stdin_stream() -> BinaryIO:
    """stdin's bytes, or a UsageError when it is closed."""
    stream = sys.stdin
    if stream is None or stream.closed:
        raise UsageError("no input: stdin is closed; give a FILE")
    try:
        buffer: BinaryIO = stream.buffer
        return buffer
    except (AttributeError, ValueError):
        raise UsageError("no input: stdin is closed; give a FILE") from None


def _read_limited(handle: BinaryIO, name: str, interactive: bool = False,
                  limit: int = MAX_INPUT_BYTES) -> bytes:
    # In chunks: one read(MAX_INPUT_BYTES + 1) would allocate 8 MiB for every small posting.
    chunks: list[bytes] = []
    size = 0
    while size <= limit and (chunk := handle.read(_READ_CHUNK)):
        chunks.append(chunk)
        size += len(chunk)
        # A short read from a terminal means Ctrl-D (an empty raw read) ended it: reading on
        # would wait for a second Ctrl-D.
        if interactive and len(chunk) < _READ_CHUNK:
            break
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) > limit:
        raise InputError(
            f"{name}: larger than {limit // (1024 * 1024)} MiB; "
            "a job description is a few KB (split the file, or use `rolecli batch` on a CSV)"
        )
    return data


def text_from_bytes(data: bytes, name: str, suffix: str = "") -> str:
    """Decode and extract posting text; raise InputError when there is none. PDF, Word and
    HTML are parsed in a worker process, within the CPU-time cap (io.extraction)."""
    from .extraction import extract  # (plain text never needs it)

    if suffix == ".pdf" or data.startswith(b"%PDF"):
        text = extract("pdf", data, name)
    elif suffix == ".docx" or (data.startswith(b"PK\x03\x04") and b"word/" in data[:4096]):
        text = extract("docx", data, name)
    else:
        text = decode_bytes(data, name)
        if suffix in {".html", ".htm"} or _HTML_START.match(data[:512]):
            text = extract("html", text.encode("utf-8", "surrogatepass"), name)
    check_text_size(text, name)
    if not text.strip():
        raise InputError(f"{name}: no text to classify (empty or whitespace only)")
    return text


def check_text_size(text: str, name: str) -> None:
    """InputError when what a file gave is more text than a file may be."""
    if len(text) > MAX_INPUT_BYTES // 4 and len(text.encode("utf-8", "replace")) > MAX_INPUT_BYTES:
        raise InputError(f"{name}: holds more than {MAX_INPUT_BYTES // _MIB} MiB of text; "
                         "a job description is a few KB")


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
    # A few stray bytes in otherwise UTF-8 text (a pasted Windows quote) must not turn
    # every "é" of it into "Ã©": mostly valid UTF-8 is read as UTF-8, strays as U+FFFD.
    text = data.decode("utf-8", "replace")
    invalid = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    if mostly_utf8(invalid, len(text) - len(text.encode("ascii", "ignore")) - invalid):
        return _reject_control(text, name)
    return _reject_control(data.decode(guess_encoding(data), errors="replace"), name)


def mostly_utf8(invalid: int, valid_non_ascii: int) -> bool:
    """Whether bytes with `invalid` bytes that are not UTF-8 and `valid_non_ascii` characters
    that are (multi-byte sequences) should be read as UTF-8. Text in a single-byte encoding
    (Latin-1, Windows-1252) almost never forms a valid multi-byte sequence, so as many valid
    ones as strays means UTF-8 with a few damaged bytes."""
    return invalid == 0 or valid_non_ascii >= invalid


def guess_encoding(data: bytes) -> str:
    """The encoding of text that is not UTF-8, as charset-normalizer detects it."""
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None or not best.encoding:
        return "cp1252"
    # On English text with a few accents the detector often ties cp1250, cp1252, cp1257...,
    # which read "é" alike but not "ï" or curly quotes, and may pick any of them. A tie goes
    # to Windows-1252, the usual non-UTF-8 encoding of Western postings (a superset of
    # Latin-1's printable range); a clearly better guess (Cyrillic, Polish...) still wins.
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos + 0.01:
            return "cp1252"
    return str(best.encoding)


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
