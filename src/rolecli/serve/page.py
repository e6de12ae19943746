"""The page at `/`: a form, and under it the HTML report's own cards for what was sent.

The report is `render.html.report_sections`, the same cards `rolecli explain --html` writes,
styled by the same CSS (`render/report.css`, served with the form's few rules below). The page
works without JavaScript; `page.js` only keeps the page from reloading on each check.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..io.documents import MAX_INPUT_BYTES
from ..render.html import CSS, report_sections, verdict_class, verdict_heading
from .requests import MAX_TITLE_CHARS

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
.intro h1 { font-size: 1.6rem; letter-spacing: -.015em; }
.intro p { margin: 8px 0 0; color: var(--muted); }
.ask { display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; }
.field { display: grid; grid-template-columns: minmax(0, 1fr); gap: 6px; }
.field label { font-weight: 600; }
.opt, .hint { color: var(--muted); font-weight: 400; font-size: .88rem; }
.ask input[type=text], .ask input[type=password], .ask textarea {
  font: inherit; color: var(--ink); background: var(--bg); border: 1px solid var(--muted);
  border-radius: 10px; padding: 10px 12px; width: 100%; }
.ask textarea { min-height: 14rem; resize: vertical; line-height: 1.5; }
.drop { border: 2px dashed var(--muted); border-radius: 12px; padding: 14px; }
.drop input { font: inherit; color: var(--ink); width: 100%; }
.ask.dragging .drop { border-color: var(--eng-ink); background: rgb(var(--eng) / .08); }
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 16px; }
.ask button { font: inherit; font-weight: 600; color: var(--on-strong); background: var(--ink);
  border: 0; border-radius: 10px; padding: 11px 20px; cursor: pointer; }
.ask button[disabled] { opacity: .6; cursor: progress; }
.ask :focus-visible, .skip:focus-visible, #result:focus-visible {
  outline: 3px solid var(--eng-ink); outline-offset: 2px; }
#result:focus { outline: none; }
.alert { border-left: 5px solid var(--mix-ink); }
.alert h2 { color: var(--mix-ink); }
.alert p { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 640px) {
  .intro h1 { font-size: 1.3rem; }
  .ask textarea { min-height: 10rem; }
  .ask button { width: 100%; }
}
"""

STYLESHEET = CSS + PAGE_CSS


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def page(
    *,
    text: str = "",
    title: str = "",
    token_required: bool = False,
    report: tuple[dict[str, Any], str, str] | None = None,
    error: str | None = None,
) -> str:
    """The whole page; `report` is (explanation, posting text, the posting's name)."""
    if report is not None:
        explanation, posting, name = report
        label = explanation["label"]
        heading = f"{verdict_heading(label)}: {name}"
        result = (
            f'<div id="result" class="{verdict_class(label)}" tabindex="-1">'
            + "\n".join(report_sections(explanation, posting, name))
            + "</div>"
        )
    else:
        heading = "Check a job posting" if error is None else "Could not check the posting"
        alert = (
            '<section class="card alert" role="alert"><h2>Could not check the posting</h2>'
            f"<p>{_e(error)}</p></section>"
            if error is not None else ""
        )
        result = f'<div id="result" tabindex="-1">{alert}</div>'
    token = (
        '<div class="field"><label for="token">Access token</label>'
        '<input type="password" id="token" name="token" required autocomplete="current-password">'
        "</div>"
        if token_required else ""
    )
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{_e(heading)} (rolecli)</title>",
        '<link rel="stylesheet" href="/static/rolecli.css">',
        '<script src="/static/page.js" defer></script>',
        "</head>",
        "<body>",
        '<a class="skip" href="#result">Skip to the result</a>',
        '<main class="wrap">',
        '<header class="card intro"><h1>ML engineer, ML scientist, or mixed?</h1>'
        "<p>Paste a machine-learning job posting or drop its file: rolecli says which role it "
        "describes, and shows the lines and words that decided it. Nothing you send is "
        "stored.</p></header>",
        f'<form class="card ask" method="post" action="/" enctype="multipart/form-data" '
        f'data-max-bytes="{MAX_INPUT_BYTES}">',
        '<div class="field"><label for="title">Job title <span class="opt">(optional)</span>'
        f'</label><input type="text" id="title" name="title" maxlength="{MAX_TITLE_CHARS}" '
        f'autocomplete="off" value="{_e(title)}"></div>',
        '<div class="field"><label for="text">Posting text</label>'
        f'<textarea id="text" name="text" rows="12" spellcheck="false" '
        # A textarea drops one leading newline: this one, not the posting's.
        f'aria-describedby="text-hint">\n{_e(text)}</textarea>'
        '<span class="hint" id="text-hint">Or choose a file below; a file, when chosen, is '
        "read instead of the text.</span></div>",
        '<div class="field drop"><label for="file">Posting file <span class="opt">(.txt, .md, '
        f".html, .pdf or .docx, up to {MAX_INPUT_BYTES // (1024 * 1024)} MiB; drop it here)"
        f'</span></label><input type="file" id="file" name="file" accept="{ACCEPT}"></div>',
        token,
        '<div class="actions"><button type="submit">Check the posting</button></div>',
        "</form>",
        result,
        "</main>",
        "</body>",
        "</html>",
        "",
    ])
