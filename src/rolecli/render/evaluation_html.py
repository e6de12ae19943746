"""`rolecli evaluate --html`: how a model does on labelled postings, as one self-contained
HTML page for people who would rather look than read.

The figures are inline SVG drawn here from the report's numbers: the reliability diagram
and the ROC curve of P(scientist) on the engineer-vs-scientist rows, the confusion matrix,
per-source figures when the rows name their sources, and the most confident errors with
the lines that decided them. The page loads nothing and runs no script (its
Content-Security-Policy allows inline styles only); every string from the data (ids,
sources, posting lines, the file name) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from ..text.roles import ROLE_NAMES
from .html import page_head

LABEL_NAMES = {**ROLE_NAMES, "mixed": "mixed", "off_topic": "off-topic"}

CSS = """
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fff; --muted: #5f6368;
  --line: #d0d4da; --eng: #0a7ea4; --sci: #b4237a; --bad: #c0392b; --card: #f6f7f9; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8eaed; --bg: #16181c; --muted: #a5abb3; --line: #3a3f47;
    --eng: #4cc3e8; --sci: #f06cb8; --bad: #ff7b6b; --card: #1f2227; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 32px 0 8px; }
p.sub, figcaption, .note { color: var(--muted); }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 16px; margin: 16px 0; }
section.card h2 { margin-top: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 16px; }
figure { margin: 0; }
svg { max-width: 100%; height: auto; display: block; }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; }
svg .axis, svg .tick { stroke: var(--muted); stroke-width: 1; }
svg .grid-line { stroke: var(--line); stroke-width: 1; }
svg .ideal { stroke: var(--muted); stroke-dasharray: 4 4; stroke-width: 1; fill: none; }
svg .curve { stroke: var(--sci); stroke-width: 2.5; fill: none; }
svg .bar { fill: var(--eng); opacity: .55; }
svg .point { fill: var(--sci); }
svg .cell { fill: var(--sci); }
svg .cell-right { fill: var(--eng); }
svg .auc { fill: var(--sci); }
svg .muted { fill: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.metrics { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr));
  gap: 8px; margin: 16px 0; }
