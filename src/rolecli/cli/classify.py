"""`rolecli classify`: label one posting."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import (
    ALL_LINES_OPTION,
    FORMAT_OPTION,
    MODEL_OPTION,
    POSTING_ARGUMENT,
    TITLE_OPTION,
    Format,
    read_posting,
)


def classify_command(
    file: str = POSTING_ARGUMENT,
    format: Format = FORMAT_OPTION,
    title: str = TITLE_OPTION,
    explain: bool = typer.Option(
        False, "--explain", help="Also give the explanation (with --format json: its object)."
    ),
    all_lines: bool = ALL_LINES_OPTION,
    model: Path = MODEL_OPTION,
) -> None:
    """Classify one job description as ML engineer, ML scientist or mixed."""
    from ..tasks.classify import classify_result, load_scorer

    text, name = read_posting(file, "classify")
    scorer = load_scorer(model)
    result = classify_result(text, scorer, title)
    explanation = None
    if explain:
        from ..tasks.explain import explanation_of

        explanation = explanation_of(text, scorer, title)
    if format is Format.json:
        from ..render.jsonout import write_json  # not Rich: the JSON path imports only what it uses

        write_json(result.to_json() if explanation is None else
                   {**result.to_json(), "explanation": explanation.to_json()})
    else:
        from ..render.terminal import classification_panel, console

        console().print(classification_panel(result, title=name))
        if explanation is not None:
            from ..render.explain_view import explanation_view

            # The panel above gave the verdict, reasons and title check: the rest follows.
            console().print(explanation_view(explanation, text, all_lines=all_lines,
                                             verdict=False))
    if result.off_topic:
        from .common import off_topic_exit

        off_topic_exit(name, format)
