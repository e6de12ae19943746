"""Batch scoring: walk folders and tables, score the items in parallel, write rows as they come.

The pieces, in the order a run uses them:
  sources()    PATHs -> posting files and tables, in a deterministic (sorted) order;
  items()      sources -> Items (a path for a worker to read, or a table row's text);
  engines      Items -> rows, in input order (`items.Scoring`): in-process, a process pool,
               or Dask (dask_engine.py);
  writers      rows -> jsonl / csv / json / table, written and flushed chunk by chunk, as scored;
  run_batch()  ties them together, with --resume, --output safety and Ctrl-C handling.

Scoring needs only the compiled scorer: nothing here imports scikit-learn, SciPy or pandas.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import json
import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

from .classifier import load_scorer
from .errors import ExitCode, RoleCliError, Terminated, UsageError
from .escape import json_text, visible
from .io.labelled import TEXT_SUFFIXES
from .io.tables import TABLE_SUFFIXES, check_table, is_table, iter_table, unbounded_fields
from .io.walk import walk_files
from .items import Item, Row, Scoring, error_row, printable, reason
from .model.scorer import Scorer

FORMATS = ("table", "csv", "jsonl", "json")
DEFAULT_PRECISION = 4  # decimals of probabilities in table and csv (JSON: every digit)
RESUMABLE_FORMATS = ("jsonl", "csv")
ENGINES = ("local", "dask")
CSV_COLUMNS = (
    "id", "status", "label", "probabilities.engineer", "probabilities.scientist",
    "confidence", "off_topic", "title.text", "title.label", "title.agrees", "error",
)
# Items per task: large enough that inter-process overhead is small next to scoring
# (~1 ms an item), small enough that a crash or Ctrl-C loses little work.
CHUNK_ITEMS = 32
# Tasks in flight per worker: keeps workers busy while bounding memory.
TASKS_PER_WORKER = 4

class Source(NamedTuple):
    """One entry of a walk: a posting file, a table to expand into rows, or an unlistable folder."""

    id: str
    path: Path
    kind: str  # "file" | "table" | "error"
    error: str | None = None
    # Table rows get "<table id>#<row id>" unless the table is the only PATH.
    prefix_rows: bool = True


@dataclass(frozen=True)
class BatchConfig:
    paths: tuple[str, ...]
    globs: tuple[str, ...] = ()
    text_column: str = "text"
    id_column: str | None = None
    title_column: str | None = None
    title: str | None = None  # one title for every item (--title)
    model: str | None = None  # resolved model directory, passed to every worker
    jobs: int = 1
    exclude: Path | None = None  # the output file, never read as an input


@dataclass
class BatchSummary:
    """What a run did; `exit_code` is the documented status of the batch."""

    rows: int = 0
    ok: int = 0
    errors: int = 0
    off_topic: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    resumed: int = 0  # rows already in the output that --resume kept
    resumed_errors: int = 0
    renamed: int = 0  # duplicate ids given a ~N suffix
    first_renamed: tuple[str, str] = ("", "")
    seconds: float = 0.0
    interrupted: bool = False  # stopped early by Ctrl-C or SIGTERM
    terminated: bool = False  # ... by SIGTERM
    titled: int = 0  # scored rows with a title that names a role
    titles_disagree: int = 0  # ... whose body confidently reads as another role

    @property
    def items_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.TERMINATED if self.terminated else ExitCode.INTERRUPTED
        if self.errors or self.resumed_errors:
            return ExitCode.BATCH_PARTIAL
        return ExitCode.OK

    def add(self, row: Row) -> None:
        self.rows += 1
        if row["status"] != "ok":
            self.errors += 1
        elif row["off_topic"]:
            self.ok += 1
            self.off_topic += 1
        else:
            self.ok += 1
            self.labels[row["label"]] += 1
        agrees = (row.get("title") or {}).get("agrees")
        self.titled += agrees is not None
        self.titles_disagree += agrees is False


class ProgressSink(Protocol):
    def start(self, total: int | None) -> None: ...

    def advance(self, rows: int) -> None: ...

    # An optional stop() clears a bar before the rows' last write (a table prints at the end).


# -- rows --------------------------------------------------------------------------------


class UniqueIds:
    """Makes every id of a run unique, in input order: the first item keeps its id, each
    later item with the same id gets the first free `id~2`, `id~3`, ... (a repeated value
    in an id column, an escaped file name equal to a real one). The same inputs give the
    same ids, so --resume finds them again. Holds every id seen, as --resume does."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.renamed = 0
        self.first: tuple[str, str] = ("", "")

    def unique(self, item_id: str) -> str:
        if item_id not in self.seen:
            self.seen.add(item_id)
            return item_id
        number = 2
        while f"{item_id}~{number}" in self.seen:
            number += 1
        renamed = f"{item_id}~{number}"
        self.seen.add(renamed)
        if not self.renamed:
            self.first = (item_id, renamed)
        self.renamed += 1
        return renamed


