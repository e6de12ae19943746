"""JSON output for machines: one object per line on stdout, without importing Rich."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ..escape import holds_unicode, json_text


def write_json(data: Any, stream: TextIO | None = None) -> None:
    """One JSON object and a newline; all ASCII (\\u escapes) on a stream whose encoding
    cannot hold every character, so the JSON stays valid whatever stdout is."""
    out = stream or sys.stdout
    out.write(json_text(data, ascii_only=not holds_unicode(out)) + "\n")
    out.flush()
