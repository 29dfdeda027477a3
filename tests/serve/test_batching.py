"""The micro-batcher: grouping, max wait, length groups, and failures kept to their batch.

Tests assert which calls were made (counts, sizes, order), never how fast: a busy runner
only delays, it never changes which items share a call when the batch fills up.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from relwatch.serve.batching import BatchFailed, MicroBatcher, length_groups
from relwatch.serve.metrics import ServeMetrics

SAFETY_S = 60  # a hung batcher fails the test instead of the run


class Recorder:
    """A model stand-in: upper-cases its inputs and records every call."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[int] = set()
        self.fail_on = fail_on

    def __call__(self, items: list[str]) -> list[str]:
        self.calls.append(list(items))
        self.threads.add(threading.get_ident())
        if self.fail_on is not None and any(self.fail_on in i for i in items):
            raise RuntimeError("model exploded")
        return [i.upper() for i in items]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, SAFETY_S))


def test_concurrent_requests_share_one_call_off_the_event_loop():
    fn = Recorder()
    pool = ThreadPoolExecutor(1)

    async def go():
        batcher = MicroBatcher(fn, max_batch_size=8, max_wait_s=30.0, executor=pool)
        loop_thread = threading.get_ident()
        results = await asyncio.gather(*(batcher.submit(f"s{i}") for i in range(8)))
        await batcher.close()
        return results, loop_thread

    results, loop_thread = run(go())
    assert results == [f"S{i}" for i in range(8)]  # each caller gets its own answer
    assert fn.calls == [[f"s{i}" for i in range(8)]]  # a full batch runs without waiting 30 s
    assert loop_thread not in fn.threads


def test_batches_never_exceed_the_max_size():
    fn = Recorder()

    async def go():
        batcher = MicroBatcher(fn, max_batch_size=8, max_wait_s=0.01)
        out = await batcher.submit_many([f"s{i}" for i in range(20)])
        await batcher.close()
        return out

    assert run(go()) == [f"S{i}" for i in range(20)]
    sizes = [len(c) for c in fn.calls]
    assert sum(sizes) == 20 and max(sizes) == 8 and len(sizes) == 3
    assert [i for c in fn.calls for i in c] == [f"s{i}" for i in range(20)]  # FIFO


def test_under_concurrency_a_batch_waits_for_more_until_full():
    fn = Recorder()

    async def go():
        batcher = MicroBatcher(fn, max_batch_size=2, max_wait_s=30.0)
        await batcher.submit_many(["p", "q"])  # callers came in company
        first = asyncio.ensure_future(batcher.submit("a"))
        await asyncio.sleep(0.05)  # "a" is waiting for a partner (30 s allowed)
        assert not first.done() and fn.calls == [["p", "q"]]
        second = await batcher.submit("b")
        await batcher.close()
        return await first, second

    assert run(go()) == ("A", "B")
    assert fn.calls == [["p", "q"], ["a", "b"]]


def test_a_lone_caller_on_a_quiet_batcher_goes_at_once_and_is_never_stranded():
    lone = Recorder()

    async def alone():
        batcher = MicroBatcher(lone, max_batch_size=64, max_wait_s=30.0)
        out = [await batcher.submit("x"), await batcher.submit("y")]  # would wait 30 s each
        await batcher.close()
        return out

    assert run(alone()) == ["X", "Y"]
    assert lone.calls == [["x"], ["y"]]

    company = Recorder()

    async def after_company():
        batcher = MicroBatcher(company, max_batch_size=64, max_wait_s=0.02)
        await batcher.submit_many(["p", "q"])
        out = await batcher.submit("x")  # waits for partners, max wait lets it go
        await batcher.close()
        return out

    assert run(after_company()) == "X"
    assert company.calls == [["p", "q"], ["x"]]


def test_length_groups_keep_padding_bounded():
    assert length_groups([]) == []
    assert length_groups([5, 5, 5]) == [[0, 1, 2]]
    groups = length_groups([100, 10, 11, 101, 12])
    assert groups == [[1, 2, 4], [0, 3]]  # shortest first, indices of the input
    for group in groups:
        lens = [[100, 10, 11, 101, 12][i] for i in group]
        assert max(lens) * len(lens) <= sum(lens) * 1.3
    assert length_groups([10, 100], max_pad_ratio=100) == [[0, 1]]


def test_a_failing_group_fails_only_its_own_requests():
    fn = Recorder(fail_on="boom")
    metrics = ServeMetrics()

    async def go():
        batcher = MicroBatcher(fn, max_batch_size=4, max_wait_s=30.0, size_of=len, metrics=metrics)
        long_bad = "boom " + "x" * 200
        results = await asyncio.gather(
            batcher.submit("ok one"),
            batcher.submit(long_bad),
            batcher.submit("ok two"),
            batcher.submit("x" * 190),  # long like the bad one: same group, fails with it
            return_exceptions=True,
        )
        # the batcher survives a failure (a full batch: no waiting)
        after = await batcher.submit_many(["still", "serving", "after", "that"])
        await batcher.close()
        return results, after

    results, after = run(go())
    assert results[0] == "OK ONE" and results[2] == "OK TWO"
    assert isinstance(results[1], BatchFailed) and isinstance(results[3], BatchFailed)
    assert "model exploded" in str(results[1]) and "retry" in str(results[1])
    assert results[1] is not results[3]  # one error object per request
    assert after == ["STILL", "SERVING", "AFTER", "THAT"]
    short, long = fn.calls[:2]  # one batch, two length groups: short ones first
    assert short == ["ok one", "ok two"]
    assert sorted(long) == sorted(["boom " + "x" * 200, "x" * 190])
    assert metrics.batch_failures._value.get() == 1


def test_close_finishes_queued_items_then_refuses_new_ones():
    fn = Recorder()

    async def go():
        batcher = MicroBatcher(fn, max_batch_size=3, max_wait_s=0.01)
        pending = [asyncio.ensure_future(batcher.submit(f"q{i}")) for i in range(7)]
        await asyncio.sleep(0)
        await batcher.close()
        done = [p.result() for p in pending]
        with pytest.raises(BatchFailed, match="unloaded"):
            await batcher.submit("late")
        return done

    assert run(go()) == [f"Q{i}" for i in range(7)]
    assert sum(len(c) for c in fn.calls) == 7


def test_metrics_count_batch_sizes_and_queue_waits():
    metrics = ServeMetrics()

    async def go():
        batcher = MicroBatcher(Recorder(), max_batch_size=5, max_wait_s=30.0, metrics=metrics)
        await asyncio.gather(*(batcher.submit(str(i)) for i in range(5)))
        await batcher.close()

    run(go())
    text = metrics.render().decode()
    assert "relwatch_batch_size_count 1.0" in text
    assert "relwatch_batch_size_sum 5.0" in text
    assert "relwatch_batch_queue_wait_seconds_count 5.0" in text
