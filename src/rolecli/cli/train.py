"""`rolecli train`: fit and save a model directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..errors import UsageError


def train_command(
    data: list[Path] = typer.Option(
        None,
        "--data",
        "-d",
        help="Labelled data: CSV, JSONL, count files (*.counts.jsonl.gz) or label folders "
        "(repeatable; default: the shipped data/).",
    ),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        help="Model directory to write (default models/default in a checkout).",
    ),
    calibration: Path | None = typer.Option(
        None,
        "--calibration",
        help="Calibration file (default data/calibration.json when training on the shipped data).",
    ),
    no_calibration: bool = typer.Option(
        False,
        "--no-calibration",
        help="Build the uncalibrated base model (for `rolecli calibrate`).",
    ),
    with_shipped: bool = typer.Option(
        False, "--with-shipped-data", help="Add the shipped data/*.csv to the --data files."
    ),
    cv: int = typer.Option(
        5, "--cv", help="Folds of the out-of-fold logits that calibrate the model and give the "
        "metrics printed before saving."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace the model already in --output."
    ),
    text_column: str = typer.Option(
        "text", "--text-column", metavar="COLUMN", help="Column holding the posting text."
    ),
    label_column: str = typer.Option(
        "label", "--label-column", metavar="COLUMN",
        help="Column holding the label (engineer, scientist, mixed or off_topic).",
    ),
) -> None:
    """Train a model (TF-IDF + logistic regression) and write pipeline, scorer and card."""
    from ..model.directory import THRESHOLD_SETTINGS_FILE
    from ..paths import default_train_output, training_data_dir
    from ..render.terminal import console, literal
    from ..tasks.train import default_data_files, train

    files = list(data or [])
    if with_shipped or not files:
        files = default_data_files(training_data_dir()) + files
    if no_calibration:
        calibration = None
    elif calibration is None and not data:
        calibration = training_data_dir() / THRESHOLD_SETTINGS_FILE
    target = output or default_train_output()
    if target is None:
        raise UsageError("not in a rolecli checkout: pass --output DIR for the new model "
                         "(or run this inside the checkout, to rebuild its models/default)")
    if cv < 2:
        raise UsageError("--cv needs at least 2 folds")
    err = console(stderr=True)

    def show(cv_metrics: dict[str, Any]) -> None:
        err.print(literal(
            f"out of fold ({cv_metrics['folds']} stratified folds, {cv_metrics['rows']} rows; "
            f"optimistic for new sources): ROC AUC {cv_metrics['roc_auc']:.3f}, "
            f"balanced accuracy {cv_metrics['balanced_accuracy']:.3f}"
        ), soft_wrap=True)

    result = train(files, target, calibration, cv, text_column, label_column, show, force)
    card = result.card
    for line in result.warnings:
        err.print(literal(f"warning: {line}", style="yellow"), soft_wrap=True)
    if "note" in card["calibration"]:
        err.print(literal(f"warning: {card['calibration']['note']}", style="yellow"))
    err.print(literal(f"saved model {card['model_id']} to {result.output}"))
    _say_if_installed_elsewhere(result.output, err)


def _say_if_installed_elsewhere(written: Path, err: Any) -> None:
    """After `pip install .`, rolecli scores with its own copy of the shipped model: a
    models/default rebuilt in the checkout is used once it is installed again."""
    from ..paths import checkout_root, enclosing_checkout, shipped_model_dir
    from ..render.terminal import literal

    checkout = enclosing_checkout(written.resolve())
    if checkout_root() is not None or checkout is None:
        return
    if written.resolve() == (checkout / "models" / "default").resolve():
        err.print(literal(
            f"note: this rolecli is installed from a copy of the checkout and scores with "
            f"{shipped_model_dir()}; run `pip install .` in {checkout} again to use the new "
            f"model, or pass --model {written}"
        ), soft_wrap=True)
