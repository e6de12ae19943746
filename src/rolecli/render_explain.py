"""The terminal view of an explanation, and the highlight geometry the HTML report shares.

Everything here reads the dict `explain()` returns; no numbers are recomputed except
the per-character shading, which only decides how strongly a stretch is coloured.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .render import LABEL_STYLES, ROLE_NAMES, bar, label_text, literal

TOP_TERMS = 10
# Shading cut-offs as fractions of the posting's strongest per-character weight: the
# faint level holds the long tail, the strong one only the few stretches that matter.
LEVEL_CUTS = (0.2, 0.5)
LEVEL_NAMES = ("weak", "medium", "strong")

# Terminal shading per direction and level: plain colour, bold colour, then reversed,
# which stays legible on light and dark themes and in 16-colour terminals.
_TERM_STYLES = {
    "engineer": ("cyan", "bold cyan", "bold reverse cyan"),
    "scientist": ("magenta", "bold magenta", "bold reverse magenta"),
}
DECISIVE_MARK = "◆"

# Characters a terminal (or Rich) would act on or drop; each becomes one space so the
# explanation's character offsets still line up with what is shown.
_UNSAFE = {c: " " for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}


def display_text(text: str) -> str:
    """The posting with control characters blanked out, same length as the original."""
    return text.translate(_UNSAFE)


def direction(contribution: float) -> str:
    return "scientist" if contribution > 0 else "engineer"


@dataclass(frozen=True)
class Piece:
    """A stretch of the posting covered by the same term occurrences."""

    start: int
    end: int
    weight: float  # summed per-occurrence share of the covering terms, in logit units
    level: int  # 0 (no evidence), else 1 to len(LEVEL_NAMES)
    terms: tuple[int, ...]  # indices into explanation["terms"]


def highlight_pieces(explanation: dict[str, Any], length: int) -> list[Piece]:
    """Split [0, length) at every term-occurrence boundary and weigh each piece.

    A term's contribution is shared equally among its occurrences (as the line sums
    do), and a piece weighs the shares of every occurrence covering it, n-grams included.
    """
    terms = explanation["terms"]
    shares = [t["contribution"] / max(1, len(t["spans"])) for t in terms]
    events: dict[int, list[tuple[int, int]]] = {0: [], length: []}
    for index, term in enumerate(terms):
        for start, end in term["spans"]:
            if 0 <= start < end <= length:  # never paint past this text
                events.setdefault(start, []).append((index, 1))
                events.setdefault(end, []).append((index, -1))
    active: Counter[int] = Counter()  # term index -> its occurrences covering this piece
    pieces: list[tuple[int, int, float, tuple[int, ...]]] = []
    for here, after in pairwise(sorted(events)):
        for index, delta in events[here]:
            active[index] += delta
        active = +active  # drop terms whose occurrences all ended here
        # Re-sum per piece rather than accumulate, so float drift leaves no ghost weight.
        weight = math.fsum(count * shares[i] for i, count in active.items())
        pieces.append((here, after, weight, tuple(sorted(active))))
    strongest = max((abs(w) for _, _, w, _ in pieces), default=0.0)
    return [
        Piece(start, end, w, _level(abs(w), strongest), covering)
        for start, end, w, covering in pieces
    ]


def _level(strength: float, strongest: float) -> int:
    if strength == 0.0 or strongest == 0.0:
        return 0
    return 1 + sum(strength >= cut * strongest for cut in LEVEL_CUTS)


def signed(value: float, digits: int = 3) -> str:
    """+0.123 / -0.123, and a bare 0 where a line or term carries no evidence at all."""
    return f"{value:+.{digits}f}" if value else "0"


def logit_statement(explanation: dict[str, Any]) -> str:
    """The arithmetic from term contributions to the probability, with this posting's numbers."""
    engineer = math.fsum(t["contribution"] for t in explanation["terms"] if t["contribution"] < 0)
    scientist = math.fsum(t["contribution"] for t in explanation["terms"] if t["contribution"] > 0)
    logit = explanation["logit"]
    p = explanation["probabilities"]["scientist"]
    return (
        f"logit = intercept {signed(explanation['intercept'])} "
        f"+ engineer terms {signed(engineer)} + scientist terms {signed(scientist)} "
        f"= {signed(logit)}; P(scientist) = 1/(1+e^({signed(-logit)})) = {p:.3f}, "
        f"P(engineer) = {1 - p:.3f}"
    )


def explanation_view(
    explanation: dict[str, Any], text: str, top: int = TOP_TERMS
) -> RenderableType:
    """Verdict, arithmetic, highlighted posting, top terms, line table and article bullets."""
    parts: list[RenderableType] = [
        _verdict(explanation),
        Text(logit_statement(explanation)),
        Text(explanation["how"], style="dim"),
    ]
    parts.append(_highlighted(explanation, text))
    parts.append(_terms_table(explanation, top))
    parts.append(_sentence_table(explanation))
    parts.append(_article(explanation))
    model = explanation["model"]
    footer = f"model {model['id']} (scorer sha256 {model['sha256'][:12]})"
    parts.append(literal(footer, style="dim"))
    return Group(*parts)