.metric { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 12px; }
.metric b { display: block; font-size: 1.4rem; font-variant-numeric: tabular-nums; }
.errors td.line { overflow-wrap: anywhere; }
.errors ol { margin: 0; padding-left: 1.2em; }
.e { color: var(--eng); } .s { color: var(--sci); }
.scroll { overflow-x: auto; }
footer { margin-top: 32px; color: var(--muted); font-size: .9rem; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def evaluation_page(report: dict[str, Any], figures: dict[str, Any], title: str) -> str:
    """The complete page; the same report and figures always give the same bytes."""
    binary = report["engineer_vs_scientist"]
    heading = f"How the model does on {title}"
    return "\n".join([
        *page_head(f"{heading} (rolecli evaluate)", CSS),
        "<body>",
        "<main>",
        f"<h1>{_e(heading)}</h1>",
        f'<p class="sub">{report["rows"]:,} labelled postings scored by model '
        f"{_e(report['model']['id'])}; {binary['rows']:,} of them are engineer or "
        "scientist postings, which the ROC curve and the reliability diagram use.</p>",
        _metrics(report),
        '<div class="grid">',
        _card("Reliability: is P(scientist) what it says?", reliability_svg(figures["reliability"]),
              "Each bar is a tenth of P(scientist); its height is the share of those postings "
              "that are scientist postings. On the dashed line, P means what it says. "
              f"Expected calibration error {_num(binary['ece'])}."),
        _card("ROC curve of P(scientist)", roc_svg(figures["roc"], binary["roc_auc"]),
              f"Area under the curve {_num(binary['roc_auc'])}: the chance that a scientist "
              "posting gets a higher P(scientist) than an engineer posting (0.5 is chance)."),
        "</div>",
        _card("Confusion matrix", confusion_svg(report["confusion"]),
              "Rows: the true label; columns: the verdict. Each cell counts postings and "
              "gives the share of its row; the diagonal is right."),
        _per_source(figures.get("per_source")),
        _errors(figures["confident_errors"]),
        f"<footer>rolecli evaluate · model {_e(report['model']['id'])} (scorer sha256 "
        f"{_e(report['model']['sha256'][:12])})</footer>",
        "</main>",
        "</body>",
        "</html>",
        "",
    ])


def _metrics(report: dict[str, Any]) -> str:
    binary = report["engineer_vs_scientist"]
    shown = [
        ("accuracy", _pct(report["accuracy"])),
        ("balanced accuracy", _pct(report["balanced_accuracy"])),
        ("macro-F1", _pct(report["macro_f1"])),
        ("ROC AUC (engineer vs scientist)", _num(binary["roc_auc"])),
        ("calibration error (ECE)", _num(binary["ece"])),
        ("true mixed called mixed", _pct(report["mixed"]["true_mixed_called_mixed"])),
        ("flagged off-topic", _pct(report["off_topic_rate"])),
    ]
    cells = "".join(f'<div class="metric">{_e(name)}<b>{_e(value)}</b></div>'
                    for name, value in shown)
    return f'<div class="metrics">{cells}</div>'


def _card(title: str, figure: str, caption: str) -> str:
    return (f'<section class="card"><h2>{_e(title)}</h2><figure>{figure}'
            f"<figcaption>{_e(caption)}</figcaption></figure></section>")


# -- SVG ----------------------------------------------------------------------------------

SIZE = 320  # the plot's square, in SVG units
LEFT, TOP, RIGHT, BOTTOM = 48, 16, 16, 44
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _x(value: float) -> float:
    return LEFT + value * SIZE


def _y(value: float) -> float:
    return TOP + (1 - value) * SIZE


def _svg(title: str, body: Sequence[str], width: float = LEFT + SIZE + RIGHT,
         height: float = TOP + SIZE + BOTTOM) -> str:
    """A figure drawn at its own size, shrunk to fit a narrower screen."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
            f'viewBox="0 0 {width:g} {height:g}" role="img" aria-label="{_e(title)}">'
            f"<title>{_e(title)}</title>" + "".join(body) + "</svg>")


def _axes(x_label: str, y_label: str) -> list[str]:
    parts = []
    for tick in TICKS:
        parts.append(f'<line class="grid-line" x1="{_x(0)}" x2="{_x(1)}" y1="{_y(tick):.1f}" '
                     f'y2="{_y(tick):.1f}"/>')
        parts.append(f'<text x="{_x(0) - 6}" y="{_y(tick) + 4:.1f}" '
                     f'text-anchor="end">{tick:g}</text>')
        parts.append(f'<text x="{_x(tick):.1f}" y="{_y(0) + 16}" '
                     f'text-anchor="middle">{tick:g}</text>')
    parts.append(f'<line class="axis" x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(0)}"/>')
    parts.append(f'<line class="axis" x1="{_x(0)}" y1="{_y(0)}" x2="{_x(0)}" y2="{_y(1)}"/>')
    parts.append(f'<text x="{_x(0.5)}" y="{_y(0) + 36}" text-anchor="middle">{_e(x_label)}</text>')
    parts.append(f'<text transform="translate(12 {_y(0.5)}) rotate(-90)" '
                 f'text-anchor="middle">{_e(y_label)}</text>')
    parts.append(f'<line class="ideal" x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(1)}"/>')
    return parts


def reliability_svg(bins: list[dict[str, Any]]) -> str:
    parts = _axes("P(scientist), in tenths", "share that are scientist postings")
    for found in bins:
        if not found["rows"]:
            continue
        left, right = _x(found["low"]) + 2, _x(found["high"]) - 2
        top = _y(found["observed"])
        parts.append(f'<rect class="bar" x="{left:.1f}" y="{top:.1f}" width="{right - left:.1f}" '
                     f'height="{_y(0) - top:.1f}"><title>P(scientist) {found["low"]:g} to '
                     f'{found["high"]:g}: {found["rows"]:,} postings, mean P '
                     f'{found["mean_p"]:.3f}, {_pct(found["observed"])} scientist</title></rect>')
        parts.append(f'<circle class="point" cx="{_x(found["mean_p"]):.1f}" '
                     f'cy="{_y(found["observed"]):.1f}" r="3.5"/>')
        parts.append(f'<text class="muted" x="{(left + right) / 2:.1f}" y="{top - 4:.1f}" '
                     f'text-anchor="middle">{found["rows"]:,}</text>')
    return _svg("Reliability diagram of P(scientist)", parts)


def roc_svg(points: list[list[float]] | list[tuple[float, float]], auc: float | None) -> str:
    parts = _axes("false positive rate (engineer postings called scientist)",
                  "true positive rate")
    if points:
        line = " ".join(f"{_x(fpr):.1f},{_y(tpr):.1f}" for fpr, tpr in points)
        parts.append(f'<polyline class="curve" points="{line}"/>')
        parts.append(f'<text class="auc" x="{_x(0.95)}" y="{_y(0.06)}" text-anchor="end">'
                     f"AUC {_num(auc)}</text>")
    else:
        parts.append(f'<text x="{_x(0.5)}" y="{_y(0.5)}" text-anchor="middle">no curve: the '
                     "data lacks engineer or scientist postings</text>")
    return _svg(f"ROC curve of P(scientist), AUC {_num(auc)}", parts)


def confusion_svg(confusion: dict[str, Any]) -> str:
    labels = confusion["labels"]
    matrix = confusion["matrix"]
    cell, left, top = 84, 110, 56
    size = max(1, len(labels))
    parts = [f'<text x="{left + size * cell / 2}" y="16" text-anchor="middle">verdict</text>',
             f'<text transform="translate(14 {top + size * cell / 2}) rotate(-90)" '
             'text-anchor="middle">true label</text>']
    for column, label in enumerate(labels):
        parts.append(f'<text x="{left + column * cell + cell / 2}" y="{top - 10}" '
                     f'text-anchor="middle">{_e(LABEL_NAMES.get(label, label))}</text>')
    for row, (label, counts) in enumerate(zip(labels, matrix)):
        total = sum(counts)
        y = top + row * cell
        parts.append(f'<text x="{left - 8}" y="{y + cell / 2 + 4}" text-anchor="end">'
                     f"{_e(LABEL_NAMES.get(label, label))}</text>")
        for column, count in enumerate(counts):
            share = count / total if total else 0.0
            kind = "cell-right" if row == column else "cell"
            x = left + column * cell
            parts.append(
                f'<rect class="{kind}" x="{x + 1}" y="{y + 1}" width="{cell - 2}" '
                f'height="{cell - 2}" fill-opacity="{0.08 + 0.5 * share:.3f}"><title>true '
                f"{_e(label)}, called {_e(labels[column])}: {count:,} ({_pct(share)} of the "
                f"row)</title></rect>")
            parts.append(f'<text x="{x + cell / 2}" y="{y + cell / 2}" text-anchor="middle">'
                         f"<tspan font-weight=\"bold\">{count:,}</tspan></text>")
            parts.append(f'<text class="muted" x="{x + cell / 2}" y="{y + cell / 2 + 16}" '
                         f'text-anchor="middle">{_pct(share)}</text>')
    return _svg("Confusion matrix: true label by verdict", parts,
                width=left + size * cell + 8, height=top + size * cell + 8)


def per_source_svg(rows: list[dict[str, Any]]) -> str:
    bar_height, left, width = 22, 170, 210  # narrow: it reads at a phone's width too
    parts = [f'<text x="{left}" y="14">accuracy (bar), ROC AUC (dot)</text>']
    for index, row in enumerate(rows):
        y = 24 + index * (bar_height + 6)
        name = row["source"] if len(row["source"]) <= 24 else row["source"][:23] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{_e(name)}</text>')
        parts.append(f'<rect class="grid-line" x="{left}" y="{y}" width="{width}" '
                     f'height="{bar_height}" fill="none"/>')
        if row["accuracy"] is not None:
            parts.append(f'<rect class="bar" x="{left}" y="{y}" '
                         f'width="{width * row["accuracy"]:.1f}" height="{bar_height}"><title>'
                         f'{_e(row["source"])}: accuracy {_pct(row["accuracy"])}</title></rect>')
        if row["roc_auc"] is not None:
            parts.append(f'<circle class="point" cx="{left + width * row["roc_auc"]:.1f}" '
                         f'cy="{y + bar_height / 2}" r="5"><title>{_e(row["source"])}: ROC AUC '
                         f'{_num(row["roc_auc"])}</title></circle>')
    height = 24 + len(rows) * (bar_height + 6) + 8
    return _svg("Accuracy and ROC AUC per source", parts, width=left + width + 16, height=height)


def _per_source(rows: list[dict[str, Any]] | None) -> str:
    if not rows:
        return ""
    body = "".join(
        f"<tr><td>{_e(row['source'])}</td><td class=\"num\">{row['rows']:,}</td>"
        f"<td class=\"num\">{_pct(row['accuracy'])}</td>"
        f"<td class=\"num\">{_pct(row['balanced_accuracy'])}</td>"
        f"<td class=\"num\">{_num(row['roc_auc'])}</td><td class=\"num\">{_num(row['ece'])}</td>"
        f"<td class=\"num\">{_pct(row['off_topic_rate'])}</td></tr>"
        for row in rows
    )
    table = ('<div class="scroll"><table class="sources"><thead><tr><th>source</th>'
             '<th class="num">postings</th><th class="num">accuracy</th>'
             '<th class="num">balanced</th><th class="num">ROC AUC</th>'
             '<th class="num">ECE</th><th class="num">off-topic</th></tr></thead>'
             f"<tbody>{body}</tbody></table></div>")
    return (f'<section class="card"><h2>Per source</h2><figure>{per_source_svg(rows)}'
            "<figcaption>A source the model does worse on is where its postings differ from "
            f"the training data.</figcaption></figure>{table}</section>")


def _errors(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return ('<section class="card"><h2>Most confident errors</h2>'
                "<p>None: every posting got its label.</p></section>")
    rows = []
    for error in errors:
        lines = "".join(
            f'<li><span class="{"s" if line["contribution"] > 0 else "e"}">'
            f'{line["contribution"]:+.3f}</span> {_e(line["text"])}</li>'
            for line in error["lines"]
        ) or '<li class="note">no lines: a count row keeps no text</li>'
        rows.append(
            f"<tr><td>{_e(error['id'])}<br><span class=\"note\">{_e(error['source'])}</span></td>"
            f"<td>{_e(LABEL_NAMES.get(error['true'], error['true']))}</td>"
            f"<td>{_e(LABEL_NAMES.get(error['predicted'], error['predicted']))}</td>"
            f"<td class=\"num\">{_num(error['p_scientist'])}</td>"
            f"<td class=\"num\">{_num(error['confidence'])}</td>"
            f'<td class="line"><ol>{lines}</ol></td></tr>'
        )
    return (f'<section class="card"><h2>The {len(errors)} most confident errors</h2>'
            '<p class="note">Wrong verdicts whose scores were furthest from the truth (how far, '
            "0 to 1: P(scientist) on an engineer posting, P(engineer) on a scientist one, how "
            "one-sided it was on a mixed one), each with the lines that decided it (evidence "
            'toward <span class="e">engineer</span> is negative, toward <span class="s">'
            "scientist</span> positive).</p>"
            '<div class="scroll"><table class="errors"><thead><tr><th>posting</th>'
            '<th>true</th><th>verdict</th><th class="num">P(scientist)</th>'
            '<th class="num">how far</th><th>lines that decided it</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div></section>")
