"""Registry-backed serving: /v1/models, ?model=, admin routes, and hot reload under load.

Models are registered in a temporary MLflow store (as ``tests/track`` does) from the tiny
ONNX package; the server follows ``champion``.
"""

from __future__ import annotations

import asyncio
import shutil

import httpx

from relwatch.core.config import Settings, get_settings
from relwatch.track import registry
from relwatch.track.tracking import get_client
from tests.classify.tiny_models import tiny_package
from tests.track.conftest import log_version, mlflow_store, registry_env  # noqa: F401

KEY = "test-admin-key"
SAFETY = 3000  # request cap for the loops below (they end as soon as the condition holds)


def predict(client, text: str = "Seoul and Tokyo signed a trade pact.", **extra):
    return client.post("/v1/relations/predict", json={"text": text, **extra})


def break_cached_package(version: str) -> None:
    """The version's serving package, as the server would download it, with a corrupt graph."""
    settings = get_settings()
    mv = get_client(settings).get_model_version(settings.registered_model, version)
    target = settings.models_dir / settings.registered_model / f"v{version}-{mv.run_id[:8]}"
    shutil.copytree(tiny_package(), target)
    (target / "model.int8.onnx").write_bytes(b"this is not an onnx graph")


def test_models_route_per_request_models_and_admin_routes(registry_env, make_client):  # noqa: F811
    package = tiny_package()
    log_version(package, 0.80)
    registry.promote(settings=get_settings())
    log_version(package, 0.85)  # v2: challenger
    client = make_client(serve_model=None, api_key=KEY)

    models = client.get("/v1/models").json()
    assert models["registered_model"] == registry_env
    assert models["loaded"] == {"name": registry_env, "version": "1"}
    assert models["follows"] == "champion" and models["reload_error"] is None
    assert models["aliases"] == {"champion": "1", "challenger": "2"}
    versions = {v["version"]: v for v in models["versions"]}
    assert versions["1"]["gate"] == {"gate_macro_f1": 0.80} and versions["1"]["serving"]
    assert versions["2"]["gate"] == {"gate_macro_f1": 0.85} and not versions["2"]["loaded"]

    assert predict(client).json()["model"] == {"name": registry_env, "version": "1"}
    assert predict(client, model="challenger").json()["model"]["version"] == "2"
    assert predict(client, model="2").json()["model"]["version"] == "2"
    assert predict(client, model="champion").json()["model"]["version"] == "1"
    assert client.get("/v1/models").json()["extra_loaded"][0]["version"] == "2"
    missing = predict(client, model="42")
    assert missing.status_code == 422 and "no version 42" in missing.json()["error"]["message"]

    assert client.post("/v1/admin/reload").status_code == 401
    bad = client.post("/v1/admin/reload", headers={"X-API-Key": KEY + "x"})
    assert bad.status_code == 401 and bad.json()["error"]["message"] == "missing or wrong X-API-Key"
    reload = client.post("/v1/admin/reload", headers={"X-API-Key": KEY})
    assert reload.json() == {"outcome": "unchanged", "version": "1", "previous": "1", "error": None}

    promoted = client.post("/v1/admin/promote", headers={"X-API-Key": KEY}, json={})
    assert promoted.status_code == 200, promoted.text
    body = promoted.json()
    assert body["promotion"]["version"] == "2" and body["promotion"]["promoted"]
    assert body["reload"]["outcome"] == "swapped" and body["reload"]["version"] == "2"
    assert predict(client).json()["model"]["version"] == "2"

    log_version(package, 0.50)  # v3: far below the champion
    refused = client.post("/v1/admin/promote", headers={"X-API-Key": KEY}, json={"version": "3"})
    assert refused.status_code == 409
    assert refused.json()["error"]["type"] == "PromotionRefused"
    assert "0.5000 < champion v2 0.8500" in refused.json()["error"]["message"]


def test_admin_routes_refuse_without_a_configured_key(make_client):
    client = make_client()
    for path in ("/v1/admin/reload", "/v1/admin/promote"):
        response = client.post(path, headers={"X-API-Key": "anything"})
        assert response.status_code == 403
        assert "no RELWATCH_API_KEY" in response.json()["error"]["message"]


def test_hot_reload_swaps_under_load_and_refuses_a_broken_version(registry_env):  # noqa: F811
    """Eight concurrent clients never see a failure while the champion moves twice."""
    from relwatch.api import create_app

    package = tiny_package()
    log_version(package, 0.80)
    registry.promote(settings=get_settings())
    log_version(package, 0.85)
    settings = Settings(serve_reload_interval_s=0.05, serve_batch_max_wait_ms=2)
    app = create_app(settings)
    seen: list[tuple[int, str]] = []
    failures: list[str] = []
    counter = iter(range(10**9))

    async def client_loop(client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        while not stop.is_set() and len(seen) < SAFETY:
            n = next(counter)
            text = f"Seoul and Tokyo held talks number {n}."  # distinct: no cache hits
            response = await client.post("/v1/relations/predict", json={"text": text})
            if response.status_code != 200:
                failures.append(response.text)
            else:
                seen.append((n, response.json()["model"]["version"]))

    async def wait_until(condition, stop: asyncio.Event) -> None:
        while not condition() and len(seen) < SAFETY:
            await asyncio.sleep(0.02)
        stop.set()

    async def go() -> tuple[dict, dict, int]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://api") as client,
        ):
            # phase 1: v1 serves, v2 is promoted while requests flow
            stop = asyncio.Event()
            loops = [asyncio.create_task(client_loop(client, stop)) for _ in range(8)]
            while len(seen) < 20:
                await asyncio.sleep(0.01)
            await asyncio.to_thread(registry.promote, settings=get_settings(), version="2")
            after_swap = len(seen)
            await wait_until(lambda: sum(v == "2" for _, v in seen[after_swap:]) >= 40, stop)
            await asyncio.gather(*loops)
            # phase 2: a broken v3 is promoted; v2 keeps serving
            log_version(package, 0.90)
            break_cached_package("3")
            stop = asyncio.Event()
            mark = len(seen)
            loops = [asyncio.create_task(client_loop(client, stop)) for _ in range(8)]
            await asyncio.to_thread(registry.promote, settings=get_settings(), version="3")
            app_state = app.state.runtime.pool
            await wait_until(
                lambda: app_state.reload_error is not None and len(seen) - mark >= 40,
                stop,
            )
            await asyncio.gather(*loops)
            models = (await client.get("/v1/models")).json()
            ready = await client.get("/readyz")
            return models, {**ready.json(), "http_status": ready.status_code}, mark

    models, ready, mark = asyncio.run(go())
    assert failures == []
    versions = [v for _, v in seen[:mark]]
    assert versions[0] == "1" and versions[-1] == "2"
    # after the swap only requests already in flight (at most one per client) end on v1
    first_two = versions.index("2")
    assert versions[first_two:].count("1") <= 8
    assert {v for _, v in seen[mark:]} == {"2"}  # the broken v3 never answered
    assert models["loaded"]["version"] == "2"
    assert models["aliases"]["champion"] == "3"
    assert models["reload_error"]["version"] == "3"
    assert "onnx" in models["reload_error"]["error"].lower()
    assert ready["http_status"] == 200 and ready["status"] == "degraded"
    assert (
        ready["degraded"] == ["model"]
        and "reload of 3 failed" in ready["checks"]["model"]["detail"]
    )
