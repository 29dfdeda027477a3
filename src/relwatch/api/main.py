"""The app factory: ``create_app(settings)`` wires the runtime, the routers and the errors.

``relwatch serve`` runs it under uvicorn; tests build one per test with their own settings.
The model is loaded and the extractor warmed during startup, so the server is ready once it
accepts connections (``/readyz`` says so, or names what is missing).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relwatch import __version__
from relwatch.api.errors import error_body, install_error_handlers
from relwatch.api.routes import admin, articles, health, index, jobs, models, relations
from relwatch.core.config import Settings, get_settings
from relwatch.core.logging import get_logger
from relwatch.flows.worker import JobThreads
from relwatch.serve.metrics import ServeMetrics
from relwatch.serve.runtime import ServeRuntime

__all__ = ["create_app"]

log = get_logger(__name__)

#: Body ceiling of /v1/jobs: a predict_texts job of thousands of texts is one request.
JOBS_MAX_BODY = 64 << 20

DESCRIPTION = """
relwatch reads international news and measures how relations between countries move, day
by day. This API classifies (sentence, country A, country B) as **conflict / neutral /
cooperation** (갈등 / 중립 / 협력), analyses articles, serves the daily pair index with the
sentences behind every figure, runs bulk jobs and shows the model registry.

Errors always look like `{"error": {"type": "InputError", "message": "..."}}`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    runtime_options: dict[str, Any] | None = None,
) -> FastAPI:
    """A relwatch API app; ``runtime_options`` go to :class:`ServeRuntime` (tests)."""
    settings = settings or get_settings()
    metrics = ServeMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServeRuntime(settings, metrics, **(runtime_options or {}))
        job_threads = JobThreads(settings)
        app.state.runtime = runtime
        app.state.jobs = job_threads
        await runtime.start()
        log.info(
            "api.ready",
            model=runtime.pool.default.ref() if runtime.pool.default else None,
            cache=runtime.cache.backend,
        )
        try:
            yield
        finally:
            job_threads.shutdown()
            await runtime.close()

    app = FastAPI(
        title="relwatch",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "relations", "description": "Classify country pairs in texts."},
            {"name": "articles", "description": "Analyse an article (text or URL)."},
            {"name": "index", "description": "The daily pair index."},
            {"name": "models", "description": "Registry and served models."},
            {"name": "jobs", "description": "Bulk and scheduled work."},
            {"name": "admin", "description": "Reload and promote (X-API-Key)."},
            {"name": "health", "description": "Liveness, readiness, metrics."},
        ],
    )
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    _add_middleware(app, settings, metrics)
    for module in (relations, articles, index, models, jobs, admin, health):
        app.include_router(module.router)
    _add_dashboard(app)
    return app


def _add_middleware(app: FastAPI, settings: Settings, metrics: ServeMetrics) -> None:
    # The largest predict body the limits allow, with room for JSON; larger is refused unread.
    # Bulk jobs (predict_texts) are what large inputs are for: they get a larger ceiling.
    max_body = max(settings.serve_max_items * settings.serve_max_text_chars * 4, 1 << 20)
    max_body = max(max_body, settings.serve_max_article_chars * 4 + 65536)
    app.add_middleware(ObserveMiddleware, metrics=metrics, max_body=max_body)


class ObserveMiddleware:
    """Refuses bodies over the limit unread; counts requests and latency by route template
    (never the raw path: bounded labels). Plain ASGI: the per-request task and streams of
    ``@app.middleware`` cost more than the rest of the HTTP layer under load."""

    def __init__(self, app: ASGIApp, *, metrics: ServeMetrics, max_body: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = JOBS_MAX_BODY if path.startswith("/v1/jobs") else self.max_body
        length = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if length.isdigit() and int(length) > limit:
            from fastapi.responses import JSONResponse

            refusal = JSONResponse(
                error_body("TooLarge", f"request body over {limit:,} bytes"), status_code=413
            )
            await refusal(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)


def _add_dashboard(app: FastAPI) -> None:
    """The web dashboard (its own module) at ``/``, with its static assets."""
    try:
        from relwatch.api.routes import dashboard
    except ModuleNotFoundError as exc:  # a build without the dashboard still serves the API
        if exc.name != "relwatch.api.routes.dashboard":
            raise
        return
    app.include_router(dashboard.router)
    dashboard.mount_static(app)
