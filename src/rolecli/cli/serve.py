"""`rolecli serve`: the web page and the JSON API (needs the `rolecli[serve]` extra)."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import MODEL_OPTION


def serve_command(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on; any but loopback needs --token."
    ),
    port: int = typer.Option(
        8000, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."
    ),
    model: Path = MODEL_OPTION,
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Server processes."),
    token: str = typer.Option(
        None, "--token", envvar="ROLECLI_TOKEN", show_default=False,
        help="Secret every API call must send as `Authorization: Bearer TOKEN` (16+ characters).",
    ),
    cors: list[str] = typer.Option(
        None, "--cors", metavar="ORIGIN", show_default=False,
        help="Let pages from ORIGIN call the API from a browser (repeatable; default: none).",
    ),
) -> None:
    """Serve a web page for checking postings and a JSON API (see docs/serve.md)."""
    from ..serve.server import ServeSettings, serve

    code = serve(ServeSettings(
        host=host, port=port, model=str(model) if model else None, workers=workers,
        token=token, cors=tuple(cors or ()),
    ))
    if code:  # stopped by a signal: the server has said so in its log, in one line
        raise typer.Exit(code)
