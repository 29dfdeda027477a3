"""The micro-batcher: concurrent requests share model calls (after ray serve's ``batching.py``).

Why: one sentence per model call wastes most of a CPU's vector width and onnxruntime's
per-call overhead; callers arriving within a few milliseconds of each other are served by
one call instead. Each submitted item gets its own future in a private asyncio queue; one
worker task takes up to ``max_batch_size`` items (waiting at most ``max_wait_s`` after the
first, but only while callers come in company: a lone caller on a quiet server goes at
once, so batching costs no latency at concurrency 1), splits them into groups of similar
length (so short sentences are not padded to the longest one), and runs each group in a
thread executor, off the event loop. A group whose call raises fails only the futures of
its own items, each with a clear :class:`BatchFailed`; the other groups and later batches go on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from contextlib import suppress
from dataclasses import dataclass
from typing import Generic, TypeVar

from relwatch.core.errors import ServiceUnavailable
from relwatch.core.logging import get_logger
from relwatch.serve.metrics import ServeMetrics

__all__ = ["BatchFailed", "MicroBatcher", "length_groups"]

log = get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: Padding a group may add, as a share of its real length, before a new group starts.
DEFAULT_MAX_PAD_RATIO = 0.3


class BatchFailed(ServiceUnavailable):
    """The model call of the batch holding this request raised; other batches are unaffected."""


def length_groups(
    lengths: Sequence[int], *, max_pad_ratio: float = DEFAULT_MAX_PAD_RATIO
) -> list[list[int]]:
    """Indices of ``lengths`` split into groups of similar length, shortest first.

    A group grows (in length order) while padding every member to the longest one costs at
    most ``max_pad_ratio`` of the group's real length, so a batch of mixed sentences runs
    as a few tight calls instead of one call padded to its longest sentence.
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for i in order:
        n = max(int(lengths[i]), 1)
        if current:
            padded = n * (len(current) + 1)  # sorted: n is the new longest
            if padded > (total + n) * (1 + max_pad_ratio):
                groups.append(current)
                current, total = [], 0
        current.append(i)
        total += n
    if current:
        groups.append(current)
    return groups


@dataclass
class _Pending(Generic[T, R]):
    item: T
    future: asyncio.Future[R]
    enqueued: float


