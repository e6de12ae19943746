"""run_batch: score every item under the PATHs and write its row, as scored.

It ties the parts together: sources.items() for what to score, an engine from
`engines.ENGINES` for where, a writer for how rows are written, resume.open_output for the
--output file and --resume, and the Ctrl-C / SIGTERM handling that stops a run cleanly.
Scoring needs only the compiled scorer: nothing here imports scikit-learn, SciPy or pandas.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import IO, Protocol

from ..errors import ExitCode, Terminated, UsageError
from ..tasks.classify import load_scorer
from .config import BatchConfig
from .engines import engine as find_engine
from .engines.local import worker_count
from .items import Item, Row, Scoring
from .resume import Resumed, open_output, refuse_input_as_output, run_record
from .sources import UniqueIds, check_inputs, count_items, items
from .writers import (
    DEFAULT_PRECISION,
    JSON_TAIL,
    WRITERS,
    Output,
    WriterFactory,
    is_stream,
    stream_output,
)


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
    title_grades: Counter[str] = field(default_factory=Counter)  # agrees, leans, contradicts
    repairs: list[str] = field(default_factory=list)  # what --resume repaired in the output

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
        grade = (row.get("title") or {}).get("grade")
        if grade is not None:
            self.titled += 1
            self.title_grades[grade] += 1


class ProgressSink(Protocol):
    def start(self, total: int | None) -> None: ...

    def advance(self, rows: int) -> None: ...

    # An optional stop() clears a bar before the rows' last write (a table prints at the end).


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



def chunked(iterable: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


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
    writers: Mapping[str, WriterFactory] = WRITERS,
    raw_cells: bool = False,
    follow_links: bool = False,
) -> BatchSummary:
    """Score every item under `paths`, writing one row per item to `output` (or `stream`).

    `precision`: decimals of probabilities and confidence in table and csv rows; JSON and
    JSONL keep every digit. `writers`: the formats, by name (the CLI adds its table).
    `raw_cells`: csv cells exactly as they are, even those a spreadsheet would run as
    formulas (by default those get a leading '). `follow_links`: follow symlinks that lead
    out of the folders given (by default they are error rows).

    Raises UsageError / ModelError before writing anything; per-item failures become
    error rows. On Ctrl-C or SIGTERM it returns early (summary.interrupted, .terminated)
    with every finished row written. With jobs > 1 the workers are spawned processes, which
    import the caller's main module: a script calling this needs the usual
    `if __name__ == "__main__":` guard.
    """
    workers = worker_count(jobs)
    scoring_engine = find_engine(engine)
    if format not in writers:
        raise UsageError(f"unknown format {format!r}; choose one of {', '.join(writers)}")
    if output is None and (resume or force):
        raise UsageError("resume and force apply to an output file",
                         cli_message="--resume and --force apply to an --output file")
    streamed = output is not None and is_stream(output)
    if streamed and resume:
        streamed_as = (f"{output} is a stream (a device, a pipe or /dev/stdout), written as "
                       "stdout is: there is nothing to resume")
        raise UsageError(f"output {streamed_as}", cli_message=f"--output {streamed_as}")
    check_writer = getattr(writers[format], "check", None)
    if check_writer is not None:
        check_writer()  # a missing extra is said now, before any output is opened
    scorer = load_scorer(model)  # a broken model fails now, before any output
    scorer.build_index()
    config = BatchConfig(
        paths=tuple(str(p) for p in paths), globs=tuple(globs), text_column=text_column,
        id_column=id_column, title_column=title_column, title=title,
        model=str(scorer.directory), jobs=workers, jobs_auto=jobs is None, exclude=output,
        scheduler=scheduler, follow_links=follow_links,
    )
    check_inputs(config)
    scoring_engine.check(config)
    if raw_cells and "csv" in writers:
        writers = {**writers, "csv": partial(writers["csv"], raw_cells=True)}  # type: ignore[call-arg]
    tail = JSON_TAIL if format == "json" else ""
    if output is not None and not streamed:
        refuse_input_as_output(config, output)
        record = run_record(config, scorer, format, raw_cells)
        writer, resumed = open_output(
            output, format, resume, force, record, precision, writers,
            input_ids=lambda: (item.id for item in items(config)),
        )
    else:
        out = stream_output(output, tail) if output is not None else Output(
            stream or sys.stdout, tail)
        if getattr(writers[format], "binary", False) and out.terminal:
            raise UsageError(f"{format} is binary, not for a terminal",
                             "give --output FILE, or send stdout to a file or a pipe",
                             join=": ")
        writer, resumed = writers[format](out, True, precision), Resumed()
    summary = BatchSummary(resumed=len(resumed.ids), resumed_errors=resumed.errors,
                           repairs=resumed.repairs)
    if progress is not None:
        total = count_items(config)
        progress.start(None if total is None else max(0, total - len(resumed.ids)))
    done = resumed.has
    ids = UniqueIds()
    started = time.perf_counter()
    try:
        with stop_on_interrupt() as stop:
            batches = scoring_engine.rows(
                chunked(items(config, done, ids), scoring_engine.chunk_items), config,
                Scoring(scorer), stop,
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
