"""The prediction cache: the same sentence and pair under the same model is computed once.

Keyed by (model name, model version, normalised model input); the model input is the
sentence with the pair marked, so the key covers the text and the pair. A new model version
never reads an old version's entry. With ``RELWATCH_REDIS_URL`` the cache is shared by
every API process (Redis, ``SETEX`` with ``cache_ttl_s``); without it, an in-process LRU.

Redis is an optimisation, never a dependency: when it cannot be reached the cache is
bypassed (every lookup a miss, counted as ``error`` in the metrics), the outage and the
recovery are logged once each, and Redis is tried again after a short pause rather than on
every request, so a dead cache costs no latency.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import suppress
from typing import Any, Protocol

from relwatch.core.config import Settings
from relwatch.core.logging import get_logger
from relwatch.serve.metrics import ServeMetrics

__all__ = [
    "MemoryCache",
    "PredictionCache",
    "RedisCache",
    "cache_key",
    "make_cache",
    "normalize_text",
]

log = get_logger(__name__)

KEY_PREFIX = "relwatch:pred:v1:"
_SPACE = re.compile(r"\s+")
Probs = list[float]


def normalize_text(text: str) -> str:
    """NFC, whitespace runs collapsed, ends stripped: what the tokenizer cannot tell apart."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def cache_key(model_name: str, model_version: str, model_input: str) -> str:
    raw = "\x1f".join((model_name, model_version, normalize_text(model_input)))
    return KEY_PREFIX + hashlib.sha256(raw.encode("utf-8")).hexdigest()


class PredictionCache(Protocol):
    backend: str

    async def get_many(self, keys: Sequence[str]) -> list[Probs | None]: ...

    async def set_many(self, values: dict[str, Probs]) -> None: ...

    async def ping(self) -> tuple[bool, str]: ...

    async def close(self) -> None: ...


class MemoryCache:
    """An in-process LRU with a TTL (no Redis configured)."""

    backend = "memory"

    def __init__(self, max_entries: int, ttl_s: float, metrics: ServeMetrics | None = None) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.metrics = metrics
        self._data: OrderedDict[str, tuple[float, Probs]] = OrderedDict()
        self._lock = threading.Lock()

    async def get_many(self, keys: Sequence[str]) -> list[Probs | None]:
        now = time.monotonic()
        out: list[Probs | None] = []
        with self._lock:
            for key in keys:
                entry = self._data.get(key)
                if entry is not None and entry[0] < now:
                    del self._data[key]
                    entry = None
                if entry is not None:
                    self._data.move_to_end(key)
                out.append(None if entry is None else entry[1])
        _count(self.metrics, out)
        return out

    async def set_many(self, values: dict[str, Probs]) -> None:
        if self.max_entries <= 0:
            return
        expires = time.monotonic() + self.ttl_s
        with self._lock:
            for key, value in values.items():
                self._data[key] = (expires, list(value))
                self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    async def ping(self) -> tuple[bool, str]:
        return True, f"in-process LRU ({len(self._data)}/{self.max_entries} entries)"

    async def close(self) -> None:
        with self._lock:
            self._data.clear()


class RedisCache:
    """Redis ``MGET`` / pipelined ``SETEX``; bypassed (not fatal) while Redis is down."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        ttl_s: int,
        metrics: ServeMetrics | None = None,
        *,
        timeout_s: float = 0.5,
        retry_after_s: float = 2.0,
    ) -> None:
        import redis.asyncio as aioredis

        self.url = url
        self.ttl_s = int(ttl_s)
        self.metrics = metrics
        self.retry_after_s = retry_after_s
        self._client: Any = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self._down_until = 0.0
        self.last_error: str | None = None

    @property
    def down(self) -> bool:
        return self.last_error is not None

    def _bypassed(self) -> bool:
        return self.down and time.monotonic() < self._down_until

    def _failed(self, exc: Exception) -> None:
        if not self.down:
            log.warning("cache.redis_down", url=_safe(self.url), error=str(exc)[:200])
        self.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
        self._down_until = time.monotonic() + self.retry_after_s

    def _ok(self) -> None:
        if self.down:
            log.info("cache.redis_back", url=_safe(self.url))
        self.last_error = None

    async def get_many(self, keys: Sequence[str]) -> list[Probs | None]:
        if not keys:
            return []
        if self._bypassed():
            _count_errors(self.metrics, len(keys))
            return [None] * len(keys)
        import redis

        try:
            raw = await self._client.mget(list(keys))
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            _count_errors(self.metrics, len(keys))
            return [None] * len(keys)
        self._ok()
        out = [_decode(v) for v in raw]
        _count(self.metrics, out)
        return out

    async def set_many(self, values: dict[str, Probs]) -> None:
        if not values or self._bypassed():
            return
        import redis

        try:
            pipe = self._client.pipeline(transaction=False)
            for key, value in values.items():
                pipe.setex(key, self.ttl_s, json.dumps([round(float(v), 8) for v in value]))
            await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return
        self._ok()

    async def ping(self) -> tuple[bool, str]:
        import redis

        try:
            await self._client.ping()
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return False, f"unreachable ({self.last_error}); cache bypassed"
        self._ok()
        return True, "PONG"

    async def close(self) -> None:
        with suppress(Exception):  # closing a dead connection has nothing left to report
            await self._client.aclose()


def make_cache(settings: Settings, metrics: ServeMetrics | None = None) -> PredictionCache:
    """Redis when ``RELWATCH_REDIS_URL`` is set, else the in-process LRU."""
    if settings.redis_url:
        return RedisCache(settings.redis_url, settings.cache_ttl_s, metrics)
    return MemoryCache(settings.cache_max_entries, settings.cache_ttl_s, metrics)


def _decode(value: bytes | str | None) -> Probs | None:
    if value is None:
        return None
    try:
        probs = json.loads(value)
    except (ValueError, TypeError):
        return None
    if not isinstance(probs, list) or len(probs) != 3:
        return None
    return [float(p) for p in probs]


def _count(metrics: ServeMetrics | None, found: Sequence[Probs | None]) -> None:
    if metrics is None:
        return
    hits = sum(1 for f in found if f is not None)
    if hits:
        metrics.cache.labels(result="hit").inc(hits)
    if len(found) - hits:
        metrics.cache.labels(result="miss").inc(len(found) - hits)


def _count_errors(metrics: ServeMetrics | None, n: int) -> None:
    if metrics is not None and n:
        metrics.cache.labels(result="error").inc(n)


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", url)
