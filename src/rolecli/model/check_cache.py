"""A record of scorer files already checked in full, so that each run need not re-hash them.

Loading a scorer checks its sha256 against the card and every weight for finiteness:
about 1.5 ms for the shipped model, but some 35 ms for a 300,000-term one (docs/speed.md).
After a full check, the file's identity (device, inode, size, mtime and ctime in
nanoseconds) and the sha256 its card expects are recorded here; a later load that opens a
file with the same identity, under a card expecting the same hash, skips the two checks.
The identity comes from fstat on the descriptor the bytes are read from, and ctime cannot
be set back by `touch`, so a file rewritten since the check is checked again.

What this gives up: bytes that change with no change to any of those numbers (bit rot,
a raw write to the disk) go unnoticed until `rolecli model info --verify`, which ignores
this record. The record itself is outside input: a small JSON file read with the same
limits as a model card; anything odd in it means "not checked", never an error.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

CACHE_SIZE_LIMIT = 64 << 10
MAX_ENTRIES = 64
_FILE = "checked-scorers.json"


def _cache_file() -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home == "~":  # no home directory: no record
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "rolecli" / _FILE


def identity(info: os.stat_result) -> list[int]:
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _entries() -> dict[str, list[object]]:
    from ..errors import ModelError
    from .card import read_model_file, strict_json

    path = _cache_file()
    if path is None:
        return {}
    try:
        raw, _ = read_model_file(path, CACHE_SIZE_LIMIT)
        data = strict_json(raw, depth_limit=3)
    except (ModelError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def already_checked(path: Path, info: os.stat_result, sha256: str) -> bool:
    """Whether this very file was checked in full, against a card expecting this sha256."""
    return _entries().get(os.path.abspath(path)) == [*identity(info), sha256]


def remember_checked(path: Path, info: os.stat_result, sha256: str) -> None:
    """Record a full check; silently skipped where the cache cannot be written."""
    target = _cache_file()
    if target is None:
        return
    entries = _entries()
    key = os.path.abspath(path)
    entries.pop(key, None)
    entries[key] = [*identity(info), sha256]
    kept = dict(list(entries.items())[-MAX_ENTRIES:])
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".checked-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(kept, handle)
            os.replace(temporary, target)  # readers see the old record or the new, whole
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass
