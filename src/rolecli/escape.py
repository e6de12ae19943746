"""Strings from outside (file names, ids, table cells, model card fields, exception text)
made safe to show: every character a terminal would act on, or that would hide, reorder or
break a line, becomes a visible backslash escape.

`visible()` is for people (error lines, panels, tables: `render.literal` wraps it in a Rich
Text so no markup is read either); `json_text()` is JSON whose every such character is a
\\u escape, so rows stay exact data and still cannot drive a terminal they are printed on;
`spreadsheet_cell()` keeps a CSV cell from running as a formula when a spreadsheet opens it.
Nothing here imports anything heavy: batch workers use it.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

# Unicode categories Cc (controls: C0, DEL, C1), Cf (format: bidi overrides, zero-width
# characters, tags), Zl and Zp (line and paragraph separators) and Cs (lone surrogates,
# which is how Python keeps the undecodable bytes of a file name), as of Unicode 14
# (Python 3.11). tests/test_escape.py checks the class against unicodedata.
_INVISIBLE_CLASS = (
    "\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
_INVISIBLE = re.compile(f"[{_INVISIBLE_CLASS}]")
# What json.dumps leaves raw: the class without its first range, C0, which it escapes itself.
_JSON_INVISIBLE = re.compile(f"[{_INVISIBLE_CLASS[3:]}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: str) -> str:
    """`text` with each invisible or terminal-active character as a backslash escape.

    A newline becomes `\\n`, ESC `\\x1b`, a bidi override `\\u202e`; an undecodable byte
    of a file name (a surrogate from surrogateescape) becomes `\\xe9`, the byte itself.
    The result is one line and prints the same on any terminal.
    """
    # str.isprintable() is False for every character of the class (and for some others,
    # such as no-break spaces, which the regex then passes): a fast test of the usual case.
    if text.isprintable() or _INVISIBLE.search(text) is None:
        return text  # nothing to do, no copy
    return _INVISIBLE.sub(_escape, text)


def blanked(text: str) -> str:
    """`text` with each character `visible` would escape, but the line break, as a space:
    the same length, so offsets into the text still point at the same words (for views
    that shade a posting's words in place)."""
    if text.isprintable() or _INVISIBLE.search(text) is None:
        return text
    return _BLANKED.sub(" ", text)


# The class without the line break (C0 is its first range).
_BLANKED = re.compile(f"[\x00-\x09\x0b-\x1f{_INVISIBLE_CLASS[3:]}]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that surrogateescape kept
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def json_text(data: Any, ascii_only: bool = False) -> str:
    """`json.dumps(data, ensure_ascii=False)`, with the characters `visible` escapes given
    as \\u escapes: the same JSON value, but inert on a terminal and valid UTF-8.
    `ascii_only`: every non-ASCII character escaped, for a stream whose encoding cannot
    hold them all (the same JSON value still)."""
    if ascii_only:
        return json.dumps(data, ensure_ascii=True)
    text = json.dumps(data, ensure_ascii=False)
    if text.isprintable() or _JSON_INVISIBLE.search(text) is None:  # (see visible)
        return text
    return _JSON_INVISIBLE.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def holds_unicode(stream: Any) -> bool:
    """Whether a text stream's encoding can write every character (UTF-8, -16, -32): a
    stream in ASCII or Latin-1 (PYTHONIOENCODING, a non-UTF-8 locale) cannot."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


# What makes a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula or
# a command: = + - @ at its start, and tab or CR, which some of them skip before looking.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: str) -> str:
    """A CSV cell that a spreadsheet shows as text: one that it would run as a formula
    (starting with = + - @, tab or CR, as in `=cmd|' /C calc'!A0`) gets a leading single
    quote, which spreadsheets read as "text follows"; anything else comes back unchanged."""
    return "'" + value if value.startswith(_FORMULA_START) else value
