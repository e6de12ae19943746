"""The page at `/`: a form, beside it (or under it) the HTML report's own cards for what was
sent, and a form for a spreadsheet of postings.

The report is `render.html.report_sections`, the same cards `rolecli explain --html` writes,
styled by the same CSS (`render/report.css`, served with the page's few rules below). The page
works without JavaScript as plain form posts; `page.js` scores the text as it is written,
answers "what if this line were gone?", and sends both forms without reloading the page.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from ..io.documents import MAX_INPUT_BYTES
from ..io.sheets import MAX_SHEET_BYTES, MAX_SHEET_ROWS, XLSX_TYPE
from ..render.html import CSS, report_sections, verdict_class, verdict_heading
from .requests import MAX_LIVE_CHARS, MAX_TITLE_CHARS

if TYPE_CHECKING:
    from ..tasks.explain import Explanation

# Scripts and styles from this server only; inline style attributes carry the report's bar
# widths; no frames, no plugins, forms post back here only.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
ACCEPT = (
    ".txt,.md,.markdown,.html,.htm,.pdf,.docx,text/plain,text/markdown,text/html,"
    "application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)

PAGE_CSS = """
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 12px; top: 12px; background: var(--card); color: var(--ink); padding: 8px 12px;
  border-radius: 8px; z-index: 10; }
.wrap.page { max-width: 1360px; }
.intro h1 { font-size: 1.6rem; letter-spacing: -.015em; }
.intro p { margin: 8px 0 0; color: var(--muted); }
.ask, .sheet form { display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; }
.field { display: grid; grid-template-columns: minmax(0, 1fr); gap: 6px; margin: 0; padding: 0;
  border: 0; min-width: 0; }
.field label, .field legend { font-weight: 600; padding: 0; }
.opt, .hint { color: var(--muted); font-weight: 400; font-size: .88rem; }
.ask input[type=text], .ask input[type=password], .ask textarea, .sheet input[type=text],
.sheet input[type=password], .sheet select {
  font: inherit; color: var(--ink); background: var(--bg); border: 1px solid var(--muted);
  border-radius: 10px; padding: 10px 12px; width: 100%; }
.ask textarea { min-height: 14rem; resize: vertical; line-height: 1.5; }
.drop { border: 2px dashed var(--muted); border-radius: 12px; padding: 14px; }
.drop input { font: inherit; color: var(--ink); width: 100%; }
.ask.dragging .drop, .sheet form.dragging .drop { border-color: var(--eng-ink);
  background: rgb(var(--eng) / .08); }
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 16px; }
.ask button, .sheet button { font: inherit; font-weight: 600; color: var(--on-strong);
  background: var(--ink); border: 0; border-radius: 10px; padding: 11px 20px; cursor: pointer; }
.ask button[disabled], .sheet button[disabled] { opacity: .6; cursor: progress; }
.live-status { margin: 0; color: var(--muted); font-size: .88rem; }
:focus-visible { outline: 3px solid var(--eng-ink); outline-offset: 2px; }
#result:focus { outline: none; }
#result:focus-visible { outline: 3px solid var(--eng-ink); outline-offset: 2px; }
.alert { border-left: 5px solid var(--mix-ink); }
.alert h2 { color: var(--mix-ink); }
.alert p { margin: 0; overflow-wrap: anywhere; }
.waiting p { margin: 0; color: var(--muted); }
.sheet > p { margin: 0 0 14px; color: var(--muted); }
.sheet details summary { cursor: pointer; font-weight: 600; }
.sheet .columns { display: grid; gap: 12px; margin-top: 12px;
  grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); }
.sheet-status:empty { display: none; }
.sheet-status { margin: 0; overflow-wrap: anywhere; }
.decided .line.can-try { cursor: pointer; }
@media (min-width: 1100px) {
  /* Side by side: the text stays in view while its verdict changes beside it. */
  .workspace { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 6fr);
    gap: 0 20px; align-items: start; }
  .workspace .ask { position: sticky; top: 12px; max-height: calc(100vh - 24px);
    overflow: auto; }
  .ask textarea { min-height: min(24rem, 50vh); }
}
@media (max-width: 640px) {
  .intro h1 { font-size: 1.3rem; }
  .ask textarea { min-height: 10rem; }
  .ask button, .sheet button { width: 100%; }
}
"""

STYLESHEET = CSS + PAGE_CSS
SHEET_ACCEPT = f".csv,.xlsx,text/csv,{XLSX_TYPE}"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def result_html(explanation: Explanation, text: str, name: str) -> str:
    """The result's cards: the report's own, with the page's line buttons."""
    return "\n".join(report_sections(explanation, text, name, interactive=True))


def document_title(label: str | None, name: str) -> str:
    return f"{verdict_heading(label)}: {name} (rolecli)"


