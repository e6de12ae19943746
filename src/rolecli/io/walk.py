"""The one folder walk: batch's inputs and labelled-data folders are read by the same rules.

Recursive, in sorted order, hidden entries (a leading dot) skipped; symlinked folders are
followed once (a folder already visited, by device and inode, is skipped), which makes
symlink loops safe; only regular files are yielded. A folder that cannot be listed is one
entry with its reason, and the walk goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple


class Found(NamedTuple):
    """A regular file (`entry` set) or a folder that cannot be listed (`error` set)."""

    relative: str  # POSIX path relative to the root; "." for the root itself
    path: Path
    entry: os.DirEntry[str] | None = None
    error: str | None = None


def walk_files(root: Path) -> Iterator[Found]:
    seen: set[tuple[int, int]] = set()
    # An explicit stack of sorted listings: deep trees cannot hit the recursion limit.
    stack: list[Iterator[tuple[str, os.DirEntry[str]]]] = []
    listing = _listing(root, "", seen)
    if isinstance(listing, Found):
        yield listing
        return
    stack.append(listing)
    while stack:
        next_entry = next(stack[-1], None)
        if next_entry is None:
            stack.pop()
            continue
        relative, entry = next_entry
        if _is_dir(entry):
            listing = _listing(Path(entry.path), relative + "/", seen)
            if isinstance(listing, Found):
                yield listing
            else:
                stack.append(listing)
        elif _is_file(entry):
            yield Found(relative, Path(entry.path), entry)


def _listing(
    directory: Path, prefix: str, seen: set[tuple[int, int]]
) -> Iterator[tuple[str, os.DirEntry[str]]] | Found:
    try:
        stat = directory.stat()
        key = (stat.st_dev, stat.st_ino)
        if key in seen:
            return iter(())
        seen.add(key)
        with os.scandir(directory) as scan:
            entries = sorted((e for e in scan if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as exc:
        return Found(prefix.rstrip("/") or ".", directory,
                     error=f"cannot list folder ({exc.strerror or exc})")
    return ((prefix + e.name, e) for e in entries)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False
