"""`rolecli batch`: score folders, files and tabular exports; rows to stdout or --output."""

from __future__ import annotations

import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .common import MODEL_OPTION

if TYPE_CHECKING:
    from ..batch.run import BatchSummary
    from ..render.batch_progress import RichProgress


class BatchFormat(str, Enum):
    table = "table"
    csv = "csv"
    jsonl = "jsonl"
    json = "json"
    parquet = "parquet"


class Engine(str, Enum):
    local = "local"
    dask = "dask"


def batch_command(
    paths: list[str] = typer.Argument(
        ..., metavar="PATH", show_default=False,
        help="Folders, posting files, or tables (.csv, .jsonl, .parquet); - reads stdin: "
        'JSONL postings ({"id": ..., "text": ...} a line) or paths, one a line.',
    ),
    format: BatchFormat = typer.Option(
        None, "--format", "-f", show_default=False,
        help="Row format [default: --output's suffix; else table on a terminal, else jsonl]. "
        "parquet: the csv columns, typed (needs rolecli[parquet]).",
    ),
    output: Path = typer.Option(
        None, "--output", "-o", metavar="FILE", show_default=False,
        help="Write rows to FILE (flushed as each chunk is scored) instead of stdout; its "
        "suffix (.jsonl .csv .json .parquet) names the format unless --format does. A device, "
        "a pipe or /dev/stdout is written as a stream: no lock, no run record, no --resume.",
    ),
    jobs: str = typer.Option(
        "auto", "--jobs", "-j", metavar="N|auto",
        help="Worker processes (more than the cores are capped to them). auto: under 4,000 "
        "items, this process alone; more, one worker per core on trial, kept only if at "
        "least 10% faster than this process alone.",
    ),
    resume: bool = typer.Option(
        False, "--resume",
        help="Keep the rows already in --output (jsonl or csv, error rows included); "
        "score only the missing ids.",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --output file."),
    glob: list[str] = typer.Option(
        None, "--glob", "-g", metavar="PATTERN", show_default=False,
        help="Only files in folders matching PATTERN: on the name, or the relative path if it "
        "has a / (repeatable).",
    ),
    text_column: str = typer.Option(
        "text", "--text-column", metavar="COLUMN", help="Tables: the column with the posting."
    ),
    id_column: str | None = typer.Option(
        None, "--id-column", metavar="COLUMN", show_default=False,
        help="Tables: the column with the id [default: a row's id field, else its number].",
    ),
    title_column: str = typer.Option(
        None, "--title-column", metavar="COLUMN", show_default=False,
        help="Tables: the column with the job title, checked against each posting's body "
        "[default: a row's title field].",
    ),
    title: str = typer.Option(
        None, "--title", "-t", metavar="TEXT", show_default=False,
        help="One job title for every item, over a row's title field (a --title-column "
        "value wins where it has one).",
    ),
    model: Path = MODEL_OPTION,
    precision: int = typer.Option(
        4, "--precision", metavar="N", min=0, max=17,
        help="Decimals of probabilities and confidence in table and csv rows (json and "
        "jsonl keep every digit).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary."),
    engine: Engine = typer.Option(
        Engine.local, "--engine", help="Where to score (dask needs rolecli[dask])."
    ),
    scheduler: str = typer.Option(
        None, "--scheduler", metavar="ADDRESS", show_default=False,
        help="Dask scheduler ADDRESS [default: start a local cluster].",
    ),
    raw_csv: bool = typer.Option(
        False, "--raw-csv",
        help="Write csv cells exactly, even those a spreadsheet would run as formulas "
        "(by default a cell starting with = + - @, tab or CR gets a leading ').",
    ),
    follow_links: bool = typer.Option(
        False, "--follow-links",
        help="Follow symlinks that lead out of the folders given (by default each is an "
        "error row).",
    ),
) -> None:
    """Score many postings: one row per item, in a deterministic order.

    Folders are walked recursively in sorted order; hidden files and folders are skipped,
    symlinked folders are followed once (loops are safe) but never out of the folder given
    (see --follow-links), and only .txt .md .html .htm .pdf .docx files are read, plus .csv
    .jsonl .parquet tables, each row of which is an item; FIFOs and devices are error rows;
    a folder's README, LICENSE, CHANGELOG and the like are not postings, and left out.
    Ids: paths relative to the folder given (prefixed with it when several PATHs are given);
    a file given directly keeps its path as given; a table row is its --id-column value, else
    its "id" field or column, else its row number (1-based), after "TABLE#" inside folders or
    when several PATHs are given. Files, stdin and `rolecli serve`'s POST /v1/batch read rows
    alike: "id" and "title" are used when present; the options override them.

    Each row: id, status (ok/error), label (engineer, scientist, mixed; null when off-topic),
    probabilities, confidence, off_topic, title (text, label, agrees: false when the body
    confidently reads as a role the title does not name), error. Without a title
    (--title, --title-column, a title field), a posting's own title line is read. An
    unreadable item becomes an error row and the batch goes on. Rows go to stdout or
    --output; progress and the summary go to stderr.
    """
    if scheduler and engine is not Engine.dask:
        from ..errors import UsageError

        raise UsageError("--scheduler needs --engine dask")
    from ..render.batch_progress import RichProgress, print_batch_summary

    chosen = format.value if format else _format_for(output, sys.stdout.isatty())
    progress = None if quiet or not sys.stderr.isatty() else RichProgress()
    with tempfile.TemporaryDirectory(prefix="rolecli-stdin-") as folder:
        if paths == ["-"]:
            from ..batch.sources import stdin_paths
            from ..io.documents import stdin_stream

            paths = stdin_paths(stdin_stream(), Path(folder))
        summary = _run(paths, chosen, output, resume, force, _jobs(jobs), glob, text_column,
                       id_column, title_column, title, model, engine, scheduler, progress,
                       precision, raw_csv, follow_links)
    if not quiet:
        from ..batch.writers import is_stream

        # A stream has nothing to resume: its summary gives no --resume hint.
        print_batch_summary(summary, None if output and is_stream(output) else output)
    if summary.exit_code:
        raise typer.Exit(int(summary.exit_code))


def _jobs(value: str) -> int | None:
    """--jobs N, or None for auto."""
    if value.strip().lower() == "auto":
        return None
    try:
        return int(value)
    except ValueError:
        from ..errors import UsageError

        raise UsageError(f"--jobs must be a number of processes or auto (got {value!r})") from None


def _format_for(output: Path | None, stream_is_terminal: bool) -> str:
    """The default --format: the output's suffix; without an output, table on a terminal,
    else jsonl. A stream (/dev/null, /dev/stdout) without a known suffix gets jsonl; a file
    whose suffix names no format is refused, never written as something it does not say."""
    from ..batch.writers import SUFFIX_FORMATS, is_stream

    if output is None:
        return "table" if stream_is_terminal else "jsonl"
    suffix = output.suffix.lower()
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix]
    if is_stream(output) or output.is_dir():  # (a directory is refused when it is opened)
        return "jsonl"
    from ..errors import UsageError

    said = f"its suffix {suffix!r} names no format" if suffix else "no suffix names its format"
    raise UsageError(
        f"--output {output}: {said}; end the name in {', '.join(SUFFIX_FORMATS)}, "
        "or give --format"
    )


def _run(paths: list[str], chosen: str, output: Path | None, resume: bool, force: bool,
         jobs: int | None, glob: list[str] | None, text_column: str, id_column: str | None,
         title_column: str | None, title: str | None, model: Path | None, engine: Engine,
         scheduler: str | None, progress: RichProgress | None, precision: int,
         raw_cells: bool, follow_links: bool) -> BatchSummary:
    from ..batch.run import run_batch
    from ..batch.writers import WRITERS
    from ..render.tables import TableWriter

    try:
        return run_batch(
            paths, format=chosen, output=output, resume=resume, force=force, jobs=jobs,
            globs=glob or (), text_column=text_column, id_column=id_column,
            title_column=title_column, title=title, model=model,
            engine=engine.value, scheduler=scheduler, progress=progress, precision=precision,
            writers={"table": TableWriter, **WRITERS},  # the table is a view: render's
            raw_cells=raw_cells, follow_links=follow_links,
        )
    finally:
        if progress is not None:
            progress.stop()
