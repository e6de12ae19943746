"""`--engine dask`: the same rows as the local engine, scored on a Dask cluster.

Posting files go into a dask.bag of paths whose partitions the workers read and score;
tables go through dask.dataframe (CSV, Parquet) or a bag of lines (JSON Lines, whose
records pandas would retype). Each partition loads the scorer through `load_scorer`,
which is cached per worker process, so a worker loads it once. Rows come back in input
order. The model directory must be readable at the same path on every worker.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import import_module
from itertools import groupby
from typing import Any

from .batch import (
    CHUNK_ITEMS,
    BatchConfig,
    Item,
    Row,
    Scoring,
    Source,
    UniqueIds,
    error_row,
    sources,
)
from .classifier import load_scorer
from .errors import UsageError
from .io.tables import jsonl_records, table_row

# Items per bag partition: large enough that task overhead is small next to reading and scoring.
FILES_PER_PARTITION = CHUNK_ITEMS * 8
JSONL_BLOCK_BYTES = 16 * 1024 * 1024
SCHEDULER_TIMEOUT = "10s"


def require_dask() -> None:
    try:
        for module in ("dask.bag", "dask.dataframe", "distributed"):
            import_module(module)
    except ImportError:
        raise UsageError(
            "--engine dask needs the optional extra: pip install 'rolecli[dask]'"
        ) from None


def dask_rows(
    config: BatchConfig,
    done: Callable[[str], bool],
    stop: threading.Event,
    scheduler: str | None,
    ids: UniqueIds | None = None,
) -> Iterator[list[Row]]:
    """Rows partition by partition, in input order; without `scheduler`, on a LocalCluster.

    Ids are made unique here, in input order, as the local engine does (`ids`)."""
    from distributed import Client, LocalCluster

    ids = ids or UniqueIds()
    cluster = None
    if scheduler:
        client = _connect(Client, scheduler)
    else:
        cluster = LocalCluster(
            n_workers=config.jobs, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        for is_table, grouped in groupby(sources(config), key=lambda s: s.kind == "table"):
            group = list(grouped)  # paths, not texts: small
            batches = (
                [_table_rows(client, source, config, done, ids) for source in group]
                if is_table
                else [_file_rows(client, group, config, done, ids)]
            )
            for batch in batches:
                for rows in batch:
                    yield rows
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


def _scoring(model: str | None) -> Scoring:
    return Scoring(load_scorer(model))


def _in_order(client: Any, partitions: list[Any]) -> Iterator[Any]:
    """Compute every partition on the cluster and hand back each result as its turn comes."""
    futures = client.compute(partitions)
    for future in futures:
        yield future.result()
        future.release()


# -- folders: a bag of paths -------------------------------------------------------------


def _file_rows(
    client: Any,
    group: list[Source],
    config: BatchConfig,
    done: Callable[[str], bool],
    ids: UniqueIds,
) -> Iterator[list[Row]]:
    import dask.bag as db

    found = [
        Item(ids.unique(s.id), path=str(s.path), error=s.error, title=config.title)
        for s in group
    ]
    todo = [item for item in found if not done(item.id)]
    if not todo:
        return
    bag = db.from_sequence(todo, partition_size=FILES_PER_PARTITION)
    yield from _in_order(client, bag.map_partitions(_score_items, config.model).to_delayed())


def _score_items(items: Iterable[Item], model: str | None) -> list[Row]:
    return _scoring(model).rows(list(items))


# -- tables: dask.dataframe (CSV, Parquet) or a bag of lines (JSON Lines) ------------------


def _table_rows(
    client: Any,
    source: Source,
    config: BatchConfig,
    done: Callable[[str], bool],
    ids: UniqueIds,
) -> Iterator[list[Row]]:
    prefix = source.id + "#" if source.prefix_rows else ""
    try:
        if source.path.suffix.lower() == ".jsonl":
            partitions = _jsonl_partitions(client, source, config)
        else:
            partitions = _frame_partitions(client, source, config)
    except (UsageError, OSError, ValueError) as exc:
        # As the local engine does: a table that cannot be read is one error row.
        row = error_row(ids.unique(source.id), getattr(exc, "message", None) or str(exc))
        if not done(row["id"]):
            yield [row]
        return
    for rows in _in_order(client, partitions):
        for row in rows:
            row["id"] = ids.unique(prefix + row["id"])
        yield [row for row in rows if not done(row["id"])]


def _frame_partitions(client: Any, source: Source, config: BatchConfig) -> list[Any]:
    import dask.dataframe as dd

    from .io.tables import check_table

    check_table(source.path, config.text_column, config.id_column, config.title_column)
    columns = [c for c in (config.text_column, config.id_column, config.title_column) if c]
    if source.path.suffix.lower() == ".parquet":
        # pyarrow types keep integer ids integers (numpy would make 7 with nulls 7.0).
        frame = dd.read_parquet(source.path, columns=columns, dtype_backend="pyarrow")
    else:
        # One partition per file: posting text has quoted newlines, so byte blocks may split rows.
        frame = dd.read_csv(
            source.path, blocksize=None, dtype=str, keep_default_na=False, usecols=columns
        )
    starts = _starts(client.compute(frame.map_partitions(len)).result())
    scored = frame.map_partitions(
        _score_frame, starts, _Columns.of(config), config.model, meta={"row": "object"},
    )
    return [_rows_of(part) for part in scored.to_delayed()]


@dataclass(frozen=True)
class _Columns:
    """What a partition needs to turn records into items, whatever reads them."""

    text: str
    id: str | None
    title: str | None
    fixed_title: str | None

    @classmethod
    def of(cls, config: BatchConfig) -> _Columns:
        return cls(config.text_column, config.id_column, config.title_column, config.title)

    def item(self, number: int, record: dict[str, Any] | str) -> Item:
        row = table_row(number, record, self.text, self.id, self.title)
        return Item(row.id, text=row.text, error=row.error, title=row.title or self.fixed_title)


def _score_frame(
    frame: Any,
    starts: list[int],
    columns: _Columns,
    model: str | None,
    partition_info: dict[str, Any] | None = None,
) -> Any:
    import pandas as pd

    start = starts[partition_info["number"]] if partition_info else 1
    values = {name: frame[name].tolist() for name in frame.columns}
    scoring = _scoring(model)
    rows = []
    for offset in range(len(frame)):
        record = {name: _plain(column[offset]) for name, column in values.items()}
        rows.append(scoring.row(columns.item(start + offset, record)))
    return pd.DataFrame({"row": pd.Series(rows, dtype=object)}, index=frame.index)


def _rows_of(partition: Any) -> Any:
    from dask import delayed

    return delayed(_row_list)(partition)


def _row_list(frame: Any) -> list[Row]:
    return list(frame["row"])


def _plain(value: Any) -> Any:
    """pandas' missing values (NA, NaN) as None, as the local reader sees an empty cell."""
    if value is None or value is _pandas_na() or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _pandas_na() -> Any:
    import pandas as pd

    return pd.NA


def _jsonl_partitions(client: Any, source: Source, config: BatchConfig) -> list[Any]:
    import dask.bag as db
    from dask import delayed

    from .io.tables import check_table, text_encoding

    check_table(source.path, config.text_column, config.id_column, config.title_column)
    lines = db.read_text(  # decoded by the local reader's rules
        str(source.path), blocksize=JSONL_BLOCK_BYTES, encoding=text_encoding(source.path),
        errors="replace",
    )
    starts = _starts(client.compute(lines.map_partitions(_count_records)).result())
    score = delayed(_score_lines)
    return [
        score(part, start, _Columns.of(config), config.model)
        for part, start in zip(lines.to_delayed(), starts, strict=True)
    ]


def _count_records(lines: Iterable[str]) -> list[int]:
    return [sum(1 for line in lines if line.strip())]


def _score_lines(
    lines: Iterable[str], start: int, columns: _Columns, model: str | None
) -> list[Row]:
    scoring = _scoring(model)
    return [scoring.row(columns.item(number, record))
            for number, record in jsonl_records(lines, start)]


def _starts(lengths: Iterable[int]) -> list[int]:
    """1-based number of each partition's first row."""
    starts, total = [], 1
    for length in lengths:
        starts.append(total)
        total += length
    return starts
