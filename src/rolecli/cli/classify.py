"""`rolecli classify`: label one posting."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import (
    FORMAT_OPTION,
    MODEL_OPTION,
    POSTING_ARGUMENT,
    Format,
    read_posting,
)


def classify_command(
    file: str = POSTING_ARGUMENT,
    format: Format = FORMAT_OPTION,
    explain: bool = typer.Option(False, "--explain", help="Also show the explanation (text view)."),
    model: Path = MODEL_OPTION,
) -> None:
    """Classify one job description as ML engineer, ML scientist or mixed."""
    from ..classifier import classify, load_scorer
    from ..render import classification_panel, console, write_json

    text, name = read_posting(file, "classify")
    scorer = load_scorer(model)
    result = classify(text, scorer)
    if format is Format.json:
        write_json(result)
    else:
        console().print(classification_panel(result, title=name))
        if explain:
            from ..explanation import explain as explain_posting
            from ..render_explain import explanation_view

            console().print(explanation_view(explain_posting(text, scorer), text))
    if result["off_topic"]:
        from .common import off_topic_exit

        off_topic_exit(name)
