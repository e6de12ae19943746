"""The one folder walk: batch's inputs and labelled-data folders are read by the same rules.

Recursive, in sorted order, hidden entries (a leading dot) skipped; symlinked folders are
followed once (a folder already visited, by device and inode, is skipped), which makes
symlink loops safe. Links never lead out of the folder given (a link to `/` would walk the
whole machine) unless `follow_links` says so: a link out is an entry with its reason, as is
an entry that is no regular file (a FIFO would block the reader, a device never ends). A
folder that cannot be listed is one entry with its reason, and the walk goes on.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple


class Found(NamedTuple):
    """A regular file (`entry` set, no `error`), a file-like entry that must not be read
    (`entry` and `error` set: a FIFO, a device, a link out of the folder), or a folder
    that cannot be listed or leads out of the walk (`error` set, no `entry`)."""

    relative: str  # POSIX path relative to the root; "." for the root itself
    path: Path
    entry: os.DirEntry[str] | None = None
    error: str | None = None


FOLLOW_HINT = "--follow-links follows links out of the folders given"


def walk_files(root: Path, follow_links: bool = False) -> Iterator[Found]:
    seen: set[tuple[int, int]] = set()
    inside = None if follow_links else _real(root)
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
        outside = _outside(entry, inside) if inside is not None else None
        if _is_dir(entry):
            if outside is not None:
                yield Found(relative, Path(entry.path),
                            error=f"a link to a folder outside the one given ({outside}), "
                                  f"not followed; {FOLLOW_HINT}")
                continue
            listing = _listing(Path(entry.path), relative + "/", seen)
            if isinstance(listing, Found):
                yield listing
            else:
                stack.append(listing)
        elif outside is not None and _is_file(entry):
            yield Found(relative, Path(entry.path), entry,
                        f"a link to a file outside the folder given ({outside}), not read; "
                        f"{FOLLOW_HINT}")
        elif _is_file(entry):
            yield Found(relative, Path(entry.path), entry)
        elif (kind := special_kind(entry)) is not None:
            yield Found(relative, Path(entry.path), entry, not_regular(kind))


def not_regular(kind: str) -> str:
    return f"not a regular file ({kind}); only regular files are read"


def special_kind(entry: os.DirEntry[str] | str | Path) -> str | None:
    """What a FIFO, socket or device is called, or None for anything else (a regular file,
    a folder, a link to nothing), without opening it."""
    try:
        mode = entry.stat().st_mode if isinstance(entry, os.DirEntry) else os.stat(entry).st_mode
    except (OSError, ValueError):
        return None
    return file_kind(mode)


def file_kind(mode: int) -> str | None:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return None


def _real(path: Path) -> str | None:
    try:
        return os.path.realpath(path, strict=True)
    except (OSError, RuntimeError):
        return None


def _outside(entry: os.DirEntry[str], inside: str) -> str | None:
    """Where a symlink leads when that is outside `inside` (a resolved folder), else None."""
    try:
        if not entry.is_symlink():
            return None
    except OSError:
        return None
    target = _real(Path(entry.path))
    if target is None:  # a link to nothing, or a loop: not followed in any case
        return None
    if target == inside or target.startswith(inside.rstrip("/") + "/"):
        return None
    return target


def _listing(
    directory: Path, prefix: str, seen: set[tuple[int, int]]
) -> Iterator[tuple[str, os.DirEntry[str]]] | Found:
    try:
        stat_result = directory.stat()
        key = (stat_result.st_dev, stat_result.st_ino)
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
