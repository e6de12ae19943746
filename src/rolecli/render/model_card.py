"""The model card as a Rich panel (`rolecli model info`): sections of the card, the
training data, file hashes and each role's strongest terms.

Everything from the card is outside text: shown through `literal`, never as markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..tasks.model_info import TOP_TERMS
from ..text.roles import ROLE_NAMES
from .terminal import LABEL_STYLES, literal


def _shown_path(directory: str) -> str:
    """Relative to the working directory when under it (as `git status` shows paths);
    JSON keeps the absolute path."""
    try:
        return Path(directory).relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):  # elsewhere, or the working directory is gone
        return directory


def _flat(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested card sections as dotted key / value rows, whatever keys a card grows: a list
    of scalars is one row, a list holding objects gives each its rows (numbered when more
    than one), so no value is ever shown as a Python repr."""
    if isinstance(data, dict):
        return [row for key, value in data.items() for row in _flat(value, f"{prefix}{key}.")]
    if isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        return [row for number, value in enumerate(data, 1)
                for row in _flat(value, prefix if len(data) == 1 else f"{prefix}{number}.")]
    if isinstance(data, list):
        return [(prefix.rstrip("."), ", ".join(map(_scalar, data)))]
    return [(prefix.rstrip("."), _scalar(data))]


def _scalar(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):  # the card is JSON: true / false, not Python's True
        return "true" if value else "false"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _section(title: str, rows: list[tuple[str, str]], clip: bool = False) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None,
                  padding=(0, 2, 0, 0), title_style="bold")
    widest = max((len(key) for key, _ in rows), default=0)
    table.add_column(style="dim", no_wrap=True, min_width=widest)
    # Hashes are clipped with an ellipsis on narrow terminals rather than folded.
    table.add_column(overflow="ellipsis" if clip else "fold")
    for key, value in rows:
        table.add_row(literal(key), literal(value))
    return table


def model_card_view(info: dict[str, Any]) -> Panel:
    """The panel of what `model_info()` returns."""
    card = info["card"]
    sizes = [("vocabulary", f"{_count(card.get('vocabulary_size', 0))} terms")] + [
        (f"non-zero weights ({head})", _count(n))
        for head, n in card.get("nonzero_coefficients", {}).items()
    ]
    verified = (
        f"yes: the sha256 of all {len(card['files'])} files and every term"
        if info["model"]["verified"] else "hash and sizes (at load); --verify checks every term"
    )
    overview = _section("model", [
        ("id", info["model"]["id"]),
        ("directory", _shown_path(info["model"]["directory"])),
        # Only older cards carry a timestamp (training is reproducible, so cards hold none).
        *([("created", str(card["created"]))] if "created" in card else []),
        ("verified", verified),
        *sizes,
    ])

    data = Table(title="training data", title_justify="left", title_style="bold")
    data.add_column("file", no_wrap=True)
    data.add_column("rows", justify="right")
    data.add_column("per label")
    data.add_column("sha256", no_wrap=True)
    for item in card.get("training_data", []):
        labels = ", ".join(f"{label} {_count(n)}" for label, n in item.get("labels", {}).items())
        data.add_row(literal(item.get("path")), literal(_count(item.get("rows"))),
                     literal(labels), literal(str(item.get("sha256"))[:12]))


    terms = Table(title=f"global top {TOP_TERMS} terms (coefficient per unit of tf-idf)",
                  title_justify="left", title_style="bold")
    sides = info["top_terms"]
    for role in ("engineer", "scientist"):
        terms.add_column(f"toward {ROLE_NAMES[role]}", style=LABEL_STYLES[role].split()[-1])
        terms.add_column("", justify="right")
    for row in range(max(len(s) for s in sides.values())):
        cells: list[str] = []
        for role in ("engineer", "scientist"):
            entry = sides[role][row] if row < len(sides[role]) else None
            cells += [str(entry["term"]), f"{entry['coefficient']:+.3f}"] if entry else ["", ""]
        terms.add_row(*map(literal, cells))

    libraries = ", ".join(f"{name} {v}" for name, v in card.get("libraries", {}).items())
    parts: list[RenderableType] = [
        overview, Text(""), data, Text(""),
        _section("metrics", _flat(card.get("metrics", {}))), Text(""),
        _section("thresholds", _flat(card.get("thresholds", {}))), Text(""),
        _section("calibration", _flat(card.get("calibration", {}))), Text(""),
        _section("hyperparameters", _flat(card.get("hyperparameters", {}))), Text(""),
        _section("libraries", [("versions", libraries)]), Text(""),
        _section("file hashes (sha256)", sorted(card.get("files", {}).items()), clip=True),
        Text(""),
        terms,
    ]
    return Panel(Group(*parts), title=literal(f"model {info['model']['id']}"),
                 title_align="left", expand=False)
