"""Limits benchmark: rolecli's time and memory on hostile inputs, class by class.

Builds each hostile input of issues #13's and #27's classes in a temp dir (a PDF whose
small file holds megabytes of drawing instructions, or draws one form thousands of times,
a DOCX that unpacks to 9.5 MB, tag-heavy and deeply nested HTML, a 30 MB dump, a 5 MB line,
7.5 MB of two-letter lines, JSON Lines nested 100,000 deep or with 5,000-digit numbers, a
CSV cell and a JSON Lines line of 60 MB, a --resume file with the same), runs the installed
`rolecli` on it --runs times, and records the wall time and the peak RSS of the command
(wait4: the largest of its processes, extraction workers included). The serve cases start
`rolecli serve` and send four large requests at once; their RSS is the server's peak
(VmHWM). Prints the worst run of each class and asserts the bounds: every class under
MAX_SECONDS and MAX_RSS_MIB (MAX_SERVE_RSS_MIB for the server), with the documented exit
code (or HTTP status). Usage: python bench/limits.py [--runs 3] [--only WORD]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
POSTING = ROOT / "examples" / "ml-engineer.txt"
MIB = 1024 * 1024
MAX_SECONDS = 15.0
MAX_RSS_MIB = 400.0
MAX_SERVE_RSS_MIB = 300.0  # docs/serve.md


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF file of these numbered objects (1 is the catalog), with its cross-reference
    table."""
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


def pdf_with_content(content: bytes, pages: int = 1) -> bytes:
    """A minimal PDF whose every page draws `content` (one compressed stream)."""
    stream = zlib.compress(content, 9)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i in range(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents "
                       f"{5 + 2 * i} 0 R /Resources << /Font << /F1 3 0 R >> >> >>".encode())
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
                       + stream + b"\nendstream")
    return _pdf(objects)


def pdf_drawing_forms(form: bytes, draws: int, depth: int = 1, loop: bool = False) -> bytes:
    """A small PDF whose one page draws a form XObject `draws` times; each form draws the
    next one `draws` times, `depth` forms deep (the last holds `form`, compressed); `loop`:
    the last form draws the first again. The page's own stream is tiny: all the work is in
    what it draws (issue #27: 15 KB that stood for 200 MB of instructions)."""
    calls = b"q " + b"/F0 Do " * draws + b"Q"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
               b"/Resources << /Font << /F1 3 0 R >> /XObject << /F0 6 0 R >> >> >>"]
    page = zlib.compress(calls, 9)
    objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(page) + page
                   + b"\nendstream")
    for level in range(depth):
        last = level == depth - 1
        body = (calls if loop else form) if last else calls
        target = 6 if last else 7 + level
        stream = zlib.compress(body, 9)
        xobject = b"" if last and not loop else b" /XObject << /F0 %d 0 R >>" % target
        objects.append(b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << "
                       b"/Font << /F1 3 0 R >>%s >> /Length %d /Filter /FlateDecode >>\nstream\n"
                       % (xobject, len(stream)) + stream + b"\nendstream")
    return _pdf(objects)


def text_content(megabytes: float) -> bytes:
    """PDF drawing instructions that show text, `megabytes` of them."""
    return b"BT /F1 12 Tf 72 712 Td " + b"(Deploy models) Tj " * int(megabytes * MIB / 19) + b"ET"


def docx_with_paragraphs(count: int) -> bytes:
    """A valid Word document with `count` short paragraphs (it compresses ~25 times)."""
    from docx import Document

    seed = io.BytesIO()
    Document().save(seed)
    body = "".join(f"<w:p><w:r><w:t>Deploy models to production {i}</w:t></w:r></w:p>"
                   for i in range(count))
    out = io.BytesIO()
    with zipfile.ZipFile(seed) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                xml = data.decode()
                at = xml.index("<w:body>") + len("<w:body>")
                data = (xml[:at] + body + xml[at:]).encode()
            z.writestr(info.filename, data)
    return out.getvalue()


