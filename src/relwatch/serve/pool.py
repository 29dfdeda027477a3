"""The models a server holds: the default one (hot-reloaded) and a small LRU of others.

The default model follows an alias (``champion`` unless ``RELWATCH_SERVE_MODEL`` says
otherwise): every ``serve_reload_interval_s`` the registry is asked where the alias points;
when it moved, the new version is loaded and smoke-tested in the background and swapped in
with one reference assignment on the event loop, so a request sees either the old model or
the new one, never a half-loaded one. Requests hold a lease on the model they started with;
a replaced model is closed only when its last lease ends, so a swap fails no request. A
version that fails to load or to answer the smoke test leaves the old one serving and is
reported (logs, ``/v1/models``, ``/readyz``) and not retried until the alias moves again or
an admin asks for a reload.

``?model=`` picks another version or alias per request; those load on demand and are kept
in an LRU of ``serve_model_cache_size``. Over HTTP only registry specs are accepted: a local
folder is a server-side path and only settings may name one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relwatch.core.config import Settings
from relwatch.core.errors import InputError, ModelError, ServiceUnavailable
from relwatch.core.jsonl import atomic_output
from relwatch.core.logging import get_logger
from relwatch.serve.batching import MicroBatcher
from relwatch.serve.metrics import ServeMetrics
from relwatch.serve.models import LoadedModel, default_model_spec, load_model, load_package

__all__ = ["ModelPool", "ReloadResult", "ServedModel", "parse_request_model", "smoke_test"]

log = get_logger(__name__)

_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))$")
_ALIAS = re.compile(r"^[A-Za-z][\w-]{0,63}$")
_VERSION = re.compile(r"^\d{1,9}$")
SMOKE_SENTENCE = "South Korea and Japan signed a trade agreement in Seoul."
_ALIAS_TTL_S = 5.0

Loader = Callable[[str], LoadedModel]
AliasLookup = Callable[[str, str], "str | None"]


def smoke_test(loaded: LoadedModel) -> None:
    """Refuse a model whose answer to one sentence is not a probability vector."""
    probs = np.asarray(loaded.engine.predict_proba([SMOKE_SENTENCE]), dtype=float)
    if probs.shape != (1, 3):
        raise ModelError(f"smoke test: expected probabilities of shape (1, 3), got {probs.shape}")
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or abs(float(probs.sum()) - 1) > 1e-3:
        raise ModelError(f"smoke test: not a probability vector: {probs.tolist()}")


def parse_request_model(value: str | None, settings: Settings) -> tuple[str, str, str] | None:
    """A request's ``model`` as (registered name, "alias" | "version", alias or version).

    None means the default model. Local folders are refused: over HTTP only the registry.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    match = _URI.match(value)
    if match:
        if match["alias"]:
            return match["name"], "alias", match["alias"]
        return match["name"], "version", match["version"]
    if _VERSION.match(value):
        return settings.registered_model, "version", str(int(value))
    if _ALIAS.match(value):
        return settings.registered_model, "alias", value
    raise InputError(
        f"model {value!r}: give a version number, an alias such as champion, or "
        "models:/NAME@ALIAS or models:/NAME/VERSION (local folders are not accepted over HTTP)"
    )


@dataclass
class ServedModel:
    """A loaded model with its own micro-batcher and model thread."""

    loaded: LoadedModel
    batcher: MicroBatcher[str, list[float]]
    executor: ThreadPoolExecutor
    role: str
    loaded_at: dt.datetime
    inflight: int = 0
    retired: bool = False
    _closed: bool = False

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def version(self) -> str:
        return self.loaded.version

    def ref(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "spec": self.loaded.spec,
            "role": self.role,
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
            "inflight": self.inflight,
        }

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.batcher.close()
        self.executor.shutdown(wait=False)


@dataclass
class ReloadResult:
    """What one reload check did: swapped, unchanged or failed (with the reason)."""

    outcome: str
    version: str | None
    previous: str | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "version": self.version,
            "previous": self.previous,
            "error": self.error,
        }


@dataclass
class _ReloadError:
    version: str | None
    error: str
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "error": self.error, "at": self.at.isoformat()}


