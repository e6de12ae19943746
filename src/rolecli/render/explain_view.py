"""The terminal view of an explanation, and the highlight geometry the HTML report shares.

Everything here reads the dict `explain()` returns; no numbers are recomputed except
the per-character shading, which only decides how strongly a stretch is coloured.
The view leads with what a recruiter reads (verdict, reasons, title check, sections,
the decisive lines); the exact arithmetic follows under its own heading. Strength is
shown by markers and numbers as well as colour, so nothing is lost without colour.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..escape import blanked
from ..text.roles import ROLE_NAMES
from ..text.sections import BOILERPLATE, KIND_NAMES
from .terminal import GRADE_STYLES, LABEL_STYLES, bar, label_text, literal

if TYPE_CHECKING:
    from ..tasks.explain import Explanation, ListedLine

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
# A line's strength in marks, toward engineer (left) or scientist (right).
STRENGTH_MARKS = {"engineer": "◀", "scientist": "▶"}
# A posting with at most this many lines is shown whole; a longer one shows its decisive
# lines unless every line is asked for.
SHORT_POSTING_LINES = 20
SECTION_LABELS = {**KIND_NAMES, "title": "title", "rest": "the rest", "about": "about us",
                  "equal_opportunity": "equal opp."}

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
    terms: tuple[int, ...]  # indices into explanation.terms


def highlight_pieces(explanation: Explanation, length: int) -> list[Piece]:
    """Split [0, length) at every term-occurrence boundary and weigh each piece.

    A term's contribution is shared equally among its occurrences (as the line sums
    do), and a piece weighs the shares of every occurrence covering it, n-grams included.
    """
    terms = explanation.terms
    shares = [t["contribution"] / max(1, t["occurrences"]) for t in terms]
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


def strength_marks(value: float, strongest: float) -> str:
    """One to three marks pointing toward the role a line pulls to; none without evidence."""
    level = _level(abs(value), strongest)
    return STRENGTH_MARKS[direction(value)] * level if level else ""


def logit_statement(explanation: Explanation) -> str:
    """The arithmetic from term contributions to the probability, with this posting's numbers."""
    engineer = math.fsum(t["contribution"] for t in explanation.terms if t["contribution"] < 0)
    scientist = math.fsum(t["contribution"] for t in explanation.terms if t["contribution"] > 0)
    logit = explanation.logit
    p = explanation.result.probabilities()["scientist"]
    return (
        f"logit = intercept {signed(explanation.intercept)} "
        f"+ engineer terms {signed(engineer)} + scientist terms {signed(scientist)} "
        f"= {signed(logit)}; P(scientist) = 1/(1+e^({signed(-logit)})) = {p:.3f}, "
        f"P(engineer) = {1 - p:.3f}"
    )


def shows_every_line(explanation: Explanation, all_lines: bool) -> bool:
    return all_lines or len(explanation.sentences) <= SHORT_POSTING_LINES


def shown_lines(explanation: Explanation, all_lines: bool) -> list[ListedLine]:
    """The lines a view lists: every listed line, or only the decisive ones."""
    if shows_every_line(explanation, all_lines):
        return list(explanation.sentences)
    return [s for s in explanation.sentences if s["decisive"]]


def section_summary(explanation: Explanation) -> list[tuple[str, int, bool]]:
    """(section name, lines, boilerplate) in the order the sections first appear."""
    counts: Counter[str] = Counter()
    order: list[str] = []
    for sentence in explanation.sentences:
        kind = sentence["section"]
        if kind not in counts:
            order.append(kind)
        counts[kind] += not sentence["heading"]
    return [(SECTION_LABELS[k], counts[k], k in BOILERPLATE) for k in order if counts[k]]


def explanation_view(
    explanation: Explanation, text: str, top: int = TOP_TERMS, all_lines: bool = False,
    verdict: bool = True,
) -> RenderableType:
    """Verdict, reasons, title check, sections and decisive lines; then the arithmetic.
    `verdict=False` leaves out the first four, for a view under classify's panel (which
    shows them)."""
    model = explanation.result.model
    return Group(
        *((_verdict(explanation), Text("")) if verdict else ()),
        _sections(explanation),
        _lines_table(explanation, text, all_lines),
        Text(""),
        Text("The exact arithmetic", style="bold underline"),
        Text(logit_statement(explanation)),
        Text(explanation.how, style="dim"),
        _terms_table(explanation, top),
        _article(explanation),
        literal(f"model {model['id']} (scorer sha256 {model['sha256'][:12]})", style="dim"),
    )


