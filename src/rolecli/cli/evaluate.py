"""`rolecli evaluate` and `rolecli calibrate`: measure a model on labelled postings."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import MODEL_OPTION, Format

DATA_ARGUMENT = typer.Argument(
    ..., help="Labelled postings: CSV, JSONL, or a folder of label folders."
)
TEXT_COLUMN = typer.Option("text", "--text-column", help="Column holding the posting text.")
LABEL_COLUMN = typer.Option("label", "--label-column", help="Column holding the label.")


def evaluate_command(
    data: Path = DATA_ARGUMENT,
    model: Path = MODEL_OPTION,
    text_column: str = TEXT_COLUMN,
    label_column: str = LABEL_COLUMN,
    mask_role_words: bool = typer.Option(
        False, "--mask-role-words", help="Blank out engineer/scientist/engineering first."
    ),
    format: Format | None = typer.Option(
        None, "--format", "-f", show_default=False,
        help="Output format: text (the default) or json. With --html, nothing goes to stdout "
        "unless --format is given.",
    ),
    html: Path = typer.Option(
        None, "--html", metavar="FILE", show_default=False,
        help="Also write a self-contained HTML page: reliability diagram, ROC curve, "
        "confusion matrix, per-source figures and the most confident errors.",
    ),
) -> None:
    """Report accuracy, AUC, calibration, mixed and off-topic rates on labelled postings."""
    from ..render.jsonout import write_json
    from ..render.terminal import console, evaluation_view
    from ..tasks.evaluate import evaluation
    from .common import check_html_target

    if html is not None:
        check_html_target(html, str(data), "the labelled data")  # before any scoring
    result = evaluation(data, model, text_column, label_column, mask_role_words)
    report = result.report
    if format is None:
        format = Format.text if html is None else None
    if format is Format.json:
        write_json(report)
    elif format is Format.text:
        console().print(evaluation_view(report, title=str(data)))
    if html is not None:
        from ..render.evaluation_html import evaluation_page
        from ..tasks.evaluate import figures
        from .common import write_page

        write_page(html, evaluation_page(report, figures(result), Path(data).name))
    if report["errors"]:
        from ..errors import PartialError

        first, count = report["errors"][0], len(report["errors"])
        more = f" (and {count - 1:,} more)" if count > 1 else ""
        rows = "1 row" if count == 1 else f"{count:,} rows"
        raise PartialError(f"{data}: {rows} could not be used, so the metrics are over the "
                           f"other {report['rows']:,}: {first['error']}{more}")


def calibrate_command(
    data: list[Path] = typer.Argument(
        ..., help="Labelled postings: CSV, JSONL, or folders of label folders (one or more)."
    ),
    model: Path = MODEL_OPTION,
    save: Path = typer.Option(
        None,
        "--save",
        help="Write the settings here (e.g. data/calibration.json) for `rolecli train`.",
    ),
    text_column: str = TEXT_COLUMN,
    label_column: str = LABEL_COLUMN,
) -> None:
    """Fit the label thresholds (mixed rule, title check, short text) on labelled postings."""
    from ..render.jsonout import write_json
    from ..render.terminal import console, literal
    from ..tasks.fit_thresholds import save_threshold_settings, threshold_settings

    settings = threshold_settings(data, model, text_column, label_column)
    if save is None:
        write_json(settings)
        return
    save_threshold_settings(settings, save)
    console(stderr=True).print(
        literal(f"saved calibration to {save}; run `rolecli train` to build a model that uses it")
    )
