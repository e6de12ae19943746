"""`rolecli model info`: the model card as a readable panel, and each class's strongest terms."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import FORMAT_OPTION, MODEL_OPTION, Format


def model_info_command(
    model: Path = MODEL_OPTION,
    format: Format = FORMAT_OPTION,
    verify: bool = typer.Option(
        False, "--verify",
        help="Also check every file's sha256 and every term of the scorer, which loading "
        "skips (see docs/speed.md).",
    ),
) -> None:
    """Show the model card: training data, sizes, metrics, thresholds, hashes and top terms."""
    from ..tasks.model_info import model_info

    info = model_info(model, verify)
    if format is Format.json:
        from ..render.jsonout import write_json

        write_json(info)
    else:
        from ..render.model_card import model_card_view
        from ..render.terminal import console

        console().print(model_card_view(info))
