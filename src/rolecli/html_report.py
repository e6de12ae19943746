"""`rolecli explain --html`: the explanation as one self-contained, script-free HTML page.

The page loads nothing (a Content-Security-Policy forbids every source except inline
styles), and every string that came from the posting goes through html.escape.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from .decision import ROLE_NAMES
from .render_explain import (
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
from .sections import BOILERPLATE

CSP = "default-src 'none'; style-src 'unsafe-inline'"
_CLASS = {"engineer": "e", "scientist": "s"}
_HEADINGS = {**ROLE_NAMES, "mixed": "Mixed role"}
_VERDICT_CLASS = {"engineer": "engineer", "scientist": "scientist", "mixed": "mixed", None: "off"}

CSS = """
:root {
  color-scheme: light dark;
  --bg: #f4f5f8; --card: #ffffff; --ink: #1b2230; --muted: #5d6778; --line: #e2e6ed;
  --track: #eceff4;
  --eng: 8 145 178; --sci: 192 38 211; --mix: 217 119 6; --off: 100 116 139;
  --eng-ink: #0e7490; --sci-ink: #a21caf; --mix-ink: #b45309; --off-ink: #475569;
  --shadow: 0 1px 2px rgb(16 24 40 / .06), 0 1px 3px rgb(16 24 40 / .08);
  --on-strong: #ffffff;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1217; --card: #161b22; --ink: #e6e9ef; --muted: #9aa4b3; --line: #29303a;
    --track: #232a33;
    --eng: 34 211 238; --sci: 232 121 249; --mix: 251 191 36; --off: 148 163 184;
    --eng-ink: #67e8f9; --sci-ink: #f0abfc; --mix-ink: #fcd34d; --off-ink: #cbd5e1;
    --shadow: none; --on-strong: #0e1217;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Liberation Sans", "DejaVu Sans", sans-serif;
}
.wrap { max-width: 980px; margin: 0 auto; padding: 28px 20px 40px; }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 14px;
  box-shadow: var(--shadow); padding: 22px 26px; margin: 0 0 18px;
}
h1, h2 { margin: 0; line-height: 1.2; }
h2 { font-size: 1.1rem; margin-bottom: 12px; letter-spacing: -.005em; }
.eyebrow {
  color: var(--muted); font-size: .8rem; letter-spacing: .06em; text-transform: uppercase;
  margin: 0 0 6px; overflow-wrap: anywhere;
}
.note { color: var(--muted); font-size: .88rem; margin: 10px 0 0; }
.num { font-variant-numeric: tabular-nums; white-space: nowrap; }

.hero { border-top: 5px solid rgb(var(--accent)); }
.hero h1 { font-size: 2.1rem; letter-spacing: -.02em; color: var(--accent-ink); }
.hero .reasons { margin: 10px 0 0; padding-left: 1.2em; }
.hero .reasons li { margin: 4px 0; }
.confidence { margin: 6px 0 0; color: var(--muted); }
.check { margin: 12px 0 0; padding: 8px 12px; border-radius: 8px; background: var(--bg);
  border-left: 4px solid rgb(var(--accent)); }
.check.warn { border-left-color: rgb(var(--mix)); background: rgb(var(--mix) / .12); }
.check.none { color: var(--muted); }
.parts { display: flex; flex-wrap: wrap; gap: 6px 14px; margin: 16px 0 0; font-size: .9rem; }
.parts .lead { font-weight: 600; }
.parts .boiler { color: var(--muted); }
details.card > summary { cursor: pointer; list-style-position: outside; }
details.card > summary h2 { display: inline; }
details[open].card > summary { margin-bottom: 12px; }
.lines td.sec { color: var(--muted); font-size: .82rem; white-space: nowrap; }
.v-engineer { --accent: var(--eng); --accent-ink: var(--eng-ink); }
.v-scientist { --accent: var(--sci); --accent-ink: var(--sci-ink); }
.v-mixed { --accent: var(--mix); --accent-ink: var(--mix-ink); }
.v-off { --accent: var(--off); --accent-ink: var(--off-ink); }
.probs { display: grid; grid-template-columns: max-content 1fr max-content; gap: 8px 12px;
  align-items: center; margin-top: 18px; }
.track { height: 10px; border-radius: 99px; background: var(--track); overflow: hidden; }
.fill { height: 100%; border-radius: 99px; }
.fill.e, .swatch.e3 { background: rgb(var(--eng)); }
.fill.s, .swatch.s3 { background: rgb(var(--sci)); }