# -- inputs ------------------------------------------------------------------------------


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


def sources(config: BatchConfig) -> Iterator[Source]:
    """Every posting file and table under the PATHs, each folder walked in sorted order.

    Folder items' ids are POSIX paths relative to the PATH given (prefixed with that PATH
    when several are given, so ids stay unique); a file given directly keeps its path as given.
    """
    several = len(config.paths) > 1
    for raw in config.paths:
        path = Path(raw)
        if path.is_dir():
            prefix = path.as_posix().rstrip("/") + "/" if several else ""
            for source in walk(path, config.globs, config.exclude):
                yield source._replace(id=printable(prefix + source.id))
        else:
            kind = "table" if is_table(path) else "file"
            yield Source(printable(raw), path, kind, prefix_rows=several)


def walk(root: Path, globs: Sequence[str] = (), exclude: Path | None = None) -> Iterator[Source]:
    """Posting files and tables under root, by io.walk's rules (sorted, hidden entries
    skipped, symlink loops safe): files with a known suffix, filtered by the globs (on the
    name, or on the relative path if the glob has a /), never the output file `exclude`."""
    key = _file_key(exclude) if exclude is not None else None
    excluded = (exclude.name, key) if exclude is not None and key is not None else None
    for found in walk_files(root):
        if found.entry is None:
            yield Source(found.relative, found.path, "error", found.error)
        elif kind := _kind(found.entry, found.relative, globs, excluded):
            yield Source(found.relative, found.path, kind)


def _kind(
    entry: os.DirEntry[str],
    relative: str,
    globs: Sequence[str],
    excluded: tuple[str, tuple[int, int]] | None,
) -> str | None:
    """"file" or "table" for a file to score, None for one to leave out."""
    suffix = os.path.splitext(entry.name)[1].lower()
    kind = "table" if suffix in TABLE_SUFFIXES else "file" if suffix in TEXT_SUFFIXES else None
    if kind is None:
        return None
    if globs and not any(
        fnmatch.fnmatchcase(relative if "/" in g else entry.name, g) for g in globs
    ):
        return None
    # The output file (by name and inode) is never an input; stat only the candidates.
    if excluded is None or (entry.name != excluded[0] and not entry.is_symlink()):
        return kind
    return kind if _file_key(Path(entry.path)) != excluded[1] else None


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def items(
    config: BatchConfig,
    skip: Callable[[str], bool] = lambda _: False,
    ids: UniqueIds | None = None,
) -> Iterator[Item]:
    """Every item to score, table rows expanded, ids made unique; items whose (unique) id
    `skip` accepts are left out."""
    unique = (ids or UniqueIds()).unique
    for source in sources(config):
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
            yield Item(prefix + row.id, text=row.text, error=row.error,
                       title=row.title or config.title)
    except (RoleCliError, OSError, ValueError, csv.Error) as exc:
        # A table met inside a folder may not be an export of postings: one error row, go on.
        yield Item(source.id, error=reason(exc))


def count_items(config: BatchConfig) -> int | None:
    """How many items a run will see, for the progress bar; None when tables make it costly."""
    total = 0
    for source in sources(config):
        if source.kind != "table":
            total += 1
        elif source.path.suffix.lower() == ".parquet":
            try:
                import pyarrow.parquet as pq

                total += pq.ParquetFile(source.path).metadata.num_rows
            except (ImportError, OSError, ValueError):
                return None
        else:
            return None
    return total


def chunked(iterable: Iterable[Item], size: int = CHUNK_ITEMS) -> Iterator[list[Item]]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


# -- the local engine: in-process, or a process pool ---------------------------------------


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# More workers than cores only adds processes (each loads the scorer); far more is a typo.
MAX_JOBS = 1024


