"""The model pool: hot reload, refusal of broken versions, per-request models, leases.

A stand-in engine keeps these fast; the API tests run the same pool on real models.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from relwatch.core.config import Settings
from relwatch.core.errors import InputError, ModelLoadError, ServiceUnavailable
from relwatch.serve.metrics import ServeMetrics
from relwatch.serve.models import LoadedModel
from relwatch.serve.pool import ModelPool, parse_request_model


class FakeEngine:
    def __init__(self, version: str, broken: bool = False) -> None:
        self.version = version
        self.broken = broken

    def predict_proba(self, texts):
        if self.broken:
            return np.full((len(texts), 3), np.nan)
        p = int(self.version) / 100
        return np.array([[p, 0.5 - p, 0.5]] * len(texts))


class Registry:
    """Aliases and versions; version "9" fails to load, "8" loads but answers NaN."""

    def __init__(self) -> None:
        self.aliases = {"champion": "1"}
        self.loads: list[str] = []

    def lookup(self, name: str, alias: str) -> str | None:
        return self.aliases.get(alias)

    def load(self, spec: str) -> LoadedModel:
        version = spec.rsplit("/", 1)[-1] if spec.split("/")[-1].isdigit() else None
        if version is None:
            version = self.aliases[spec.rsplit("@", 1)[-1]]
        self.loads.append(version)
        if version == "9":
            raise ModelLoadError("model.int8.onnx is not an ONNX graph")
        engine = FakeEngine(version, broken=version == "8")
        return LoadedModel(engine, "relwatch-relation", version, Path("/nowhere"), spec)


def make_pool(registry: Registry, **settings: object) -> ModelPool:
    options = {"serve_reload_interval_s": 0, "serve_batch_max_wait_ms": 0, **settings}
    return ModelPool(
        Settings(**options),
        ServeMetrics(),
        loader=registry.load,
        alias_lookup=registry.lookup,
    )


def test_a_moved_alias_is_swapped_in_and_leases_keep_the_old_model_open():
    registry = Registry()
    pool = make_pool(registry)

    async def go():
        await pool.start()
        assert pool.default.version == "1" and pool.follows == "champion"
        async with pool.lease() as old:
            registry.aliases["champion"] = "2"
            result = await pool.reload(force=False)
            assert (result.outcome, result.version, result.previous) == ("swapped", "2", "1")
            # the request that started on v1 still finishes on v1 after the swap
            assert await old.batcher.submit("sentence") == pytest.approx([0.01, 0.49, 0.5])
            assert old.retired and not old._closed
        assert old._closed  # the last lease ended: v1 is unloaded
        async with pool.lease() as new:
            assert new.version == "2"
        assert (await pool.reload(force=False)).outcome == "unchanged"
        await pool.close()

    asyncio.run(go())
    assert registry.loads == ["1", "2"]


@pytest.mark.parametrize(("bad", "why"), [("9", "not an ONNX graph"), ("8", "smoke test")])
def test_a_broken_version_is_refused_and_the_old_one_keeps_serving(bad: str, why: str):
    registry = Registry()
    pool = make_pool(registry)

    async def go():
        await pool.start()
        registry.aliases["champion"] = bad
        result = await pool.reload(force=False)
        assert result.outcome == "failed" and why in (result.error or "")
        assert pool.default.version == "1"
        assert pool.reload_error.version == bad and why in pool.reload_error.error
        assert (await pool.reload(force=False)).outcome == "failed"  # not retried each poll
        assert registry.loads.count(bad) == 1
        await pool.reload(force=True)  # an admin reload retries it
        assert registry.loads.count(bad) == 2
        registry.aliases["champion"] = "2"  # the alias moves on: served, error cleared
        assert (await pool.reload(force=False)).outcome == "swapped"
        assert pool.reload_error is None
        await pool.close()

    asyncio.run(go())


def test_the_watcher_follows_the_alias_on_its_own():
    registry = Registry()
    pool = make_pool(registry, serve_reload_interval_s=0.01)

    async def go():
        await pool.start()
        registry.aliases["champion"] = "3"
        for _ in range(3000):  # bounded: about 30 s of 10 ms polls at worst
            if pool.default.version == "3":
                break
            await asyncio.sleep(0.01)
        version = pool.default.version
        await pool.close()
        return version

    assert asyncio.run(go()) == "3"


def test_per_request_models_load_on_demand_in_a_small_lru():
    registry = Registry()
    registry.aliases["challenger"] = "5"
    pool = make_pool(registry, serve_model_cache_size=1)

    async def go():
        await pool.start()
        five = await pool.get("challenger")
        assert five.version == "5" and five.role == "extra"
        assert (await pool.get("5")) is five  # by number: the same loaded model
        assert (await pool.get("models:/relwatch-relation/5")) is five
        assert (await pool.get("champion")) is pool.default
        assert (await pool.get("1")) is pool.default
        six = await pool.get("6")  # evicts 5 (cache of one)
        for _ in range(100):  # closing takes a few loop turns, not time
            if five._closed:
                break
            await asyncio.sleep(0)
        assert five.retired and five._closed and not six.retired
        assert (await pool.get("5")) is not five  # loaded again
        await pool.close()

    asyncio.run(go())
    assert registry.loads == ["1", "5", "6", "5"]


def test_request_model_specs_never_name_server_paths():
    settings = Settings()
    name = settings.registered_model
    assert parse_request_model(None, settings) is None
    assert parse_request_model(" ", settings) is None
    assert parse_request_model("3", settings) == (name, "version", "3")
    assert parse_request_model("challenger", settings) == (name, "alias", "challenger")
    assert parse_request_model("models:/other@champion", settings) == ("other", "alias", "champion")
    assert parse_request_model("models:/other/7", settings) == ("other", "version", "7")
    for bad in ("/etc/passwd", "./models", "../x", "C:\\models", "models:/a/b/c", "a b"):
        with pytest.raises(InputError, match="local folders are not accepted"):
            parse_request_model(bad, settings)


def test_no_model_means_unavailable_not_a_crash():
    registry = Registry()
    registry.aliases.clear()
    pool = make_pool(registry)

    async def go():
        await pool.start()
        with pytest.raises(ServiceUnavailable, match="no model loaded"):
            await pool.get(None)
        registry.aliases["champion"] = "1"
        assert (await pool.reload(force=False)).outcome == "swapped"
        assert (await pool.get(None)).version == "1"
        await pool.close()

    asyncio.run(go())


def test_a_restart_serves_the_remembered_champion_at_once_and_confirms_the_alias(tmp_path):
    """The followed alias's last version is remembered with its package folder: the next
    start loads it from disk without the registry, then asks the registry in the background
    and swaps if the alias moved while the server was down."""
    from tests.classify.tiny_models import tiny_package

    package = tiny_package()

    class DiskRegistry(Registry):
        def load(self, spec: str) -> LoadedModel:
            loaded = super().load(spec)
            return LoadedModel(loaded.engine, loaded.name, loaded.version, package, spec)

    registry = DiskRegistry()

    async def run_server(expect_first: str) -> tuple[str, str]:
        pool = make_pool(registry, home=tmp_path)
        await pool.start()
        first = pool.default.version
        assert first == expect_first
        if pool._confirm is not None:
            await pool._confirm
        final = pool.default.version
        await pool.close()
        return first, final

    assert asyncio.run(run_server("1")) == ("1", "1")
    assert registry.loads == ["1"]  # the first start asked the registry
    assert asyncio.run(run_server("1")) == ("1", "1")
    assert registry.loads == ["1"]  # the restart loaded the package from disk
    registry.aliases["champion"] = "2"  # moved while the server was down
    assert asyncio.run(run_server("1")) == ("1", "2")  # served at once, then swapped
    assert registry.loads == ["1", "2"]
    assert asyncio.run(run_server("2")) == ("2", "2")  # and remembered

    (tmp_path / "models").joinpath("relwatch-relation", "served-aliases.json").write_text("{oops")
    assert asyncio.run(run_server("2")) == ("2", "2")  # unreadable memory: the registry path
    assert registry.loads == ["1", "2", "2"]
