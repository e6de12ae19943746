"""`rolecli data build`: labelled postings to their text-free count form, for training."""

from __future__ import annotations

from pathlib import Path

import typer


def data_build_command(
    inputs: list[Path] = typer.Argument(
        ..., metavar="TABLE", show_default=False,
        help="Labelled postings: .csv or .jsonl with text, label and source columns "
        "(and, optionally, family).",
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", metavar="FILE", show_default=False,
        help="The count file to write (NAME.counts.jsonl.gz; NAME.manifest.json goes beside it).",
    ),
    default_label: str = typer.Option(
        None, "--default-label", metavar="LABEL", show_default=False,
        help="Label for the rows of a table without a label column (e.g. off_topic).",
    ),
    text_column: str = typer.Option("text", "--text-column", metavar="COLUMN",
                                    help="Column holding the posting text."),
    label_column: str = typer.Option("label", "--label-column", metavar="COLUMN",
                                     help="Column holding the label."),
    min_postings: int = typer.Option(
        5, "--min-postings", metavar="N", help="Keep n-grams found in at least N postings..."
    ),
    min_sources: int = typer.Option(
        2, "--min-sources", metavar="N", help="...from at least N sources (source column)."
    ),
    where: str = typer.Option(
        None, "--where", metavar="COLUMN=VALUE", show_default=False,
        help="Keep only the rows whose COLUMN holds VALUE (tables without COLUMN are read "
        "whole), e.g. names_ml=0.",
    ),
) -> None:
    """Store postings as n-gram counts only: no text, titles or ids; rare n-grams dropped.

    Each posting keeps its label, source key, job family (when the table has a family
    column) and the counts of the n-grams the training analyzer reads that occur in at
    least --min-postings postings from at least --min-sources sources. Same input, same
    bytes. Train on the result with `rolecli train --data FILE`.
    """
    from ..extras import require_extra
    from ..io.labelled import build_count_file
    from ..model.vocabulary import training_analyzer
    from ..render.terminal import console, literal

    column, equals, value = (where or "").partition("=")
    if where is not None and not (column and equals):
        raise typer.BadParameter(f"{where!r} is not COLUMN=VALUE", param_hint="--where")
    require_extra("train", "rolecli data build")
    manifest = build_count_file(
        [(path, default_label) for path in inputs], output, training_analyzer(),
        text_column, label_column, min_postings, min_sources,
        (column, value) if where is not None else None,
    )
    console(stderr=True).print(literal(
        f"wrote {output}: {manifest['rows']:,} postings, {manifest['terms']:,} n-grams "
        f"({manifest['output']['bytes']:,} bytes), labels {manifest['labels']}"
    ))
