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
from collections.abc import Iterator
from importlib import import_module
from typing import Any

from ...classifier import load_scorer
from ...errors import UsageError
from ..config import BatchConfig
from ..items import Item, Row, Scoring

# Items per partition: large enough that task overhead is small next to reading and scoring.
ITEMS_PER_PARTITION = 256
# Partitions in flight per worker: keeps workers busy while bounding the client's memory.
PARTITIONS_PER_WORKER = 2
SCHEDULER_TIMEOUT = "10s"


class DaskEngine:
    chunk_items = ITEMS_PER_PARTITION

    def check(self) -> None:
        try:
            import_module("distributed")
        except ImportError:
            raise UsageError(
                "--engine dask needs the optional extra: pip install 'rolecli[dask]'"
            ) from None

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
    """A client of the scheduler at `scheduler`, or one UsageError line saying why not."""
    try:
        return client_class(scheduler, timeout=SCHEDULER_TIMEOUT)
    # distributed raises OSError (refused, timed out), ValueError or TypeError (a malformed
    # address), and others from its comm layer: any of them means no scheduler here.
    except Exception as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise UsageError(
            f"cannot use the Dask scheduler at {scheduler!r} ({type(exc).__name__}: {reason}); "
            "check --scheduler, or leave it out to start a local cluster"
        ) from None


def _score_items(items: list[Item], model: str | None) -> list[Row]:
    return Scoring(load_scorer(model)).rows(items)
