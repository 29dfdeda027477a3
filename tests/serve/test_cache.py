"""The prediction cache: keys, the in-process LRU, Redis, and Redis being down."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from relwatch.serve.cache import MemoryCache, RedisCache, cache_key, make_cache
from relwatch.serve.metrics import ServeMetrics


def counts(metrics: ServeMetrics) -> dict[str, float]:
    return {r: metrics.cache.labels(result=r)._value.get() for r in ("hit", "miss", "error")}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_keys_cover_model_version_text_and_pair_but_not_whitespace():
    base = cache_key("relwatch-relation", "3", "[A] Seoul [/A] and [B] Tokyo [/B] met.")
    assert base == cache_key(
        "relwatch-relation", "3", "  [A] Seoul [/A]  and\n[B] Tokyo [/B] met. "
    )
    assert base != cache_key("relwatch-relation", "4", "[A] Seoul [/A] and [B] Tokyo [/B] met.")
    assert base != cache_key("other-model", "3", "[A] Seoul [/A] and [B] Tokyo [/B] met.")
    assert base != cache_key("relwatch-relation", "3", "[B] Seoul [/B] and [A] Tokyo [/A] met.")
    assert base.startswith("relwatch:pred:v1:")


def test_memory_cache_is_an_lru_with_a_ttl():
    metrics = ServeMetrics()
    cache = MemoryCache(max_entries=2, ttl_s=3600, metrics=metrics)

    async def go():
        await cache.set_many({"a": [0.1, 0.2, 0.7], "b": [0.3, 0.3, 0.4]})
        assert await cache.get_many(["a"]) == [[0.1, 0.2, 0.7]]  # a is now the newest
        await cache.set_many({"c": [1.0, 0.0, 0.0]})  # evicts b, the least recently used
        return await cache.get_many(["a", "b", "c"])

    assert asyncio.run(go()) == [[0.1, 0.2, 0.7], None, [1.0, 0.0, 0.0]]
    assert counts(metrics) == {"hit": 3, "miss": 1, "error": 0}

    short = MemoryCache(max_entries=10, ttl_s=0.01)

    async def expire():
        await short.set_many({"k": [0.2, 0.3, 0.5]})
        time.sleep(0.05)
        return await short.get_many(["k"])

    assert asyncio.run(expire()) == [None]


def test_without_redis_the_cache_is_in_process():
    from relwatch.core.config import Settings

    assert make_cache(Settings()).backend == "memory"
    assert make_cache(Settings(redis_url="redis://127.0.0.1:6379/15")).backend == "redis"


@pytest.mark.redis
def test_redis_cache_round_trip_with_ttl(redis_url: str):
    import redis

    metrics = ServeMetrics()
    cache = RedisCache(redis_url, ttl_s=120, metrics=metrics)
    key = cache_key("test-model", "1", f"redis round trip {time.time_ns()}")
    client = redis.Redis.from_url(redis_url)
    try:

        async def go():
            assert await cache.get_many([key]) == [None]
            await cache.set_many({key: [0.25, 0.25, 0.5]})
            found = await cache.get_many([key, key + "-absent"])
            ok, detail = await cache.ping()
            await cache.close()
            return found, ok, detail

        found, ok, detail = asyncio.run(go())
        assert found == [[0.25, 0.25, 0.5], None]
        assert ok and detail == "PONG"
        assert 0 < client.ttl(key) <= 120
        assert counts(metrics) == {"hit": 1, "miss": 2, "error": 0}
    finally:
        client.delete(key)
        client.close()


def test_redis_down_is_bypassed_counted_and_never_raised():
    metrics = ServeMetrics()
    cache = RedisCache(f"redis://127.0.0.1:{closed_port()}/0", ttl_s=60, metrics=metrics)

    async def go():
        first = await cache.get_many(["a", "b"])
        await cache.set_many({"a": [0.1, 0.2, 0.7]})  # silently skipped
        again = await cache.get_many(["a"])  # within the pause: Redis is not even tried
        ok, detail = await cache.ping()
        await cache.close()
        return first, again, ok, detail

    first, again, ok, detail = asyncio.run(go())
    assert first == [None, None] and again == [None]
    assert not ok and "cache bypassed" in detail
    assert counts(metrics) == {"hit": 0, "miss": 0, "error": 3}
    assert cache.down and "ConnectionError" in (cache.last_error or "")
