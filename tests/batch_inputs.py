"""Inputs for the batch tests: the example postings, a folder of every format (and of
what a walk must skip or survive), table exports, and reading rows back."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import EXAMPLES

POSTINGS = sorted(p for p in EXAMPLES.glob("*.txt") if p.name != "not-a-job.txt")


def jsonl(text: str | bytes) -> list[dict]:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def copy_output(source: Path, target: Path, data: bytes) -> None:
    """`data` as the output file `target`, with `source`'s run record (model and inputs)."""
    from rolecli.batch.resume import run_record_path

    target.write_bytes(data)
    run_record_path(target).write_bytes(run_record_path(source).read_bytes())


def make_pdf(path: Path, text: str) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path), pagesize=A4)
    y = 800
    for line in text.splitlines()[:60]:
        page.drawString(40, y, line[:100])
        y -= 12
        if y < 40:
            page.showPage()
            y = 800
    page.save()


def make_docx(path: Path, text: str) -> None:
    from docx import Document

    document = Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    document.save(str(path))


def make_tree(root: Path) -> Path:
    """Nested postings in every format, plus the things a walk must skip or survive."""
    (root / "team" / "research").mkdir(parents=True)
    (root / ".git").mkdir()
    texts = {p.name: p.read_text(encoding="utf-8") for p in POSTINGS}
    (root / "ml-engineer.txt").write_text(texts["ml-engineer.txt"], encoding="utf-8")
    (root / "team" / "data-scientist.md").write_text(texts["data-scientist.txt"], encoding="utf-8")
    (root / "team" / "platform.html").write_text(
        "<html><head><style>body{}</style></head><body><script>var x=1;</script>"
        + "".join(f"<p>{line}</p>" for line in texts["llm-platform-engineer.txt"].splitlines())
        + "</body></html>",
        encoding="utf-8",
    )
    make_pdf(root / "team" / "research" / "scientist.pdf", texts["research-scientist.txt"])
    make_docx(root / "team" / "research" / "mixed.docx", texts["mixed-research-engineer.txt"])
    (root / "team" / "not-a-job.txt").write_bytes((EXAMPLES / "not-a-job.txt").read_bytes())
    latin1 = texts["ml-engineer.txt"].replace("-", "é").encode("latin-1", "replace")
    (root / "latin1.txt").write_bytes(latin1)
    (root / "notes.rtf").write_text("not a posting format", encoding="utf-8")
    # What must be skipped, or must become error rows without stopping the batch:
    (root / ".hidden.txt").write_text(texts["ml-engineer.txt"], encoding="utf-8")
    (root / ".git" / "HEAD.txt").write_text(texts["ml-engineer.txt"], encoding="utf-8")
    (root / "team" / "loop").symlink_to("..")
    (root / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage\n")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (root / "empty.txt").write_bytes(b"")
    return root


def table_rows() -> list[dict[str, str]]:
    texts = [p.read_text(encoding="utf-8") for p in POSTINGS]
    rows = [{"posting_id": f"job-{i}", "body": text} for i, text in enumerate(texts)]
    rows.append({"posting_id": "job-empty", "body": ""})
    return rows


def write_tables(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = table_rows()
    paths = {"csv": folder / "export.csv", "jsonl": folder / "export.jsonl",
             "parquet": folder / "export.parquet"}
    with paths["csv"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["posting_id", "body"])
        writer.writeheader()
        writer.writerows(rows)
    paths["jsonl"].write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), paths["parquet"], row_group_size=2)
    return paths