.sum { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; }
.stat { border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px; }
.stat b { display: block; font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.stat span { color: var(--muted); font-size: .8rem; }
.stat.e b { color: var(--eng-ink); } .stat.s b { color: var(--sci-ink); }
.tug { display: flex; height: 12px; border-radius: 99px; overflow: hidden; margin: 16px 0 4px; }
.tug .e { background: rgb(var(--eng)); } .tug .s { background: rgb(var(--sci)); }
.tug-labels { display: flex; justify-content: space-between; font-size: .8rem;
  color: var(--muted); gap: 12px; }
.formula { font-size: .95rem; margin: 12px 0 0; overflow-wrap: anywhere; }

.legend { display: flex; flex-wrap: wrap; gap: 6px 22px; font-size: .82rem; color: var(--muted);
  margin-bottom: 14px; }
.legend > span { display: inline-flex; align-items: center; gap: 4px; }
.swatch { display: inline-block; padding: 0 6px; border-radius: 4px; color: var(--ink); }
.posting {
  white-space: pre-wrap; overflow-wrap: anywhere; font: inherit; font-size: 15.5px;
  line-height: 1.85;
  margin: 0; padding: 18px 20px; border-radius: 10px; background: var(--bg);
  border: 1px solid var(--line);
}
mark { color: inherit; border-radius: 3px; padding: .12em 0; -webkit-box-decoration-break: clone;
  box-decoration-break: clone; }
.e1 { background: rgb(var(--eng) / .12); } .e2 { background: rgb(var(--eng) / .28); }
.e3 { background: rgb(var(--eng) / .50); box-shadow: inset 0 -2px rgb(var(--eng)); }
.s1 { background: rgb(var(--sci) / .10); } .s2 { background: rgb(var(--sci) / .24); }
.s3 { background: rgb(var(--sci) / .44); box-shadow: inset 0 -2px rgb(var(--sci)); }
.swatch.e3, .swatch.s3 { color: var(--on-strong); }

.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 10px 28px; }
.cols h3 { font-size: .9rem; margin: 0 0 8px; }
.cols .e-head { color: var(--eng-ink); } .cols .s-head { color: var(--sci-ink); }
.terms { list-style: none; margin: 0; padding: 0; }
.terms li { display: grid; grid-template-columns: minmax(0, 1fr) 72px max-content;
  gap: 10px; align-items: center; padding: 5px 0; border-bottom: 1px solid var(--line); }
.terms li:last-child { border-bottom: 0; }
.terms .t { overflow-wrap: anywhere; }
.terms .n { color: var(--muted); font-size: .8rem; }
.terms .track { height: 7px; }

table.lines { width: 100%; border-collapse: collapse; font-size: .93rem; }
.lines th { text-align: left; font-size: .78rem; color: var(--muted); font-weight: 600;
  text-transform: uppercase; letter-spacing: .05em; padding: 0 8px 8px;
  border-bottom: 1px solid var(--line); }
.lines td { padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.lines tr:last-child td { border-bottom: 0; }
.lines td.text { overflow-wrap: anywhere; }
.lines td.c { width: 150px; }
.lines .zero td { color: var(--muted); }
.lines .decisive td { background: rgb(var(--accent, var(--off)) / .08); font-weight: 600; }
.lines .decisive td:first-child { box-shadow: inset 3px 0 rgb(var(--accent, var(--off))); }
.mark { color: var(--accent-ink); margin-right: 4px; }
.div { position: relative; height: 8px; margin-top: 6px; background: var(--track);
  border-radius: 99px; }
.div::after { content: ""; position: absolute; left: 50%; top: -2px; bottom: -2px; width: 1px;
  background: var(--muted); }
.div span { position: absolute; top: 0; bottom: 0; border-radius: 99px; }
.div .e { right: 50%; background: rgb(var(--eng)); }
.div .s { left: 50%; background: rgb(var(--sci)); }
.val.e { color: var(--eng-ink); } .val.s { color: var(--sci-ink); }

.article { list-style: none; margin: 0; padding: 0; }
.article li { padding: 10px 0; border-bottom: 1px solid var(--line); }
.article li:last-child { border-bottom: 0; }
.badge { display: inline-block; font-size: .72rem; font-weight: 700; letter-spacing: .04em;
  text-transform: uppercase; padding: 2px 8px; border-radius: 99px; margin-right: 8px; }
.badge.e { color: var(--eng-ink); background: rgb(var(--eng) / .14); }
.badge.s { color: var(--sci-ink); background: rgb(var(--sci) / .14); }
.article .sim { color: var(--muted); font-size: .82rem; white-space: nowrap; }
footer { color: var(--muted); font-size: .8rem; text-align: center; overflow-wrap: anywhere; }

@media (max-width: 640px) {
  .wrap { padding: 14px 10px 28px; }
  .card { padding: 16px 14px; border-radius: 12px; margin-bottom: 12px; }
  .hero h1 { font-size: 1.7rem; }
  .sum { grid-template-columns: 1fr 1fr; }
  .cols { grid-template-columns: 1fr; }
  .posting { font-size: 15px; padding: 12px; line-height: 1.75; }
  .lines td.c { width: 84px; }
  .lines td, .lines th { padding-left: 4px; padding-right: 4px; }
  .lines th { letter-spacing: 0; font-size: .72rem; }
}
"""


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
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(verdict)}: {_e(title)} (rolecli)</title>",
        f"<style>{CSS}</style>",
        "</head>",
        f'<body class="{verdict_class(label)}">',
        '<main class="wrap">',
        *report_sections(explanation, text, title, top, all_lines),
        "</main>",
        "</body>",
        "</html>",
        "",
    ])


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
