"""Shared fixtures: isolated settings, migrated SQLite and PostgreSQL databases.

Service tests skip with a reason when the service is down, except in CI (``CI=true``)
where a missing service is a failure: CI is where we prove the production path works.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_ADMIN_URL = os.environ.get(
    "RELWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("RELWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("+psycopg", ""))
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int) -> None:
    """Skip outside CI, fail in CI, when a service the test needs is not listening."""
    if port_open(url, default_port):
        return
    message = f"{name} not reachable at {url}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: service tests must run)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own .relwatch home and fresh settings/engine caches."""
    from relwatch.core import config, db

    monkeypatch.setenv("RELWATCH_HOME", str(tmp_path / "home"))
    for var in (
        "RELWATCH_DATABASE_URL",
        "RELWATCH_MLFLOW_TRACKING_URI",
        "RELWATCH_REDIS_URL",
        "RELWATCH_BROKER_URL",
        "RELWATCH_RESULT_BACKEND",
    ):
        monkeypatch.delenv(var, raising=False)
    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    yield
    config.get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture
def data_dir() -> Path:
    """The shared datasets folder; tests that read real data skip when it is absent."""
    from relwatch.core.config import get_settings

    path = get_settings().data_dir
    if path is None or not path.is_dir():
        pytest.skip("data directory not found; set RELWATCH_DATA_DIR")
    return path


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite database at the newest migration, set as the configured database."""
    from relwatch.core import config, db

    url = f"sqlite:///{tmp_path / 'relwatch.db'}"
    monkeypatch.setenv("RELWATCH_DATABASE_URL", url)
    config.get_settings.cache_clear()
    db.upgrade(url)
    return url


@pytest.fixture
def pg_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throw-away PostgreSQL database at the newest migration, dropped afterwards."""
    require_service("PostgreSQL", PG_ADMIN_URL, 5432)
    from sqlalchemy import create_engine, text

    from relwatch.core import config, db

    name = f"relwatch_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    monkeypatch.setenv("RELWATCH_DATABASE_URL", url)
    config.get_settings.cache_clear()
    db.upgrade(url)
    try:
        yield url
    finally:
        db.get_engine(url).dispose()
        db.get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """Run a storage test on both backends."""
    fixture = "db_url" if request.param == "sqlite" else "pg_url"
    return request.getfixturevalue(fixture)


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", REDIS_URL, 6379)
    return REDIS_URL
