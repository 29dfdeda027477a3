"""Reachability checks of each configured backend, for ``relwatch doctor`` and the API."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlparse

from relwatch.core.config import Settings


@dataclass(frozen=True)
class Check:
    name: str
    target: str
    mode: str
    ok: bool
    detail: str


def check_database(settings: Settings) -> Check:
    from sqlalchemy import text

    from relwatch.core.db import current_revision, get_engine

    url = settings.database_url
    mode = "embedded" if url.startswith("sqlite") else "server"
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
        rev = current_revision(url)
        detail = f"schema {rev}" if rev else "empty schema: run `relwatch db upgrade`"
        return Check("database", url, mode, True, detail)
    except Exception as exc:  # any driver error means "not reachable" here
        return Check("database", url, mode, False, _first_line(exc))


def check_mlflow(settings: Settings) -> Check:
    uri = settings.mlflow_tracking_uri
    if uri.startswith(("http://", "https://")):
        import httpx

        try:
            resp = httpx.get(uri.rstrip("/") + "/health", timeout=3)
            return Check(
                "mlflow", uri, "server", resp.status_code == 200, f"HTTP {resp.status_code}"
            )
        except httpx.HTTPError as exc:
            return Check("mlflow", uri, "server", False, _first_line(exc))
    if uri.startswith(("sqlite", "postgresql")):
        from sqlalchemy import create_engine, text

        try:
            engine = create_engine(uri)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            return Check(
                "mlflow", uri, "embedded", True, f"artifacts {settings.mlflow_artifact_root}"
            )
        except Exception as exc:
            return Check("mlflow", uri, "embedded", False, _first_line(exc))
    return Check("mlflow", uri, "file", True, "file store")


def check_redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check("redis", "-", "in-memory", True, "not configured: API cache in process memory")
    import redis

    try:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
        client.ping()
        return Check("redis", settings.redis_url, "server", True, "PONG")
    except redis.RedisError as exc:
        return Check("redis", settings.redis_url, "server", False, _first_line(exc))


def check_broker(settings: Settings) -> Check:
    if not settings.broker_url:
        return Check("broker", "-", "in-process", True, "not configured: tasks run in-process")
    parsed = urlparse(settings.broker_url)
    defaults = {"amqp": 5672, "pyamqp": 5672, "redis": 6379, "rediss": 6379}
    port = parsed.port or defaults.get(parsed.scheme, 5672)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", port), timeout=2):
            pass
        return Check(
            "broker", settings.broker_url, "celery", True, f"{parsed.scheme} port {port} open"
        )
    except OSError as exc:
        return Check("broker", settings.broker_url, "celery", False, _first_line(exc))


def check_data_dir(settings: Settings) -> Check:
    path = settings.data_dir
    if path is None:
        return Check("data dir", "-", "local", False, "not found: set RELWATCH_DATA_DIR")
    if not path.is_dir():
        return Check("data dir", str(path), "local", False, "missing folder")
    sets = sorted(p.name for p in path.iterdir() if p.is_dir())
    return Check("data dir", str(path), "local", True, ", ".join(sets) or "empty")


def check_all(settings: Settings) -> list[Check]:
    return [
        check(settings)
        for check in (check_database, check_mlflow, check_redis, check_broker, check_data_dir)
    ]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