def worker_count(jobs: int | None) -> int:
    """--jobs as run: the cores this process may use at most; 0, negative or absurd is refused."""
    if jobs is None:
        return default_jobs()
    if jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if jobs > MAX_JOBS:
        raise UsageError(
            f"--jobs {jobs} is far more than this machine's {default_jobs()} cores "
            f"(at most {MAX_JOBS}; more than the cores is capped to them)"
        )
    return min(jobs, default_jobs())


def local_rows(
    chunks: Iterator[list[Item]], config: BatchConfig, scoring: Scoring, stop: threading.Event
) -> Iterator[list[Row]]:
    """Rows chunk by chunk, in input order; when `stop` is set, ends after what is finished."""
    head = list(islice(chunks, 2))
    if config.jobs == 1 or len(head) < 2:  # one chunk: starting processes would cost more
        for chunk in chain(head, chunks):
            yield scoring.rows(chunk)
            if stop.is_set():
                return
        return
    yield from _pool_rows(chain(head, chunks), config, stop)


_worker: Scoring | None = None


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C back while submitting, which may start worker processes.

    A worker inherits the blocked signal, so one still importing when Ctrl-C reaches the
    process group cannot die with a traceback; the parent gets the signal, delayed by at
    most this call, and stops the batch as usual. (Not SIGTERM: the executor stops its
    workers with it, and a worker dies of it quietly.)
    """
    if not hasattr(signal, "pthread_sigmask") or (
        threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _init_worker(model: str | None) -> None:
    global _worker
    # Ctrl-C reaches the whole process group: the parent decides when to stop. (A SIGTERM
    # to the group ends the workers, which the parent, stopping too, takes as the end.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    _worker = Scoring(load_scorer(model))


def _exit_with_parent() -> None:
    """Exit if the parent dies (kill -9): pool workers would otherwise wait for work forever."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="rolecli-parent-watch", daemon=True).start()


def _score_chunk(chunk: list[Item]) -> list[Row]:
    assert _worker is not None, "worker used before its initializer ran"
    return _worker.rows(chunk)


def _pool_context() -> Any:
    import multiprocessing

    # spawn, not fork: the parent may hold threads (progress bar, Dask) whose locks fork would
    # copy; and spawned workers are the parent's own children, so its rusage counts them.
    return multiprocessing.get_context("spawn")


def _pool_rows(
    chunks: Iterator[list[Item]], config: BatchConfig, stop: threading.Event
) -> Iterator[list[Row]]:
    pool = _OrderedPool(config, stop)
    window = config.jobs * TASKS_PER_WORKER
    try:
        for chunk in chunks:
            pool.submit(chunk)
            if len(pool.pending) >= window:
                yield pool.next_rows()
                if stop.is_set():
                    break
        while pool.pending and not stop.is_set():
            yield pool.next_rows()
        if stop.is_set():
            yield from pool.finished()
    finally:
        pool.executor.shutdown(wait=True, cancel_futures=True)


class WorkerError(RoleCliError):
    exit_code = ExitCode.BATCH_PARTIAL


