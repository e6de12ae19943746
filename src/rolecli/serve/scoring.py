"""The library calls behind the API and the page: the same functions the CLI calls.

A request's `title` goes to the library wherever the library takes one: `classify()` and
`explain()` by a `title` parameter (batch rows are read by `io.tables.table_rows`, as
`rolecli batch` reads them). Where it takes none, the title is validated and not used, and
the answers keep exactly the CLI's shape. This module is the one place that decides.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from ..batch.engines.local import CHUNK_ITEMS
from ..batch.items import Item, Row, Scoring
from ..classifier import classify
from ..explanation import explain
from ..model.scorer import Scorer


def _takes_title(function: Callable[..., Any]) -> bool:
    return "title" in inspect.signature(function).parameters


_CLASSIFY_TITLE = _takes_title(classify)
_EXPLAIN_TITLE = _takes_title(explain)


def _title(taken: bool, title: str | None) -> dict[str, Any]:
    return {"title": title} if taken and title is not None else {}


def classify_posting(scorer: Scorer, text: str, title: str | None) -> dict[str, Any]:
    """What `rolecli classify --format json` prints for this text."""
    return classify(text, scorer, **_title(_CLASSIFY_TITLE, title))


def explain_posting(scorer: Scorer, text: str, title: str | None) -> dict[str, Any]:
    """What `rolecli explain --format json` prints for this text."""
    return explain(text, scorer, **_title(_EXPLAIN_TITLE, title))


def next_rows(scoring: Scoring, items: Iterator[Item]) -> list[Row]:
    """The rows of the next chunk of items, as `rolecli batch` builds them; [] at the end."""
    return scoring.rows(list(islice(items, CHUNK_ITEMS)))
