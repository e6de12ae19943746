"""`rolecli batch --engine dask`: the same rows as the local engine, on a LocalCluster."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from batch_inputs import POSTINGS, copy_output, jsonl, make_tree, write_tables
from conftest import one_line

HAVE_DASK = all(
    importlib.util.find_spec(name) is not None for name in ("dask", "distributed", "pyarrow")
)
needs_dask = pytest.mark.skipif(
    not HAVE_DASK,
    reason="distributed or pyarrow is not installed (pip install 'rolecli[dask,parquet]')",
)
# Each module run starts LocalClusters (seconds of worker start-up): the full run's.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def _inputs(root: Path) -> Path:
    """A folder of postings in nested dirs, with an unreadable file and the three table kinds."""
    for i in range(40):
        folder = root / f"group-{i // 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"p{i:02d}.txt").write_bytes(POSTINGS[i % len(POSTINGS)].read_bytes())
    (root / "group-1" / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    write_tables(root / "tables")
    return root


@needs_dask
def test_dask_rows_equal_local_rows(invoke, tmp_path, scheduler):
    folder = _inputs(tmp_path / "in")
    options = ["--text-column", "body", "--id-column", "posting_id", "--format", "jsonl"]
    local = invoke("batch", folder, *options, "--jobs", "1")
    on_dask = invoke("batch", folder, *options, "--engine", "dask", "--scheduler", scheduler)
    assert local.exit_code == 5, local.stderr  # the broken PDF and the empty table rows
    assert on_dask.exit_code == 5, on_dask.stderr
    assert jsonl(on_dask.stdout) == jsonl(local.stdout)
    assert len(jsonl(local.stdout)) == 41 + 3 * (len(POSTINGS) + 1)


@needs_dask
@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_dask_tables_given_directly_number_rows_like_local(invoke, tmp_path, scheduler, kind):
    table = write_tables(tmp_path / "tables")[kind]
    local = invoke("batch", table, "--text-column", "body", "--jobs", "1")
    on_dask = invoke("batch", table, "--text-column", "body", "--engine", "dask",
                     "--scheduler", scheduler)
    assert on_dask.exit_code == local.exit_code == 5
    rows = jsonl(on_dask.stdout)
    assert rows == jsonl(local.stdout)
    assert [r["id"] for r in rows] == [str(n) for n in range(1, len(POSTINGS) + 2)]


@needs_dask
def test_dask_resume_scores_only_what_is_missing(invoke, tmp_path, scheduler):
    folder = _inputs(tmp_path / "in")
    clean = tmp_path / "clean.jsonl"
    assert invoke("batch", folder, "--text-column", "body", "--output", clean,
                  "--jobs", "1").exit_code == 5
    output = tmp_path / "rows.jsonl"
    lines = clean.read_bytes().splitlines(keepends=True)
    copy_output(clean, output, b"".join(lines[:20]) + lines[20][:10])
    resumed = invoke("batch", folder, "--text-column", "body", "--output", output, "--resume",
                     "--engine", "dask", "--scheduler", scheduler)
    assert resumed.exit_code == 5, resumed.stderr
    assert output.read_bytes() == clean.read_bytes()


@needs_dask
def test_dask_without_scheduler_starts_and_stops_a_local_cluster(rolecli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for posting in POSTINGS:
        (folder / posting.name).write_bytes(posting.read_bytes())
    local = rolecli("batch", folder, "--jobs", "1")
    on_dask = rolecli("batch", folder, "--engine", "dask", "--jobs", "2", timeout=300)
    assert on_dask.returncode == 0, on_dask.stderr
    assert on_dask.stdout == local.stdout
    assert "Traceback" not in on_dask.stderr.decode()


@needs_dask
def test_a_local_cluster_prints_no_warning_when_the_dashboard_port_is_taken(rolecli, tmp_path):
    import contextlib
    import socket

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "p.txt").write_bytes(POSTINGS[0].read_bytes())
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with contextlib.suppress(OSError):  # held by another process: the case itself
            taken.bind(("", 8787))  # Dask's default dashboard port
        taken.listen()
        quiet = rolecli("batch", folder, "--engine", "dask", "-j", "1", "-q", timeout=300)
        loud = rolecli("batch", folder, "--engine", "dask", "-j", "1", timeout=300)
    assert quiet.returncode == 0 and quiet.stderr == b"", quiet.stderr
    assert loud.returncode == 0
    assert one_line(loud.stderr).startswith("scored 1 item in")


def _both_engines(invoke, scheduler, *args):
    local = invoke("batch", *args, "--format", "jsonl", "--jobs", "1")
    on_dask = invoke("batch", *args, "--format", "jsonl", "--engine", "dask",
                     "--scheduler", scheduler)
    return local, on_dask


@needs_dask
def test_every_input_kind_gives_the_same_rows_on_both_engines(invoke, tmp_path, scheduler):
    """txt, md, html, pdf, docx, latin-1, broken and empty files, and the three table kinds."""
    tree = make_tree(tmp_path / "postings")
    write_tables(tree / "tables")
    local, on_dask = _both_engines(invoke, scheduler, tree, "--text-column", "body",
                                   "--id-column", "posting_id")
    assert local.exit_code == on_dask.exit_code == 5, on_dask.stderr
    rows = jsonl(local.stdout)
    assert {r["id"].rsplit(".", 1)[-1].split("#")[0] for r in rows} >= {
        "txt", "md", "html", "pdf", "docx", "csv", "jsonl", "parquet"}
    assert jsonl(on_dask.stdout) == rows


@needs_dask
def test_unreadable_parquet_in_a_folder_is_an_error_row_on_both_engines(
    invoke, tmp_path, scheduler
):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_bytes(POSTINGS[0].read_bytes())
    (folder / "broken.parquet").write_bytes(b"PAR1 not really a parquet file PAR1")
    local, on_dask = _both_engines(invoke, scheduler, folder)
    assert local.exit_code == on_dask.exit_code == 5, on_dask.stderr
    rows = jsonl(on_dask.stdout)
    assert rows == jsonl(local.stdout)
    assert [(r["id"], r["status"]) for r in rows] == [("a.txt", "ok"), ("broken.parquet", "error")]
    assert "unreadable Parquet file" in rows[1]["error"]


@needs_dask
def test_cp1252_csv_scores_on_dask_as_locally(invoke, tmp_path, scheduler):
    table = tmp_path / "export.csv"
    texts = [p.read_text(encoding="utf-8") for p in POSTINGS]
    body = "".join(
        f'{i},"{text.replace(chr(34), chr(39))} \u2013 caf\u00e9 \u201cquoted\u201d"\n'
        for i, text in enumerate(texts)
    )
    table.write_bytes(("id,text\n" + body).encode("cp1252", "replace"))
    local, on_dask = _both_engines(invoke, scheduler, table, "--id-column", "id")
    assert local.exit_code == on_dask.exit_code == 0, on_dask.stdout
    rows = jsonl(on_dask.stdout)
    assert rows == jsonl(local.stdout)
    assert [r["status"] for r in rows] == ["ok"] * len(POSTINGS)


def test_missing_dask_names_the_extra(invoke, tmp_path, monkeypatch):
    posting = tmp_path / "a.txt"
    posting.write_bytes(POSTINGS[0].read_bytes())
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = invoke("batch", posting, "--engine", "dask")
    assert result.exit_code == 2
    assert "rolecli[dask]" in result.stderr
    assert json.dumps(result.stdout) == '""'
