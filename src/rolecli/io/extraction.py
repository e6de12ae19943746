"""Reading PDF, Word and HTML files in worker processes that can be stopped.

Their parsers (pypdf, python-docx, lxml) run outside the process that asked: a worker,
started on first use and kept for the next file, takes the bytes through a pipe and
answers with the text or the reason there is none. Each file may use MAX_EXTRACT_SECONDS
of the worker's CPU time (ROLECLI_EXTRACT_SECONDS changes it; CPU time, so a busy machine
does not fail a slow file); past that the worker is killed, whatever it was doing (a parser
stuck in C code too), and the file gets one InputError. The CLI, both batch engines and
the server all read files through here, so the same file meets the same cap everywhere,
and a thread waiting on a worker can always be let go.

A worker also holds itself to MAX_EXTRACT_MEMORY of address space and to the cap through
RLIMIT_CPU (with a little slack), so that it ends even if the process that asked is gone.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import IO

from ..errors import InputError

MAX_EXTRACT_SECONDS = 10.0
MAX_EXTRACT_MEMORY = 2 * 1024**3  # bytes of address space a worker may map
EXTRACT_SECONDS_ENV = "ROLECLI_EXTRACT_SECONDS"
# RLIMIT_CPU, the worker's own backstop, fires this long after the cap the parent enforces.
_CPU_SLACK = 5
_POLL_SECONDS = 0.05
_HEADER = struct.Struct(">I")
KINDS = ("pdf", "docx", "html")


def extract_seconds() -> float:
    """The CPU seconds one file's extraction may take: ROLECLI_EXTRACT_SECONDS, else 10."""
    value = os.environ.get(EXTRACT_SECONDS_ENV, "")
    try:
        seconds = float(value) if value else MAX_EXTRACT_SECONDS
    except ValueError:
        return MAX_EXTRACT_SECONDS
    return seconds if 0 < seconds < float("inf") else MAX_EXTRACT_SECONDS


def over_time(name: str, seconds: float) -> InputError:
    return InputError(
        f"{name}: took more than {seconds:g} s of CPU time to read (the limit per file); "
        "a job description is a few pages"
    )


class _Worker:
    """One worker process and the pipes to it."""

    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rolecli.io.parsers"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=env, close_fds=True,
                # Its own session: Ctrl-C on the terminal is the parent's to handle, and a
                # worker left alone ends at the end of its stdin (or at its RLIMIT_CPU).
                start_new_session=True,
            )
        except OSError as exc:
            raise InputError(f"cannot start the process that reads files ({exc.strerror or exc})"
                             ) from None
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, kind: str, data: bytes, name: str, seconds: float) -> str:
        """The text of `data`, or InputError; the worker is killed when it takes too long."""
        started = _cpu_seconds(self.process.pid)
        wall = time.monotonic()
        try:
            _write_frames(self.stdin, json.dumps({"kind": kind, "name": name,
                                                   "seconds": seconds}).encode(), data)
        except (OSError, ValueError):
            self.kill()
            raise _died(name) from None
        while True:
            ready, _, _ = select.select([self.stdout], [], [], _POLL_SECONDS)
            if ready:
                break
            used = _used(self.process.pid, started, wall)
            if used is None:  # gone: it died while reading
                self.kill()
                raise _died(name)
            if used > seconds:
                self.kill()
                raise over_time(name, seconds)
        try:
            header, text = _read_frame(self.stdout), _read_frame(self.stdout)
        except (OSError, ValueError, EOFError):
            self.kill()
            raise _died(name) from None
        answer = json.loads(header)
        if answer.get("error") is not None:
            raise InputError(str(answer["error"]))
        return text.decode("utf-8", "surrogatepass")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        for pipe in (self.stdin, self.stdout):
            with suppress(OSError):
                pipe.close()
        self.process.wait()


def _died(name: str) -> InputError:
    return InputError(f"{name}: the process reading it died (out of memory, or a crash in "
                      "its parser)")


