"""Load test: `rolecli serve` on a loopback port, beside the Python API in one process.

Starts the installed `rolecli serve --port 0` (as the tests do), warms it up, then sends
--requests `POST /v1/classify` requests from --concurrency threads, each on its own
keep-alive connection (stdlib http.client), cycling through the dev postings (or the
examples when ../shared/data is absent). Prints throughput, p50/p99/max latency, errors,
and the server's RSS (all its processes) after warm-up, at its peak during the run, and at
the end. Then the same postings through `rolecli.classify()` in this one process.
Alternates the two --runs times and prints medians.
Targets: zero errors, p99 under 100 ms at 32 concurrent, RSS flat across the run.

With --typing, the page's live updates instead: --writers people each write postings into
the page at once, one `POST /live` per pause in their typing (every --pause ms, the text
--step characters longer each time, as the page's debounce sends it), for --updates updates
in all. Prints the p50 and p99 of an update as the browser waits for it and of the server
time each answer carries, beside the same updates made in this one process.
Only loopback traffic; every loop is bounded by --requests (--updates) and a deadline.
Usage: python bench/serve.py [--requests 5000] [--concurrency 32] [--workers 1] [--runs 3]
       python bench/serve.py --typing [--writers 8] [--updates 2000] [--pause 250] [--step 40]
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


def _post(server: Server, connection: http.client.HTTPConnection, path: str, body: bytes,
          headers: dict[str, str]) -> tuple[http.client.HTTPConnection, bytes | None]:
    """POST on a kept-alive connection: (the connection to use next, the answer's body, or
    None when the request failed, in which case the connection is a new one)."""
    try:
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status == 200:
            return connection, answer
    except (OSError, http.client.HTTPException):
        connection.close()
        connection = server.connection(timeout=30)
    return connection, None


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
            connection, answer = _post(server, connection, "/v1/classify",
                                       bodies[number % len(bodies)], headers)
            if answer is not None:
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


# -- the page's live updates under typing ----------------------------------------------------

FIRST_PREFIX = 200  # characters a writer has before the first update (a pasted opening)


def drafts(texts: list[str], step: int) -> list[list[str]]:
    """Each posting as its writer sends it: ever longer prefixes, then the whole text."""
    return [[t[:n] for n in range(FIRST_PREFIX, len(t), step)] + [t] for t in texts]


@dataclass
class Typing:
    seconds: float
    waits: list[float]  # seconds from sending an update to having its answer
    server_ms: list[float]  # the time each answer says the server spent on it
    errors: int


def typing(server: Server, writing: list[list[str]], updates: int, writers: int,
           pause: float) -> Typing:
    counter = iter(range(updates))
    lock = threading.Lock()
    waits: list[float] = []
    server_ms: list[float] = []
    errors = [0]
    deadline = time.monotonic() + DEADLINE_SECONDS
    headers = {"Content-Type": "application/json"}

    def writer(number: int) -> None:
        connection = server.connection(timeout=30)
        mine: list[tuple[float, float]] = []
        failed = 0
        prefixes = (p for draft in islice(cycle(writing), number, None, writers) for p in draft)
        while time.monotonic() < deadline:
            with lock:
                if next(counter, None) is None:
                    break
            body = json.dumps({"text": next(prefixes), "title": None}).encode("utf-8")
            started = time.perf_counter()
            connection, answer = _post(server, connection, "/live", body, headers)
            if answer is not None:
                mine.append((time.perf_counter() - started, json.loads(answer)["server_ms"]))
            else:
                failed += 1
            time.sleep(pause)  # the writer types on until the next pause
        connection.close()
        with lock:
            waits.extend(wait for wait, _ in mine)
            server_ms.extend(ms for _, ms in mine)
            errors[0] += failed

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Typing(time.perf_counter() - started, waits, server_ms, errors[0])


def typing_in_process(writing: list[list[str]], updates: int) -> list[float]:
    """The same updates, made by the function the server calls, in this one thread (ms)."""
    from rolecli import load_scorer
    from rolecli.serve.live import live_answer

    scorer = load_scorer()
    prefixes = (p for draft in cycle(writing) for p in draft)
    return [live_answer(scorer, next(prefixes), None, [])["server_ms"] for _ in range(updates)]


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main_typing(options: argparse.Namespace) -> None:
    texts, described = postings()
    writing = drafts(texts, options.step)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {described}")
    print(f"{options.updates} POST /live updates from {options.writers} writers at once, each "
          f"pausing {options.pause} ms between updates, the text {options.step} characters "
          f"longer each time; {options.workers} server worker{'s' * (options.workers != 1)}")
    runs: list[Typing] = []
    direct: list[list[float]] = []
    with running_server("--workers", str(options.workers)) as server:
        typing(server, writing, WARM_UP, options.writers, 0)
        for run in range(1, options.runs + 1):
            result = typing(server, writing, options.updates, options.writers,
                            options.pause / 1000)
            alone = typing_in_process(writing, options.updates)
            runs.append(result)
            direct.append(alone)
            print(
                f"run {run}: update p50 {quantile(result.waits, .5) * 1000:.1f} ms, p99 "
                f"{quantile(result.waits, .99) * 1000:.1f} ms (server time p50 "
                f"{quantile(result.server_ms, .5):.1f} ms, p99 "
                f"{quantile(result.server_ms, .99):.1f} ms), errors {result.errors}, "
                f"{len(result.waits) / result.seconds:.0f} updates/s; in-process p50 "
                f"{quantile(alone, .5):.1f} ms, p99 {quantile(alone, .99):.1f} ms; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
    median = statistics.median
    p50 = median(quantile(r.waits, .5) * 1000 for r in runs)
    p99 = median(quantile(r.waits, .99) * 1000 for r in runs)
    alone50 = median(quantile(d, .5) for d in direct)
    print(f"\nmedians of {options.runs} runs:")
    print(f"  update as the page waits   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    print(f"  server time in the answer  p50 "
          f"{median(quantile(r.server_ms, .5) for r in runs):6.1f} ms   p99 "
          f"{median(quantile(r.server_ms, .99) for r in runs):6.1f} ms")
    print(f"  in-process (live_answer)   p50 {alone50:6.1f} ms   p99 "
          f"{median(quantile(d, .99) for d in direct):6.1f} ms   (one thread)")
    print(f"  errors {sum(r.errors for r in runs)} of {options.updates * options.runs} "
          f"(target 0); update p50 / in-process p50: {p50 / alone50:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--typing", action="store_true", help="load the page's live updates")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--pause", type=int, default=250, help="ms between a writer's updates")
    parser.add_argument("--step", type=int, default=40, help="characters added per update")
    options = parser.parse_args()
    if options.typing:
        main_typing(options)
        return

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