def _verdict(explanation: Explanation) -> Table:
    p = explanation.result.probabilities()
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    verdict = label_text(explanation.result.label)
    if not explanation.result.off_topic:  # role odds and confidence mean nothing off-topic
        verdict.append(f"   P(engineer) {p['engineer']:.3f} · P(scientist) {p['scientist']:.3f}",
                       style="not bold default")
    grid.add_row("verdict", verdict)
    if not explanation.result.off_topic:
        grid.add_row("confidence", Text(explanation.words.confidence_text))
    for number, reason in enumerate(explanation.words.reasons):
        grid.add_row("why" if number == 0 else "", literal("• " + reason))
    check = explanation.words.title_check
    if check:
        grade = explanation.result.title.grade or ""
        grid.add_row("title", literal(check, style=GRADE_STYLES.get(grade, "")))
    else:
        grid.add_row("title", Text("none given or found (give one with --title)", style="dim"))
    if explanation.what_if is not None and not explanation.result.off_topic:
        grid.add_row("what if", literal(explanation.what_if.sentence))
    return grid


def _sections(explanation: Explanation) -> Text:
    line = Text()
    line.append("sections: ", style="bold")
    parts = section_summary(explanation)
    if len(parts) <= 1 and parts and parts[0][0] == SECTION_LABELS["intro"]:
        line.append("none recognised (the posting has no headings)", style="dim")
        return line
    for number, (name, count, boilerplate) in enumerate(parts):
        if number:
            line.append(" · ", style="dim")
        line.append(f"{name} {count}", style="dim" if boilerplate else "")
    line.append("  (dim: boilerplate, never a reason)", style="dim")
    return line


# A terminal shows a posting, not a data dump: longer input is cut here (JSON and HTML
# keep more), so the view stays fast however large the input.
VIEW_CHARS = 20_000
VIEW_LINES = 300


def _lines_table(explanation: Explanation, text: str, all_lines: bool) -> Table:
    sentences = explanation.sentences
    lines = shown_lines(explanation, all_lines)
    every = shows_every_line(explanation, all_lines)
    total = len(sentences) + explanation.unlisted_lines["count"]
    if every:
        title = f"every line ({len(lines)})"
    else:
        title = f"the {len(lines)} lines that decided it, of {total} (--all-lines shows every line)"
    table = Table(
        title=title, title_justify="left", title_style="bold",
        caption=f"{DECISIVE_MARK} decided the verdict · {STRENGTH_MARKS['engineer']} toward "
        f"ML engineer · {STRENGTH_MARKS['scientist']} toward ML scientist · more marks, stronger",
        caption_justify="left", caption_style="dim", show_edge=False, pad_edge=False,
    )
    table.add_column("", no_wrap=True)
    table.add_column("", no_wrap=True, justify="right")
    table.add_column("evidence", justify="right", no_wrap=True)
    table.add_column("section", no_wrap=True, style="dim")
    table.add_column("line", overflow="fold")
    shown = min(len(text), VIEW_CHARS)
    pieces = highlight_pieces(explanation, shown)
    starts = [piece.start for piece in pieces]
    strongest = max((abs(s["contribution"]) for s in sentences), default=0.0)
    for sentence in lines[:VIEW_LINES]:
        value = sentence["contribution"]
        colour = LABEL_STYLES[direction(value)].split()[-1] if value else "dim"
        table.add_row(
            Text(DECISIVE_MARK, style="bold yellow") if sentence["decisive"] else "",
            Text(strength_marks(value, strongest), style=colour),
            Text(signed(value), style=colour),
            SECTION_LABELS[sentence["section"]] if not sentence["heading"] else "heading",
            _shaded(sentence, pieces, starts, shown),
        )
    hidden = len(lines) - VIEW_LINES + (explanation.unlisted_lines["count"] if every else 0)
    if hidden > 0:
        table.add_row("", "", "", "", _more(hidden, "lines"))
    return table


def _shaded(
    sentence: ListedLine, pieces: list[Piece], starts: list[int], shown: int
) -> Text:
    """One line with its words shaded by direction and strength (inside the shaded window)."""
    start, end = sentence["start"], sentence["end"]
    # Every invisible character (a bidi override would reorder the terminal's line) blanked.
    line = Text(blanked(sentence["text"]), style="bold" if sentence["decisive"] else "")
    if sentence["section"] in BOILERPLATE or sentence["heading"]:
        line.stylize("dim")
    if start >= shown:
        return line
    for piece in pieces[max(0, bisect_right(starts, start) - 1) :]:
        if piece.start >= end:
            break
        if piece.level:
            style = _TERM_STYLES[direction(piece.weight)][piece.level - 1]
            line.stylize(style, max(piece.start, start) - start, min(piece.end, end) - start)
    return line


def _more(hidden: int, what: str) -> Text:
    note = f"… {hidden:,} more {what} not shown here: see --format json or --html"
    return Text(note, style="dim")


