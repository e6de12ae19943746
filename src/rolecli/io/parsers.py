"""The parsers of PDF, Word and HTML files, run in extraction workers (io.extraction).

`python -m rolecli.io.parsers` is such a worker. Each parser holds what a file expands to
to the limits below before it parses (a PDF's drawing instructions, a Word file's unpacked
parts; HTML is streamed), and any parser failure becomes one InputError: the file's fault.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ..errors import InputError
from ..quiet import quiet
from .documents import check_text_size
from .extraction import serve_requests

_MIB = 1024 * 1024
# A PDF's pages and their drawing instructions (decoded content streams, counting each form
# XObject as often as a page draws it): pypdf's text extraction slows down more than
# linearly on a long stream (1 MiB takes ~2 s).
MAX_PDF_PAGES = 1000
MAX_PDF_PAGE_CONTENT = 1 * _MIB
MAX_PDF_CONTENT = 2 * _MIB
# A Word file is a ZIP: its parts are held to these unpacked sizes (as the archive
# declares them, which is also the most zipfile will unpack) before python-docx reads them.
MAX_DOCX_DOCUMENT = 8 * _MIB  # word/document.xml, ~2.5 s to read at this size
MAX_DOCX_UNPACKED = 32 * _MIB  # every part together


_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "head"})


class _VisibleText:
    """An lxml parser target collecting the visible text of a page as it streams by: no
    tree is built, so time and memory stay linear however many or deeply nested the tags.
    Each text node is one string (as BeautifulSoup's get_text("\\n") gives them)."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.pieces: list[str] = []
        self.hidden = 0  # depth inside script, style, head...

    def start(self, tag: Any, attrib: Any) -> None:
        self._end_string()
        if self.hidden or tag in _HIDDEN_TAGS:
            self.hidden += 1

    def end(self, tag: Any) -> None:
        self._end_string()
        if self.hidden:
            self.hidden -= 1

    def data(self, data: str) -> None:
        if not self.hidden:
            self.pieces.append(data)

    def comment(self, text: str) -> None:
        self._end_string()

    def pi(self, target: str, data: str) -> None:
        self._end_string()

    def _end_string(self) -> None:
        if self.pieces:
            self.strings.append("".join(self.pieces))
            self.pieces = []

    def close(self) -> str:
        self._end_string()
        return "\n".join(self.strings)


def html_text(markup: str) -> str:
    """Visible text of an HTML page: scripts, styles and markup dropped, block breaks kept."""
    from lxml import etree

    # libxml2's HTML parser recovers from any markup (unknown `<![x[ ... ]]>` sections of
    # Word exports included) and never reaches the network.
    parser = etree.HTMLParser(target=_VisibleText(), recover=True, no_network=True)
    parser.feed(markup)
    return str(parser.close())


def html_or_error(markup: str, name: str) -> str:
    try:
        return _sized(html_text(markup), name)
    except Exception as exc:  # like the PDF and Word parsers below: the file's fault
        raise InputError(f"{name}: unreadable HTML ({type(exc).__name__})") from None


# The PDF and Word parsers meet hostile bytes here, and raise whatever their internals do
# (pypdf: PdfStreamError, IndexError, RecursionError...; python-docx: lxml's XMLSyntaxError,
# PackageNotFoundError...). Any exception from parsing a file is that file's fault, so each
# becomes one InputError line; a parser is never allowed to print a traceback.


def _sized(text: str, name: str) -> str:
    check_text_size(text, name)  # (in the worker: no need to send a huge text back)
    return text


def pdf_text(data: bytes, name: str) -> str:
    # pypdf logs warnings ("EOF marker not found") on stderr; the one error line says it all.
    with quiet("pypdf"):
        return _sized(_pdf_reader_text(data, name), name)


def _pdf_reader_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise InputError(f"{name}: a PDF of {len(reader.pages):,} pages "
                             f"(the limit is {MAX_PDF_PAGES:,}); a job description is a few")
        # Every page is measured before any is read (decoding is fast, reading is not), with
        # the form XObjects it draws: a small page may draw one form thousands of times.
        content = 0
        for page in reader.pages:
            size = _drawn(page.get_contents(), page.get("/Resources"), {}, (),
                          MAX_PDF_CONTENT + 1, name)
            content += size
            if size > MAX_PDF_PAGE_CONTENT or content > MAX_PDF_CONTENT:
                where, limit = (("a page holds", MAX_PDF_PAGE_CONTENT)
                                if size > MAX_PDF_PAGE_CONTENT
                                else ("its pages hold", MAX_PDF_CONTENT))
                raise InputError(
                    f"{name}: a PDF where {where} more than {limit // _MIB} MiB of drawing "
                    "instructions (the limit); a job description is far smaller"
                )
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except InputError:
        raise
    except Exception as exc:  # see above: any parser failure is an unreadable file
        raise InputError(f"{name}: unreadable PDF ({type(exc).__name__})") from None


# `/Name Do`: a content stream drawing the XObject Name (a form is itself a content stream).
_DRAW = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s*Do(?![A-Za-z0-9_])")


def _drawn(stream: Any, resources: Any, sizes: dict[Any, int], drawing: tuple[Any, ...],
           limit: int, name: str) -> int:
    """Bytes of drawing instructions a content stream stands for: its own, plus each form
    XObject's (recursively) every time it is drawn; counting stops past `limit`. A form that
    draws itself is refused (pypdf would follow it without end)."""
    if stream is None:
        return 0
    data = stream.get_data()
    total = len(data)
    forms = _forms(resources)
    for match in _DRAW.finditer(data):
        if total > limit:
            break
        form = forms.get("/" + match.group(1).decode("latin-1"))
        if form is None:
            continue
        key = getattr(form, "indirect_reference", None)
        key = (key.idnum, key.generation) if key is not None else id(form)
        if key in drawing:
            raise InputError(f"{name}: a PDF whose drawings draw themselves (a loop of form "
                             "XObjects)")
        if key not in sizes:
            sizes[key] = _drawn(form, form.get("/Resources") or resources, sizes,
                                (*drawing, key), limit, name)
        total += sizes[key]
    return total


def _forms(resources: Any) -> dict[str, Any]:
    """The form XObjects a resource dictionary names (images draw no text)."""
    try:
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        if xobjects is None:
            return {}
        found = {}
        for name, ref in xobjects.get_object().items():
            form = ref.get_object()
            if form.get("/Subtype") == "/Form":
                found[str(name)] = form
        return found
    except AttributeError:  # not a dictionary where one should be
        return {}


def docx_text(data: bytes, name: str) -> str:
    return _sized(_docx_lines(data, name), name)


def _docx_lines(data: bytes, name: str) -> str:
    import zipfile

    from docx import Document

    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
        unpacked = sum(part.file_size for part in parts)
        text_part = sum(p.file_size for p in parts if p.filename == "word/document.xml")
        if text_part > MAX_DOCX_DOCUMENT or unpacked > MAX_DOCX_UNPACKED:
            limit, what = ((MAX_DOCX_DOCUMENT, "text part unpacks") if text_part > MAX_DOCX_DOCUMENT
                           else (MAX_DOCX_UNPACKED, "parts unpack"))
            raise InputError(
                f"{name}: a Word document whose {what} to more than {limit // _MIB} MiB "
                "(the limit); a job description is far smaller"
            )
        document = Document(io.BytesIO(data))
        lines = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                lines.append("\t".join(cell.text for cell in row.cells))
    except InputError:
        raise
    except Exception as exc:  # see above: any parser failure is an unreadable file
        raise InputError(f"{name}: unreadable Word document ({type(exc).__name__})") from None
    return "\n".join(lines)


PARSERS = {
    "pdf": pdf_text,
    "docx": docx_text,
    "html": lambda data, name: html_or_error(data.decode("utf-8", "surrogatepass"), name),
}

if __name__ == "__main__":
    serve_requests(PARSERS)
