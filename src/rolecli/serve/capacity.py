"""What bounds the server's work: daemon thread pools (scoring, reading uploads) awaited from
the event loop, the byte budget request bodies share, and what one request holds of it."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from .requests import RequestError

# A request that cannot get its share of the byte budget in this many seconds gets 503.
BODY_WAIT_SECONDS = 30
T = TypeVar("T")


class DaemonThreads:
    """A fixed pool of daemon threads for CPU work. Awaiting a result can be cancelled at
    once (the result is then dropped), and a thread still busy never holds the process at
    exit: a server told to stop stops within its grace period, however big the posting."""

    def __init__(self, size: int, name: str) -> None:
        self.jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for number in range(size):
            threading.Thread(target=self._work, name=f"{name}-{number}", daemon=True).start()

    def _work(self) -> None:
        while True:
            loop, future, job = self.jobs.get()
            if future.cancelled():
                continue
            try:
                result = job()
            except BaseException as exc:
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self.jobs.put((loop, future, partial(function, *args)))
        return await future



def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)



class ByteBudget:
    """Bytes shared by the request bodies held at once, given out in arrival order."""

    def __init__(self, total: int) -> None:
        self.free = total
        self.waiting: deque[tuple[int, asyncio.Future[None]]] = deque()

    async def take(self, size: int) -> None:
        if not self.waiting and size <= self.free:
            self.free -= size
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (size, future)
        self.waiting.append(entry)
        try:
            await future
        except BaseException:
            if entry in self.waiting:
                self.waiting.remove(entry)
            elif future.done() and not future.cancelled():
                self.give(size)  # granted as it was given up
            self._grant()
            raise

    def give(self, size: int) -> None:
        self.free += size
        self._grant()

    def _grant(self) -> None:
        while self.waiting and self.waiting[0][0] <= self.free:
            size, future = self.waiting.popleft()
            if not future.done():
                self.free -= size
                future.set_result(None)



class Held:
    """What one request holds (its bytes of the budget, the large-request slot), given back
    when its answer is done."""

    def __init__(self, budget: ByteBudget, large: asyncio.Lock) -> None:
        self.budget = budget
        self.large_lock = large
        self.bytes = 0
        self.large = False

    async def take_bytes(self, size: int) -> None:
        try:
            await asyncio.wait_for(self.budget.take(size), BODY_WAIT_SECONDS)
        except TimeoutError:
            raise RequestError(503, "the server is busy with other large requests; try again "
                                    "in a moment") from None
        self.bytes += size

    async def take_large(self) -> None:
        if not self.large:
            await self.large_lock.acquire()
            self.large = True

    def release(self) -> None:
        if self.bytes:
            self.budget.give(self.bytes)
            self.bytes = 0
        if self.large:
            self.large_lock.release()
            self.large = False