def _terms_table(explanation: Explanation, top: int) -> Table:
    sides = {
        role: [t for t in explanation.terms if direction(t["contribution"]) == role][:top]
        for role in ("engineer", "scientist")
    }
    strongest = max((abs(t["contribution"]) for t in explanation.terms), default=0.0) or 1.0
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
                    f"{term['term']} ({term['occurrences']})",
                    signed(term["contribution"]),
                    bar(abs(term["contribution"]) / strongest, width=8).rstrip("░"),
                ]
            else:
                cells += ["", "", ""]
        table.add_row(*[Text(cell) for cell in cells])
    return table


def _article(explanation: Explanation) -> Group:
    lines: list[RenderableType] = [Text("closest article responsibilities", style="bold")]
    for bullet in explanation.closest_article:
        line = Text("  • ")
        line.append(f"[{bullet['label']}] ", style=LABEL_STYLES.get(bullet["label"], ""))
        line.append(bullet["text"])
        line.append(f"  similarity {bullet['similarity']:.3f}", style="dim")
        lines.append(line)
    return Group(*lines)


# -- the plain summary's decisive lines (HTML report and serve's page) ---------------------

DECIDED_LINES = 4  # the page leads with at most this many lines (what_if may add its own)
LINE_WORDS = 3
# A line's pull in words, by its strength level (see _level).
PULL_WORDS = ("slightly", "", "strongly")


def decided_lines(explanation: Explanation) -> list[ListedLine]:
    """The few lines that decided the verdict, in posting order: a decisive title line, then
    the decisive lines that pull hardest, and every line `what_if` says would have to go."""
    decisive = [s for s in explanation.sentences if s["decisive"]]
    titles = [s for s in decisive if s["section"] == "title"]
    pulls = sorted((s for s in decisive if s["section"] != "title"),
                   key=lambda s: -abs(s["contribution"]))
    chosen = (titles + pulls)[:DECIDED_LINES]
    for span in what_if_spans(explanation):
        chosen += [s for s in explanation.sentences if _overlaps(s, span) and s not in chosen]
    return sorted(chosen, key=lambda s: s["start"])


def what_if_spans(explanation: Explanation) -> list[tuple[int, int]]:
    """(start, end) of the lines whose removal `what_if` says changes the verdict (none when
    the result has no what_if, or nothing short of rewriting changes it)."""
    what_if = explanation.what_if
    if what_if is None or not what_if.changed:
        return []
    return [(start, end) for start, end in what_if.lines]


def decided_summary(explanation: Explanation, shown: int) -> str:
    """How many lines decide it, each way (the lines the reasons count), and how many of
    them are shown: "9 lines decide it: 5 toward ML engineer, 4 toward ML scientist. The
    4 that pull hardest:"."""
    decisive = [s for s in explanation.sentences
                if s["decisive"] and s["section"] != "title" and s["contribution"]]
    if not decisive:
        return ""
    ways = Counter(direction(s["contribution"]) for s in decisive)
    each = ", ".join(f"{ways[role]} toward {ROLE_NAMES[role]}"
                     for role in ("engineer", "scientist") if ways[role])
    total = len(decisive)
    said = (f"{total} lines decide it: {each}." if total > 1 else
            f"1 line decides it, toward {ROLE_NAMES[direction(decisive[0]['contribution'])]}.")
    if shown < total:
        said += f" The {shown} that pull hardest:"
    return said


def in_what_if(sentence: ListedLine, spans: list[tuple[int, int]]) -> bool:
    return any(_overlaps(sentence, span) for span in spans)


def _overlaps(sentence: ListedLine, span: tuple[int, int]) -> bool:
    return sentence["start"] < span[1] and span[0] < sentence["end"]


def line_pull(explanation: Explanation, sentence: ListedLine) -> str:
    """A line's reason in plain words: which way it pulls, how hard, and its strongest words."""
    if sentence["section"] == "title":
        return "The job title: read by its own rule (see the title check)"
    value = sentence["contribution"]
    if not value:
        return "No weighed words: it adds nothing either way"
    strongest = max(abs(s["contribution"]) for s in explanation.sentences)
    how = PULL_WORDS[max(1, _level(abs(value), strongest)) - 1]
    words = line_words(explanation, sentence)
    said = ", ".join(f"“{word}”" for word in words)
    role = ROLE_NAMES[direction(value)]
    return f"Pulls {how} toward {role}".replace("  ", " ") + (f": {said}" if said else "")


def line_words(explanation: Explanation, sentence: ListedLine) -> list[str]:
    """The terms inside a line that pull its way hardest (their share of each occurrence)."""
    start, end, sign = sentence["start"], sentence["end"], sentence["contribution"] > 0
    weights: defaultdict[str, float] = defaultdict(float)
    for term in explanation.terms:
        if (term["contribution"] > 0) != sign or not term["contribution"]:
            continue
        inside = sum(start <= a and b <= end for a, b in term["spans"])
        if inside:
            share = abs(term["contribution"]) / max(1, term["occurrences"])
            weights[term["term"]] += share * inside
    return sorted(weights, key=weights.__getitem__, reverse=True)[:LINE_WORDS]
