"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from relwatch.api.deps import RuntimeDep
from relwatch.serve.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, Any]:
    """The process answers (says nothing about its model or backends)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready: the parts named."}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """200 when a model is loaded and the database answers (``degraded`` names parts that
    are down but not needed to serve, e.g. Redis: the cache is bypassed); 503 otherwise."""
    ready, body = await runtime.readiness()
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
