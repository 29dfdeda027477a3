"""/healthz, /readyz, /metrics, the cache with Redis up and down, and the OpenAPI docs."""

from __future__ import annotations

import socket
import uuid

import pytest

from tests.api.conftest import metric

TEXT = "India and Russia agreed to expand defence ties."


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_health_ready_and_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["degraded"] == []
    assert body["checks"]["model"]["ok"] and body["checks"]["database"]["ok"]
    assert body["checks"]["cache"]["ok"]  # no Redis configured: in-process
    spec = client.get("/openapi.json").json()
    for path in (
        "/v1/relations/predict",
        "/v1/articles/analyze",
        "/v1/models",
        "/v1/index",
        "/v1/index/matrix",
        "/v1/index/evidence",
        "/v1/index/alerts",
        "/v1/index/status",
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/admin/reload",
        "/v1/admin/promote",
        "/healthz",
        "/readyz",
    ):
        assert path in spec["paths"], path
    assert client.get("/docs").status_code == 200


def test_metrics_count_requests_by_route_batches_and_the_loaded_model(client):
    for _ in range(3):
        client.post("/v1/relations/predict", json={"text": TEXT})
    client.post("/v1/relations/predict", json={"text": ""})
    client.get("/v1/index/no-such-thing")
    route = "/v1/relations/predict"
    assert metric(client, "relwatch_http_requests_total", route=route, status="200") == 3
    assert metric(client, "relwatch_http_requests_total", route=route, status="422") == 1
    assert metric(client, "relwatch_http_requests_total", route="unmatched", status="404") == 1
    assert metric(client, "relwatch_http_request_seconds_count", route=route) == 4
    assert metric(client, "relwatch_batch_size_count") == 1  # one miss, then cache hits
    assert metric(client, "relwatch_batch_queue_wait_seconds_count") == 1
    assert metric(client, "relwatch_cache_total", result="hit") == 2
    loaded = metric(
        client, "relwatch_model_loaded", name="local", version="local:tiny-package", role="default"
    )
    assert loaded == 1


def test_without_a_model_the_server_starts_but_is_not_ready(make_client, tmp_path):
    client = make_client(serve_model=str(tmp_path / "missing-model"))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready" and "model" in body["degraded"]
    assert "does not exist" in body["checks"]["model"]["detail"]
    response = client.post("/v1/relations/predict", json={"text": TEXT})
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "ServiceUnavailable"
    assert client.get("/healthz").status_code == 200


def test_redis_down_still_answers_and_readyz_says_degraded(make_client):
    client = make_client(redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    first = client.post("/v1/relations/predict", json={"text": TEXT})
    second = client.post("/v1/relations/predict", json={"text": TEXT})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded" and body["degraded"] == ["redis"]
    assert "cache bypassed" in body["checks"]["redis"]["detail"]
    assert metric(client, "relwatch_cache_total", result="error") == 2
    assert metric(client, "relwatch_cache_total", result="hit") == 0
    assert metric(client, "relwatch_batch_size_sum") == 2  # computed twice, never failed


@pytest.mark.redis
def test_predictions_are_cached_in_redis_across_servers(make_client, redis_url):
    import redis

    text = f"Japan and China held talks ({uuid.uuid4().hex})."  # never cached before
    first = make_client(redis_url=redis_url)
    answer = first.post("/v1/relations/predict", json={"text": text}).json()
    assert metric(first, "relwatch_cache_total", result="miss") == 1
    second = make_client(redis_url=redis_url)  # another process would see the same
    again = second.post("/v1/relations/predict", json={"text": text}).json()
    assert again == answer
    assert metric(second, "relwatch_cache_total", result="hit") == 1
    assert metric(second, "relwatch_batch_size_count") == 0  # the model never ran
    assert second.get("/readyz").json()["checks"]["redis"] == {
        "ok": True,
        "degraded": False,
        "detail": "PONG",
    }
    client = redis.Redis.from_url(redis_url)
    keys = client.keys("relwatch:pred:v1:*")
    assert keys
    client.delete(*keys)
    client.close()
