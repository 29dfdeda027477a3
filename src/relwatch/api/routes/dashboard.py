"""The web dashboard: one static page at ``/`` and its assets under ``/static``.

The page is plain HTML, CSS and JavaScript shipped inside the package (no build step, no
CDN); it reads the JSON API only, so it holds no logic of its own on the server. The app
factory includes :data:`router` and calls :func:`mount_static`.
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

__all__ = ["STATIC_DIR", "STATIC_PREFIX", "mount_static", "router"]

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
STATIC_PREFIX = "/static"

router = APIRouter(tags=["dashboard"])


@router.get("/", include_in_schema=False)
def dashboard() -> FileResponse:
    """The dashboard page; revalidated on each load so a new release shows at once."""
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


class _RevalidatedStatic(StaticFiles):
    """Static files that browsers revalidate (ETag → 304), so upgrades never mix versions."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def mount_static(app: FastAPI) -> None:
    """Serve the dashboard's assets (scripts, styles, the vendored chart library)."""
    app.mount(STATIC_PREFIX, _RevalidatedStatic(directory=STATIC_DIR), name="static")