class _OrderedPool:
    """Chunks scored by worker processes, results taken in submission order.

    A worker that dies (out of memory, a crash inside a parser) breaks the whole executor:
    a new one is started, the chunk whose result was due is scored again item by item
    with nothing else running, so that an item that kills a worker again is the one to
    blame (it gets an error row), and the other lost chunks are submitted again.
    """

    MAX_FAILED_STARTS = 3  # deaths in a row with no result between: workers cannot run

    def __init__(self, config: BatchConfig, stop: threading.Event | None = None) -> None:
        self.config = config
        self.stop = stop or threading.Event()
        self.executor = self._start()
        self.pending: deque[tuple[Future[list[Row]], list[Item]]] = deque()
        self.deaths_in_a_row = 0

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.config.jobs, mp_context=_pool_context(), initializer=_init_worker,
            initargs=(self.config.model,),
        )

    def submit(self, chunk: list[Item]) -> None:
        with _sigint_held():
            try:
                future = self.executor.submit(_score_chunk, chunk)
            except BrokenProcessPool as exc:
                # A worker died since the last result: the chunk fails like those in flight,
                # and next_rows() restarts the pool when it comes due.
                future = Future()
                future.set_exception(exc)
        self.pending.append((future, chunk))

    def next_rows(self) -> list[Row]:
        future, chunk = self.pending.popleft()
        try:
            rows = future.result()
        except BrokenProcessPool:
            if self.stop.is_set():
                # The workers died with the batch stopping (a SIGTERM to the whole group):
                # what is written so far stays a prefix; --resume scores the rest.
                self.pending.clear()
                return []
            rows = self._one_by_one(chunk)
            lost, self.pending = self.pending, deque()
            for _, again in lost:
                self.submit(again)
            return rows
        self.deaths_in_a_row = 0
        return rows

    def _one_by_one(self, chunk: list[Item]) -> list[Row]:
        self._restart()
        rows = []
        for item in chunk:
            try:
                with _sigint_held():
                    future = self.executor.submit(_score_chunk, [item])
                rows.extend(future.result())
                self.deaths_in_a_row = 0
            except BrokenProcessPool:
                rows.append(error_row(item.id, "the worker process scoring it died "
                                               "(out of memory, or a crash while reading it)"))
                self._restart()
        return rows

    def _restart(self) -> None:
        self.deaths_in_a_row += 1
        if self.deaths_in_a_row > self.MAX_FAILED_STARTS:
            raise WorkerError(
                "worker processes keep dying before they score anything; the rows so far "
                "are written (rerun with --resume, or --jobs 1 to see why)"
            )
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = self._start()

    def finished(self) -> Iterator[list[Row]]:
        """After a stop: let running chunks finish, drop queued ones, yield the finished prefix."""
        self.executor.shutdown(wait=True, cancel_futures=True)
        while self.pending:
            future, _ = self.pending[0]
            if not future.done() or future.cancelled() or future.exception() is not None:
                return
            self.pending.popleft()
            yield future.result()