class ModelPool:
    """Holds the default model (following an alias) and an LRU of per-request models."""

    def __init__(
        self,
        settings: Settings,
        metrics: ServeMetrics,
        *,
        loader: Loader | None = None,
        alias_lookup: AliasLookup | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.spec = (settings.serve_model or default_model_spec(settings)).strip()
        match = _URI.match(self.spec)
        self.registered = match["name"] if match else settings.registered_model
        #: The alias the default model follows (None: a fixed version or a local folder).
        self.follows: str | None = match["alias"] if match and match["alias"] else None
        self._loader = loader or self._load_from_registry
        self._alias_lookup = alias_lookup or self._lookup_alias
        self.default: ServedModel | None = None
        self.extra: OrderedDict[tuple[str, str], ServedModel] = OrderedDict()
        self.reload_error: _ReloadError | None = None
        self.last_check: dt.datetime | None = None
        self._failed_version: str | None = None
        self._reload_lock = asyncio.Lock()
        self._loading: dict[tuple[str, str], asyncio.Future[ServedModel]] = {}
        self._aliases: dict[tuple[str, str], tuple[float, str]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._confirm: asyncio.Task[ReloadResult] | None = None
        self._remembered_start = False
        #: The version the followed alias pointed at when this host last loaded it, so a
        #: restart serves at once and confirms the alias with the registry afterwards.
        self.memory_path = settings.registered_model_dir(self.registered) / "served-aliases.json"

    # ------------------------------------------------------------------ loading
    def _load_from_registry(self, spec: str) -> LoadedModel:
        return load_model(
            spec,
            settings=self.settings,
            threads=self.settings.serve_threads,
            spin=self.settings.serve_thread_spinning,
        )

    def _lookup_alias(self, name: str, alias: str) -> str | None:
        from relwatch.track.registry import alias_version

        return alias_version(alias, settings=self.settings, name=name)

    def _load_sync(self, spec: str, loader: Loader | None = None) -> LoadedModel:
        loaded = (loader or self._loader)(spec)
        smoke_test(loaded)
        return loaded

    async def _load(self, spec: str, role: str, *, loader: Loader | None = None) -> ServedModel:
        """Load and smoke-test in a thread, then give it a batcher and a model thread."""
        loaded = await asyncio.to_thread(self._load_sync, spec, loader)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{loaded.version}")
        engine = loaded.engine
        max_length = int(getattr(getattr(engine, "meta", None), "max_length", 0) or 0)

        def run(texts: list[str]) -> list[list[float]]:
            return np.asarray(engine.predict_proba(texts), dtype=float).tolist()

        batcher: MicroBatcher[str, list[float]] = MicroBatcher(
            run,
            max_batch_size=self.settings.serve_batch_max_size,
            max_wait_s=self.settings.serve_batch_max_wait_ms / 1000.0,
            executor=executor,
            # characters stand in for tokens; past max_length the tokenizer truncates anyway
            size_of=(lambda t: min(len(t), max_length * 6)) if max_length else len,
            metrics=self.metrics,
            name=f"{loaded.name}@{loaded.version}",
        )
        served = ServedModel(loaded, batcher, executor, role, dt.datetime.now(dt.UTC))
        self.metrics.model_loaded.labels(served.name, served.version, role).set(1)
        log.info("model.loaded", name=served.name, version=served.version, role=role, spec=spec)
        return served

    def _retire(self, served: ServedModel) -> None:
        """Stop handing ``served`` out; it closes once its last lease ends (or now if idle)."""
        served.retired = True
        with suppress(KeyError):
            self.metrics.model_loaded.remove(served.name, served.version, served.role)
        # call_soon: a caller that just got this model from get() takes its lease first
        asyncio.get_running_loop().call_soon(self._close_if_idle, served)

    def _close_if_idle(self, served: ServedModel) -> None:
        if served.inflight == 0:
            asyncio.get_running_loop().create_task(served.close())

    # ------------------------------------------------------------------ alias memory
    def _remember(self, served: ServedModel) -> None:
        """Record which version the followed alias gave and where its package lies."""
        if self.follows is None:
            return
        try:
            memory = self._recall_all()
            memory[self.follows] = {
                "version": served.version,
                "package": str(served.loaded.package_dir),
            }
            self.memory_path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(self.memory_path) as handle:
                json.dump(memory, handle, indent=1)
        except (OSError, InputError) as exc:  # read-only folder: only the fast restart is lost
            log.warning("model.memory_not_written", error=str(exc))

    def _recall_all(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.memory_path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _recall(self) -> tuple[str, Path] | None:
        """(version, package folder) last served for the followed alias, if still on disk."""
        if self.follows is None:
            return None
        entry = self._recall_all().get(self.follows)
        if not isinstance(entry, dict):
            return None
        version, package = str(entry.get("version", "")), Path(str(entry.get("package", "")))
        if not version.isdigit() or not (package / "relwatch.json").is_file():
            return None
        return version, package

    async def _start_from_memory(self) -> bool:
        """Serve the remembered version now; the registry is asked in the background."""
        recalled = self._recall()
        if recalled is None:
            return False
        version, package = recalled
        spec = f"models:/{self.registered}/{version}"

        def loader(_: str) -> LoadedModel:
            return load_package(
                package,
                name=self.registered,
                version=version,
                spec=spec,
                threads=self.settings.serve_threads,
                spin=self.settings.serve_thread_spinning,
            )

        try:
            self.default = await self._load(spec, "default", loader=loader)
        except Exception as exc:
            log.warning("model.memory_load_failed", version=version, error=_describe(exc))
            return False
        log.info("model.started_from_memory", version=version, alias=self.follows)
        self._remembered_start = True
        return True

    def confirm_alias(self) -> None:
        """Ask the registry, in the background, whether the version started from memory is
        still the alias's (a moved alias swaps in as on any reload); once per start."""
        if self._remembered_start and self._confirm is None:
            self._confirm = asyncio.get_running_loop().create_task(
                self.reload(), name="model-confirm-alias"
            )

    # ------------------------------------------------------------------ lifecycle
    async def start(self, *, confirm: bool = True) -> None:
        """Load the default model (a failure is recorded, not raised) and start watching.

        When the followed alias was served here before and its package is still on disk,
        that version serves at once and the alias is confirmed with the registry in the
        background; ``confirm=False`` leaves that to :meth:`confirm_alias`, so a server can
        finish its own start first (the registry client's import holds the GIL a second)."""
        if await self._start_from_memory():
            if confirm:
                self.confirm_alias()
        else:
            try:
                self.default = await self._load(self.spec, "default")
                self.reload_error = None
                self._remember(self.default)
            except Exception as exc:
                self.reload_error = _ReloadError(None, _describe(exc))
                log.error(
                    "model.initial_load_failed", spec=self.spec, error=self.reload_error.error
                )
        self.last_check = dt.datetime.now(dt.UTC)
        interval = self.settings.serve_reload_interval_s
        if interval > 0 and (self.follows is not None or self.default is None):
            self._watcher = asyncio.get_running_loop().create_task(
                self._watch(interval), name="model-reload"
            )

    async def _watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reload()
            except Exception as exc:  # the watcher must outlive any one failed check
                log.error("model.reload_check_failed", error=_describe(exc))

    async def close(self) -> None:
        for task in (self._watcher, self._confirm):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await task
        models = [m for m in (self.default, *self.extra.values()) if m is not None]
        self.default, self.extra = None, OrderedDict()
        for served in models:
            await served.close()

    async def reload(self, *, force: bool = False) -> ReloadResult:
        """Check the alias (or retry a failed fixed spec) and swap in a new version."""
        async with self._reload_lock:
            previous = self.default.version if self.default else None
            self.last_check = dt.datetime.now(dt.UTC)
            if self.follows is None:
                if self.default is not None and not force:
                    return ReloadResult("unchanged", previous, previous)
                spec = self.spec
                version: str | None = None
            else:
                try:
                    version = await asyncio.to_thread(
                        self._alias_lookup, self.registered, self.follows
                    )
                except Exception as exc:
                    return self._failed(None, previous, f"registry: {_describe(exc)}")
                if version is None:
                    return self._failed(
                        None, previous, f"{self.registered} has no alias {self.follows!r}"
                    )
                if self.default is not None and version == self.default.version:
                    self.reload_error = None
                    self._failed_version = None
                    return ReloadResult("unchanged", version, previous)
                if version == self._failed_version and not force:
                    assert self.reload_error is not None
                    return ReloadResult("failed", version, previous, self.reload_error.error)
                spec = f"models:/{self.registered}/{version}"
            try:
                served = await self._load(spec, "default")
            except Exception as exc:
                self.metrics.reloads.labels(outcome="failed").inc()
                return self._failed(version, previous, _describe(exc))
            old, self.default = self.default, served  # the swap: one assignment
            self.reload_error, self._failed_version = None, None
            self._remember(served)
            self.metrics.reloads.labels(outcome="swapped").inc()
            log.info("model.swapped", version=served.version, previous=previous)
            if old is not None:
                self._retire(old)
            return ReloadResult("swapped", served.version, previous)

    def _failed(self, version: str | None, previous: str | None, error: str) -> ReloadResult:
        self.reload_error = _ReloadError(version, error)
        self._failed_version = version
        log.error("model.reload_failed", version=version, serving=previous, error=error)
        return ReloadResult("failed", version, previous, error)

    # ------------------------------------------------------------------ requests
    async def _resolve_alias(self, name: str, alias: str) -> str:
        key = (name, alias)
        now = time.monotonic()
        cached = self._aliases.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        version = await asyncio.to_thread(self._alias_lookup, name, alias)
        if version is None:
            from relwatch.core.errors import ModelRegistryError

            raise ModelRegistryError(f"{name} has no alias {alias!r}")
        self._aliases[key] = (now + _ALIAS_TTL_S, version)
        return version

    async def get(self, model: str | None) -> ServedModel:
        """The model a request asked for (None: the default), loading it when needed."""
        choice = parse_request_model(model, self.settings)
        if choice is None or (
            choice[1] == "alias" and choice[0] == self.registered and choice[2] == self.follows
        ):
            return self._require_default()
        name, kind, value = choice
        version = value if kind == "version" else await self._resolve_alias(name, value)
        current = self.default
        if current is not None and current.name == name and current.version == version:
            return current
        key = (name, version)
        served = self.extra.get(key)
        if served is not None:
            self.extra.move_to_end(key)
            return served
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._loading[key] = pending
            try:
                served = await self._load(f"models:/{name}/{version}", "extra")
            except BaseException as exc:
                pending.set_exception(exc)
                pending.exception()  # retrieved: no "never retrieved" warning
                raise
            finally:
                self._loading.pop(key, None)
            pending.set_result(served)
            if self.settings.serve_model_cache_size <= 0:
                self._retire(served)  # no cache: serve the requests that wait, then unload
                return served
            self.extra[key] = served
            while len(self.extra) > self.settings.serve_model_cache_size:
                _, evicted = self.extra.popitem(last=False)
                self._retire(evicted)
            return served
        return await asyncio.shield(pending)

    def _require_default(self) -> ServedModel:
        if self.default is None:
            why = self.reload_error.error if self.reload_error else "still loading"
            raise ServiceUnavailable(f"no model loaded ({self.spec}): {why}")
        return self.default

    @asynccontextmanager
    async def lease(self, model: str | None = None) -> AsyncIterator[ServedModel]:
        """The requested model, kept open (not closed by a swap) until the block ends."""
        served = await self.get(model)
        served.inflight += 1  # no await since get() returned: a swap cannot slip in between
        try:
            yield served
        finally:
            served.inflight -= 1
            if served.retired and served.inflight == 0:
                await served.close()

    def status(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "follows": self.follows,
            "serving": self.default.describe() if self.default else None,
            "loaded": [m.describe() for m in self.extra.values()],
            "reload_error": self.reload_error.to_dict() if self.reload_error else None,
            "last_check": self.last_check.isoformat(timespec="seconds")
            if self.last_check
            else None,
            "reload_interval_s": self.settings.serve_reload_interval_s,
        }


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    name = type(exc).__name__
    return (first if first.startswith(name) else f"{name}: {first}")[:500] if first else name
