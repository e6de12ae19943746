"""PATH arguments -> sources -> items: what a batch scores, in a deterministic order.

Folders are walked by `io.walk` (the one folder walk), tables expanded by `io.tables`;
every item gets a unique id, the same for the same inputs, so --resume finds it again.
"""

from __future__ import annotations

import csv
import fnmatch
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

from ..errors import InputError, RoleCliError, UsageError
from ..io.labelled import TEXT_SUFFIXES
from ..io.tables import (
    TABLE_SUFFIXES,
    TableRow,
    check_table,
    count_rows,
    is_table,
    iter_table,
)
from ..io.walk import file_kind, not_regular, walk_files
from .config import BatchConfig
from .items import Item, printable, reason


class Source(NamedTuple):
    """One entry of a walk: a posting file, a table to expand into rows, or an unlistable folder."""

    id: str
    path: Path
    kind: str  # "file" | "table" | "error"
    error: str | None = None
    # Table rows get "<table id>#<row id>" unless the table is the only PATH.
    prefix_rows: bool = True


class UniqueIds:
    """Makes every id of a run unique, in input order: the first item keeps its id, each
    later item with the same id gets the first free `id~2`, `id~3`, ... (a repeated value
    in an id column, an escaped file name equal to a real one). The same inputs give the
    same ids, so --resume finds them again. Holds every id seen, as --resume does."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        # Where the search for an id's next free suffix starts: ids are never freed, so the
        # first free one is never below the last given (10,000 equal ids once took minutes).
        self.next: dict[str, int] = {}
        self.renamed = 0
        self.first: tuple[str, str] = ("", "")

    def unique(self, item_id: str) -> str:
        if item_id not in self.seen:
            self.seen.add(item_id)
            return item_id
        number = self.next.get(item_id, 2)
        while f"{item_id}~{number}" in self.seen:
            number += 1
        self.next[item_id] = number + 1
        renamed = f"{item_id}~{number}"
        self.seen.add(renamed)
        if not self.renamed:
            self.first = (item_id, renamed)
        self.renamed += 1
        return renamed


def check_inputs(config: BatchConfig) -> None:
    """Usage errors (missing PATH, table without the text column) before anything is written."""
    if not config.paths:
        raise UsageError("no PATH given: name folders, posting files or tables to score")
    for raw in config.paths:
        path = Path(raw)
        if not path.exists():
            raise UsageError(f"no such file or directory: {raw}")
        if path.is_file() and is_table(path):
            check_table(path, config.text_column, config.id_column, config.title_column)


def sources(config: BatchConfig, exclude: Path | None = None) -> Iterator[Source]:
    """Every posting file and table under the PATHs, each folder walked in sorted order;
    never the file `exclude` (the output, by identity: a link to it is left out too).

    Folder items' ids are POSIX paths relative to the PATH given (prefixed with that PATH
    when several are given, so ids stay unique); a file given directly keeps its path as given.
    A PATH or folder entry that is no regular file (a FIFO, a device) is an error source.
    """
    several = len(config.paths) > 1
    excluded = file_key(exclude) if exclude is not None else None
    for raw in config.paths:
        path = Path(raw)
        if path.is_dir():
            prefix = path.as_posix().rstrip("/") + "/" if several else ""
            for source in walk(path, config.globs, excluded, config.follow_links):
                yield source._replace(id=printable(prefix + source.id))
        else:
            kind = "table" if is_table(path) else "file"
            special = _special(path)
            yield Source(printable(raw), path, "error" if special else kind,
                         not_regular(special) if special else None, prefix_rows=several)


def walk(root: Path, globs: Sequence[str] = (), excluded: tuple[int, int] | None = None,
         follow_links: bool = False) -> Iterator[Source]:
    """Posting files and tables under root, by io.walk's rules (sorted, hidden entries
    skipped, symlink loops safe, links out of root not followed): files with a known suffix,
    filtered by the globs (on the name, or on the relative path if the glob has a /), never
    the file whose (device, inode) is `excluded`. An entry that must not be read (a FIFO, a
    link out of root) and passes those filters is an error source, as is an unlistable folder."""
    for found in walk_files(root, follow_links):
        if found.entry is None:
            yield Source(found.relative, found.path, "error", found.error)
        elif kind := _kind(found.entry, found.relative, globs, excluded):
            yield Source(found.relative, found.path, "error" if found.error else kind,
                         found.error)


# A folder's own documents (README.md, LICENSE.txt...) describe the folder; they are not
# postings. Found inside a folder they are left out; named as a PATH they are scored.
FOLDER_DOCUMENTS = frozenset({
    "readme", "license", "licence", "changelog", "contributing", "notice", "authors",
    "copying", "code_of_conduct", "security",
})


def _kind(
    entry: os.DirEntry[str],
    relative: str,
    globs: Sequence[str],
    excluded: tuple[int, int] | None,
) -> str | None:
    """"file" or "table" for a file to score, None for one to leave out."""
    stem, suffix = os.path.splitext(entry.name)
    suffix = suffix.lower()
    kind = "table" if suffix in TABLE_SUFFIXES else "file" if suffix in TEXT_SUFFIXES else None
    if kind is None or (kind == "file" and stem.lower() in FOLDER_DOCUMENTS):
        return None
    if globs and not any(
        fnmatch.fnmatchcase(relative if "/" in g else entry.name, g) for g in globs
    ):
        return None
    # The output file (by device and inode, so under any name) is never an input. The
    # inode of a plain entry is known without a system call; only a match, or a link, is stat'ed.
    if excluded is None:
        return kind
    try:
        if not entry.is_symlink() and entry.inode() != excluded[1]:
            return kind
    except OSError:
        return kind
    return kind if file_key(Path(entry.path)) != excluded else None


def file_key(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file a path leads to; None when it leads nowhere."""
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    return (stat.st_dev, stat.st_ino)


