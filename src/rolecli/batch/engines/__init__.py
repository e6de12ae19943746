"""Where items are scored: every engine takes chunks of items and yields their rows, in
input order, through the one scoring function (`batch.items.Scoring`).

An engine is chosen by name from `ENGINES`; adding one is a class and an entry, not a branch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Protocol

from ...errors import UsageError
from ..config import BatchConfig
from ..items import Item, Row, Scoring
from .dask import DaskEngine
from .local import LocalEngine


class Engine(Protocol):
    chunk_items: int  # items per chunk handed to rows()

    def check(self, config: BatchConfig | None = None) -> None:
        """Raise UsageError if the engine cannot run here (a missing extra, a scheduler that
        does not answer), before any output."""

    def rows(
        self, chunks: Iterator[list[Item]], config: BatchConfig, scoring: Scoring,
        stop: threading.Event,
    ) -> Iterator[list[Row]]:
        """Each chunk's rows, in input order; when `stop` is set, ends after what is finished."""


ENGINES: Mapping[str, Engine] = {"local": LocalEngine(), "dask": DaskEngine()}


def engine(name: str) -> Engine:
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return ENGINES[name]
