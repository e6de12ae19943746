"""`rolecli batch` under faults: SIGKILL at any row then --resume, a full disk, files that
vanish or change while the walk is under way. Nothing scored is lost, nothing is doubled,
and the output file stays valid.

(tests/test_batch.py covers the ordinary resume paths: a torn last row, time-based kills.)
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import random
import resource
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from batch_inputs import POSTINGS
from conftest import EXAMPLES, one_line, rolecli_executable

CSV_HEADER = ["id", "status", "label", "probabilities.engineer", "probabilities.scientist",
              "confidence", "off_topic", "off_topic_family", "short_text", "title.text",
              "title.label", "title.agrees", "title.grade", "error"]


def env_without_model() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}


def make_folder(root: Path, count: int) -> Path:
    """`count` short, distinct postings in two levels of folders (ids sort as they are made)."""
    texts = [p.read_text(encoding="utf-8") for p in POSTINGS]
    for i in range(count):
        folder = root / f"d{i // 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"p{i:04d}.txt").write_text(f"Posting {i}.\n" + texts[i % len(texts)][:600],
                                              encoding="utf-8")
    return root


def batch(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([rolecli_executable(), "batch", *map(str, args)], capture_output=True,
                          env=env_without_model(), timeout=120, **kwargs)


def records(data: bytes, fmt: str) -> tuple[list[bytes], bytes]:
    """(complete records, torn tail) of a jsonl or csv output (rows never hold a raw newline
    outside quotes, and the ids here need no quoting)."""
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    if fmt == "csv" and complete:
        assert complete[0].decode().split(",") == CSV_HEADER
        complete = complete[1:]
    return [line + b"\n" for line in complete], tail


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return make_folder(tmp_path_factory.mktemp("postings"), 300)


@pytest.fixture(scope="module")
def clean(folder: Path, tmp_path_factory) -> dict[str, bytes]:
    """The output of uninterrupted runs, per format: what every faulty run must end up as."""
    out = tmp_path_factory.mktemp("clean")
    result = {}
    for fmt in ("jsonl", "csv", "json"):
        path = out / f"rows.{fmt}"
        run = batch(folder, "--output", path, "--quiet", "--jobs", "1")
        assert run.returncode == 0, run.stderr
        result[fmt] = path.read_bytes()
    return result


def _wait_for_rows(path: Path, rows: int, process: subprocess.Popen[bytes]) -> None:
    """Poll until the output holds at least `rows` newlines, or the process ended."""
    while process.poll() is None:
        try:
            if path.read_bytes().count(b"\n") >= rows:
                return
        except FileNotFoundError:
            pass
        time.sleep(0.002)


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "kills"), [("jsonl", 6), ("csv", 3)])
def test_sigkill_at_random_rows_then_resume_gives_every_item_exactly_once(
    folder, clean, tmp_path, fmt, kills
):
    expected, _ = records(clean[fmt], fmt)
    assert len(expected) == 300
    output = tmp_path / f"rows.{fmt}"
    rng = random.Random(7)
    command = [rolecli_executable(), "batch", str(folder), "--output", str(output), "--quiet"]
    killed_at = []
    for attempt in range(kills):
        # Kill points anywhere: before the first row (during start-up, or while --resume reads
        # the file), mid-run, and near the end; the pool and the in-process path alternate.
        target = 0 if attempt == 1 else rng.randrange(1, 300)
        jobs = "2" if attempt % 2 else "1"
        process = subprocess.Popen([*command, "--jobs", jobs, *(["--resume"] if attempt else [])],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=env_without_model())
        if target == 0:
            time.sleep(rng.uniform(0.05, 0.4))
        else:
            _wait_for_rows(output, target, process)
        process.kill()
        process.wait(timeout=30)
        data = output.read_bytes() if output.exists() else b""
        done, tail = records(data, fmt)
        # Whatever the moment of the kill: the complete rows are the clean run's first rows,
        # in order, each once; at most the row being written is torn.
        assert done == expected[: len(done)], f"attempt {attempt}"
        assert len(tail) < max(len(r) for r in expected)
        killed_at.append(len(done))
    assert any(0 < n < 300 for n in killed_at), killed_at  # the kills did land mid-run

    finished = batch(folder, "--output", output, "--resume", "--quiet", "--jobs", "2")
    assert finished.returncode == 0, finished.stderr
    assert output.read_bytes() == clean[fmt]  # every item exactly once, same answers, same order


def test_sigkill_leaves_a_json_array_output_valid(folder, clean, tmp_path):
    """The json format carries its closing bracket after every row: valid after kill -9."""
    expected = json.loads(clean["json"])
    output = tmp_path / "rows.json"
    for target in (40, 170):
        process = subprocess.Popen([rolecli_executable(), "batch", str(folder), "--output",
                                    str(output), "--quiet", "--force", "--jobs", "1"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=env_without_model())
        _wait_for_rows(output, target, process)
        process.kill()
        process.wait(timeout=30)
        rows = json.loads(output.read_bytes())
        assert 0 < len(rows) < len(expected)
        assert rows == expected[: len(rows)]


# -- a full disk: simulated with a file-size limit on the process -------------------------

LIMIT = 20_000  # bytes: room for some 80 jsonl rows of 300


def _limit_file_size() -> None:
    # Without ignoring SIGXFSZ the kernel kills the process at the limit; ignored, write()
    # fails with EFBIG, which is what a full disk (ENOSPC) looks like to the program.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _valid_rows(data: bytes, fmt: str) -> list[dict]:
    """The rows of an output file, failing if it is not a valid document of its format."""
    text = data.decode("utf-8")
    if fmt == "json":
        return json.loads(text)
    if fmt == "jsonl":
        assert text.endswith("\n")
        return [json.loads(line) for line in text.splitlines()]
    rows = list(csv.reader(io.StringIO(text)))
    assert text.endswith("\n") and rows[0] == CSV_HEADER
    assert all(len(row) == len(CSV_HEADER) for row in rows[1:])
    return [dict(zip(CSV_HEADER, row)) for row in rows[1:]]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json"])
def test_full_disk_gives_a_clear_error_and_a_valid_file_up_to_the_last_complete_row(
    folder, clean, tmp_path, fmt
):
    output = tmp_path / f"rows.{fmt}"
    # csv rows at 17 decimals, as long as before --precision (default 4) shortened them
    digits = ["--precision", "17"] if fmt == "csv" else []
    result = batch(folder, "--output", output, "--jobs", "1", *digits,
                   preexec_fn=_limit_file_size)
    line = one_line(result.stderr)
    assert line.startswith(f"rolecli: error: cannot write {output} (File too large)"), line
    assert result.returncode == 2
    if fmt != "json":
        assert "--resume" in line

    data = output.read_bytes()
    assert len(data) <= LIMIT
    rows = _valid_rows(data, fmt)
    reference = clean[fmt]
    if digits:
        whole = tmp_path / "whole.csv"
        assert batch(folder, "--output", whole, "--quiet", "--jobs", "1", *digits).returncode == 0
        reference = whole.read_bytes()
    expected = _valid_rows(reference, fmt)
    assert 0 < len(rows) < len(expected)
    assert rows == expected[: len(rows)]  # whole rows only, in order

    if fmt != "json":  # once there is room again, --resume finishes the same file
        finished = batch(folder, "--output", output, "--resume", "--quiet", *digits)
        assert finished.returncode == 0, finished.stderr
        assert output.read_bytes() == reference


def test_full_stdout_device_is_one_error_line():
    with open("/dev/full", "wb") as full:
        result = subprocess.run([rolecli_executable(), "batch", str(EXAMPLES), "-f", "jsonl"],
                                stdout=full, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env=env_without_model(), timeout=60)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        "rolecli: error: cannot write output (No space left on device)"
    ]


# -- files that vanish or change while the walk is under way --------------------------------


class MutateOnFirstRows:
    """A progress sink that changes the folder once the first rows are out: by then the walk
    has listed the root folder, but not read the files further down the order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.done = False

    def start(self, total: int | None) -> None:
        pass

    def advance(self, rows: int) -> None:
        if self.done:
            return
        self.done = True
        root = self.root
        (root / "p080.txt").unlink()  # vanished
        (root / "p081.txt").unlink()
        (root / "p081.txt").mkdir()  # a folder now
        (root / "p082.txt").write_bytes(b"")  # emptied
        (root / "p083.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))  # binary
        (root / "p084.txt").write_text(  # rewritten: the new text is what gets scored
            (EXAMPLES / "research-scientist.txt").read_text(encoding="utf-8"), encoding="utf-8")
        for child in (root / "zz-later").iterdir():  # a folder not yet listed
            child.unlink()
        (root / "zz-later").rmdir()


def test_files_that_vanish_or_change_during_the_walk_become_error_rows(tmp_path):
    from rolecli.batch.engines.local import CHUNK_ITEMS
    from rolecli.batch.run import run_batch

    root = tmp_path / "walk"
    root.mkdir()
    engineer = (EXAMPLES / "ml-engineer.txt").read_text(encoding="utf-8")
    for i in range(100):
        (root / f"p{i:03d}.txt").write_text(engineer, encoding="utf-8")
    (root / "zz-later").mkdir()
    for name in ("a.txt", "b.txt"):
        (root / "zz-later" / name).write_text(engineer, encoding="utf-8")
    assert 2 * CHUNK_ITEMS < 80  # the changed files are read after the first rows are out

    stream = io.StringIO()
    summary = run_batch([root], format="jsonl", stream=stream, jobs=1,
                        progress=MutateOnFirstRows(root))
    rows = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_id = {row["id"]: row for row in rows}
    assert [row["id"] for row in rows] == [f"p{i:03d}.txt" for i in range(100)] + ["zz-later"]
    assert summary.errors == 5 and summary.exit_code == 5
    assert "no such file" in by_id["p080.txt"]["error"]
    assert "is a directory" in by_id["p081.txt"]["error"]
    assert "no text to classify" in by_id["p082.txt"]["error"]
    assert "binary data (a PNG image)" in by_id["p083.txt"]["error"]
    assert by_id["p084.txt"]["status"] == "ok" and by_id["p084.txt"]["label"] == "scientist"
    assert "cannot list folder" in by_id["zz-later"]["error"]
    for i in (*range(80), *range(85, 100)):
        assert by_id[f"p{i:03d}.txt"]["label"] == "engineer"


@pytest.mark.skipif(sys.platform != "linux", reason="kills pool workers by pid")
def test_submitting_to_a_pool_whose_worker_just_died_loses_nothing(tmp_path):
    """A worker may die while the parent is between results, submitting the next chunk:
    the executor then refuses new work (BrokenProcessPool from submit), which must be
    handled like a death seen in a result, not end the batch."""
    from rolecli.batch.config import BatchConfig
    from rolecli.batch.engines.local import _OrderedPool
    from rolecli.batch.items import Item, Scoring
    from rolecli.tasks.classify import load_scorer

    def refuses_work() -> bool:
        try:
            pool.executor.submit(int)
        except BrokenProcessPool:
            return True
        return False

    paths = sorted(EXAMPLES.glob("*.txt"))
    chunk = [Item(p.name, path=str(p)) for p in paths]
    expected = Scoring(load_scorer()).rows(chunk)
    others = {child.pid for child in multiprocessing.active_children()}
    pool = _OrderedPool(BatchConfig(paths=(str(EXAMPLES),), jobs=2))
    try:
        pool.submit(chunk)
        assert pool.next_rows() == expected  # the workers are up
        workers = [c for c in multiprocessing.active_children() if c.pid not in others]
        assert workers, "the pool started no worker process"
        for worker in workers:
            os.kill(worker.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not refuses_work() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert refuses_work(), "the executor never noticed its workers died"
        pool.submit(chunk)
        pool.submit(chunk)
        assert pool.next_rows() == expected
        assert pool.next_rows() == expected
    finally:
        pool.executor.shutdown(wait=True, cancel_futures=True)
