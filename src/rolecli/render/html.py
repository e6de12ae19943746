"""`rolecli explain --html`: the explanation as one self-contained, script-free HTML page.

The page loads nothing (a Content-Security-Policy forbids every source except inline
styles), and every string that came from the posting goes through html.escape.
"""

from __future__ import annotations

import math
import re
from html import escape
from importlib.resources import files
from typing import TYPE_CHECKING

from ..text.roles import ROLE_NAMES
from ..text.sections import BOILERPLATE
from .explain_view import (
    DECISIVE_MARK,
    LEVEL_NAMES,
    SECTION_LABELS,
    TOP_TERMS,
    decided_lines,
    decided_summary,
    direction,
    display_text,
    highlight_pieces,
    in_what_if,
    line_pull,
    section_summary,
    shown_lines,
    shows_every_line,
    signed,
    strength_marks,
    what_if_spans,
)

if TYPE_CHECKING:
    from ..tasks.explain import Explanation

CSP = "default-src 'none'; style-src 'unsafe-inline'"
_CLASS = {"engineer": "e", "scientist": "s"}
_HEADINGS = {**ROLE_NAMES, "mixed": "Mixed role"}
_BULLET = re.compile(r"^\s*[-*•·–]\s+")  # a list item's marker, not part of what it says
LINE_CHARS = 280  # a decided line longer than this is cut in the summary (whole in the posting)
_VERDICT_CLASS = {"engineer": "engineer", "scientist": "scientist", "mixed": "mixed", None: "off"}

# The page's styles, shared with `rolecli serve`'s page (serve/page.py).
CSS = files("rolecli.render").joinpath("report.css").read_text(encoding="utf-8")


def html_report(
    explanation: Explanation, text: str, title: str, top: int = TOP_TERMS,
    all_lines: bool = False,
) -> str:
    """The complete page; the same explanation and text always give the same bytes.

    Its size is bounded: the shaded posting holds at most the explanation's listed
    characters, and the line table its decisive lines (every listed line with all_lines).
    """
    label = explanation.result.label
    verdict = verdict_heading(label)
    return "\n".join([
        *page_head(f"{verdict}: {title} (rolecli)", CSS),
        f'<body class="{verdict_class(label)}">',
        '<main class="wrap">',
        *report_sections(explanation, text, title, top, all_lines),
        "</main>",
        "</body>",
        "</html>",
        "",
    ])


def page_head(title: str, css: str) -> list[str]:
    """A self-contained page's start, to its <head>'s end: nothing may load but inline
    styles (CSP), it fits a phone, follows the light or dark scheme, sends no referrer."""
    return [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(title)}</title>",
        f"<style>\n{css}</style>",
        "</head>",
    ]


def report_sections(
    explanation: Explanation, text: str, title: str, top: int = TOP_TERMS,
    all_lines: bool = False, interactive: bool = False,
) -> list[str]:
    """The report's cards and footer, for `html_report` and for a page that brings its own
    head, styles (CSS) and verdict class (`verdict_class`), such as `rolecli serve`'s.

    Plain first: the verdict in words, the title check and the few lines that decided it,
    each with its reason; then the shaded posting; then one fold, closed, with how the
    score is computed (probabilities, arithmetic, terms, every line, the article).
    `interactive`: each decided line gets a (hidden) button a page script can show."""
    verdict = verdict_heading(explanation.result.label)
    sections = [
        _hero(explanation, title, verdict),
        _decided(explanation, interactive),
        _posting(explanation, text, open_=shows_every_line(explanation, all_lines)),
        _how(explanation, top, all_lines),
    ]
    model = explanation.result.model
    return [
        *sections,
        f"<footer>rolecli explanation · model {_e(model['id'])} · "
        f"scorer sha256 {_e(model['sha256'])}</footer>",
    ]


def verdict_heading(label: str | None) -> str:
    return _HEADINGS.get(label or "", "Off-topic")


def verdict_class(label: str | None) -> str:
    """The CSS class that gives the report its accent colour (on any enclosing element)."""
    return f"v-{_VERDICT_CLASS[label]}"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float, digits: int = 3) -> str:
    return signed(value, digits).replace("-", "\u2212")  # a real minus sign reads better


def _pct(fraction: float) -> str:
    return f"{max(0.0, min(1.0, fraction)) * 100:.1f}%"


