"""`rolecli batch --format table`: the rows as a Rich table for people.

A writer like batch's own (`batch.writers.RowWriter`); the CLI hands it to run_batch.
Rich loads only when a table is printed, so the other formats never import it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ..batch.items import Row
from ..batch.writers import DEFAULT_PRECISION, Output, RowWriter


class TableWriter(RowWriter):
    """A Rich table for people: it needs every row to size its columns, so it prints at close()."""

    def __init__(self, out: Output, header: bool = True,
                 precision: int = DEFAULT_PRECISION) -> None:
        super().__init__(out, header, precision)
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

        from .terminal import literal

        table = Table(show_edge=False, pad_edge=False)
        columns = ["id", "status", "label", "P(scientist)", "confidence", "title"]
        # Error reasons are listed under the table, one a line: a column of them would
        # squeeze the ids into folding mid-word at 80 columns.
        errors = [values[6] for values in self.rows if values[6]]
        self.rows = [values[:6] for values in self.rows]
        if not any(values[5] for values in self.rows):  # every title agrees: no column
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
    """A title the body does not simply agree with, by its label and how the body compares
    ("scientist: contradicts", "engineer: leans"); else nothing."""
    if not title or title.get("grade") in (None, "agrees"):
        return ""
    return f"{title['label']}: {title['grade']}"