class MicroBatcher(Generic[T, R]):
    """Batch ``fn`` over items submitted concurrently; ``await submit(item)`` → its result.

    ``fn`` takes a list of items and returns one result per item, in order; it runs in
    ``executor`` (a single-thread executor keeps one model call at a time, which is what a
    CPU model wants). ``size_of`` gives an item's length for grouping; without it a batch
    runs as one call.
    """

    def __init__(
        self,
        fn: Callable[[list[T]], Sequence[R]],
        *,
        max_batch_size: int,
        max_wait_s: float,
        executor: Executor | None = None,
        size_of: Callable[[T], int] | None = None,
        max_pad_ratio: float = DEFAULT_MAX_PAD_RATIO,
        metrics: ServeMetrics | None = None,
        name: str = "model",
    ) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        if max_wait_s < 0:
            raise ValueError("max_wait_s must be >= 0")
        self.fn = fn
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.executor = executor
        self.size_of = size_of
        self.max_pad_ratio = max_pad_ratio
        self.metrics = metrics
        self.name = name
        self._queue: asyncio.Queue[_Pending[T, R]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        self._active = 0  # items taken from the queue whose futures are not settled yet
        self._idle: asyncio.Event | None = None
        #: Sizes of the model calls made so far (for tests and the bench; bounded).
        self.call_sizes: list[int] = []
        self._last_batch = 0  # size of the previous batch: >1 means callers come in company

    # ------------------------------------------------------------------ submitting
    def _ensure_worker(self) -> asyncio.Queue[_Pending[T, R]]:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._idle = asyncio.Event()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(
                self._run(), name=f"batcher:{self.name}"
            )
        return self._queue

    def _enqueue(self, item: T) -> asyncio.Future[R]:
        if self._closed:
            raise BatchFailed(f"{self.name} is being unloaded; retry the request")
        queue = self._ensure_worker()
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        assert self._idle is not None
        self._idle.clear()
        queue.put_nowait(_Pending(item, future, time.perf_counter()))
        return future

    async def submit(self, item: T) -> R:
        """The result for one item, computed in some batch."""
        return await self._enqueue(item)

    async def submit_many(self, items: Sequence[T]) -> list[R]:
        """Results for several items (possibly spread over batches); the first failure raises."""
        futures = [self._enqueue(item) for item in items]
        try:
            return list(await asyncio.gather(*futures))
        except BaseException:
            for f in futures:
                if not f.done():
                    f.cancel()
            raise

    @property
    def queued(self) -> int:
        return 0 if self._queue is None else self._queue.qsize()

    # ------------------------------------------------------------------ the worker
    async def _next_batch(self, queue: asyncio.Queue[_Pending[T, R]]) -> list[_Pending[T, R]]:
        """Wait for one item, take what is queued, then wait for more until the batch is full
        or ``max_wait_s`` passed. The wait happens only under concurrency (the previous batch
        or this one holds several items): waiting for a partner that is not coming only adds
        latency, while under load the queue refills during each call anyway."""
        batch = [await queue.get()]
        while len(batch) < self.max_batch_size and not queue.empty():
            batch.append(queue.get_nowait())
        if len(batch) == 1 and self._last_batch <= 1:
            self._last_batch = 1
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        while len(batch) < self.max_batch_size:
            if not queue.empty():
                batch.append(queue.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                break
        self._last_batch = len(batch)
        return batch

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        loop = asyncio.get_running_loop()
        assert self._idle is not None
        while True:
            batch = await self._next_batch(queue)
            self._active += len(batch)
            try:
                await self._process(loop, batch)
            finally:
                self._active -= len(batch)
                if self._active == 0 and queue.empty():
                    self._idle.set()

    async def _process(self, loop: asyncio.AbstractEventLoop, batch: list[_Pending[T, R]]) -> None:
        live = [p for p in batch if not p.future.done()]  # skip cancelled callers
        if live:
            started = time.perf_counter()
            if self.metrics is not None:
                for p in live:
                    self.metrics.queue_wait.observe(started - p.enqueued)
            if self.size_of is None:
                groups = [list(range(len(live)))]
            else:
                lengths = [self.size_of(p.item) for p in live]
                groups = length_groups(lengths, max_pad_ratio=self.max_pad_ratio)
            for group in groups:
                await self._call(loop, [live[i] for i in group])

    async def _call(self, loop: asyncio.AbstractEventLoop, members: list[_Pending[T, R]]) -> None:
        items = [p.item for p in members]
        if len(self.call_sizes) < 100_000:
            self.call_sizes.append(len(items))
        if self.metrics is not None:
            self.metrics.batch_size.observe(len(items))
        try:
            results = await loop.run_in_executor(self.executor, self.fn, items)
            if len(results) != len(items):
                raise RuntimeError(f"returned {len(results)} results for {len(items)} inputs")
        except Exception as exc:  # a model failure is data for its own callers only
            if self.metrics is not None:
                self.metrics.batch_failures.inc()
            log.error("batch.failed", model=self.name, size=len(items), error=repr(exc))
            message = (
                f"{self.name} failed on a batch of {len(items)} input(s) "
                f"({type(exc).__name__}: {exc}); retry the request"
            )
            for p in members:
                if not p.future.done():
                    p.future.set_exception(BatchFailed(message))
            return
        for p, result in zip(members, results, strict=True):
            if not p.future.done():
                p.future.set_result(result)

    async def close(self) -> None:
        """Refuse new items, finish the queued ones, then stop the worker."""
        self._closed = True
        worker = self._worker
        busy = self._active or (self._queue is not None and not self._queue.empty())
        if worker is not None and not worker.done() and self._idle is not None and busy:
            await self._idle.wait()
        if worker is not None:
            worker.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await worker
