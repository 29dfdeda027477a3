"""One error shape for every failure: ``{"error": {"type": ..., "message": ...}}``.

Library errors (:class:`relwatch.core.errors.RelwatchError`) keep their own status and
one-line message; request validation becomes a 422 whose message names each bad field;
HTTP errors (unknown route, wrong method) keep their status. Anything else is a bug: it is
logged with its traceback and answered with a 500 that leaks nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from relwatch.core.errors import RelwatchError
from relwatch.core.logging import get_logger

__all__ = ["error_body", "install_error_handlers", "validation_message"]

log = get_logger(__name__)


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


def validation_message(errors: list[Any]) -> str:
    """Pydantic's errors as one line: ``items[0].text: field required; lang: …``."""
    parts = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        where = ""
        for p in loc:
            where += f"[{p}]" if p.isdigit() else (f".{p}" if where else p)
        kind = err.get("type", "")
        if kind == "json_invalid":
            where = "body"
        if kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "missing":
            message = "field required"
        elif kind == "json_invalid":
            ctx = err.get("ctx") or {}
            message = f"invalid JSON ({ctx.get('error', 'cannot parse the body')})"
        else:
            message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where or 'body'}: {message}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RelwatchError)
    async def _relwatch(request: Request, exc: RelwatchError) -> JSONResponse:
        status = int(getattr(exc, "http_status", 400))
        if status >= 500:
            log.warning("request.error", path=request.url.path, error=str(exc)[:300])
        return JSONResponse(error_body(type(exc).__name__, str(exc)), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            error_body("ValidationError", validation_message(list(exc.errors()))),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "NotFound", 405: "MethodNotAllowed", 413: "TooLarge"}.get(
            exc.status_code, "HTTPError"
        )
        return JSONResponse(
            error_body(kind, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        from sqlalchemy.exc import DBAPIError

        if isinstance(exc, DBAPIError):
            from relwatch.core.db import describe_db_error

            known = describe_db_error(exc, request.app.state.settings.database_url)
            return JSONResponse(
                error_body(type(known).__name__, str(known)),
                status_code=int(getattr(known, "http_status", 503)),
            )
        log.exception("request.bug", path=request.url.path, method=request.method)
        return JSONResponse(
            error_body("InternalError", "internal error; the server log has the details"),
            status_code=500,
        )
