"""A library's logger quietened for the length of one call, never for the process.

A parser that logs a warning for each damaged input (pypdf, python-multipart) would print
it beside the one error line the input gets; the caller's own logging set-up is left as
it was when the call returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
# Per logger: how many calls are inside quiet(), and the level it had before the first.
_holders: dict[str, tuple[int, int]] = {}


@contextmanager
def quiet(name: str, level: int = logging.ERROR) -> Iterator[None]:
    """Drop records below `level` from logger `name` (and its children) inside the block.

    Overlapping blocks (threads of a server) share one raise; the level set before the
    first is put back when the last ends. A level already stricter is kept.
    """
    logger = logging.getLogger(name)
    with _lock:
        depth, saved = _holders.get(name, (0, logger.level))
        if not depth:
            logger.setLevel(max(saved, level))
        _holders[name] = (depth + 1, saved)
    try:
        yield
    finally:
        with _lock:
            depth, saved = _holders.pop(name)
            if depth > 1:
                _holders[name] = (depth - 1, saved)
            else:
                logger.setLevel(saved)
