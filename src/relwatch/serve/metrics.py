"""Prometheus metrics of the serving path, in a registry of their own.

One :class:`ServeMetrics` per server (not the process-global default registry), so two apps
in one process (tests, a bench) never collide over metric names, and ``/metrics`` shows
exactly what this server did.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "ServeMetrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServeMetrics:
    """Request, batch, cache and model metrics; ``render()`` is the ``/metrics`` body."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "relwatch_http_requests",
            "HTTP requests by route template, method and status code.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "relwatch_http_request_seconds",
            "HTTP request latency by route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "relwatch_batch_size",
            "Sentences per model call of the micro-batcher.",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "relwatch_batch_queue_wait_seconds",
            "Time a sentence waited in the micro-batcher's queue before its batch ran.",
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.batch_failures = Counter(
            "relwatch_batch_failures",
            "Model calls that raised (their requests failed).",
            registry=r,
        )
        self.cache = Counter(
            "relwatch_cache",
            "Prediction cache lookups: hit, miss, or error (backend down: bypassed).",
            ["result"],
            registry=r,
        )
        self.model_loaded = Gauge(
            "relwatch_model_loaded",
            "1 for each model loaded in this server; role default is what requests get.",
            ["name", "version", "role"],
            registry=r,
        )
        self.reloads = Counter(
            "relwatch_model_reloads",
            "Hot-reload attempts by outcome (swapped, failed).",
            ["outcome"],
            registry=r,
        )
        for result in ("hit", "miss", "error"):
            self.cache.labels(result=result)

    def render(self) -> bytes:
        return generate_latest(self.registry)
