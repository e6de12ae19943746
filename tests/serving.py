"""The installed `rolecli serve` as a subprocess on a free loopback port, and an HTTP client.

Shared by the server tests, the browser test and bench/serve.py.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

STARTED = re.compile(r"rolecli serve: (http://\S+) ")
# Markup and escapes a posting may carry; none of it may act on the page or the log.
PAYLOADS = [
    '<script>window.__pwned=1;document.title="pwned"</script>',
    "<img src=x onerror=\"window.__pwned=1\">",
    '"><svg onload="window.__pwned=1"></svg>',
    "</textarea><script>window.__pwned=1</script>",
    "</title><script>window.__pwned=1</script>",
    '<a href="javascript:window.__pwned=1">apply</a>',
    "<style>body{display:none}</style>",
    '<meta http-equiv="refresh" content="0; url=https://example.invalid/">',
    "\x1b[31mred\x1b[0m &amp; &lt;b&gt;",
]
HOSTILE = "Machine Learning Engineer\n\n" + "".join(
    f"- Deploy models to production and monitor serving latency {p}\n" for p in PAYLOADS
)


@dataclass
class Server:
    url: str
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def log(self, lines: int = 0, wait: float = 10) -> str:
        """The server's stderr so far, once it has at least `lines` lines (a request's line
        is written just after its answer)."""
        deadline = time.monotonic() + wait
        while True:
            text = Path(self.log_file.name).read_text(encoding="utf-8", errors="replace")
            if len(text.splitlines()) >= lines or time.monotonic() > deadline:
                return text
            time.sleep(0.02)

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers with lower-case names, body) of one request on a new connection."""
        all_headers = dict(self.headers)
        if auth and self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        all_headers.update(headers or {})
        connection = self.connection()
        try:
            data = body.encode("utf-8") if isinstance(body, str) else body
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            headers = {k.lower(): v for k, v in response.getheaders()}
            return response.status, headers, response.read()
        finally:
            connection.close()

    def post_json(self, path: str, data: Any, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
        status, headers, body = self.request(
            "POST", path, json.dumps(data), {"Content-Type": "application/json"}, **kwargs
        )
        return status, headers, json.loads(body)


def rolecli_executable() -> str:
    found = Path(sys.executable).with_name("rolecli")
    if not found.is_file():
        raise RuntimeError(f"the installed `rolecli` script is not next to {sys.executable}")
    return str(found)


@contextmanager
def running_server(
    *args: str, env: dict[str, str] | None = None, token: str | None = None, wait: float = 60
) -> Iterator[Server]:
    """`rolecli serve --port 0 ARGS` until the block ends; its stderr goes to a temporary file."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("ROLECLI_MODEL", "ROLECLI_TOKEN")}
    full_env.update(env or {})
    with tempfile.NamedTemporaryFile(prefix="rolecli-serve-", suffix=".log") as log_file:
        process = subprocess.Popen(
            [rolecli_executable(), "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file, env=full_env,
        )
        try:
            url = _wait_for_start(process, Path(log_file.name), wait)
            host, port = url.removeprefix("http://").rsplit(":", 1)
            server = Server(url, host.strip("[]"), int(port), process, log_file, token)
            if host == "0.0.0.0":
                server.host = "127.0.0.1"  # what every test connects to
            _wait_for_health(server, wait)
            yield server
        finally:
            stop(process)


def _wait_for_start(process: subprocess.Popen[bytes], log: Path, wait: float) -> str:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = STARTED.search(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"rolecli serve exited {process.returncode}: {log.read_text()}")
        time.sleep(0.05)
    raise RuntimeError(f"rolecli serve did not start in {wait} s: {log.read_text()}")


def _wait_for_health(server: Server, wait: float) -> None:
    deadline = time.monotonic() + wait
    answer: object = None
    while time.monotonic() < deadline:
        try:
            answer = server.request("GET", "/healthz")[0]
            if answer == 200:
                return
        except OSError as exc:
            answer = exc
        time.sleep(0.05)
    raise RuntimeError(f"GET /healthz did not answer 200 in {wait} s (last: {answer})")


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
