"""`rolecli model info`: the model card as a readable panel, and each class's strongest terms."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from .common import FORMAT_OPTION, MODEL_OPTION, Format

if TYPE_CHECKING:
    from rich.console import RenderableType

TOP_TERMS = 15


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
    from ..classifier import load_scorer
    from ..jsonout import write_json
    from ..model.scorer import verify_model
    from ..paths import default_model_dir
    from ..render.terminal import console

    scorer = verify_model(Path(model) if model else default_model_dir()) if verify else \
        load_scorer(model)
    info = {
        "model": {
            "id": scorer.model_id, "sha256": scorer.sha256, "directory": str(scorer.directory),
            "verified": verify,
        },
        "card": scorer.card,
        "top_terms": top_terms(
            {term: (idf, role) for term, idf, role, _ in scorer.weights()}, TOP_TERMS
        ),
    }
    if format is Format.json:
        write_json(info)
    else:
        console().print(_panel(info))


def top_terms(
    weights: dict[str, tuple[float, float]], count: int
) -> dict[str, list[dict[str, float | str]]]:
    """The largest coefficients each way: the words the model ties to each role overall."""
    by_coef = sorted(weights.items(), key=lambda kv: (kv[1][1], kv[0]))
    engineer = [kv for kv in by_coef[:count] if kv[1][1] < 0]
    by_coef.sort(key=lambda kv: (-kv[1][1], kv[0]))
    scientist = [kv for kv in by_coef[:count] if kv[1][1] > 0]
    return {
        role: [{"term": term, "coefficient": coef, "idf": idf} for term, (idf, coef) in side]
        for role, side in (("engineer", engineer), ("scientist", scientist))
    }


def _flat(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested card sections as dotted key / value rows, whatever keys a card grows."""
    if isinstance(data, dict):
        return [row for key, value in data.items() for row in _flat(value, f"{prefix}{key}.")]
    if isinstance(data, list):
        return [(prefix.rstrip("."), ", ".join(str(v) for v in data))]
    return [(prefix.rstrip("."), f"{data:.4g}" if isinstance(data, float) else str(data))]


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _panel(info: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from ..render.terminal import LABEL_STYLES, ROLE_NAMES, literal

    # Everything from the card is outside text: shown through `literal`, never as markup.
    card = info["card"]

    def section(title: str, rows: list[tuple[str, str]], clip: bool = False) -> Table:
        table = Table(title=title, title_justify="left", show_header=False, box=None,
                      padding=(0, 2, 0, 0), title_style="bold")
        widest = max((len(key) for key, _ in rows), default=0)
        table.add_column(style="dim", no_wrap=True, min_width=widest)
        # Hashes are clipped with an ellipsis on narrow terminals rather than folded.
        table.add_column(overflow="ellipsis" if clip else "fold")
        for key, value in rows:
            table.add_row(literal(key), literal(value))
        return table

    sizes = [("vocabulary", f"{_count(card.get('vocabulary_size', 0))} terms")] + [
        (f"non-zero weights ({head})", _count(n))
        for head, n in card.get("nonzero_coefficients", {}).items()
    ]
    verified = (
        f"yes: the sha256 of all {len(card['files'])} files and every term"
        if info["model"]["verified"] else "hash and sizes (at load); --verify checks every term"
    )
    overview = section("model", [
        ("id", info["model"]["id"]),
        ("directory", info["model"]["directory"]),
        ("created", str(card.get("created", "unknown"))),
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

    calibration = dict(card.get("calibration", {}))
    fitted = calibration.pop("fitted_on", None)
    calibration_rows = _flat(calibration)
    if isinstance(fitted, dict):
        calibration_rows.append((
            "fitted on",
            f"{fitted.get('file')} ({fitted.get('rows', '?')} rows, "
            f"sha256 {str(fitted.get('sha256', ''))[:12]})",
        ))

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
        section("metrics", _flat(card.get("metrics", {}))), Text(""),
        section("thresholds", _flat(card.get("thresholds", {}))), Text(""),
        section("calibration", calibration_rows), Text(""),
        section("hyperparameters", _flat(card.get("hyperparameters", {}))), Text(""),
        section("libraries", [("versions", libraries)]), Text(""),
        section("file hashes (sha256)", sorted(card.get("files", {}).items()), clip=True), Text(""),
        terms,
    ]
    return Panel(Group(*parts), title=literal(f"model {info['model']['id']}"),
                 title_align="left", expand=False)
