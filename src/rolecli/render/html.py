"""`rolecli explain --html`: the explanation as one self-contained, script-free HTML page.

The page loads nothing (a Content-Security-Policy forbids every source except inline
styles), and every string that came from the posting goes through html.escape.
"""

from __future__ import annotations

import math
from html import escape
from importlib.resources import files
from typing import Any

from ..decision import ROLE_NAMES
from ..sections import BOILERPLATE
from .explain_view import (
    DECISIVE_MARK,
    LEVEL_NAMES,
    SECTION_LABELS,
    TOP_TERMS,
    direction,
    display_text,
    highlight_pieces,
    section_summary,
    shown_lines,
    shows_every_line,
    signed,
    strength_marks,
)

CSP = "default-src 'none'; style-src 'unsafe-inline'"
_CLASS = {"engineer": "e", "scientist": "s"}
_HEADINGS = {**ROLE_NAMES, "mixed": "Mixed role"}
_VERDICT_CLASS = {"engineer": "engineer", "scientist": "scientist", "mixed": "mixed", None: "off"}

# The page's styles, shared with `rolecli serve`'s page (serve/page.py).
CSS = files("rolecli.render").joinpath("report.css").read_text(encoding="utf-8")


def html_report(
    explanation: dict[str, Any], text: str, title: str, top: int = TOP_TERMS,
    all_lines: bool = False,
) -> str:
    """The complete page; the same explanation and text always give the same bytes.

    Its size is bounded: the shaded posting holds at most the explanation's listed
    characters, and the line table its decisive lines (every listed line with all_lines).
    """
    label = explanation["label"]
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
    explanation: dict[str, Any], text: str, title: str, top: int = TOP_TERMS,
    all_lines: bool = False,
) -> list[str]:
    """The report's cards and footer, for `html_report` and for a page that brings its own
    head, styles (CSS) and verdict class (`verdict_class`), such as `rolecli serve`'s.

    What a recruiter reads comes first (verdict, reasons, title check, the lines that
    decided it); the whole shaded posting and the exact arithmetic follow."""
    verdict = verdict_heading(explanation["label"])
    sections = [
        _hero(explanation, title, verdict),
        _lines(explanation, all_lines),
        _posting(explanation, text, open_=shows_every_line(explanation, all_lines)),
        _arithmetic(explanation),
        _terms(explanation, top),
        _article(explanation),
    ]
    model = explanation["model"]
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


def _hero(explanation: dict[str, Any], title: str, verdict: str) -> str:
    p = explanation["probabilities"]
    reasons = "".join(f"<li>{_e(display_text(r))}</li>" for r in explanation["reasons"])
    check = explanation["title_check"]
    disagrees = explanation["title"]["agrees"] is False
    title_line = (
        f'<p class="check{" warn" if disagrees else ""}"><b>Title check.</b> '
        f"{_e(display_text(check))}</p>"
        if check else '<p class="check none">No title given or found in the posting '
        "(give one with <code>--title</code>).</p>"
    )
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
        '<header class="card hero">'
        f'<p class="eyebrow">Why rolecli says so · {_e(title)}</p>'
        f"<h1>{_e(verdict)}</h1>"
        f'<p class="confidence">Confidence: {_e(explanation["confidence_text"])}</p>'
        f'<ul class="reasons">{reasons}</ul>'
        f"{title_line}"
        f'<div class="probs">{rows}</div>'
        f'<p class="parts"><span class="lead">Sections</span>{parts}</p>'
        '<p class="note">Greyed sections (about the company, benefits, equal opportunity, '
        "how to apply, job details) are boilerplate: never a reason.</p>"
        "</header>"
    )


