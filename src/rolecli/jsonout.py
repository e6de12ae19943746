"""JSON output for machines: one object per line on stdout, without importing Rich."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def write_json(data: Any, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(json.dumps(data, ensure_ascii=False) + "\n")
    out.flush()
