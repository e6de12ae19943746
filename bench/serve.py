"""Load test: `rolecli serve` on a loopback port, beside the Python API in one process.

Starts the installed `rolecli serve --port 0` (as the tests do), warms it up, then sends
--requests `POST /v1/classify` requests from --concurrency threads, each on its own
keep-alive connection (stdlib http.client), cycling through the dev postings (or the
examples when ../shared/data is absent). Prints throughput, p50/p99/max latency, errors,
and the server's RSS (all its processes) after warm-up, at its peak during the run, and at
the end. Then the same postings through `rolecli.classify()` in this one process.
Alternates the two --runs times and prints medians.
Targets: zero errors, p99 under 100 ms at 32 concurrent, RSS flat across the run.
Only loopback traffic; every loop is bounded by --requests and a deadline.
Usage: python bench/serve.py [--requests 5000] [--concurrency 32] [--workers 1] [--runs 3]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from serving import Server, running_server  # noqa: E402

DEV_POSTINGS = ROOT.parent / "shared" / "data" / "postings_dev.csv"
WARM_UP = 300
DEADLINE_SECONDS = 600
MIB = 1024 * 1024


@dataclass
class Load:
    seconds: float
    latencies: list[float]  # seconds, one per successful request
    errors: int
    rss_start: float  # MiB, all server processes, after warm-up
    rss_peak: float
    rss_end: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def postings() -> tuple[list[str], str]:
    if DEV_POSTINGS.is_file():
        csv.field_size_limit(sys.maxsize)
        with DEV_POSTINGS.open(newline="", encoding="utf-8") as handle:
            texts = [row["text"] for row in csv.DictReader(handle) if row["text"].strip()]
        return texts, f"{len(texts)} dev postings ({DEV_POSTINGS.name})"
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.txt"))]
    return texts, f"{len(texts)} example postings ({DEV_POSTINGS} is absent)"


def server_rss(pid: int) -> float:
    """Summed RSS of the server and its worker processes, in MiB."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.is_file():
        pids += [int(c) for c in children.read_text().split()]
    total = 0
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:  # a worker that just exited
            pass
    return total / MIB


def load(server: Server, bodies: list[bytes], requests: int, concurrency: int) -> Load:
    work = iter(range(requests))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + DEADLINE_SECONDS
    headers = {"Content-Type": "application/json"}

    def client() -> None:
        connection = server.connection(timeout=30)
        mine: list[float] = []
        failed = 0
        while time.monotonic() < deadline:
            with lock:
                number = next(work, None)
            if number is None:
                break
            started = time.perf_counter()
            try:
                connection.request("POST", "/v1/classify", bodies[number % len(bodies)], headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = server.connection(timeout=30)
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                failed += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], server_rss(server.process.pid))

    rss_start = server_rss(server.process.pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    rss_end = server_rss(server.process.pid)
    return Load(seconds, latencies, errors[0], rss_start, max(peak[0], rss_end), rss_end)


def in_process(texts: list[str], requests: int) -> tuple[float, list[float]]:
    from rolecli import classify, load_scorer

    scorer = load_scorer()
    latencies = []
    started = time.perf_counter()
    for text in islice(cycle(texts), requests):
        t = time.perf_counter()
        classify(text, scorer)
        latencies.append(time.perf_counter() - t)
    return requests / (time.perf_counter() - started), latencies


def ms(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()

    texts, described = postings()
    bodies = [json.dumps({"text": t}).encode("utf-8") for t in texts]
    load_average = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load_average:.1f}; {described}, "
          f"{statistics.mean(map(len, texts)):.0f} characters on average")
    print(f"{options.requests} POST /v1/classify at {options.concurrency} concurrent, "
          f"{options.workers} server worker{'s' * (options.workers != 1)}, keep-alive")
    loads: list[Load] = []
    direct: list[tuple[float, list[float]]] = []
    with running_server("--workers", str(options.workers)) as server:
        load(server, bodies, WARM_UP, options.concurrency)
        for run in range(1, options.runs + 1):
            result = load(server, bodies, options.requests, options.concurrency)
            rate, latencies = in_process(texts, options.requests)
            loads.append(result)
            direct.append((rate, latencies))
            print(
                f"run {run}: server {result.rate:.0f} req/s, p50 {result.percentile(0.5):.1f} ms, "
                f"p99 {result.percentile(0.99):.1f} ms, max {result.percentile(1.0):.1f} ms, "
                f"errors {result.errors}, RSS {result.rss_start:.1f} -> peak "
                f"{result.rss_peak:.1f} -> {result.rss_end:.1f} MiB; in-process {rate:.0f} "
                f"postings/s, p50 {ms(latencies, 0.5):.2f} ms, p99 {ms(latencies, 0.99):.2f} ms; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
        requests = 1 + WARM_UP + options.requests * options.runs  # 1: the start's /healthz
        log_lines = len(server.log(lines=requests + 1).splitlines()) - 1
    median = statistics.median
    p99 = median(r.percentile(0.99) for r in loads)
    errors = sum(r.errors for r in loads)
    print(f"\nmedians of {options.runs} runs:")
    print(f"  server      {median(r.rate for r in loads):7.0f} req/s   "
          f"p50 {median(r.percentile(0.5) for r in loads):6.1f} ms   p99 {p99:6.1f} ms")
    print(f"  in-process  {median(d[0] for d in direct):7.0f} /s      "
          f"p50 {median(ms(d[1], 0.5) for d in direct):6.2f} ms   "
          f"p99 {median(ms(d[1], 0.99) for d in direct):6.2f} ms   (classify(), one thread)")
    print(f"  errors {errors} of {options.requests * options.runs} (target 0); "
          f"p99 {p99:.1f} ms (target < 100 ms at 32 concurrent)")
    first, last = loads[0].rss_start, loads[-1].rss_end
    print(f"  server RSS {first:.1f} MiB after warm-up, {last:.1f} MiB after "
          f"{options.requests * options.runs} requests: ratio {last / first:.2f} (target: flat)")
    print(f"  server log: {log_lines} lines for {requests} requests (one each)")


if __name__ == "__main__":
    main()