def _verdict(explanation: dict[str, Any]) -> Text:
    p = explanation["probabilities"]
    line = Text()
    line.append("verdict: ", style="bold")
    line.append_text(label_text(explanation["label"]))
    line.append(
        f"  P(engineer) {p['engineer']:.3f}  P(scientist) {p['scientist']:.3f}"
        f"  confidence {explanation['confidence']:.2f}"
    )
    # Reasons name the rule that fired (e.g. a mixed verdict from a hybrid job title).
    for reason in explanation.get("reasons", ()):
        line.append(f"\n  reason: {reason}", style="dim")
    return line


# A terminal shows a posting, not a data dump: longer input is cut here (JSON and HTML
# keep everything), so the view stays fast however large the input.
VIEW_CHARS = 20_000
VIEW_LINES = 300


def _more(hidden: int, what: str) -> Text:
    note = f"… {hidden:,} more {what} not shown here: see --format json or --html"
    return Text(note, style="dim")


def _highlighted(explanation: dict[str, Any], text: str) -> Panel:
    shown = text[:VIEW_CHARS]
    body = Text(display_text(shown))
    if len(text) > len(shown):
        body.append("\n")
        body.append_text(_more(len(text) - len(shown), "characters"))
    for piece in highlight_pieces(explanation, len(shown)):
        if piece.level:
            style = _TERM_STYLES[direction(piece.weight)][piece.level - 1]
            body.stylize(style, piece.start, piece.end)
    legend = Text()
    for role in ("engineer", "scientist"):
        legend.append(f"toward {role}:", style="dim")
        for level, style in enumerate(_TERM_STYLES[role]):
            legend.append(" ")
            legend.append(f" {LEVEL_NAMES[level]} ", style=style)
        legend.append("   ")
    return Panel(
        Group(body, Text(""), legend), title="posting, shaded by evidence", title_align="left"
    )


def _terms_table(explanation: dict[str, Any], top: int) -> Table:
    sides = {
        role: [t for t in explanation["terms"] if direction(t["contribution"]) == role][:top]
        for role in ("engineer", "scientist")
    }
    strongest = max((abs(t["contribution"]) for t in explanation["terms"]), default=0.0) or 1.0
    table = Table(title=f"top {top} terms each way (logit contribution, occurrences)")
    for role in ("engineer", "scientist"):
        colour = LABEL_STYLES[role].split()[-1]
        table.add_column(f"toward {ROLE_NAMES[role]}", style=colour)
        table.add_column("", justify="right")
        table.add_column("", style=colour, no_wrap=True)
    for row in range(max(len(s) for s in sides.values())):
        cells: list[str] = []
        for role in ("engineer", "scientist"):
            if row < len(sides[role]):
                term = sides[role][row]
                cells += [
                    f"{term['term']} ({len(term['spans'])})",
                    signed(term["contribution"]),
                    bar(abs(term["contribution"]) / strongest, width=8).rstrip("░"),
                ]
            else:
                cells += ["", "", ""]
        table.add_row(*cells)
    return table


def _sentence_table(explanation: dict[str, Any]) -> Table:
    table = Table(
        title=f"line by line ({DECISIVE_MARK} = a line that decided the verdict)",
        show_lines=False,
    )
    table.add_column("", no_wrap=True)
    table.add_column("contribution", justify="right", no_wrap=True)
    table.add_column("line", overflow="fold")
    sentences = explanation["sentences"]
    for sentence in sentences[:VIEW_LINES]:
        contribution = sentence["contribution"]
        style = LABEL_STYLES[direction(contribution)].split()[-1] if contribution else "dim"
        table.add_row(
            Text(DECISIVE_MARK, style="bold yellow") if sentence["decisive"] else "",
            Text(signed(contribution), style=style),
            Text(display_text(sentence["text"]), style="bold" if sentence["decisive"] else ""),
        )
    if len(sentences) > VIEW_LINES:
        table.add_row("", "", _more(len(sentences) - VIEW_LINES, "lines"))
    return table


def _article(explanation: dict[str, Any]) -> Group:
    lines: list[RenderableType] = [Text("closest article responsibilities", style="bold")]
    for bullet in explanation["closest_article"]:
        line = Text("  • ")
        line.append(f"[{bullet['label']}] ", style=LABEL_STYLES.get(bullet["label"], ""))
        line.append(bullet["text"])
        line.append(f"  similarity {bullet['similarity']:.3f}", style="dim")
        lines.append(line)
    return Group(*lines)
