"""`--engine dask`: the same rows as the local engine, scored on a Dask cluster.

The items are the local engine's own (`batch.sources.items`: the same walk, the same table
readers, the same ids), in chunks of a partition each; each partition is scored on a worker
by `batch.items.Scoring`, the local engine's scoring function, so both engines give the same
rows for the same inputs. Posting files are read by the workers (an item carries its path);
table rows are read here, by the client, and travel as text. Each partition loads the
scorer through `load_scorer`, which is cached per worker process, so a worker loads it
once. Rows come back in input order. The model directory (and the posting files) must be
readable at the same path on every worker.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from importlib import import_module
from typing import Any, TypeVar, cast

from ...errors import UsageError
from ...extras import require_extra
from ...tasks.classify import load_scorer
from ..config import BatchConfig
from ..items import Item, Row, Scoring

T = TypeVar("T")

# Items per partition: large enough that task overhead is small next to reading and scoring.
ITEMS_PER_PARTITION = 256
# Partitions in flight per worker: keeps workers busy while bounding the client's memory.
PARTITIONS_PER_WORKER = 2
# How long a --scheduler has to answer, to take the client and to have a worker. distributed's
# own timeouts do not cover every step (a listener that accepts and says nothing held a
# client for good), so each step runs in a thread of its own with this deadline.
CONNECT_SECONDS = 10.0
SCHEDULER_TIMEOUT = f"{CONNECT_SECONDS:g}s"


class DaskEngine:
    chunk_items = ITEMS_PER_PARTITION

    def check(self, config: BatchConfig | None = None) -> None:
        """The extra is installed, and a --scheduler answers as a Dask scheduler, before
        anything is written."""
        require_extra("dask", "--engine dask")
        if config is not None and config.scheduler:
            _probe(config.scheduler)

    def rows(
        self, chunks: Iterator[list[Item]], config: BatchConfig, scoring: Scoring,
        stop: threading.Event,
    ) -> Iterator[list[Row]]:
        """Rows partition by partition, in input order; without a scheduler, on a LocalCluster
        of `jobs` workers. When `stop` is set, ends after the partition being handed back.
        (`scoring` is this process's: the workers load their own.)"""
        distributed: Any = import_module("distributed")  # (untyped)

        cluster = None
        if config.scheduler:
            client = _connect(distributed.Client, config.scheduler)
        else:
            cluster = distributed.LocalCluster(
                n_workers=config.jobs, threads_per_worker=1, processes=True,
                # No dashboard; the scheduler's HTTP endpoints still listen, on a free port
                # (its default, 8787, warns in several lines when another cluster holds it).
                dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
            )
            client = distributed.Client(cluster)
        try:
            window = max(1, len(client.scheduler_info()["workers"])) * PARTITIONS_PER_WORKER
            pending: deque[Any] = deque()
            while True:
                while len(pending) < window and (chunk := next(chunks, None)) is not None:
                    pending.append(client.submit(_score_items, chunk, config.model, pure=False))
                if not pending:
                    return
                future = pending.popleft()
                yield future.result()
                future.release()
                if stop.is_set():
                    return
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def _connect(client_class: Any, scheduler: str) -> Any:
    """A client of the scheduler at `scheduler` with a worker to score on, or one UsageError
    line saying why not, within CONNECT_SECONDS each."""

    def connected() -> Any:
        client = client_class(scheduler, timeout=SCHEDULER_TIMEOUT)
        try:
            client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except BaseException:
            client.close()
            raise
        return client

    try:
        return _within(connected)
    except TimeoutError:
        raise _unusable(scheduler, f"no client and worker within {CONNECT_SECONDS:g} s") \
            from None
    # distributed raises OSError (refused, timed out), ValueError or TypeError (a malformed
    # address), and others from its comm layer: any of them means no scheduler here.
    except Exception as exc:
        raise _unusable(scheduler, _reason(exc)) from None


def _probe(scheduler: str) -> None:
    """UsageError unless a Dask scheduler answers its `identity` at `scheduler` within
    CONNECT_SECONDS: a silent listener, a web server or a typo is found at once."""
    import asyncio

    from distributed.comm import connect

    async def identity() -> Any:
        comm = await connect(scheduler, timeout=CONNECT_SECONDS)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        reply = _within(lambda: asyncio.run(asyncio.wait_for(identity(), CONNECT_SECONDS)))
    except TimeoutError:
        raise _unusable(scheduler, f"no answer within {CONNECT_SECONDS:g} s") from None
    except Exception as exc:
        raise _unusable(scheduler, _reason(exc)) from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise _unusable(scheduler, "it answered, but not as a Dask scheduler")


def _within(function: Callable[[], T]) -> T:
    """function(), run in a daemon thread; TimeoutError (the thread left behind, which
    cannot hold the process at exit) if it takes longer than CONNECT_SECONDS."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = function()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name="rolecli-dask-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS + 1)
    if thread.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return cast(T, box["result"])


def _reason(exc: BaseException) -> str:
    detail = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _unusable(scheduler: str, reason: str) -> UsageError:
    return UsageError(
        f"cannot use the Dask scheduler at {scheduler!r} ({reason})",
        "check --scheduler, or leave it out to start a local cluster",
    )


def _score_items(items: list[Item], model: str | None) -> list[Row]:
    return Scoring(load_scorer(model)).rows(items)
