"""Rendering results for people (Rich) — no logic lives here (JSON: jsonout.py, no Rich).

Every string that came from outside (a file name, an id, a model card field, an error
message) reaches Rich as `literal(value)`: a Text, which Rich never reads as markup, with
control characters made visible (escape.visible). Never as a plain str, which Rich would
parse for `[markup]` and `:emoji:` codes.
"""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING, Any, cast

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..escape import holds_unicode, visible
from ..text.roles import ROLE_NAMES

if TYPE_CHECKING:
    from ..verdict.result import Result

LABEL_STYLES = {"engineer": "bold cyan", "scientist": "bold magenta", "mixed": "bold yellow"}


def console(stderr: bool = False) -> Console:
    """A console that drops colour for pipes, NO_COLOR and TERM=dumb (Rich honours all three),
    and writes its typography in ASCII on a stream whose encoding lacks it (Rich then
    draws its boxes in ASCII too)."""
    stream = sys.stderr if stderr else sys.stdout
    file = None if holds_unicode(stream) else cast(IO[str], _PlainTypography(stream))
    # emoji=False: no `:code:` is ever meant as an emoji, and the emoji table takes ms to load.
    return Console(file=file, stderr=stderr, highlight=False, soft_wrap=False, emoji=False)


# The views' typographic characters, as ASCII for a stream that cannot write them.
_ASCII_TYPOGRAPHY = str.maketrans({
    "█": "#", "░": ".", "“": '"', "”": '"', "‘": "'", "’": "'", "•": "*", "…": "...",
    "—": "--", "–": "-", "·": "-", "◆": "*", "◀": "<", "▶": ">", "▪": "*",
})


class _PlainTypography:
    """A text stream that writes the views' typography in ASCII (what its encoding still
    cannot hold, posting text included, comes out as backslash escapes)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.encoding = str(getattr(stream, "encoding", "ascii"))  # what Rich reads

    def write(self, text: str) -> int:
        self.stream.write(text.translate(_ASCII_TYPOGRAPHY))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return bool(self.stream.isatty())

    def fileno(self) -> int:
        return int(self.stream.fileno())


def literal(value: object, style: str = "") -> Text:
    """Any outside value as Rich text shown exactly as it is: no markup, no emoji codes,
    no live escape sequences or hyperlinks, always one line."""
    return Text(visible(str(value)), style=style, no_wrap=False)


def bar(fraction: float, width: int = 24) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


# The title check stands out when the body does not simply agree with the title.
GRADE_STYLES = {"contradicts": "bold yellow", "leans": "yellow"}


def label_text(label: str | None) -> Text:
    if label is None:
        return Text("not an ML job description", style="bold red")
    return Text(ROLE_NAMES[label], style=LABEL_STYLES[label])


def classification_panel(result: Result, title: str = "rolecli") -> Panel:
    """The verdict panel; `title` (a file name) is shown literally, and so are the reasons
    and the title check, which quote the posting."""
    p = result.probabilities()
    words = result.words
    assert words is not None, "classify builds a result's words"
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column()
    table.add_column(justify="right")
    table.add_row("verdict", label_text(result.label), "")
    if result.off_topic:
        # No role bars or confidence: about roles they would mean nothing here.
        for number, reason in enumerate(words.reasons):
            table.add_row("why" if number == 0 else "", literal(reason), "")
        footer = literal(f"model {result.model['id']}", style="dim")
        return Panel(Group(table, footer), title=literal(title), expand=False)
    for role in ("engineer", "scientist"):
        table.add_row(
            f"P({role})", Text(bar(p[role]), style=LABEL_STYLES[role].split()[-1]), f"{p[role]:.2f}"
        )
    # In words: a mixed verdict's number says little (how close P is to even).
    table.add_row("confidence", Text(words.confidence_text), "")
    for number, reason in enumerate(words.reasons):
        table.add_row("why" if number == 0 else "", literal("• " + reason), "")
    if words.title_check:
        table.add_row("title", literal(words.title_check,
                                       style=GRADE_STYLES.get(result.title.grade or "", "")), "")
    if words.what_if is not None:
        table.add_row("what if", literal(words.what_if.sentence), "")
    for role in ("engineer", "scientist"):
        terms = ", ".join(words.top_terms[role][:6]) or "—"
        table.add_row(f"{role} terms", literal(terms, style=LABEL_STYLES[role].split()[-1]), "")
    footer = literal(f"model {result.model['id']}", style="dim")
    return Panel(Group(table, footer), title=literal(title), expand=False)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def evaluation_view(report: dict[str, Any], title: str) -> Group:
    binary = report["engineer_vs_scientist"]
    summary = Table(title=literal(f"{title} — {report['rows']} postings"), show_header=False)
    summary.add_column()
    summary.add_column(justify="right")
    for name, value in (
        ("accuracy", report["accuracy"]),
        ("balanced accuracy", report["balanced_accuracy"]),
        ("macro-F1", report["macro_f1"]),
        ("engineer vs scientist: ROC AUC of P(scientist)", binary["roc_auc"]),
        ("engineer vs scientist: balanced accuracy at 0.5", binary["balanced_accuracy"]),
        ("engineer vs scientist: expected calibration error", binary["ece"]),
        ("true mixed called mixed", report["mixed"]["true_mixed_called_mixed"]),
        ("clear postings called mixed", report["mixed"]["clear_called_mixed"]),
        ("flagged off-topic", report["off_topic_rate"]),
    ):
        summary.add_row(name, _pct(value))

    per_label = Table(title="per label")
    for column in ("label", "precision", "recall", "F1", "support"):
        per_label.add_column(column, justify="left" if column == "label" else "right")
    for label, row in report["per_label"].items():
        per_label.add_row(
            label, _pct(row["precision"]), _pct(row["recall"]), _pct(row["f1"]), str(row["support"])
        )

    labels = report["confusion"]["labels"]
    confusion = Table(title="confusion (rows: true, columns: predicted)")
    confusion.add_column("true \\ predicted")
    for label in labels:
        confusion.add_column(label, justify="right")
    for label, counts in zip(labels, report["confusion"]["matrix"]):
        confusion.add_row(label, *[str(c) for c in counts])
    footer = literal(f"model {report['model']['id']}", style="dim")
    return Group(summary, per_label, confusion, footer)