class Stop(threading.Event):
    """Set when the batch should stop after the rows in hand; `terminated` if by SIGTERM."""

    terminated = False


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_interrupt() -> Iterator[Stop]:
    """The first Ctrl-C or SIGTERM asks the batch to stop after the rows in hand (they are
    written and summarised); a second stops at once."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt
        stop.terminated = signum == signal.SIGTERM
        stop.set()

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for signum, action in previous.items():
            signal.signal(signum, action)


# -- writers -----------------------------------------------------------------------------


class OutputError(RoleCliError):
    """The output file cannot be written (disk full, quota): the rows before are whole."""

    exit_code = ExitCode.USAGE


class Output:
    """Where the text of rows goes: a stream, flushed after each write.

    `tail` is text that ends the document (a JSON array's bracket), written at close().
    """

    def __init__(self, stream: IO[str], tail: str = "") -> None:
        self.stream = stream
        self.tail = tail
        # Rows shown on a terminal get control characters made visible (as `ls` does);
        # into a pipe or file they go exact.
        self.terminal = _isatty(stream)

    def write(self, text: str) -> None:
        if self.terminal:
            text = "\n".join(map(visible, text.split("\n")))
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        self.stream.write(self.tail)
        self.stream.flush()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class FileOutput(Output):
    """An --output file, written unbuffered with one write per batch of rows, ending with
    `tail` after every write, so that it is a valid document whenever the program stops.

    When a write fails (a full disk), the file is cut back to the end of the last write
    and its tail, so it stays valid and --resume can carry on from it once there is room.
    """

    def __init__(self, path: Path, file: IO[bytes], resumable: bool, tail: str = "") -> None:
        self.path = path
        self.resumable = resumable
        self.tail = tail
        self.closing = tail.encode("utf-8")
        self.file = file  # unbuffered, locked, positioned after the rows to keep
        self.body = self.file.seek(0, os.SEEK_END)  # where the rows end and the tail begins

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        try:
            self._write_at(self.body, data + self.closing)
        except OSError as exc:
            self.file.truncate(self.body)
            with suppress(OSError):  # it fitted before this row
                self._write_at(self.body, self.closing)
            hint = "rerun with --resume when there is room" if self.resumable else "rerun it"
            raise OutputError(
                f"cannot write {self.path} ({exc.strerror or exc}); it ends with the last "
                f"whole row: {hint}"
            ) from None
        self.body += len(data)

    def _write_at(self, offset: int, data: bytes) -> None:
        self.file.seek(offset)
        view = memoryview(data)
        while view:  # a write to a nearly full disk may take only part of the bytes
            view = view[self.file.write(view) or 0 :]

    def close(self) -> None:
        self.file.close()


class RowWriter:
    """Writes rows in one format; `close()` finishes the document and closes the output."""

    def __init__(self, out: Output) -> None:
        self.out = out

    def write(self, rows: Sequence[Row]) -> None:
        """Rows as they come (a chunk's worth): one write, so the output gets all or none."""
        self.out.write("".join(map(self.text, rows)))

    def text(self, row: Row) -> str:
        raise NotImplementedError

    def close(self) -> None:
        self.out.close()


class JsonlWriter(RowWriter):
    def text(self, row: Row) -> str:
        return json_text(row) + "\n"


class CsvWriter(RowWriter):
    def __init__(self, out: Output, header: bool = True,
                 precision: int = DEFAULT_PRECISION) -> None:
        super().__init__(out)
        self.precision = precision
        self.line = io.StringIO()
        self.csv = csv.writer(self.line, lineterminator="\n")
        if header:
            out.write(self._record(CSV_COLUMNS))

    def text(self, row: Row) -> str:
        return self._record(csv_fields(row, self.precision))

    def _record(self, fields: Sequence[str]) -> str:
        self.line.seek(0)
        self.line.truncate()
        self.csv.writerow(fields)
        return self.line.getvalue()


class JsonWriter(RowWriter):
    """A JSON array, element by element; the output supplies the closing bracket (JSON_TAIL)."""

    def __init__(self, out: Output) -> None:
        super().__init__(out)
        self.first = True
        out.write("[")

    def text(self, row: Row) -> str:
        separator = "\n" if self.first else ",\n"
        self.first = False
        return separator + json_text(row)


JSON_TAIL = "\n]\n"


class TableWriter(RowWriter):
    """A Rich table for people: it needs every row to size its columns, so it prints at close()."""

    def __init__(self, out: Output, precision: int = DEFAULT_PRECISION) -> None:
        super().__init__(out)
        self.precision = precision
        self.rows: list[tuple[str, ...]] = []

    def write(self, rows: Sequence[Row]) -> None:
        for row in rows:
            p = row["probabilities"]
            label = "off-topic" if row["off_topic"] else row["label"]
            self.rows.append((
                row["id"], row["status"], label or "",
                f"{p['scientist']:.{self.precision}f}" if p else "",
                f"{row['confidence']:.{self.precision}f}" if row["confidence"] is not None
                else "",
                _title_cell(row.get("title")),
                row["error"] or "",
            ))

    def close(self) -> None:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from .render.terminal import literal

        table = Table(show_edge=False, pad_edge=False)
        columns = ["id", "status", "label", "P(scientist)", "confidence", "title"]
        # Error reasons are listed under the table, one a line: a column of them would
        # squeeze the ids into folding mid-word at 80 columns.
        errors = [values[6] for values in self.rows if values[6]]
        self.rows = [values[:6] for values in self.rows]
        if not any(values[5] for values in self.rows):  # no title disagrees: no column
            columns.remove("title")
            self.rows = [values[:5] for values in self.rows]
        for column in columns:
            table.add_column(
                column,
                justify="right" if column in ("P(scientist)", "confidence") else "left",
                overflow="fold", no_wrap=column != "id",
            )
        for values in self.rows:  # ids and reasons come from outside: shown literally
            table.add_row(*map(literal, values), style="red" if values[1] == "error" else None)
        rendered: list[Any] = [table]
        if errors:
            rendered.append(Text("\nerrors:"))
            rendered += [literal("  " + reason, style="red") for reason in errors]
        # A terminal gets colour and its width; a file or pipe gets plain text.
        target = self.out.stream if type(self.out) is Output else io.StringIO()
        Console(file=target, highlight=False, soft_wrap=False).print(*rendered)
        if isinstance(target, io.StringIO):
            self.out.write(target.getvalue())
        super().close()


def _title_cell(title: dict[str, Any] | None) -> str:
    """A title the body disagrees with, by its label ("scientist: disagrees"); else nothing."""
    if not title or title["agrees"] is not False:
        return ""
    return f"{title['label']}: disagrees"


def csv_fields(row: Row, precision: int = DEFAULT_PRECISION) -> list[str]:
    p = row["probabilities"] or {}
    title = row.get("title") or {}
    values = (
        row["id"], row["status"], row["label"], p.get("engineer"), p.get("scientist"),
        row["confidence"], row["off_topic"], title.get("text"), title.get("label"),
        title.get("agrees"), row["error"],
    )
    return [_csv_value(v, precision) for v in values]


def _csv_value(value: Any, precision: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # Fixed decimals: never 16 digits, never `1.6e-05`.
    return f"{value:.{precision}f}" if isinstance(value, float) else str(value)


def make_writer(format: str, out: Output, header: bool = True,
                precision: int = DEFAULT_PRECISION) -> RowWriter:
    if format == "jsonl":
        return JsonlWriter(out)
    if format == "csv":
        return CsvWriter(out, header, precision)
    if format == "json":
        return JsonWriter(out)
    if format == "table":
        return TableWriter(out, precision)
    raise UsageError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")


def format_for(output: Path | None, stream_is_terminal: bool) -> str:
    """The default --format: from the output's suffix, else table on a terminal, else jsonl."""
    if output is not None:
        suffix = output.suffix.lower().lstrip(".")
        return suffix if suffix in FORMATS else "jsonl"
    return "table" if stream_is_terminal else "jsonl"


# -- --output and --resume -----------------------------------------------------------------


@dataclass
class Resumed:
    """Rows already in an output file that --resume keeps."""

    ids: set[str] = field(default_factory=set)
    errors: int = 0
    has_header: bool = False


RUN_RECORD_SUFFIX = ".rolecli-run.json"
RUN_RECORD_VERSION = 1


def run_record_path(output: Path) -> Path:
    """Beside each --output file: which model scored it, for which inputs (for --resume)."""
    return output.with_name(output.name + RUN_RECORD_SUFFIX)


def run_record(config: BatchConfig, scorer: Scorer, format: str) -> dict[str, Any]:
    """What --resume must find unchanged: the model, the inputs as given, and the options
    that decide which items there are and what their ids are."""
    inputs = {
        "paths": [os.path.abspath(p) for p in config.paths], "globs": list(config.globs),
        "text_column": config.text_column, "id_column": config.id_column,
    }
    return {
        "rolecli_batch_run": RUN_RECORD_VERSION, "format": format,
        "model": {"id": scorer.model_id, "sha256": scorer.sha256},
        "inputs": inputs,
        "inputs_sha256": hashlib.sha256(json_text(inputs).encode("utf-8")).hexdigest(),
    }


def open_output(
    output: Path, format: str, resume: bool, force: bool, record: dict[str, Any] | None = None,
    precision: int = DEFAULT_PRECISION,
) -> tuple[RowWriter, Resumed]:
    """A writer appending to (--resume), replacing (--force) or creating the output file.

    The file is locked (exclusively, for as long as the writer is open) before it is read
    or cut, so two runs can never write the same output. `record` (run_record) is kept
    beside a resumable output; --resume refuses an output whose record differs.
    """
    if resume and force:
        raise UsageError("--resume and --force contradict each other: pick one")
    if output.is_dir():
        raise UsageError(f"--output {output} is a directory; name a file")
    resumable = format in RESUMABLE_FORMATS
    if resume and not resumable:
        raise UsageError(
            f"--resume needs --format jsonl or csv (a {format} output cannot be appended to)"
        )
    if not resume and not force and output.exists():
        raise UsageError(
            f"{output} exists; add --resume to score only what it lacks, or --force to overwrite it"
        )
    file = _locked(output)
    try:
        resumed = Resumed()
        if resume and os.fstat(file.fileno()).st_size:
            _check_record(output, record)
            resumed = read_resumable(file, output, format)
        else:
            file.truncate(0)
            if resumable and record is not None:
                _write_record(output, record)
        file.seek(0, os.SEEK_END)
        out = FileOutput(output, file, resumable, tail=JSON_TAIL if format == "json" else "")
        return make_writer(format, out, header=not resumed.has_header,
                           precision=precision), resumed
    except BaseException:
        file.close()
        raise


def _locked(output: Path) -> IO[bytes]:
    """The output opened for reading and writing (created if need be) and exclusively locked."""
    import fcntl

    try:
        # Not O_APPEND: a json output's writer rewrites its closing bracket in place.
        fd = os.open(output, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise UsageError(f"cannot write {output} ({exc.strerror or exc})") from None
    file = os.fdopen(fd, "r+b", buffering=0)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        file.close()
        raise UsageError(
            f"{output} is being written by another rolecli batch (it holds the file's lock); "
            "wait for that run to finish, or choose another --output"
        ) from None
    return file


def _check_record(output: Path, record: dict[str, Any] | None) -> None:
    if record is None:
        return
    path = run_record_path(output)
    hint = "resume with the same model, PATHs and options, or use --force to start over"
    if path.exists() and not path.is_file():  # a FIFO would block, a device flood
        raise UsageError(
            f"{path}: cannot resume: the run record is not a regular file; "
            "use --force to start over"
        )
    try:
        found = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(
            f"{output}: cannot resume: no record of the run that wrote it ({path.name} is "
            f"missing), so its model and inputs cannot be checked; use --force to start over"
        ) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(
            f"{path}: cannot resume: unreadable run record ({type(exc).__name__}); "
            "use --force to start over"
        ) from None
    if not isinstance(found, dict):
        found = {}
    if found.get("format") != record["format"]:
        raise UsageError(
            f"{output}: cannot resume: it was written as {found.get('format')!r}, this run "
            f"writes {record['format']!r}; {hint}"
        )
    model: dict[str, Any] = found["model"] if isinstance(found.get("model"), dict) else {}
    if model.get("sha256") != record["model"]["sha256"]:
        raise UsageError(
            f"{output}: cannot resume: it was scored by model {model.get('id')!r}, this run "
            f"uses {record['model']['id']!r}; pass that model with --model, or use --force "
            "to start over"
        )
    if found.get("inputs_sha256") != record["inputs_sha256"]:
        raise UsageError(
            f"{output}: cannot resume: it was written for other inputs or options "
            f"({_describe_inputs(found.get('inputs'))}); {hint}"
        )


def _describe_inputs(inputs: Any) -> str:
    if not isinstance(inputs, dict) or not isinstance(inputs.get("paths"), list):
        return "unknown"
    paths = ", ".join(map(str, inputs["paths"][:3]))
    return paths + (", ..." if len(inputs["paths"]) > 3 else "")


def _write_record(output: Path, record: dict[str, Any]) -> None:
    path = run_record_path(output)
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json_text(record) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path} ({exc.strerror or exc})") from None


def read_resumable(handle: IO[bytes], output: Path, format: str) -> Resumed:
    """The ids of the complete rows of an earlier run's output; a torn last row is cut off.

    The file is read record by record: only the ids are kept in memory.
    """
    handle.seek(0)
    size = os.fstat(handle.fileno()).st_size
    resumed = Resumed()
    end = 0
    records = _records(handle, quoted=format == "csv")
    for number, (record, record_end) in enumerate(records, start=1):
        row = _parse_record(record, format)
        if row is None:
            if record_end < size:  # damage before the last row is not a crash
                raise UsageError(
                    f"{output}: record {number} is not a rolecli batch {format} row; "
                    "cannot resume (use --force to start over)"
                )
            break
        if isinstance(row, str):  # the csv header
            resumed.has_header = True
        else:
            resumed.ids.add(row["id"])
            resumed.errors += row["status"] == "error"
        end = record_end
    if end < size:
        handle.truncate(end)
    return resumed


def _records(handle: IO[bytes], quoted: bool) -> Iterator[tuple[bytes, int]]:
    """(record, offset of its end) for each newline-ended record, and a last unended one.

    With `quoted`, a newline inside a quoted CSV field does not end the record: the csv
    module doubles quotes inside fields, so a record is complete when its quotes pair up.
    """
    offset = 0
    record = b""
    for line in handle:
        record += line
        if quoted and record.count(b'"') % 2 and line.endswith(b"\n"):
            continue
        offset += len(record)
        yield record, offset
        record = b""
    if record:
        yield record, offset + len(record)


def _parse_record(record: bytes, format: str) -> Row | str | None:
    """The row (or "header") a complete record holds; None for a torn or foreign one."""
    if not record.endswith(b"\n"):
        return None
    try:
        text = record.decode("utf-8")
        if format == "jsonl":
            row = json.loads(text)
            # Valid JSON is not yet a row: it must be an object with a text id and a status.
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                return None
            return row if row.get("status") in ("ok", "error") else None
        with unbounded_fields():
            fields = next(csv.reader(io.StringIO(text)))
    # ValueError: bad JSON, or an integer of thousands of digits; RecursionError: nesting.
    except (UnicodeDecodeError, ValueError, RecursionError, StopIteration, csv.Error):
        return None
    if tuple(fields) == CSV_COLUMNS:
        return "header"
    if len(fields) != len(CSV_COLUMNS) or fields[1] not in ("ok", "error"):
        return None
    return {"id": fields[0], "status": fields[1]}


# -- the run ------------------------------------------------------------------------------


def run_batch(
    paths: Sequence[str | Path],
    *,
    format: str = "jsonl",
    output: Path | None = None,
    stream: IO[str] | None = None,
    resume: bool = False,
    force: bool = False,
    jobs: int | None = None,
    globs: Sequence[str] = (),
    text_column: str = "text",
    id_column: str | None = None,
    title_column: str | None = None,
    title: str | None = None,
    model: str | Path | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    progress: ProgressSink | None = None,
    precision: int = DEFAULT_PRECISION,
) -> BatchSummary:
    """Score every item under `paths`, writing one row per item to `output` (or `stream`).

    `precision`: decimals of probabilities and confidence in table and csv rows; JSON and
    JSONL keep every digit.

    Raises UsageError / ModelError before writing anything; per-item failures become
    error rows. On Ctrl-C or SIGTERM it returns early (summary.interrupted, .terminated)
    with every finished row written. With jobs > 1 the workers are spawned processes, which
    import the caller's main module: a script calling this needs the usual
    `if __name__ == "__main__":` guard.
    """
    workers = worker_count(jobs)
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if format not in FORMATS:
        raise UsageError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if output is None and (resume or force):
        raise UsageError("--resume and --force apply to an --output file")
    scorer = load_scorer(model)  # a broken model fails now, before any output
    scorer.build_index()
    config = BatchConfig(
        paths=tuple(str(p) for p in paths), globs=tuple(globs), text_column=text_column,
        id_column=id_column, title_column=title_column, title=title,
        model=str(scorer.directory), jobs=workers, exclude=output,
    )
    check_inputs(config)
    if engine == "dask":
        from .dask_engine import require_dask

        require_dask()
    if output is not None:
        _refuse_input_as_output(config, output)
        record = run_record(config, scorer, format)
        writer, resumed = open_output(output, format, resume, force, record, precision)
    else:
        out = Output(stream or sys.stdout, tail=JSON_TAIL if format == "json" else "")
        writer, resumed = make_writer(format, out, precision=precision), Resumed()
    summary = BatchSummary(resumed=len(resumed.ids), resumed_errors=resumed.errors)
    if progress is not None:
        total = count_items(config)
        progress.start(None if total is None else max(0, total - len(resumed.ids)))
    done = resumed.ids.__contains__
    ids = UniqueIds()
    started = time.perf_counter()
    try:
        with stop_on_interrupt() as stop:
            if engine == "dask":
                from .dask_engine import dask_rows

                batches = dask_rows(items(config, done, ids), config.model, config.jobs, stop,
                                    scheduler)
            else:
                batches = local_rows(
                    chunked(items(config, done, ids)), config, Scoring(scorer), stop
                )
            for rows in batches:
                writer.write(rows)
                for row in rows:
                    summary.add(row)
                if progress is not None:
                    progress.advance(len(rows))
            summary.interrupted = stop.is_set()
            summary.terminated = stop.terminated
    finally:
        summary.seconds = time.perf_counter() - started
        summary.renamed, summary.first_renamed = ids.renamed, ids.first
        stop_progress = getattr(progress, "stop", None)  # a sink may have no bar to clear
        if stop_progress is not None:
            stop_progress()
        writer.close()
    return summary


def stdin_paths(data: bytes, folder: Path) -> tuple[list[str], str | None]:
    """What `rolecli batch -` read: a JSONL stream of postings (first non-blank character
    `{`), kept as FOLDER/stdin.jsonl, with "id" as the id column when the rows have one;
    else a list of paths, one per line. Returns (paths, id column)."""
    text = data.decode("utf-8", "replace")
    if text.lstrip()[:1] == "{":
        table = folder / "stdin.jsonl"
        table.write_bytes(data)
        first = text.lstrip().split("\n", 1)[0]
        try:
            has_id = isinstance(json.loads(first), dict) and "id" in json.loads(first)
        except ValueError:
            has_id = False
        return [str(table)], "id" if has_id else None
    paths = [line.strip() for line in text.splitlines() if line.strip()]
    if not paths:
        raise UsageError("batch -: stdin held no paths and no JSONL postings")
    return paths, None


def _refuse_input_as_output(config: BatchConfig, output: Path) -> None:
    """--output naming one of the inputs would destroy (--force) or grow (--resume) it."""
    if not output.exists():
        return
    for raw in config.paths:
        with suppress(OSError):
            if os.path.samefile(raw, output):
                raise UsageError(
                    f"--output {output} is one of the inputs ({raw}); name another file"
                )
