"""Limits benchmark: rolecli's time and memory on hostile inputs, class by class.

Builds each hostile input of issue #13's classes in a temp dir (a PDF whose small file
holds megabytes of drawing instructions, a DOCX that unpacks to 9.5 MB, tag-heavy and
deeply nested HTML, a 30 MB dump, a 5 MB line, JSON Lines nested 100,000 deep or with
5,000-digit numbers, a --resume file with the same), runs the installed `rolecli` on it
--runs times, and records the wall time and the peak RSS of the command (wait4; for
batch, the largest process). Prints the worst run of each class and asserts the bounds:
every class under MAX_SECONDS and MAX_RSS_MIB, with the documented exit code.
Usage: python bench/limits.py [--runs 3]
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTING = ROOT / "examples" / "ml-engineer.txt"
MIB = 1024 * 1024
MAX_SECONDS = 15.0
MAX_RSS_MIB = 400.0


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
    make: Callable[[], bytes]
    command: str  # classify | batch | resume
    exit_code: int


def _text_dump() -> bytes:
    chunk = (POSTING.read_text(encoding="utf-8") + "\n").encode()
    return chunk * (30 * MIB // len(chunk) + 1)


def _long_line() -> bytes:
    words = " ".join(POSTING.read_text(encoding="utf-8").split()) + " "
    return (words * (5 * MIB // len(words) + 1))[: 5 * MIB].encode()


CASES = [
    Case("PDF, 10 KB file, one 4 MiB content stream", "big-stream.pdf",
         lambda: pdf_with_content(text_content(4)), "classify", 3),
    Case("PDF, 6 pages of 0.9 MiB content", "many-streams.pdf",
         lambda: pdf_with_content(text_content(0.9), pages=6), "classify", 3),
    Case("PDF, 2 pages of 0.9 MiB content (under the limits)", "two-pages.pdf",
         lambda: pdf_with_content(text_content(0.9), pages=2), "classify", 0),
    Case("DOCX, 390 KB unpacking to 9.5 MB", "bomb.docx",
         lambda: docx_with_paragraphs(130_000), "classify", 3),
    Case("DOCX, 300 KB unpacking to 7.3 MB (under the limit)", "big.docx",
         lambda: docx_with_paragraphs(100_000), "classify", 0),
    Case("HTML, 7 MB of tags", "tags.html",
         lambda: ("<html><body>" + "<b>job</b> " * 600_000).encode(), "classify", 3),
    Case("HTML, nested 300,000 deep", "deep.html",
         lambda: ("<html><body>" + "<div>" * 300_000 + POSTING.read_text(encoding="utf-8")
                  + "</div>" * 300_000).encode(), "classify", 0),
    Case("text, 30 MB dump", "dump.txt", _text_dump, "classify", 3),
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


def measure(args: list[str]) -> tuple[int, float, float]:
    """(exit code, wall seconds, peak RSS MiB) of one rolecli run."""
    env = {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}
    started = time.monotonic()
    process = subprocess.Popen([rolecli_executable(), *args], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    return os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss / 1024


def run_case(case: Case, folder: Path) -> tuple[int, float, float]:
    path = folder / case.file
    if not path.exists():
        path.write_bytes(case.make())
    if case.command == "classify":
        return measure(["classify", str(path), "-f", "json"])
    if case.command == "batch":
        return measure(["batch", str(path), "-f", "jsonl", "-q", "--jobs", "1"])
    # resume: the hostile lines as an earlier run's output (with its run record), resumed
    output = folder / "resumed.jsonl"
    if output.exists():
        output.unlink()
    code, _, _ = measure(["batch", str(POSTING), "-o", str(output), "-q"])
    assert code == 0, code
    output.write_bytes(output.read_bytes() + path.read_bytes())
    return measure(["batch", str(POSTING), "-o", str(output), "--resume", "-q"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    print(f"limits benchmark: {options.runs} runs per class, worst shown; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'class':<52} {'exit':>4} {'worst s':>8} {'worst RSS MiB':>14}")
    failures = []
    with tempfile.TemporaryDirectory(prefix="rolecli-limits-") as temp:
        folder = Path(temp)
        for case in CASES:
            runs = [run_case(case, folder) for _ in range(options.runs)]
            codes = {code for code, _, _ in runs}
            worst_s = max(s for _, s, _ in runs)
            worst_rss = max(r for _, _, r in runs)
            print(f"{case.name:<52} {','.join(map(str, sorted(codes))):>4} "
                  f"{worst_s:>8.2f} {worst_rss:>14.1f}")
            if codes != {case.exit_code}:
                failures.append(f"{case.name}: exit {codes}, expected {case.exit_code}")
            if worst_s > MAX_SECONDS or worst_rss > MAX_RSS_MIB:
                failures.append(f"{case.name}: {worst_s:.1f} s, {worst_rss:.0f} MiB")
    print(f"bounds: every class under {MAX_SECONDS:g} s and {MAX_RSS_MIB:g} MiB, "
          "with its documented exit code")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("all within bounds")


if __name__ == "__main__":
    main()