def _arithmetic(explanation: dict[str, Any]) -> str:
    terms = explanation["terms"]
    engineer = math.fsum(t["contribution"] for t in terms if t["contribution"] < 0)
    scientist = math.fsum(t["contribution"] for t in terms if t["contribution"] > 0)
    pull = -engineer + scientist
    share = -engineer / pull if pull else 0.5
    logit, p = explanation["logit"], explanation["probabilities"]["scientist"]
    stats = "".join(
        f'<div class="stat {cls}"><b>{value}</b><span>{name}</span></div>'
        for cls, value, name in (
            ("", _num(explanation["intercept"]), "intercept"),
            ("e", _num(engineer), f"{sum(t['contribution'] < 0 for t in terms)} engineer terms"),
            ("s", _num(scientist), f"{sum(t['contribution'] > 0 for t in terms)} scientist terms"),
            ("", _num(logit), "logit (the sum)"),
        )
    )
    return (
        '<section class="card"><h2>The exact arithmetic: how the score adds up</h2>'
        f'<div class="sum">{stats}</div>'
        f'<div class="tug" aria-hidden="true"><div class="e" style="width:{_pct(share)}"></div>'
        '<div class="s" style="flex:1"></div></div>'
        '<div class="tug-labels"><span>pull toward ML engineer</span>'
        "<span>pull toward ML scientist</span></div>"
        f'<p class="formula">P(scientist) = 1 / (1 + e<sup>{_num(-logit)}</sup>) = '
        f"<b>{p:.3f}</b> · P(engineer) = <b>{1 - p:.3f}</b></p>"
        f'<p class="note">{_e(explanation["how"])}</p>'
        "</section>"
    )


def _posting(explanation: dict[str, Any], text: str, open_: bool) -> str:
    terms = explanation["terms"]
    limit = min(len(text), explanation["limits"]["listed_chars"])
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


def _terms(explanation: dict[str, Any], top: int) -> str:
    terms = explanation["terms"]
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
            f'<div><h3 class="{_CLASS[role]}-head">Toward {ROLE_NAMES[role]}</h3>'
            f'<ul class="terms">{rows}</ul></div>'
        )
    return (
        f'<section class="card"><h2>Strongest terms, top {top} each way</h2>'
        f'<div class="cols">{"".join(columns)}</div></section>'
    )


def _lines(explanation: dict[str, Any], all_lines: bool) -> str:
    sentences = explanation["sentences"]
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
            f'<span class="mark" title="decided the verdict">{DECISIVE_MARK}</span>'
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
    total = len(sentences) + explanation["unlisted_lines"]["count"]
    if shows_every_line(explanation, all_lines):
        heading = "Line by line"
        more = (f'<p class="note">{explanation["unlisted_lines"]["count"]:,} more lines are '
                "not listed (their evidence is summed in the JSON).</p>"
                if explanation["unlisted_lines"]["count"] else "")
    else:
        heading = f"The {len(lines)} lines that decided it, of {total}"
        more = ('<p class="note">Run with <code>--all-lines</code> to list every line.</p>')
    return (
        f'<section class="card"><h2>{_e(heading)}</h2>'
        '<table class="lines"><thead><tr><th scope="col">Line</th><th scope="col">Section</th>'
        '<th scope="col">Evidence</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{more}"
        f'<p class="note">{DECISIVE_MARK} marks the lines that decided the verdict; '
        "&#9664; pulls toward ML engineer, &#9654; toward ML scientist, more marks pull harder. "
        "A line's evidence is the sum of the terms that start in it "
        "(a term seen several times shares its contribution equally).</p>"
        "</section>"
    )


def _article(explanation: dict[str, Any]) -> str:
    items = "".join(
        f'<li><span class="badge {_CLASS.get(b["label"], "")}">{_e(b["label"])}</span>'
        f'{_e(b["text"])} <span class="sim">similarity {b["similarity"]:.3f}</span></li>'
        for b in explanation["closest_article"]
    )
    return (
        '<section class="card"><h2>Closest article responsibilities</h2>'
        f'<ul class="article">{items}</ul>'
        '<p class="note">The responsibilities from the article that defines the two roles, '
        "ranked by tf-idf cosine similarity to the posting.</p>"
        "</section>"
    )