def _hero(explanation: Explanation, title: str, verdict: str) -> str:
    reasons = "".join(f"<li>{_e(display_text(r))}</li>" for r in explanation.words.reasons)
    return (
        '<header class="card hero">'
        f'<p class="eyebrow">What rolecli reads · {_e(title)}</p>'
        f"<h1>{_e(verdict)}</h1>"
        f'<p class="confidence">{_e(display_text(explanation.words.confidence_text))}</p>'
        f'<ul class="reasons">{reasons}</ul>'
        f"{_title_check(explanation)}"
        "</header>"
    )


def _title_check(explanation: Explanation) -> str:
    check = explanation.words.title_check
    if not check:
        return ('<p class="check none"><b>Title check.</b> No title given or found in the '
                "posting.</p>")
    grade = explanation.result.title.grade  # agrees, leans or contradicts
    tag = {"agrees": "matches", "leans": "partly matches", "contradicts": "does not match"}.get(
        grade or "", "")
    # The tag says in words what the warning colour shows.
    badge = f' <span class="tag">Title {tag}</span>' if tag else ""
    return (
        f'<p class="check{" warn" if grade == "contradicts" else ""}"><b>Title check.</b>{badge} '
        f"{_e(display_text(check))}</p>"
    )


def _decided(explanation: Explanation, interactive: bool) -> str:
    lines = decided_lines(explanation)
    spans = what_if_spans(explanation)
    what_if = explanation.what_if if spans else None
    sentence = (
        f'<p class="what-if"><b>What would change it.</b> '
        f'{_e(display_text(what_if.sentence))}</p>'
        if what_if is not None and what_if.sentence else ""
    )
    summary = decided_summary(explanation, sum(
        1 for line in lines if line["decisive"] and line["section"] != "title"))
    counted = f'<p class="counted">{_e(summary)}</p>' if summary else ""
    items = []
    for line in lines:
        value = line["contribution"]
        side = _CLASS[direction(value)] if value else "z"
        text = _BULLET.sub("", display_text(line["text"]))
        shown = text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1].rstrip() + "…"
        would_go = (
            '<p class="would-go"><span aria-hidden="true">&#9671;</span> One of the lines '
            "that would have to go</p>" if in_what_if(line, spans) else ""
        )
        button = (
            f'<button type="button" class="without" data-start="{line["start"]}" '
            f'data-end="{line["end"]}" hidden>What if this line were gone?</button>'
            '<p class="without-result" aria-live="polite"></p>'
            if interactive else ""
        )
        items.append(
            f'<li class="line {side}{" would" if would_go else ""}">'
            f'<p class="said">{_e(shown)}</p>'
            f'<p class="why"><span class="marks" aria-hidden="true">'
            f'{_e(strength_marks(value, _strongest_line(explanation)))}</span> '
            f"{_e(line_pull(explanation, line))}</p>{would_go}{button}</li>"
        )
    none = ("The text as a whole does not read as a machine-learning job, so no line "
            "decides between the two roles." if explanation.result.off_topic else
            "No line carries evidence either way.")
    body = (f'<ol class="decided">{"".join(items)}</ol>' if items else
            f'<p class="none">{none}</p>')
    return (
        f'<section class="card lines-card"><h2>The lines that decided it</h2>{sentence}'
        f"{counted}{body}"
        '<p class="note">&#9664; pulls toward ML engineer, &#9654; toward ML scientist; more '
        "marks pull harder. Each line's exact evidence is under “How the score is "
        "computed”.</p>"
        "</section>"
    )


def _strongest_line(explanation: Explanation) -> float:
    return max((abs(s["contribution"]) for s in explanation.sentences), default=0.0) or 1.0


def _how(explanation: Explanation, top: int, all_lines: bool) -> str:
    """One fold, closed: everything behind the verdict, for whoever wants the maths."""
    return (
        '<details class="card how"><summary><h2>How the score is computed</h2></summary>'
        '<p class="note">The probabilities, the exact arithmetic from words to score, the '
        "strongest terms, every line's evidence and the closest responsibilities of the "
        "article that defines the two roles.</p>"
        + _probabilities(explanation)
        + _arithmetic(explanation)
        + _terms(explanation, top)
        + _lines(explanation, all_lines)
        + _article(explanation)
        + "</details>"
    )


