"""Batch's views on stderr: the progress bar while scoring, and the summary at the end."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..batch.run import BatchSummary


class RichProgress:
    """A Rich progress bar on stderr (items/s, ETA when the total is known)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def start(self, total: int | None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        from .terminal import console

        self.bar = Progress(
            TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rate]} items/s"), TimeRemainingColumn(),
            console=console(stderr=True), transient=True,
        )
        self.task = self.bar.add_task("scoring", total=total, rate="-")
        self.bar.start()

    def advance(self, rows: int) -> None:
        self.bar.advance(self.task, rows)
        speed = self.bar.tasks[0].speed
        self.bar.update(self.task, rate=f"{speed:.0f}" if speed else "-")

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def print_batch_summary(summary: BatchSummary, output: Path | None) -> None:
    from .terminal import console, literal

    labels = ", ".join(f"{label} {n}" for label, n in sorted(summary.labels.items())) or "none"
    grades = summary.title_grades
    titles = (f"; titles against their body: {grades['agrees']} agree, {grades['leans']} lean "
              f"the other way, {grades['contradicts']} contradict" if summary.titled else "")
    lines = [
        f"scored {summary.rows} item{'' if summary.rows == 1 else 's'} in {summary.seconds:.1f}s "
        f"({summary.items_per_second:.0f} items/s): {labels}; "
        f"off-topic {summary.off_topic}; errors {summary.errors}{titles}"
    ]
    if summary.renamed:
        first, renamed = summary.first_renamed
        lines.append(
            f"{summary.renamed} duplicate ids made unique with a ~N suffix "
            f"(the first: {first} became {renamed})"
        )
    if summary.repairs:
        lines.append(f"repaired {output} before resuming: {'; '.join(summary.repairs)}")
    if summary.resumed:
        lines.append(
            f"kept {summary.resumed} rows already in {output} ({summary.resumed_errors} errors)"
        )
    if summary.interrupted:
        hint = f"; rerun with --resume to finish {output}" if output else ""
        stopped = "terminated" if summary.terminated else "interrupted"
        lines.append(f"{stopped} after {summary.rows} rows{hint}")
    err = console(stderr=True)
    for line in lines:
        # A terminal gets lines wrapped between words at its width; a log, one line each.
        err.print(literal(line), soft_wrap=not err.is_terminal)
