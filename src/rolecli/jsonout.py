"""JSON output for machines: one object per line on stdout, without importing Rich."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from .escape import json_text


def write_json(data: Any, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(json_text(data) + "\n")
    out.flush()
