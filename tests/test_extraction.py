"""Files read in extraction workers (issue #27, class 2): the same CPU-time cap in the CLI,
both batch engines and the server, a worker killed at the cap whatever it was doing, PDF
forms counted each time they are drawn; and the Dask engine's connect deadline (class 9)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from batch_inputs import jsonl
from conftest import EXAMPLES, ROOT, one_line, rolecli_executable

sys.path.insert(0, str(ROOT / "bench"))
from limits import pdf_drawing_forms, pdf_with_content, text_content

POSTING = EXAMPLES / "ml-engineer.txt"
needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="distributed is not installed (pip install 'rolecli[dask]')",
)


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdfs")
    made = {
        # ~2 s for pypdf, under every size limit: only the CPU cap can stop it early
        "slow.pdf": pdf_with_content(text_content(0.9)),
        # the probe's: a 100 KB form drawn 2,000 times from a page of a few KB
        "forms.pdf": pdf_drawing_forms(text_content(0.1), 2000),
        # forms 5 deep, each drawing the next 12 times: 248,832 draws of a 1 KB form
        "nested.pdf": pdf_drawing_forms(text_content(0.001), 12, depth=5),
        # a form that draws itself
        "loop.pdf": pdf_drawing_forms(b"", 3, depth=2, loop=True),
        # a small form drawn three times: read
        "small-forms.pdf": pdf_drawing_forms(
            b"BT /F1 12 Tf 72 712 Td (Deploy ML models to production and monitor serving "
            b"latency for our machine learning platform) Tj ET", 3),
    }
    for name, data in made.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in made}


def parsers_of(marker: str) -> list[int]:
    """Extraction workers still running that carry this environment marker."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in Path(f"/proc/{pid}/environ").read_bytes() and \
                    b"rolecli.io.parsers" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("name", ["forms.pdf", "nested.pdf"])
def test_forms_drawn_thousands_of_times_are_measured_before_reading(rolecli, pdfs, name):
    started = time.monotonic()
    result = rolecli("classify", pdfs[name])
    assert result.returncode == 3
    assert one_line(result.stderr) == (
        f"rolecli: error: {pdfs[name]}: a PDF where a page holds more than 1 MiB of drawing "
        "instructions (the limit); a job description is far smaller")
    assert time.monotonic() - started < 10  # the build before took its 10 s cap, then more


def test_a_form_that_draws_itself_is_refused_and_small_forms_are_read(rolecli, pdfs):
    loop = rolecli("classify", pdfs["loop.pdf"])
    assert loop.returncode == 3
    assert "a loop of form XObjects" in one_line(loop.stderr)
    small = rolecli("classify", pdfs["small-forms.pdf"], "-f", "json")
    assert small.returncode == 0, small.stderr
    assert json.loads(small.stdout)["label"] == "engineer"


def test_the_cap_stops_a_parser_and_its_worker_in_the_cli(pdfs):
    marker = f"ROLECLI_TEST_{uuid.uuid4().hex}"
    env = {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}
    env.update({"ROLECLI_EXTRACT_SECONDS": "0.5", marker: "1"})
    started = time.monotonic()
    result = subprocess.run([rolecli_executable(), "classify", str(pdfs["slow.pdf"])],
                            capture_output=True, env=env, timeout=60)
    assert result.returncode == 3
    assert one_line(result.stderr) == (
        f"rolecli: error: {pdfs['slow.pdf']}: took more than 0.5 s of CPU time to read (the "
        "limit per file); a job description is a few pages")
    assert time.monotonic() - started < 10
    assert parsers_of(marker) == []  # the worker was killed, not left to run


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_cap_holds_in_the_local_engine_and_the_batch_goes_on(rolecli, pdfs, tmp_path, jobs):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(pdfs["slow.pdf"], folder / "a-slow.pdf")
    shutil.copy(pdfs["forms.pdf"], folder / "b-forms.pdf")
    for i in range(3):
        shutil.copy(POSTING, folder / f"c{i}.txt")
    result = rolecli("batch", folder, "-f", "jsonl", "--jobs", jobs,
                     env={"ROLECLI_EXTRACT_SECONDS": "0.5"})
    assert result.returncode == 5, result.stderr
    rows = {row["id"]: row for row in jsonl(result.stdout)}
    assert "took more than 0.5 s of CPU time" in rows["a-slow.pdf"]["error"]
    assert "drawing instructions" in rows["b-forms.pdf"]["error"]
    assert [rows[f"c{i}.txt"]["status"] for i in range(3)] == ["ok"] * 3


