"""The local engine: scoring in this process, or in a pool of spawned worker processes.

One job, or a single chunk, is scored in-process (starting processes would cost more).
Otherwise chunks go to `jobs` workers, each loading the scorer once, and come back in
submission order; a worker that dies is replaced, and the item that killed it gets an
error row. Ctrl-C and SIGTERM are the parent's to handle (the run's `stop`).

The default, --jobs auto, starts in-process and moves the rest of a large input to a
pool only when the machine has cores to spare: workers cost more CPU than they save
when other work holds the cores, and more than they save on a small input
(bench/batch.py measures both; docs/speed.md has the runs).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from itertools import chain, islice
from typing import Any

from ...errors import ExitCode, RoleCliError, UsageError
from ...tasks.classify import load_scorer
from ..config import BatchConfig
from ..items import Item, Row, Scoring, error_row

# Items per task: large enough that inter-process overhead is small next to scoring
# (~1 ms an item), small enough that a crash or Ctrl-C loses little work.
CHUNK_ITEMS = 32
# Tasks in flight per worker: keeps workers busy while bounding memory.
TASKS_PER_WORKER = 4


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# More workers than cores only adds processes (each loads the scorer); far more is a typo.
MAX_JOBS = 1024


def worker_count(jobs: int | None) -> int:
    """--jobs as run: the cores this process may use at most; 0, negative or absurd is refused."""
    if jobs is None:
        return default_jobs()
    if jobs < 1:
        raise UsageError("jobs must be at least 1", cli_message="--jobs must be at least 1")
    if jobs > MAX_JOBS:
        too_many = (f"{jobs} is far more than this machine's {default_jobs()} cores "
                    f"(at most {MAX_JOBS}; more than the cores is capped to them)")
        raise UsageError(f"jobs {too_many}", cli_message=f"--jobs {too_many}")
    return min(jobs, default_jobs())


# --jobs auto: an input of fewer than twice this many items is scored in-process (starting
# worker processes would cost more than they save). A larger one starts the workers, scores
# at least this many items here while they start (timing the last half of them once they
# are ready), then gives the workers the rest on trial: they keep it only if they score
# this many items clearly faster than this process did (on a machine whose cores are
# busy with other work, workers can cost more CPU than they bring).
# bench/batch.py measures it against --jobs 1 and --jobs N; docs/speed.md has the runs.
AUTO_ITEMS = 2_000


class LocalEngine:
    chunk_items = CHUNK_ITEMS

    def check(self, config: BatchConfig | None = None) -> None:
        """Nothing to check: the local engine needs no extra."""

    def rows(
        self, chunks: Iterator[list[Item]], config: BatchConfig, scoring: Scoring,
        stop: threading.Event,
    ) -> Iterator[list[Row]]:
        """Rows chunk by chunk, in input order; when `stop` is set, ends after what is finished."""
        if config.jobs_auto and config.jobs > 1:
            yield from _auto_rows(chunks, config, scoring, stop)
            return
        head = list(islice(chunks, 2))
        if config.jobs == 1 or len(head) < 2:  # one chunk: starting processes would cost more
            yield from _in_process(chain(head, chunks), scoring, stop)
            return
        yield from _pool_rows(chain(head, chunks), config, stop)


def _in_process(
    chunks: Iterable[list[Item]], scoring: Scoring, stop: threading.Event, items: int = 0
) -> Iterator[list[Row]]:
    """Rows scored here, until the chunks end, `stop` is set, or (with `items`) that many
    items are scored."""
    scored = 0
    for chunk in chunks:
        yield scoring.rows(chunk)
        scored += len(chunk)
        if stop.is_set() or (items and scored >= items):
            return


def _auto_rows(
    chunks: Iterator[list[Item]], config: BatchConfig, scoring: Scoring, stop: threading.Event
) -> Iterator[list[Row]]:
    """--jobs auto: a small input in-process; a large one in-process while workers start,
    then on the workers, kept only if they are faster."""
    ahead: list[list[Item]] = []
    while sum(map(len, ahead)) < 2 * AUTO_ITEMS and (chunk := next(chunks, None)) is not None:
        ahead.append(chunk)
    rest = chain(ahead, chunks)
    if sum(map(len, ahead)) < 2 * AUTO_ITEMS:
        yield from _in_process(rest, scoring, stop)
        return
    pool = _OrderedPool(config, stop)
    ready = pool.warm()  # the workers start (import, load the scorer) while this process scores
    try:
        # This process's own rate is timed once the workers are ready, as starting them
        # would slow it: half of AUTO_ITEMS, after AUTO_ITEMS in all.
        scored, timed, since = 0, 0, None
        for chunk in rest:
            yield scoring.rows(chunk)
            scored += len(chunk)
            if stop.is_set():
                return
            if since is not None:
                timed += len(chunk)
            elif all(future.done() for future in ready):
                since = time.perf_counter()
            if scored >= AUTO_ITEMS and timed >= AUTO_ITEMS // 2:
                break
        else:
            return  # all of it scored here while the workers started
        trial = _Trial(timed / max(time.perf_counter() - (since or 0.0), 1e-9),
                       skip=config.jobs * TASKS_PER_WORKER)
        yield from _pool_rows(rest, config, stop, trial.keep, pool)
    finally:
        pool.executor.shutdown(wait=True, cancel_futures=True)
    if not stop.is_set() and not trial.kept:
        yield from _in_process(rest, scoring, stop)  # the workers were slower: the rest here


# The workers keep the input only if they are at least this much faster than this process
# alone: they use more CPU in all (which other work on the machine pays for), and a
# second's timing on a busy machine is noisy.
AUTO_MARGIN = 1.1


class _Trial:
    """Whether a pool beats `here_rate` (items/s in-process) by AUTO_MARGIN. Its rate is
    timed in its steady state: after its first `skip` results (the chunks that were in
    flight, partly scored, when the first came back), over AUTO_ITEMS items."""

    def __init__(self, here_rate: float, skip: int) -> None:
        self.here_rate = here_rate
        self.skip = skip
        self.started: float | None = None
        self.items = 0
        self.kept = False

    def keep(self, rows: int) -> bool:
        if self.kept:
            return True
        if self.skip > 0:
            self.skip -= 1
            if not self.skip:
                self.started = time.perf_counter()
            return True
        self.items += rows
        if self.items < AUTO_ITEMS or self.started is None:
            return True
        rate = self.items / max(time.perf_counter() - self.started, 1e-9)
        self.kept = rate >= AUTO_MARGIN * self.here_rate
        return self.kept


_worker: Scoring | None = None


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C back while submitting, which may start worker processes.

    A worker inherits the blocked signal, so one still importing when Ctrl-C reaches the
    process group cannot die with a traceback; the parent gets the signal, delayed by at
    most this call, and stops the batch as usual. (Not SIGTERM: the executor stops its
    workers with it, and a worker dies of it quietly.)
    """
    if not hasattr(signal, "pthread_sigmask") or (
        threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _init_worker(model: str | None) -> None:
    global _worker
    # Ctrl-C reaches the whole process group: the parent decides when to stop. (A SIGTERM
    # to the group ends the workers, which the parent, stopping too, takes as the end.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    _worker = Scoring(load_scorer(model))


def _exit_with_parent() -> None:
    """Exit if the parent dies (kill -9): pool workers would otherwise wait for work forever."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="rolecli-parent-watch", daemon=True).start()


def _score_chunk(chunk: list[Item]) -> list[Row]:
    assert _worker is not None, "worker used before its initializer ran"
    return _worker.rows(chunk)


def _pool_context() -> Any:
    import multiprocessing

    # spawn, not fork: the parent may hold threads (progress bar, Dask) whose locks fork would
    # copy; and spawned workers are the parent's own children, so its rusage counts them.
    return multiprocessing.get_context("spawn")


def _pool_rows(
    chunks: Iterator[list[Item]], config: BatchConfig, stop: threading.Event,
    keep: Callable[[int], bool] | None = None, pool: _OrderedPool | None = None,
) -> Iterator[list[Row]]:
    """Rows scored by a pool of `config.jobs` workers (`pool`, or a new one), in order.
    `keep(rows)` is asked after each chunk's rows: once it says no, no more chunks are
    taken (the caller scores the rest of `chunks`) and the ones in flight are finished."""
    pool = pool or _OrderedPool(config, stop)
    window = config.jobs * TASKS_PER_WORKER
    try:
        for chunk in chunks:
            pool.submit(chunk)
            if len(pool.pending) >= window:
                rows = pool.next_rows()
                yield rows
                if stop.is_set() or (keep is not None and not keep(len(rows))):
                    break
        while pool.pending and not stop.is_set():
            yield pool.next_rows()
        if stop.is_set():
            yield from pool.finished()
    finally:
        pool.executor.shutdown(wait=True, cancel_futures=True)


class WorkerError(RoleCliError):
    exit_code = ExitCode.BATCH_PARTIAL


class _OrderedPool:
    """Chunks scored by worker processes, results taken in submission order.

    A worker that dies (out of memory, a crash inside a parser) breaks the whole executor:
    a new one is started, the chunk whose result was due is scored again item by item
    with nothing else running, so that an item that kills a worker again is the one to
    blame (it gets an error row), and the other lost chunks are submitted again.
    """

    MAX_FAILED_STARTS = 3  # deaths in a row with no result between: workers cannot run

    def __init__(self, config: BatchConfig, stop: threading.Event | None = None) -> None:
        self.config = config
        self.stop = stop or threading.Event()
        self.executor = self._start()
        self.pending: deque[tuple[Future[list[Row]], list[Item]]] = deque()
        self.deaths_in_a_row = 0

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.config.jobs, mp_context=_pool_context(), initializer=_init_worker,
            initargs=(self.config.model,),
        )

    def warm(self) -> list[Future[list[Row]]]:
        """Start every worker now (each loads the scorer), without waiting: each future
        is done once a worker has taken it."""
        with _sigint_held():
            return [self.executor.submit(_score_chunk, []) for _ in range(self.config.jobs)]

    def submit(self, chunk: list[Item]) -> None:
        with _sigint_held():
            try:
                future = self.executor.submit(_score_chunk, chunk)
            except BrokenProcessPool as exc:
                # A worker died since the last result: the chunk fails like those in flight,
                # and next_rows() restarts the pool when it comes due.
                future = Future()
                future.set_exception(exc)
        self.pending.append((future, chunk))

    def next_rows(self) -> list[Row]:
        future, chunk = self.pending.popleft()
        try:
            rows = future.result()
        except BrokenProcessPool:
            if self.stop.is_set():
                # The workers died with the batch stopping (a SIGTERM to the whole group):
                # what is written so far stays a prefix; --resume scores the rest.
                self.pending.clear()
                return []
            rows = self._one_by_one(chunk)
            lost, self.pending = self.pending, deque()
            for _, again in lost:
                self.submit(again)
            return rows
        self.deaths_in_a_row = 0
        return rows

    def _one_by_one(self, chunk: list[Item]) -> list[Row]:
        self._restart()
        rows = []
        for item in chunk:
            try:
                with _sigint_held():
                    future = self.executor.submit(_score_chunk, [item])
                rows.extend(future.result())
                self.deaths_in_a_row = 0
            except BrokenProcessPool:
                rows.append(error_row(item.id, "the worker process scoring it died "
                                               "(out of memory, or a crash while reading it)"))
                self._restart()
        return rows

    def _restart(self) -> None:
        self.deaths_in_a_row += 1
        if self.deaths_in_a_row > self.MAX_FAILED_STARTS:
            raise WorkerError(
                "worker processes keep dying before they score anything; the rows so far "
                "are written (rerun with --resume, or --jobs 1 to see why)"
            )
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = self._start()

    def finished(self) -> Iterator[list[Row]]:
        """After a stop: let running chunks finish, drop queued ones, yield the finished prefix."""
        self.executor.shutdown(wait=True, cancel_futures=True)
        while self.pending:
            future, _ = self.pending[0]
            if not future.done() or future.cancelled() or future.exception() is not None:
                return
            self.pending.popleft()
            yield future.result()