def _probabilities(explanation: Explanation) -> str:
    p = explanation.result.probabilities()
    rows = "".join(
        f'<span>P({role})</span><div class="track"><div class="fill {_CLASS[role]}" '
        f'style="width:{_pct(p[role])}"></div></div><span class="num">{p[role]:.3f}</span>'
        for role in ("engineer", "scientist")
    )
    parts = "".join(
        f'<span class="{"boiler" if boilerplate else ""}">{_e(name)} <b>{count}</b></span>'
        for name, count, boilerplate in section_summary(explanation)
    )
    return (
        '<section class="sub"><h3>Probabilities</h3>'
        f'<div class="probs">{rows}</div>'
        f'<p class="note">Confidence {explanation.result.confidence:.3f}.</p>'
        f'<p class="parts"><span class="lead">Sections</span>{parts}</p>'
        '<p class="note">Greyed sections (about the company, benefits, equal opportunity, '
        "how to apply, job details) are boilerplate: never a reason.</p>"
        "</section>"
    )


def _arithmetic(explanation: Explanation) -> str:
    terms = explanation.terms
    engineer = math.fsum(t["contribution"] for t in terms if t["contribution"] < 0)
    scientist = math.fsum(t["contribution"] for t in terms if t["contribution"] > 0)
    pull = -engineer + scientist
    share = -engineer / pull if pull else 0.5
    logit, p = explanation.logit, explanation.result.probabilities()["scientist"]
    stats = "".join(
        f'<div class="stat {cls}"><b>{value}</b><span>{name}</span></div>'
        for cls, value, name in (
            ("", _num(explanation.intercept), "intercept"),
            ("e", _num(engineer), f"{sum(t['contribution'] < 0 for t in terms)} engineer terms"),
            ("s", _num(scientist), f"{sum(t['contribution'] > 0 for t in terms)} scientist terms"),
            ("", _num(logit), "logit (the sum)"),
        )
    )
    return (
        '<section class="sub"><h3>The exact arithmetic: how the score adds up</h3>'
        f'<div class="sum">{stats}</div>'
        f'<div class="tug" aria-hidden="true"><div class="e" style="width:{_pct(share)}"></div>'
        '<div class="s" style="flex:1"></div></div>'
        '<div class="tug-labels"><span>pull toward ML engineer</span>'
        "<span>pull toward ML scientist</span></div>"
        f'<p class="formula">P(scientist) = 1 / (1 + e<sup>{_num(-logit)}</sup>) = '
        f"<b>{p:.3f}</b> · P(engineer) = <b>{1 - p:.3f}</b></p>"
        f'<p class="note">{_e(explanation.how)}</p>'
        "</section>"
    )


def _posting(explanation: Explanation, text: str, open_: bool) -> str:
    terms = explanation.terms
    limit = min(len(text), explanation.limits["listed_chars"])
    shown = display_text(text[:limit])
    out: list[str] = []
    for piece in highlight_pieces(explanation, limit):
        chunk = _e(shown[piece.start : piece.end])
        if not piece.level:
            out.append(chunk)
            continue
        # The tooltip names every term covering this stretch, n-grams included.
        tip = "\n".join(
            f"{terms[i]['term']}: {_num(terms[i]['contribution'], 4)}"
            f" over {terms[i]['occurrences']} occurrence{'s' * (terms[i]['occurrences'] != 1)}"
            for i in piece.terms
        )
        cls = f"{_CLASS[direction(piece.weight)]}{piece.level}"
        out.append(f'<mark class="{cls}" title="{_e(tip)}">{chunk}</mark>')
    legend = "".join(
        f"<span>toward {ROLE_NAMES[role]}:"
        + "".join(
            f'<span class="swatch {_CLASS[role]}{level}">{name}</span>'
            for level, name in enumerate(LEVEL_NAMES, start=1)
        )
        + "</span>"
        for role in ("engineer", "scientist")
    )
    cut = (
        f'<p class="note">The first {limit:,} of {len(text):,} characters are shown.</p>'
        if limit < len(text) else ""
    )
    return (
        f'<details class="card"{" open" if open_ else ""}><summary><h2>The whole posting, '
        "shaded by evidence</h2></summary>"
        f'<div class="legend">{legend}</div>'
        f'<div class="posting">{"".join(out)}</div>{cut}'
        '<p class="note">Each word or phrase the model weighs is shaded by the direction and '
        "strength of its pull; hover over it for the term and its exact contribution.</p>"
        "</details>"
    )