def _special(path: Path) -> str | None:
    try:
        return file_kind(path.stat().st_mode)
    except (OSError, ValueError):
        return None


def input_named_by(config: BatchConfig, key: tuple[int, int]) -> str | None:
    """The input (a PATH, or PATH/relative inside a folder) that is the file with this
    (device, inode), if batch would read it; None when no input is. By identity, so a link
    or a hard link to an input is found whatever its name."""
    for raw in config.paths:
        path = Path(raw)
        if not path.is_dir():
            if file_key(path) == key:
                return raw
            continue
        for found in walk_files(path, config.follow_links):
            entry = found.entry
            if entry is None or found.error is not None or \
                    not _kind(entry, found.relative, config.globs, None):
                continue
            try:
                maybe = entry.is_symlink() or entry.inode() == key[1]
            except OSError:
                maybe = True
            if maybe and file_key(found.path) == key:
                return f"{path.as_posix().rstrip('/')}/{found.relative}"
    return None


def items(
    config: BatchConfig,
    skip: Callable[[str], bool] = lambda _: False,
    ids: UniqueIds | None = None,
) -> Iterator[Item]:
    """Every item to score, table rows expanded, ids made unique; items whose (unique) id
    `skip` accepts are left out."""
    unique = (ids or UniqueIds()).unique
    for source in sources(config, config.exclude):
        found = (
            table_items(source, config) if source.kind == "table"
            else (Item(source.id, path=str(source.path), error=source.error,
                       title=config.title),)
        )
        for item in found:
            item_id = unique(item.id)
            if not skip(item_id):
                yield item if item_id == item.id else item._replace(id=item_id)


def table_items(source: Source, config: BatchConfig) -> Iterator[Item]:
    prefix = source.id + "#" if source.prefix_rows else ""
    try:
        for row in iter_table(
            source.path, config.text_column, config.id_column, config.title_column
        ):
            yield row_item(row, prefix, config.title, config.title_column is not None)
    except (RoleCliError, OSError, ValueError, csv.Error) as exc:
        # A table met inside a folder may not be an export of postings: one error row, go on.
        yield Item(source.id, error=reason(exc))


def row_item(row: TableRow, prefix: str = "", title: str | None = None,
             title_column: bool = False) -> Item:
    """A table row as an Item. Options override fields: --title over a row's "title" field;
    a --title-column cell over --title, which stands in where the cell is empty."""
    given = (row.title or title) if title_column else (title or row.title)
    return Item(prefix + row.id, text=row.text, error=row.error, title=given)


def count_items(config: BatchConfig) -> int | None:
    """How many items a run will see, for the progress bar's total and ETA; None when a
    table cannot be counted without reading it."""
    total = 0
    for source in sources(config, config.exclude):
        if source.kind != "table":
            total += 1
        elif (rows := count_rows(source.path)) is None:
            return None
        else:
            total += rows
    return total


# `batch -` spools its stdin to a file, never holding it in memory; past this it is refused.
STDIN_LIMIT = 512 * 1024 * 1024
# A line of a path list longer than this (Linux's PATH_MAX) is no path.
MAX_PATH_BYTES = 4096
_SPOOL_BLOCK = 1 << 20


def stdin_paths(stream: BinaryIO, folder: Path) -> list[str]:
    """What `rolecli batch -` reads: a JSONL stream of postings (first non-blank character
    `{`), kept as FOLDER/stdin.jsonl and read as any JSONL file is; else a list of paths,
    one per line, each checked as it is read (a line that is no path stops the run at
    once)."""
    spool = folder / "stdin"
    size = 0
    first = b""
    with spool.open("wb") as out:
        while block := stream.read(_SPOOL_BLOCK):
            size += len(block)
            if size > STDIN_LIMIT:
                raise InputError(f"stdin: larger than {STDIN_LIMIT >> 20} MiB; save it to a "
                                 "file and give its path")
            first = first or block.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
            out.write(block)
    if first == b"{":
        return [str(spool.rename(folder / "stdin.jsonl"))]
    paths = _path_list(spool)
    if not paths:
        raise UsageError("batch -: stdin held no paths and no JSONL postings")
    return paths


def _path_list(spool: Path) -> list[str]:
    paths = []
    with spool.open("rb") as handle:
        number = 0
        while line := handle.readline(MAX_PATH_BYTES + 2):
            number += 1
            if len(line) > MAX_PATH_BYTES + 1 or b"\0" in line:
                raise UsageError(
                    f"batch -: line {number} of stdin is no path ("
                    + ("longer than any path" if b"\0" not in line else "it holds a NUL byte")
                    + "); give paths one a line, or JSONL postings"
                )
            name = line.strip()
            if not name:
                continue
            path = os.fsdecode(name)  # a name's undecodable bytes are kept, as the shell does
            if not os.path.lexists(path):
                raise UsageError(f"no such file or directory: {printable(path)}")
            paths.append(path)
    return paths
