"""escape.visible and escape.json_text: outside text shown literally, JSON kept exact."""

from __future__ import annotations

import json
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from rolecli.escape import _INVISIBLE, json_text, visible

INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs"}


def test_the_class_is_exactly_the_invisible_categories():
    """Every control, format, separator and surrogate code point, and nothing else."""
    wrong = [
        hex(code) for code in range(sys.maxunicode + 1)
        if (unicodedata.category(chr(code)) in INVISIBLE_CATEGORIES)
        != bool(_INVISIBLE.match(chr(code)))
    ]
    assert wrong == []


def test_escapes_read_as_python_would_write_them():
    assert visible("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert visible("\x1b[31mred\x07") == "\\x1b[31mred\\x07"
    assert visible("\u009b31m \u202eevil \u2028") == "\\x9b31m \\u202eevil \\u2028"
    assert visible("tag\U000e0041") == "tag\\U000e0041"
    # an undecodable byte of a file name, kept by surrogateescape, shows as that byte
    assert visible(b"caf\xe9".decode("utf-8", "surrogateescape")) == "caf\\xe9"
    plain = "Café [bold] :smile: ✓"
    assert visible(plain) is plain  # nothing to escape: the same string, not a copy


@given(st.text())
def test_visible_text_is_one_printable_line(text):
    shown = visible(text)
    assert _INVISIBLE.search(shown) is None
    assert len(shown.splitlines()) <= 1
    shown.encode("utf-8")  # raises on a lone surrogate: none is left, any terminal takes it


@given(st.recursive(st.none() | st.booleans() | st.text() | st.integers(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
def test_json_text_is_the_same_value_and_inert(data):
    text = json_text(data)
    assert json.loads(text) == data
    assert _INVISIBLE.search(text) is None
