"""What a batch run was asked to do, as every part of it reads it: the walk, the run
record that --resume checks, and the engines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
    jobs_auto: bool = False  # --jobs auto: the local engine picks 1 or `jobs` as it goes
    exclude: Path | None = None  # the output file, never read as an input
    scheduler: str | None = None  # --engine dask: its address; None starts a local cluster
    follow_links: bool = False  # follow links out of the folders given (--follow-links)