def page(
    *,
    text: str = "",
    title: str = "",
    token_required: bool = False,
    report: tuple[Explanation, str, str] | None = None,
    error: str | None = None,
    sheet_error: str | None = None,
) -> str:
    """The whole page; `report` is (explanation, posting text, the posting's name)."""
    if report is not None:
        explanation, posting, name = report
        label = explanation.result.label
        heading = document_title(label, name)
        result = (
            f'<div id="result" class="{verdict_class(label)}" tabindex="-1">'
            + result_html(explanation, posting, name) + "</div>"
        )
    else:
        heading = ("Could not check the posting" if error is not None else
                   "Could not score the spreadsheet" if sheet_error is not None else
                   "Check a job posting") + " (rolecli)"
        shown = (_alert("Could not check the posting", error) if error is not None else
                 '<section class="card waiting"><h2>The verdict shows here</h2><p>Paste or '
                 "type a posting: the verdict, the title check and the lines that decided it "
                 "appear here and follow your edits.</p></section>")
        result = f'<div id="result" tabindex="-1">{shown}</div>'
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{_e(heading)}</title>",
        '<link rel="stylesheet" href="/static/rolecli.css">',
        '<script src="/static/page.js" defer></script>',
        "</head>",
        "<body>",
        '<a class="skip" href="#result">Skip to the result</a>',
        '<main class="wrap page">',
        '<header class="card intro"><h1>ML engineer, ML scientist, or mixed?</h1>'
        "<p>Paste a machine-learning job posting, type it, or drop its file: rolecli says "
        "which role it describes and which lines decided it, and follows your edits. Nothing "
        "you send is stored.</p></header>",
        '<div class="workspace">',
        _posting_form(text, title, token_required),
        result,
        "</div>",
        _sheet_form(token_required, sheet_error),
        '<p class="vh" id="announce" role="status"></p>',
        "</main>",
        "</body>",
        "</html>",
        "",
    ])


def _alert(heading: str, message: str) -> str:
    return (f'<section class="card alert" role="alert"><h2>{_e(heading)}</h2>'
            f"<p>{_e(message)}</p></section>")


def _token_field(token_required: bool, field_id: str) -> str:
    if not token_required:
        return ""
    return (f'<div class="field"><label for="{field_id}">Access token</label>'
            f'<input type="password" id="{field_id}" name="token" required '
            'autocomplete="current-password"></div>')


def _posting_form(text: str, title: str, token_required: bool) -> str:
    return "".join([
        f'<form class="card ask" method="post" action="/" enctype="multipart/form-data" '
        f'data-max-bytes="{MAX_INPUT_BYTES}" data-live-chars="{MAX_LIVE_CHARS}">',
        '<div class="field"><label for="title">Job title <span class="opt">(optional)</span>'
        f'</label><input type="text" id="title" name="title" maxlength="{MAX_TITLE_CHARS}" '
        f'autocomplete="off" value="{_e(title)}"></div>',
        '<div class="field"><label for="text">Posting text</label>'
        f'<textarea id="text" name="text" rows="12" spellcheck="false" '
        # A textarea drops one leading newline: this one, not the posting's.
        f'aria-describedby="text-hint">\n{_e(text)}</textarea>'
        '<span class="hint" id="text-hint">Or choose a file below; a file, when chosen, is '
        "read instead of the text.</span>"
        '<p class="live-status" id="live-status" hidden></p></div>',
        '<div class="field drop"><label for="file">Posting file <span class="opt">(.txt, .md, '
        f".html, .pdf or .docx, up to {MAX_INPUT_BYTES // (1024 * 1024)} MiB; drop it here)"
        f'</span></label><input type="file" id="file" name="file" accept="{ACCEPT}"></div>',
        _token_field(token_required, "token"),
        '<div class="actions"><button type="submit">Check the posting</button></div>',
        "</form>",
    ])


def _sheet_form(token_required: bool, error: str | None) -> str:
    columns = "".join(
        f'<div class="field"><label for="sheet-{name}">{label} column '
        f'<span class="opt">({hint})</span></label><input type="text" id="sheet-{name}" '
        f'name="{name}_column" maxlength="{MAX_TITLE_CHARS}" autocomplete="off"></div>'
        for name, label, hint in (
            ("text", "Text", "picked from the header: text, description, posting..."),
            ("title", "Title", "optional: title, job title, position..."),
            ("id", "ID", "optional: id, job id, reference..."),
        )
    )
    return "".join([
        '<section class="card sheet" aria-labelledby="sheet-heading">',
        '<h2 id="sheet-heading">Score a spreadsheet of postings</h2>',
        "<p>A CSV or Excel file with one posting a row comes back with rolecli's columns "
        "added: label, confidence, title check, off-topic reason and the top reason. Up to "
        f"{MAX_SHEET_ROWS:,} rows and {MAX_SHEET_BYTES // (1024 * 1024)} MiB.</p>",
        '<form method="post" action="/sheet" enctype="multipart/form-data" '
        f'data-max-bytes="{MAX_SHEET_BYTES}">',
        '<div class="field drop"><label for="sheet-file">Spreadsheet <span class="opt">'
        "(.csv or .xlsx; drop it here)</span></label>"
        f'<input type="file" id="sheet-file" name="file" accept="{SHEET_ACCEPT}" required>'
        "</div>",
        '<div class="field"><label for="sheet-format">Give it back as</label>'
        '<select id="sheet-format" name="format"><option value="">the same format</option>'
        '<option value="csv">CSV</option><option value="xlsx">Excel (.xlsx)</option>'
        "</select></div>",
        f'<details><summary>Columns</summary><div class="columns">{columns}</div></details>',
        _token_field(token_required, "sheet-token"),
        '<div class="actions"><button type="submit">Score the spreadsheet</button></div>',
        '<p class="sheet-status" id="sheet-status" role="status"></p>',
        _alert("Could not score the spreadsheet", error) if error is not None else "",
        "</form>",
        "</section>",
    ])
