"""Typed dependencies: settings, the serving runtime, a database session, the admin key."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from relwatch.core.config import Settings
from relwatch.core.errors import RelwatchError
from relwatch.flows.worker import JobThreads
from relwatch.serve.runtime import ServeRuntime

__all__ = [
    "AdminDep",
    "AdminKeyError",
    "ForbiddenError",
    "JobsDep",
    "RuntimeDep",
    "SessionDep",
    "SettingsDep",
    "admin_allowed",
]


class AdminKeyError(RelwatchError):
    """A missing or wrong ``X-API-Key`` on an admin route."""

    http_status = 401


class ForbiddenError(RelwatchError):
    """An admin route on a server with no API key configured."""

    http_status = 403


# Dependencies that only read app state are ``async def``: FastAPI runs a plain ``def``
# dependency in its thread pool, a hand-off that costs more than the lookup on every request.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_runtime(request: Request) -> ServeRuntime:
    return request.app.state.runtime


async def get_jobs(request: Request) -> JobThreads:
    return request.app.state.jobs


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
RuntimeDep = Annotated[ServeRuntime, Depends(get_runtime)]
JobsDep = Annotated[JobThreads, Depends(get_jobs)]


def get_session(settings: SettingsDep, runtime: RuntimeDep) -> Iterator[Session]:
    """A transaction on the configured database; the schema is checked once per process."""
    from relwatch.core.db import require_schema, session_scope

    if not runtime.schema_checked():
        require_schema(settings.database_url)
        runtime.mark_schema_ok()
    with session_scope(settings.database_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

ApiKeyHeader = Annotated[
    str | None, Header(alias="X-API-Key", description="The admin key (RELWATCH_API_KEY).")
]


def admin_allowed(settings: Settings, key: str | None) -> None:
    """Raise unless ``key`` equals the configured API key (compared in constant time)."""
    if settings.api_key is None or not settings.api_key.get_secret_value():
        raise ForbiddenError("admin routes are disabled: this server has no RELWATCH_API_KEY")
    expected = settings.api_key.get_secret_value().encode("utf-8")
    if key is None or not hmac.compare_digest(key.encode("utf-8"), expected):
        raise AdminKeyError("missing or wrong X-API-Key")


async def require_admin(settings: SettingsDep, x_api_key: ApiKeyHeader = None) -> None:
    admin_allowed(settings, x_api_key)


AdminDep = Annotated[None, Depends(require_admin)]
