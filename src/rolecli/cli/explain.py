"""`rolecli explain`: why a posting got its label, as text, JSON or an HTML page."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import (
    ALL_LINES_OPTION,
    MODEL_OPTION,
    POSTING_ARGUMENT,
    TITLE_OPTION,
    Format,
    check_html_target,
    off_topic_exit,
    read_posting,
    write_page,
)


def explain_command(
    file: str = POSTING_ARGUMENT,
    format: Format | None = typer.Option(
        None, "--format", "-f", show_default=False,
        help="Output format: text (the default) or json. With --html, nothing goes to stdout "
        "unless --format is given.",
    ),
    title: str = TITLE_OPTION,
    all_lines: bool = ALL_LINES_OPTION,
    html: Path = typer.Option(
        None, "--html", help="Write the explanation as a self-contained HTML page to FILE.",
        metavar="FILE", show_default=False,
    ),
    top: int = typer.Option(10, "--top", min=1, help="Terms to list in each direction."),
    model: Path = MODEL_OPTION,
) -> None:
    """Explain a verdict: its reasons, the title check, the lines and words that decided it,
    and the exact arithmetic (term contributions, line sums, closest article bullets)."""
    from ..render.jsonout import write_json
    from ..render.terminal import console
    from ..tasks.classify import load_scorer
    from ..tasks.explain import explanation_of

    if html is not None:
        check_html_target(html, file, "the posting")  # fail on a bad path before any work
    text, name = read_posting(file, "explain")
    explanation = explanation_of(text, load_scorer(model), title)
    if format is None:
        format = Format.text if html is None else None
    if format is Format.json:
        write_json(explanation.to_json())
    elif format is Format.text:
        from ..render.explain_view import explanation_view

        console().print(explanation_view(explanation, text, top=top, all_lines=all_lines))
    if html is not None:
        from ..render.html import html_report

        write_page(html, html_report(explanation, text, Path(name).name, top=top,
                                     all_lines=all_lines))
    if explanation.result.off_topic:
        off_topic_exit(name, format or Format.text)