def _used(pid: int, started: float | None, wall: float) -> float | None:
    """CPU seconds the worker has used since `started`; wall seconds where /proc is absent;
    None when the process is gone."""
    now = _cpu_seconds(pid)
    if now is None:
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return time.monotonic() - wall
    return now - (started or 0.0)


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process, from /proc (Linux); None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in (b"Z", b"X"):  # a zombie has exited
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _write_frames(stream: IO[bytes], *frames: bytes) -> None:
    for frame in frames:
        stream.write(_HEADER.pack(len(frame)))
        stream.write(frame)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> bytes:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(header)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return data


class Extractors:
    """Up to `max_workers` worker processes, each used by one caller at a time (callers
    past that wait their turn); a worker that was killed or died is replaced on next use."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or max(1, os.cpu_count() or 1)
        self.idle: list[_Worker] = []
        self.everyone: set[_Worker] = set()
        self.busy = 0
        self.lock = threading.Condition()

    def run(self, kind: str, data: bytes, name: str) -> str:
        seconds = extract_seconds()
        worker = self._take()
        try:
            text = worker.run(kind, data, name, seconds)
        except BaseException:
            self._give_back(worker if worker.alive() else None)
            raise
        self._give_back(worker)
        return text

    def _take(self) -> _Worker:
        with self.lock:
            while not self.idle and self.busy >= self.max_workers:
                self.lock.wait()
            self.busy += 1
            worker = self.idle.pop() if self.idle else None
        if worker is not None and worker.alive():
            return worker
        try:
            worker = _Worker()
        except BaseException:
            self._give_back(None)
            raise
        with self.lock:
            self.everyone.add(worker)
        return worker

    def _give_back(self, worker: _Worker | None) -> None:
        with self.lock:
            self.busy -= 1
            if worker is not None and worker.alive():
                self.idle.append(worker)
            self.everyone = {w for w in self.everyone if w.alive()}
            self.lock.notify()

    def close(self) -> None:
        """Kill every worker, busy ones too (their callers get an InputError)."""
        with self.lock:
            everyone, self.everyone, self.idle = self.everyone, set(), []
        for worker in everyone:
            worker.kill()


_POOL = Extractors()
atexit.register(lambda: _POOL.close())


def use_workers(max_workers: int) -> None:
    """How many worker processes this process may run at once (the server sets its own)."""
    global _POOL
    _POOL.close()
    _POOL = Extractors(max_workers)


def stop_workers() -> None:
    """Kill every worker now (at shutdown)."""
    _POOL.close()


def extract(kind: str, data: bytes, name: str) -> str:
    """The text a parser finds in `data` ("pdf", "docx", or "html" as UTF-8 markup), read in
    a worker process within the CPU-time cap; InputError when there is none."""
    return _POOL.run(kind, data, name)


# -- the worker ---------------------------------------------------------------------------


def _limit_self(seconds: float) -> None:
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime + seconds) + _CPU_SLACK
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def serve_requests(parsers: Mapping[str, Callable[[bytes, str], str]]) -> None:
    """A worker's loop (`python -m rolecli.io.parsers`): a request (header, data) in, an
    answer (header, text) out, until its stdin ends."""
    import resource

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with suppress(ValueError, OSError):  # (a lower hard limit already set is kept)
        resource.setrlimit(resource.RLIMIT_AS, (MAX_EXTRACT_MEMORY, MAX_EXTRACT_MEMORY))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            request = json.loads(_read_frame(stdin))
            data = _read_frame(stdin)
        except EOFError:
            return
        _limit_self(float(request["seconds"]))
        text, error = "", None
        try:
            text = parsers[request["kind"]](data, request["name"])
        except InputError as exc:
            error = exc.message
        except MemoryError:
            error = (f"{request['name']}: needs more than {MAX_EXTRACT_MEMORY >> 30} GiB of "
                     "memory to read (the limit per file)")
        except Exception as exc:  # a parser's failure is the file's
            error = f"{request['name']}: unreadable ({type(exc).__name__})"
        del data
        _write_frames(stdout, json.dumps({"error": error}).encode(),
                      text.encode("utf-8", "surrogatepass"))