def hostile_jsonl() -> bytes:
    good = json.dumps({"text": POSTING.read_text(encoding="utf-8")})
    lines = [good, "[" * 100_000 + "]" * 100_000, '{"text": "x", "id": ' + "9" * 5000 + "}",
             "null", good]
    return ("\n".join(lines * 20) + "\n").encode()


@dataclass(frozen=True)
class Case:
    name: str
    file: str
    make: Callable[[], bytes | Iterator[bytes]]
    command: str  # classify | batch | resume
    exit_code: int | tuple[int, ...]  # several: the text is scored, and may be off-topic (3)


def _text_dump() -> Iterator[bytes]:
    chunk = (POSTING.read_text(encoding="utf-8") + "\n").encode()
    for _ in range(30):
        yield chunk * (MIB // len(chunk) + 1)


def _long_line() -> Iterator[bytes]:
    words = (" ".join(POSTING.read_text(encoding="utf-8").split()) + " ").encode()
    yield (words * (5 * MIB // len(words) + 1))[: 5 * MIB]


def _two_letter_lines() -> Iterator[bytes]:
    yield b"ML\n" * 2_500_000  # 7.5 MB (the probe's: classify took 638 MB)


def _big_cell_csv() -> Iterator[bytes]:
    good = '"' + POSTING.read_text(encoding="utf-8").replace('"', '""') + '"'
    yield f'id,text\na,{good}\nhuge,"'.encode()
    yield from _blocks(b"Deploy models to production. ", 60 * MIB)
    yield f'"\nz,{good}\n'.encode()


def _big_line_jsonl() -> Iterator[bytes]:
    yield json.dumps({"id": "a", "text": POSTING.read_text(encoding="utf-8")}).encode()
    yield b'\n{"id": "huge", "text": "'
    yield from _blocks(b"Deploy models. ", 60 * MIB)
    yield b'"}\n' + json.dumps({"id": "z", "text": POSTING.read_text(encoding="utf-8")}).encode()
    yield b"\n"


def _blocks(phrase: bytes, size: int) -> Iterator[bytes]:
    block = phrase * (MIB // len(phrase))
    for _ in range(size // len(block)):
        yield block


CASES = [
    Case("PDF, 10 KB file, one 4 MiB content stream", "big-stream.pdf",
         lambda: pdf_with_content(text_content(4)), "classify", 3),
    Case("PDF, 6 pages of 0.9 MiB content", "many-streams.pdf",
         lambda: pdf_with_content(text_content(0.9), pages=6), "classify", 3),
    Case("PDF, 2 pages of 0.9 MiB content (under the limits)", "two-pages.pdf",
         lambda: pdf_with_content(text_content(0.9), pages=2), "classify", (0, 3)),
    Case("DOCX, 390 KB unpacking to 9.5 MB", "bomb.docx",
         lambda: docx_with_paragraphs(130_000), "classify", 3),
    Case("DOCX, 300 KB unpacking to 7.3 MB (under the limit)", "big.docx",
         lambda: docx_with_paragraphs(100_000), "classify", 0),
    Case("HTML, 7 MB of tags", "tags.html",
         lambda: ("<html><body>" + "<b>job</b> " * 600_000).encode(), "classify", 3),
    Case("HTML, nested 300,000 deep", "deep.html",
         lambda: ("<html><body>" + "<div>" * 300_000 + POSTING.read_text(encoding="utf-8")
                  + "</div>" * 300_000).encode(), "classify", 0),
    Case("PDF, 1 KB drawing a 100 KB form 2,000 times", "forms.pdf",
         lambda: pdf_drawing_forms(text_content(0.1), 2000), "classify", 3),
    Case("PDF, forms 5 deep, each drawing the next 12 times", "nested-forms.pdf",
         lambda: pdf_drawing_forms(text_content(0.001), 12, depth=5), "classify", 3),
    Case("text, 30 MB dump", "dump.txt", _text_dump, "classify", 3),
    Case("text, 7.5 MB of two-letter lines", "ml-lines.txt", _two_letter_lines, "classify", 0),
    Case("text, 7.5 MB of two-letter lines (explain)", "ml-lines.txt", _two_letter_lines,
         "explain", 0),
    Case("text, 7.5 MB of two-letter non-ASCII lines (éé)", "e-lines.txt",
         lambda: "éé\n".encode() * 1_500_000, "classify", (0, 3)),
    Case("CSV, one 60 MB cell between two good rows", "big-cell.csv", _big_cell_csv,
         "batch", 5),
    Case("JSONL, one 60 MB line between two good rows", "big-line.jsonl", _big_line_jsonl,
         "batch", 5),
    Case("batch -: the same JSONL on stdin", "big-line.jsonl", _big_line_jsonl, "stdin", 5),
    Case("text, one 5 MB line", "line.txt", _long_line, "classify", 0),
    Case("JSONL, 100 lines: deep nesting, 5,000 digits, null", "rows.jsonl",
         hostile_jsonl, "batch", 5),
    Case("--resume file with deep nesting and 5,000 digits", "resume.jsonl",
         hostile_jsonl, "resume", 2),
]


def rolecli_executable() -> str:
    found = shutil.which("rolecli", path=str(Path(sys.executable).parent)) or shutil.which(
        "rolecli")
    if found is None:
        sys.exit("bench/limits.py: the `rolecli` console script is not installed")
    return found


# Runs the command and prints its exit code and peak RSS (KiB). A process's peak RSS counts
# the memory of the process it was forked from (exec keeps the high-water mark), so the
# command is started from this small process, not from the benchmark, which holds more.
_LAUNCHER = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:]); "
             "_, status, usage = os.wait4(p.pid, 0); "
             "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)")


def measure(args: list[str], stdin: Path | None = None) -> tuple[int, float, float]:
    """(exit code, wall seconds, peak RSS MiB) of one rolecli run (its largest process,
    extraction workers included)."""
    env = {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}
    started = time.monotonic()
    with (stdin.open("rb") if stdin else open(os.devnull, "rb")) as source:
        launched = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, rolecli_executable(), *args], stdin=source,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, check=True)
    seconds = time.monotonic() - started
    code, peak = launched.stdout.split()[-2:]
    return int(code), seconds, int(peak) / 1024