def _terms(explanation: Explanation, top: int) -> str:
    terms = explanation.terms
    strongest = max((abs(t["contribution"]) for t in terms), default=0.0) or 1.0
    columns = []
    for role in ("engineer", "scientist"):
        rows = "".join(
            f'<li><span class="t">{_e(t["term"])} <span class="n">&#215;{t["occurrences"]}</span>'
            f'</span><div class="track"><div class="fill {_CLASS[role]}" '
            f'style="width:{_pct(abs(t["contribution"]) / strongest)}"></div></div>'
            f'<span class="num val {_CLASS[role]}">{_num(t["contribution"])}</span></li>'
            for t in [t for t in terms if direction(t["contribution"]) == role][:top]
        ) or '<li><span class="t n">none</span></li>'
        columns.append(
            f'<div><h4 class="{_CLASS[role]}-head">Toward {ROLE_NAMES[role]}</h4>'
            f'<ul class="terms">{rows}</ul></div>'
        )
    return (
        f'<section class="sub"><h3>Strongest terms, top {top} each way</h3>'
        f'<div class="cols">{"".join(columns)}</div></section>'
    )


def _lines(explanation: Explanation, all_lines: bool) -> str:
    sentences = explanation.sentences
    lines = shown_lines(explanation, all_lines)
    strongest = max((abs(s["contribution"]) for s in sentences), default=0.0) or 1.0
    rows = []
    for s in lines:
        value = s["contribution"]
        side = _CLASS[direction(value)]
        boiler = s["section"] in BOILERPLATE or s["heading"]
        classes = " ".join(
            name for name, on in (("decisive", s["decisive"]), ("zero", not value or boiler))
            if on
        )
        mark = (
            f'<span class="mark" aria-hidden="true">{DECISIVE_MARK}</span>'
            '<span class="vh">Decided the verdict: </span>'
            if s["decisive"] else ""
        )
        section = "heading" if s["heading"] else SECTION_LABELS[s["section"]]
        rows.append(
            f'<tr class="{classes}"><td class="text">{mark}{_e(display_text(s["text"]))}</td>'
            f'<td class="sec">{_e(section)}</td>'
            f'<td class="c"><span class="num val {side if value else ""}">'
            f'{_e(strength_marks(value, strongest))} {_num(value)}</span>'
            f'<div class="div"><span class="{side}" '
            f'style="width:{_pct(abs(value) / strongest / 2)}"></span></div></td></tr>'
        )
    total = len(sentences) + explanation.unlisted_lines["count"]
    if shows_every_line(explanation, all_lines):
        heading = "Line by line"
        more = (f'<p class="note">{explanation.unlisted_lines["count"]:,} more lines are '
                "not listed (their evidence is summed in the JSON).</p>"
                if explanation.unlisted_lines["count"] else "")
    else:
        heading = f"The {len(lines)} decisive lines, of {total}"
        more = ('<p class="note">The other lines are in the shaded posting '
                "(<code>rolecli explain --all-lines</code> lists every one).</p>")
    return (
        f'<section class="sub"><h3>{_e(heading)}</h3>'
        '<table class="lines"><thead><tr><th scope="col">Line</th><th scope="col">Section</th>'
        '<th scope="col">Evidence</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{more}"
        f'<p class="note">{DECISIVE_MARK} marks the lines that decided the verdict; '
        "&#9664; pulls toward ML engineer, &#9654; toward ML scientist, more marks pull harder. "
        "A line's evidence is the sum of the terms that start in it "
        "(a term seen several times shares its contribution equally).</p>"
        "</section>"
    )


def _article(explanation: Explanation) -> str:
    items = "".join(
        f'<li><span class="badge {_CLASS.get(b["label"], "")}">{_e(b["label"])}</span>'
        f'{_e(b["text"])} <span class="sim">similarity {b["similarity"]:.3f}</span></li>'
        for b in explanation.closest_article
    )
    return (
        '<section class="sub"><h3>Closest article responsibilities</h3>'
        f'<ul class="article">{items}</ul>'
        '<p class="note">The responsibilities from the article that defines the two roles, '
        "ranked by tf-idf cosine similarity to the posting.</p>"
        "</section>"
    )
