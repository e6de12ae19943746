"""`rolecli serve` under abuse (issue #27), over real sockets on 127.0.0.1: idle and slow
connections, connection floods, slow uploads, stopping mid-request, batch blow-ups, memory
under concurrent large requests, and the refusals' JSON."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT
from serving import running_server

sys.path.insert(0, str(ROOT / "bench"))
from limits import pdf_drawing_forms, pdf_with_content, text_content

pytest.importorskip("uvicorn")

from rolecli.serve.connection import (
    HEAD_SECONDS,
    IDLE_SECONDS,
    MAX_CLIENT_CONNECTIONS,
    MAX_CONNECTIONS,
)
from rolecli.serve.requests import MAX_BATCH_ITEMS

TEXT = (EXAMPLES / "ml-engineer.txt").read_text(encoding="utf-8")
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


def connect(server, source: str = "127.0.0.1", timeout: float = 30) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect((server.host, server.port))
    return sock


def request_bytes(method: str, path: str, body: bytes = b"", headers: dict | None = None,
                  ) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one answer (Content-Length or chunked), or (0, {}, b"")
    when the connection closed first."""
    reader = sock.makefile("rb")
    status_line = reader.readline()
    if not status_line:
        return 0, {}, b""
    headers = {}
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int(reader.readline().split(b";")[0], 16):
            body += reader.read(size)
            reader.readline()
        reader.readline()
    else:
        body = reader.read(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


def ask(server, method: str, path: str, body: bytes = b"", headers: dict | None = None,
        source: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    with closing(connect(server, source)) as sock:
        sock.sendall(request_bytes(method, path, body, headers))
        return read_answer(sock)


def classify_body(text: str = TEXT) -> bytes:
    return json.dumps({"text": text}).encode()


JSON = {"Content-Type": "application/json"}
REQUEST_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (GET|POST) \S+ \d{3} \d+\.\d ms$")


def json_error(body: bytes) -> str:
    data = json.loads(body)
    assert list(data) == ["error"] and "\n" not in data["error"]
    return data["error"]


def closed_within(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    """What the server sent before closing, and after how long (fails past `seconds`)."""
    sock.settimeout(seconds)
    started = time.monotonic()
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic() - started


# -- 1. idle and slow connections, floods -----------------------------------------------------


def test_every_connection_phase_has_a_deadline(server):
    """Silent, half a request line, a head sent a byte a second, kept alive and forgotten:
    each is closed on its deadline, the slow heads with a JSON 408."""
    silent = connect(server)
    half = connect(server)
    half.sendall(b"GET /hea")
    trickle = connect(server)
    kept = connect(server)
    kept.sendall(request_bytes("GET", "/healthz"))
    assert read_answer(kept)[0] == 200

    def drip() -> None:  # a slowloris: the head never ends, but bytes keep coming
        with closing(trickle):
            for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 60:
                try:
                    trickle.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.5)

    dripping = threading.Thread(target=drip)
    dripping.start()
    data, seconds = closed_within(silent, IDLE_SECONDS + 3)
    assert data == b"" and seconds < IDLE_SECONDS + 2
    data, seconds = closed_within(kept, 3)
    assert data == b""
    data, seconds = closed_within(half, HEAD_SECONDS + 3)
    assert data.startswith(b"HTTP/1.1 408 ")
    assert "the request head took over 10 s" in json_error(data.partition(b"\r\n\r\n")[2])
    trickle_data, _ = closed_within(trickle, 5)
    assert trickle_data.startswith(b"HTTP/1.1 408 ")
    dripping.join()
    log = server.log()
    assert "- - 408" in log and "Traceback" not in log


def test_a_flood_from_one_client_gets_json_503s_and_others_are_served(server):
    flood = [connect(server) for _ in range(MAX_CLIENT_CONNECTIONS + 66)]  # the probe's 130
    try:
        time.sleep(0.5)
        started = time.monotonic()
        status, headers, body = ask(server, "GET", "/healthz")
        assert status == 503 and headers["content-type"] == "application/json"
        assert "connections from one client" in json_error(body)
        assert time.monotonic() - started < 5  # answered as soon as its head was in
        # Another client (another loopback address) is not held up by this one.
        status, _, body = ask(server, "POST", "/v1/classify", classify_body(), JSON,
                              source="127.0.0.2")
        assert status == 200, body
    finally:
        for sock in flood:
            sock.close()
    time.sleep(0.5)
    assert ask(server, "GET", "/healthz")[0] == 200  # and its own slots come back


@pytest.mark.slow
def test_the_connections_of_all_clients_are_capped(server):
    per_client = MAX_CLIENT_CONNECTIONS
    sources = [f"127.0.0.{10 + i}" for i in range(MAX_CONNECTIONS // per_client)]
    held = [connect(server, source) for source in sources for _ in range(per_client)]
    try:
        time.sleep(0.5)
        status, _, body = ask(server, "GET", "/healthz", source="127.0.0.99")
        assert status == 503 and "holds its 256 connections" in json_error(body)
    finally:
        for sock in held:
            sock.close()


@pytest.mark.slow
def test_a_body_that_never_finishes_is_cut(server):
    with closing(connect(server, timeout=60)) as sock:
        sock.sendall(request_bytes("POST", "/v1/classify", b"", JSON).replace(
            b"Content-Length: 0", b"Content-Length: 1000") + b'{"text": "')
        started = time.monotonic()
        status, _, body = read_answer(sock)
        assert status == 408 and "the body took over 30 s" in json_error(body)
        assert 29 < time.monotonic() - started < 40


def test_malformed_http_and_refused_cors_are_json(tmp_path):
    with running_server("--cors", "https://jobs.example.com") as server:
        with closing(connect(server)) as sock:
            sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
            status, headers, body = read_answer(sock)
        assert status == 400 and headers["content-type"] == "application/json"
        assert json_error(body) == "malformed HTTP request"
        status, headers, body = ask(server, "OPTIONS", "/v1/classify", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert status == 400 and headers["content-type"] == "application/json"
        assert "cross-origin request refused" in json_error(body)
        log = server.log()
        assert "Traceback" not in log and "WARNING" not in log


def test_a_huge_method_is_logged_cut_short(server):
    method = "X" * 10_000
    with closing(connect(server)) as sock:
        sock.sendall(f"{method} / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        status, _, _ = read_answer(sock)
    assert status == 405
    deadline = time.monotonic() + 10
    while not (lines := [line for line in server.log().splitlines() if "XXXX" in line]):
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    assert lines == [lines[0]] and len(lines[0]) < 100 and " XXXXXXXXXXXXXXXX... / 405 " in lines[0]


# -- 2. uploads that are slow to read -----------------------------------------------------------


def form_body(name: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    boundary = "rolecli-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def parser_processes(parent: int) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and b"rolecli.io.parsers" in cmdline and stat[0] != b"Z":
            found.append(int(pid))
    return found


def test_slow_uploads_are_capped_and_never_hold_the_scoring_threads():
    slow, headers = form_body("slow.pdf", pdf_with_content(text_content(0.9)))
    with running_server(env={"ROLECLI_EXTRACT_SECONDS": "1"}) as server:
        answers: list[tuple[int, bytes, float]] = []

        def upload() -> None:
            started = time.monotonic()
            status, _, body = ask(server, "POST", "/", slow, headers)
            answers.append((status, body, time.monotonic() - started))

        uploads = [threading.Thread(target=upload) for _ in range(4)]
        for thread in uploads:
            thread.start()
        time.sleep(0.5)
        started = time.monotonic()
        status, _, _ = ask(server, "POST", "/v1/classify", classify_body(), JSON)
        assert status == 200 and time.monotonic() - started < 5  # not behind the uploads
        for thread in uploads:
            thread.join(60)
        assert len(answers) == 4
        for status, body, seconds in answers:
            assert status == 422
            assert b"took more than 1 s of CPU time to read" in body
            assert seconds < 20
        # A client that leaves mid-upload: its file is still stopped at the cap.
        with closing(connect(server)) as sock:
            sock.sendall(request_bytes("POST", "/", slow, headers))
            time.sleep(0.3)
        time.sleep(4)
        assert parser_processes(server.process.pid) == [] or all(
            _cpu(pid) < 3 for pid in parser_processes(server.process.pid))


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_pdf_drawing_a_form_thousands_of_times_is_refused_at_once(server):
    bomb, headers = form_body("bomb.pdf", pdf_drawing_forms(text_content(0.1), 2000))
    started = time.monotonic()
    status, _, body = ask(server, "POST", "/", bomb, headers)
    assert status == 422 and b"more than 1 MiB of drawing instructions" in body
    assert time.monotonic() - started < 5


# -- 3. stopping mid-request -------------------------------------------------------------------


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_stopping_mid_request_cuts_it_in_seconds_with_one_line(stop, code):
    with running_server() as server:
        slow_body = connect(server, timeout=30)  # a request whose body never ends
        slow_body.sendall(request_bytes("POST", "/v1/classify", b"", JSON).replace(
            b"Content-Length: 0", b"Content-Length: 1000") + b'{"text": "')
        big = connect(server, timeout=30)  # and one that takes seconds to answer
        big.sendall(request_bytes("POST", "/v1/explain",
                                  classify_body("Deploy ML models. " * 400_000), JSON))
        time.sleep(1.5)
        before = server.log().splitlines()
        started = time.monotonic()
        server.process.send_signal(stop)
        assert server.process.wait(timeout=15) == code
        assert time.monotonic() - started < 6
        status, _, body = read_answer(slow_body)
        assert status == 503 and "the server is stopping" in json_error(body)
        slow_body.close()
        big.close()
        log = server.log()
        new = log.splitlines()[len(before):]
        # One line for the stop (naming what it cut); a request that finished within the
        # grace period has its own line, as any answered request does.
        stops = [line for line in new if "rolecli serve: stopped" in line]
        assert len(stops) == 1, new
        assert "cut 1 request still running after the grace period: POST /v1/classify" in \
            stops[0] or "cut 2 requests" in stops[0], stops
        assert all(REQUEST_LINE.match(line) for line in new if line not in stops), new
        for word in ("Traceback", "ERROR", "CancelledError", "Exception"):
            assert word not in log


@pytest.mark.slow
def test_stopping_several_workers_mid_request():
    with running_server("--workers", "2") as server:
        slow_body = connect(server, timeout=30)
        slow_body.sendall(request_bytes("POST", "/v1/classify", b"", JSON).replace(
            b"Content-Length: 0", b"Content-Length: 1000") + b'{"text": "')
        time.sleep(1)
        started = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=20) == 130
        assert time.monotonic() - started < 10
        assert read_answer(slow_body)[0] in (503, 0)
        slow_body.close()
        log = server.log()
        for word in ("Traceback", "ERROR", "CancelledError"):
            assert word not in log


# -- 4. /v1/batch is bounded --------------------------------------------------------------------


def test_a_batch_of_millions_of_bad_lines_is_refused_at_once(server):
    body = b"x\n" * (4 * MIB)  # the probe's 8 MiB of 4.19 M bad lines
    started = time.monotonic()
    status, _, answer = ask(server, "POST", "/v1/batch", body,
                            {"Content-Type": "application/x-ndjson"})
    assert status == 413
    assert f"the limit is {MAX_BATCH_ITEMS:,}" in json_error(answer)
    assert time.monotonic() - started < 10


def test_a_hostile_batch_within_the_limits_gives_a_bounded_answer(server):
    # The largest answer per byte of request: the most items, each with the longest id of
    # characters that JSON writes as 12-byte escapes, and no text (an error row each).
    tag = "\U000e0041"
    line = json.dumps({"id": tag * 200, "text": ""}, ensure_ascii=False).encode() + b"\n"
    body = line * min(MAX_BATCH_ITEMS, 8 * MIB // len(line))
    status, _, answer = ask(server, "POST", "/v1/batch", body,
                            {"Content-Type": "application/x-ndjson"})
    assert status == 200
    rows = [json.loads(row) for row in answer.splitlines()]
    assert len(rows) == body.count(b"\n")
    assert len(answer) < 8 * len(body)  # docs/serve.md: at most about 6 times the request


def test_batch_ids_are_made_unique_like_the_cli_and_long_ids_refused(server, rolecli, tmp_path):
    items = [{"id": "a", "text": TEXT}, {"id": "a", "text": TEXT}, {"id": "a~2", "text": TEXT},
             {"id": "x" * 300, "text": TEXT}]
    body = "".join(json.dumps(item) + "\n" for item in items).encode()
    status, _, answer = ask(server, "POST", "/v1/batch", body,
                            {"Content-Type": "application/x-ndjson"})
    assert status == 200
    rows = [json.loads(row) for row in answer.splitlines()]
    assert [row["id"] for row in rows] == ["a", "a~2", "a~2~2", "x" * 256 + "…"]
    assert "'id' is longer than 256 characters" in rows[3]["error"]
    table = tmp_path / "items.jsonl"
    table.write_bytes(b"".join(json.dumps(item).encode() + b"\n" for item in items[:3]))
    cli = rolecli("batch", table, "--id-column", "id", "-f", "jsonl")
    assert [json.loads(row)["id"] for row in cli.stdout.splitlines()] == ["a", "a~2", "a~2~2"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "utf-32-be"])
def test_json_that_is_not_utf8_is_refused(server, encoding):
    body = json.dumps({"text": TEXT}).encode(encoding)
    status, _, answer = ask(server, "POST", "/v1/classify", body, JSON)
    assert status == 400 and json_error(answer) == "malformed JSON: not UTF-8"


# -- 13. memory under concurrent large requests ----------------------------------------------------


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", ["/v1/classify", "/v1/explain"])
def test_four_large_hostile_requests_at_once_stay_within_the_documented_memory(endpoint):
    body = classify_body("ML\n" * 2_000_000)  # two-letter lines, as much as 8 MiB of JSON holds
    assert len(body) < 8 * MIB
    statuses: list[int] = []
    with running_server() as server:
        threads = [threading.Thread(target=lambda: statuses.append(
            ask(server, "POST", endpoint, body, JSON)[0])) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert statuses == [200] * 4
        peak = peak_rss_mib(server.process.pid)
    assert peak < 300, peak  # docs/serve.md