def run_case(case: Case, folder: Path) -> tuple[int, float, float]:
    path = folder / case.file
    if not path.exists():
        made = case.make()
        with path.open("wb") as handle:  # (block by block: this process never holds it)
            for block in [made] if isinstance(made, bytes) else made:
                handle.write(block)
        del made
    if case.command in ("classify", "explain"):
        return measure([case.command, str(path), "-f", "json"])
    if case.command == "batch":
        return measure(["batch", str(path), "-f", "jsonl", "-q", "--jobs", "1"])
    if case.command == "stdin":
        return measure(["batch", "-", "-f", "jsonl", "-q", "--jobs", "1"], stdin=path)
    # resume: the hostile lines as an earlier run's output (with its run record), resumed
    output = folder / "resumed.jsonl"
    if output.exists():
        output.unlink()
    code, _, _ = measure(["batch", str(POSTING), "-o", str(output), "-q"])
    assert code == 0, code
    output.write_bytes(output.read_bytes() + path.read_bytes())
    return measure(["batch", str(POSTING), "-o", str(output), "--resume", "-q"])


@dataclass(frozen=True)
class ServeCase:
    name: str
    method_path: str  # "POST /v1/classify"
    make: Callable[[], tuple[bytes, str]]  # (body, content type)
    status: int


def _json_posting(text: str) -> tuple[bytes, str]:
    return json.dumps({"text": text}).encode(), "application/json"


