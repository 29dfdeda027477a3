"""The serving runtime: models, cache, batcher, extraction and metrics behind the HTTP face.

One :class:`ServeRuntime` per server process. The HTTP routes call its methods and hold no
logic of their own; anything blocking (extraction, database, registry, model loading) runs
off the event loop so one slow request never stalls the others.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from relwatch.core.config import Settings
from relwatch.core.errors import InputError
from relwatch.core.logging import get_logger
from relwatch.extract import SentenceUnit
from relwatch.serve.batching import MicroBatcher
from relwatch.serve.cache import PredictionCache, cache_key, make_cache
from relwatch.serve.explain import Lang
from relwatch.serve.metrics import ServeMetrics
from relwatch.serve.pool import AliasLookup, Loader, ModelPool, ReloadResult, ServedModel
from relwatch.serve.relations import (
    TextItem,
    assemble_article,
    assemble_item,
    check_items,
    extract_units,
    guess_inputs,
    plan_article,
    plan_items,
    warm_up,
)
from relwatch.serve.urlfetch import Resolver, fetch_article

__all__ = ["ServeRuntime"]


def _extract_batch(items: list[tuple[str, dt.date | None]]) -> list[list[SentenceUnit]]:
    return extract_units([text for text, _ in items], [date for _, date in items])


log = get_logger(__name__)

MAX_TOP_K = 50


class ServeRuntime:
    """Everything a server holds between requests; ``start()`` before, ``close()`` after."""

    def __init__(
        self,
        settings: Settings,
        metrics: ServeMetrics | None = None,
        *,
        cache: PredictionCache | None = None,
        loader: Loader | None = None,
        alias_lookup: AliasLookup | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or ServeMetrics()
        self.cache = cache or make_cache(settings, self.metrics)
        self.pool = ModelPool(settings, self.metrics, loader=loader, alias_lookup=alias_lookup)
        self.resolver = resolver
        self._extract = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
        # Extraction (spaCy NER and parse) is batched across requests like the model: one
        # nlp.pipe over sixteen texts costs about half of sixteen single calls.
        self._extractor: MicroBatcher[tuple[str, dt.date | None], list[SentenceUnit]] = (
            MicroBatcher(
                _extract_batch,
                max_batch_size=settings.serve_batch_max_size,
                max_wait_s=settings.serve_batch_max_wait_ms / 1000.0,
                executor=self._extract,
                name="extract",
            )
        )
        self._schema_ok = False
        self.started_at: dt.datetime | None = None

    async def start(self) -> None:
        """Load the default model, warm the extractor and check the database side by side
        (threads), so the server is ready sooner and neither the first request nor the
        first ``/readyz`` pays a load."""
        await asyncio.gather(
            self.pool.start(confirm=False), self._warm_extractor(), self._warm_database()
        )
        self.pool.confirm_alias()
        self.started_at = dt.datetime.now(dt.UTC)

    async def _warm_extractor(self) -> None:
        try:
            await self._run_extract(warm_up)
        except Exception as exc:  # reported by readyz through the first real request
            log.error("extract.warmup_failed", error=str(exc)[:300])

    async def _warm_database(self) -> None:
        from relwatch.core.health import check_database

        db = await asyncio.to_thread(check_database, self.settings)
        if not db.ok:
            log.error("database.unreachable", detail=db.detail)

    async def close(self) -> None:
        await self._extractor.close()
        await self.pool.close()
        await self.cache.close()
        self._extract.shutdown(wait=False, cancel_futures=True)

    async def _run_extract(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._extract, fn, *args)

    # ------------------------------------------------------------------ limits
    def check_items(self, items: Sequence[TextItem]) -> None:
        """Request limits from the settings, each refusal naming the item and the setting."""
        s = self.settings
        if not items:
            raise InputError("no items: give 'text' or a non-empty 'items' list")
        if len(items) > s.serve_max_items:
            raise InputError(
                f"{len(items)} items, over the limit of {s.serve_max_items} per request "
                "(RELWATCH_SERVE_MAX_ITEMS); submit a predict_texts job for bulk work"
            )
        for k, item in enumerate(items):
            if len(item.text) > s.serve_max_text_chars:
                raise InputError(
                    f"items[{k}].text has {len(item.text):,} characters, over the limit of "
                    f"{s.serve_max_text_chars:,} (RELWATCH_SERVE_MAX_TEXT_CHARS)"
                )
            if not item.text.strip():
                raise InputError(f"items[{k}].text is empty")

    # ------------------------------------------------------------------ classification
    async def classify(self, served: ServedModel, inputs: Sequence[str]) -> list[list[float]]:
        """Probabilities per model input: cache first, the rest through the micro-batcher."""
        if not inputs:
            return []
        keys = [cache_key(served.name, served.version, x) for x in inputs]
        found = await self.cache.get_many(keys)
        missing = [i for i, f in enumerate(found) if f is None]
        if missing:
            unique = list(dict.fromkeys(inputs[i] for i in missing))
            computed = dict(zip(unique, await served.batcher.submit_many(unique), strict=True))
            fresh: dict[str, list[float]] = {}
            for i in missing:
                found[i] = fresh[keys[i]] = computed[inputs[i]]
            await self.cache.set_many(fresh)
        return [list(f) for f in found if f is not None]

    async def predict(
        self, items: Sequence[TextItem], *, lang: Lang = "en", model: str | None = None
    ) -> dict[str, Any]:
        """Every pair of every item (or the given pair) with label, probabilities, direction,
        mentions and an explanation."""
        self.check_items(items)
        check_items(items)
        async with self.pool.lease(model) as served:
            guessed = guess_inputs(items)
            early = (
                asyncio.ensure_future(self.classify(served, guessed)) if guessed else None
            )  # the model runs while spaCy extracts; checked against the full plan below
            try:
                units = await self._extractor.submit_many([(i.text, None) for i in items])
                plans = plan_items(items, units=units)
            except BaseException:
                if early is not None:
                    early.cancel()
                raise
            inputs = [p.model_input for plan in plans for p in plan.pairs]
            probs = await early if early is not None else []
            if inputs != guessed:
                probs = await self.classify(served, inputs)
            ref = served.ref()
        out, pos = [], 0
        for plan in plans:
            n = len(plan.pairs)
            out.append(assemble_item(plan, probs[pos : pos + n], ref, lang))
            pos += n
        return {"items": out, "model": ref}

    async def analyze(
        self,
        *,
        text: str | None = None,
        url: str | None = None,
        lang: Lang = "en",
        model: str | None = None,
        top_k: int = 5,
    ) -> dict[str, Any]:
        """Key sentences, pairs and predictions of an article given as text or fetched."""
        if (text is None) == (url is None):
            raise InputError("give exactly one of 'text' or 'url'")
        if not 1 <= top_k <= MAX_TOP_K:
            raise InputError(f"top_k must be between 1 and {MAX_TOP_K}")
        limit = self.settings.serve_max_article_chars
        source: dict[str, Any] | None = None
        date: dt.date | None = None
        truncated = False
        if url is not None:
            fetched = await fetch_article(url, settings=self.settings, resolver=self.resolver)
            text = fetched.text
            if len(text) > limit:
                text, truncated = text[:limit], True
            date = fetched.published_at.date() if fetched.published_at else None
            source = {
                "url": fetched.url,
                "final_url": fetched.final_url,
                "redirects": fetched.redirects,
                "title": fetched.title,
                "published_at": fetched.published_at.isoformat() if fetched.published_at else None,
                "language": fetched.language,
            }
        assert text is not None
        if len(text) > limit:
            raise InputError(
                f"the article has {len(text):,} characters, over the limit of {limit:,} "
                "(RELWATCH_SERVE_MAX_ARTICLE_CHARS)"
            )
        async with self.pool.lease(model) as served:
            units = await self._extractor.submit((text, date))
            plan = plan_article(text, date, units=units)
            probs = await self.classify(served, [p.model_input for p in plan.pairs])
            ref = served.ref()
        answer = assemble_article(plan, probs, ref, lang, top_k=top_k)
        return {"source": source, "truncated": truncated, **answer}

    # ------------------------------------------------------------------ models, health
    async def reload(self, *, force: bool = True) -> ReloadResult:
        return await self.pool.reload(force=force)

    async def promote(
        self, *, version: str | None, margin: float | None, allow_gate_change: bool
    ) -> dict[str, Any]:
        """Gate-checked promotion in the registry, then an immediate reload."""
        from relwatch.track.registry import promote

        result = await asyncio.to_thread(
            promote,
            settings=self.settings,
            version=version,
            margin=margin,
            allow_gate_change=allow_gate_change,
        )
        reload = await self.pool.reload(force=True)
        return {"promotion": dict(result.__dict__), "reload": reload.to_dict()}

    async def models_info(self) -> dict[str, Any]:
        """Registry versions with aliases and gate metrics, and what this server has loaded."""
        from relwatch.core.errors import RelwatchError
        from relwatch.track.registry import describe, list_models

        versions: list[dict[str, Any]] = []
        registry_error = None
        try:
            infos = await asyncio.to_thread(list_models, settings=self.settings)
        except RelwatchError as exc:
            registry_error = str(exc)
            infos = []
        serving = self.pool.default
        loaded = {(m.name, m.version) for m in self.pool.extra.values()}
        aliases: dict[str, str] = {}
        for info in infos:
            entry = describe(info)
            entry["gate"] = {
                k: v
                for k, v in info.metrics.items()
                if k.startswith("gate_") or k in ("int8_agreement",)
            }
            entry["loaded"] = (self.settings.registered_model, info.version) in loaded or (
                serving is not None
                and serving.name == self.settings.registered_model
                and serving.version == info.version
            )
            entry["serving"] = bool(
                serving is not None
                and serving.name == self.settings.registered_model
                and serving.version == info.version
            )
            for alias in info.aliases:
                aliases[alias] = info.version
            versions.append(entry)
        status = self.pool.status()
        return {
            "registered_model": self.settings.registered_model,
            "loaded": serving.ref() if serving else None,
            "serving": status["serving"],
            "extra_loaded": status["loaded"],
            "follows": status["follows"],
            "spec": status["spec"],
            "reload_error": status["reload_error"],
            "last_check": status["last_check"],
            "reload_interval_s": status["reload_interval_s"],
            "aliases": aliases,
            "versions": versions,
            "registry_error": registry_error,
        }

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, body): not ready without a model or a database; degraded parts named."""
        from relwatch.core.health import check_database

        checks: dict[str, dict[str, Any]] = {}
        serving = self.pool.default
        error = self.pool.reload_error
        if serving is None:
            checks["model"] = {
                "ok": False,
                "detail": f"no model loaded: {error.error if error else 'loading'}",
            }
        else:
            detail = f"{serving.name}@{serving.version}"
            if error is not None:
                detail += f"; reload of {error.version or '?'} failed: {error.error}"
            checks["model"] = {"ok": True, "degraded": error is not None, "detail": detail}
        db = await asyncio.to_thread(check_database, self.settings)
        checks["database"] = {"ok": db.ok, "detail": db.detail}
        ok, detail = await self.cache.ping()
        checks["redis" if self.cache.backend == "redis" else "cache"] = {
            "ok": ok,
            "degraded": not ok,
            "detail": detail,
        }
        ready = checks["model"]["ok"] and checks["database"]["ok"]
        degraded = sorted(k for k, c in checks.items() if c.get("degraded") or not c["ok"])
        status = "not_ready" if not ready else ("degraded" if degraded else "ready")
        return ready, {"status": status, "degraded": degraded, "checks": checks}

    def schema_checked(self) -> bool:
        return self._schema_ok

    def mark_schema_ok(self) -> None:
        self._schema_ok = True
