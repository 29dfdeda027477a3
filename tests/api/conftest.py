"""API test fixtures: a real app on the tiny ONNX model, a migrated SQLite database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from relwatch.core.config import Settings
from tests.classify.tiny_models import tiny_package


@pytest.fixture
def make_client(db_url: str) -> Iterator[Callable[..., TestClient]]:
    """Start an app with these settings overrides (model: the tiny package; no hot reload)."""
    from relwatch.api import create_app

    opened: list[TestClient] = []

    def make(runtime_options: dict | None = None, **overrides: object) -> TestClient:
        options = {
            "serve_model": str(tiny_package()),
            "serve_reload_interval_s": 0,
            "serve_batch_max_wait_ms": 1,
            **overrides,
        }
        client = TestClient(create_app(Settings(**options), runtime_options=runtime_options))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def metric(client: TestClient, sample_name: str, /, **labels: str) -> float:
    """One sample of /metrics (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == sample_name and all(
                sample.labels.get(k) == v for k, v in labels.items()
            ):
                return sample.value
    return 0.0