def _form(text: str) -> tuple[bytes, str]:
    boundary = "rolecli-limits"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n{text}'
            f"\r\n--{boundary}--\r\n").encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _posting_of(size: int) -> str:
    words = POSTING.read_text(encoding="utf-8")
    return (words * (size // len(words) + 1))[:size]


# As much of each text as a request of under 8 MiB holds (JSON escapes each line break).
SERVE_CASES = [
    ServeCase("serve: 4 x classify, 6 MB of two-letter lines", "POST /v1/classify",
              lambda: _json_posting("ML\n" * 2_000_000), 200),
    ServeCase("serve: 4 x explain, 6 MB of two-letter lines", "POST /v1/explain",
              lambda: _json_posting("ML\n" * 2_000_000), 200),
    ServeCase("serve: 4 x classify, 7.5 MB posting", "POST /v1/classify",
              lambda: _json_posting(_posting_of(7_500_000)), 200),
    ServeCase("serve: 4 x explain, 7.5 MB posting", "POST /v1/explain",
              lambda: _json_posting(_posting_of(7_500_000)), 200),
    ServeCase("serve: 4 x the page, 2 MB posting", "POST /",
              lambda: _form(_posting_of(2_000_000)), 200),
    ServeCase("serve: 4 x batch, 2,000 postings of 3.5 KB", "POST /v1/batch",
              lambda: ("".join(json.dumps({"id": str(i), "text": _posting_of(3500)}) + "\n"
                               for i in range(2000)).encode(), "application/x-ndjson"), 200),
]


def run_serve_case(case: ServeCase) -> tuple[int, float, float]:
    """(the worst status, wall seconds, server's peak RSS MiB) of four requests at once."""
    import http.client
    import threading

    sys.path.insert(0, str(ROOT / "tests"))
    from serving import running_server

    body, content_type = case.make()
    method, path = case.method_path.split()
    statuses: list[int] = []

    def send(server: Any) -> None:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=600)
        try:
            connection.request(method, path, body=body, headers={"Content-Type": content_type})
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        finally:
            connection.close()

    with running_server() as server:
        started = time.monotonic()
        threads = [threading.Thread(target=send, args=(server,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
        status_file = Path(f"/proc/{server.process.pid}/status").read_text()
        peak = next(int(line.split()[1]) for line in status_file.splitlines()
                    if line.startswith("VmHWM:")) / 1024
    worst = max(statuses, key=lambda s: (s != case.status, s)) if statuses else 0
    return worst, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="run only the classes whose name has this")
    options = parser.parse_args()
    print(f"limits benchmark: {options.runs} runs per class, worst shown; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'class':<52} {'exit':>4} {'worst s':>8} {'worst RSS MiB':>14}")
    failures = []
    with tempfile.TemporaryDirectory(prefix="rolecli-limits-") as temp:
        folder = Path(temp)
        for case in CASES:
            if options.only not in case.name:
                continue
            runs = [run_case(case, folder) for _ in range(options.runs)]
            codes = {code for code, _, _ in runs}
            worst_s = max(s for _, s, _ in runs)
            worst_rss = max(r for _, _, r in runs)
            print(f"{case.name:<52} {','.join(map(str, sorted(codes))):>4} "
                  f"{worst_s:>8.2f} {worst_rss:>14.1f}", flush=True)
            expected = case.exit_code if isinstance(case.exit_code, tuple) else (case.exit_code,)
            if not codes <= set(expected):
                failures.append(f"{case.name}: exit {codes}, expected {case.exit_code}")
            if worst_s > MAX_SECONDS or worst_rss > MAX_RSS_MIB:
                failures.append(f"{case.name}: {worst_s:.1f} s, {worst_rss:.0f} MiB")
    for serve_case in SERVE_CASES:
        if options.only not in serve_case.name:
            continue
        serve_runs = [run_serve_case(serve_case) for _ in range(options.runs)]
        statuses = {status for status, _, _ in serve_runs}
        worst_s = max(s for _, s, _ in serve_runs)
        worst_rss = max(r for _, _, r in serve_runs)
        print(f"{serve_case.name:<52} {','.join(map(str, sorted(statuses))):>4} "
              f"{worst_s:>8.2f} {worst_rss:>14.1f}", flush=True)
        if statuses != {serve_case.status}:
            failures.append(f"{serve_case.name}: status {statuses}")
        if worst_rss > MAX_SERVE_RSS_MIB:
            failures.append(f"{serve_case.name}: {worst_rss:.0f} MiB")
    print(f"bounds: every class under {MAX_SECONDS:g} s and {MAX_RSS_MIB:g} MiB, "
          f"with its documented exit code; the server under {MAX_SERVE_RSS_MIB:g} MiB "
          "with four large requests at once (their time is queueing: one at a time)")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("all within bounds")


if __name__ == "__main__":
    main()