def test_ctrl_c_while_a_worker_reads_leaves_no_worker_behind(pdfs):
    marker = f"ROLECLI_TEST_{uuid.uuid4().hex}"
    env = {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}
    env[marker] = "1"
    process = subprocess.Popen([rolecli_executable(), "classify", str(pdfs["slow.pdf"])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                               start_new_session=True)
    deadline = time.monotonic() + 20
    while not parsers_of(marker):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, 2)  # Ctrl-C reaches the terminal's whole process group
    assert process.wait(timeout=20) == 130
    assert process.stderr.read().decode().strip() == "rolecli: interrupted"
    deadline = time.monotonic() + 10
    while parsers_of(marker):
        assert time.monotonic() < deadline, "an extraction worker outlived rolecli"
        time.sleep(0.1)


# -- Dask ----------------------------------------------------------------------------------


@needs_dask
@pytest.mark.slow
def test_the_cap_holds_on_dask_workers(rolecli, pdfs, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(pdfs["slow.pdf"], folder / "a-slow.pdf")
    shutil.copy(pdfs["forms.pdf"], folder / "b-forms.pdf")
    shutil.copy(POSTING, folder / "c.txt")
    started = time.monotonic()
    result = rolecli("batch", folder, "-f", "jsonl", "--engine", "dask", "--jobs", "1",
                     env={"ROLECLI_EXTRACT_SECONDS": "0.5"}, timeout=180)
    assert result.returncode == 5, result.stderr
    rows = {row["id"]: row for row in jsonl(result.stdout)}
    assert "took more than 0.5 s of CPU time" in rows["a-slow.pdf"]["error"]
    assert "drawing instructions" in rows["b-forms.pdf"]["error"]
    assert rows["c.txt"]["status"] == "ok"
    assert time.monotonic() - started < 60  # the build before spent 58 s on one such file


class Listener:
    """A TCP listener that accepts and then says nothing (or, `answer`, sends junk)."""

    def __init__(self, answer: bytes | None = None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.answer = answer
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            if self.answer is not None:
                conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@needs_dask
@pytest.mark.slow
@pytest.mark.parametrize("answer", [None, b"HTTP/1.1 200 OK\r\n\r\nhello", b"\x00" * 64],
                         ids=["silent", "http", "junk"])
def test_a_scheduler_that_never_answers_is_one_line_within_15_s(rolecli, tmp_path, answer):
    listener = Listener(answer)
    address = listener.address
    output = tmp_path / "rows.jsonl"
    try:
        started = time.monotonic()
        result = rolecli("batch", POSTING, "--engine", "dask", "--scheduler", address,
                         "-o", output, timeout=60)
        seconds = time.monotonic() - started
    finally:
        listener.close()
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith(f"rolecli: error: cannot use the Dask scheduler at '{address}' (")
    assert seconds < 15
    assert not output.exists()  # found before anything was written


@needs_dask
@pytest.mark.slow
def test_a_scheduler_without_workers_is_one_line_within_15_s(rolecli):
    import asyncio

    from distributed import Scheduler

    ready = threading.Event()
    box: dict = {}

    def run() -> None:
        async def main() -> None:
            async with Scheduler(dashboard_address=None, port=0) as scheduler:
                box["address"] = scheduler.address
                box["stop"] = asyncio.Event()
                ready.set()
                await box["stop"].wait()

        box["loop"] = asyncio.new_event_loop()
        box["loop"].run_until_complete(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        started = time.monotonic()
        result = rolecli("batch", POSTING, "--engine", "dask", "--scheduler", box["address"],
                         timeout=60)
        assert result.returncode == 2
        assert "no client and worker within 10 s" in one_line(result.stderr)
        assert time.monotonic() - started < 15
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)
