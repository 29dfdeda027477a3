"""Engine and session handling for SQLite (embedded) and PostgreSQL (production).

Faces pass the configured URL; :func:`require_schema` turns the usual first-run mistakes
(no database, no tables, unreachable server) into one line that says what to run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from relwatch.core.config import get_settings
from relwatch.core.errors import ServiceUnavailable, StateError

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "describe_db_error",
    "get_engine",
    "head_revision",
    "make_engine",
    "require_schema",
    "session_factory",
    "session_scope",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine with the per-backend settings relwatch relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Foreign keys for cascades; WAL so the API can read while a job writes.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (faces: the configured database)."""
    return make_engine(url or get_settings().database_url)


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error, so nothing half-written stays."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply migrations up to ``revision``; safe to run repeatedly."""
    from alembic import command
    from sqlalchemy.exc import DBAPIError

    try:
        command.upgrade(alembic_config(url), revision)
    except DBAPIError as exc:
        raise describe_db_error(exc, url or get_settings().database_url) from None


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import DBAPIError

    try:
        with get_engine(url).connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        raise describe_db_error(exc, url or get_settings().database_url) from None


def require_schema(url: str) -> None:
    """Refuse to work on a database that is unreachable, missing or not migrated to head."""
    current = current_revision(url)
    if current is None:
        raise StateError("the database has no relwatch tables yet; run: relwatch db upgrade")
    head = head_revision()
    if current != head:
        raise StateError(
            f"the database is at revision {current}, the code needs {head}; "
            "run: relwatch db upgrade"
        )


def describe_db_error(exc: Exception, url: str) -> Exception:
    """A one-line, actionable error for a failed connection or a missing database."""
    from sqlalchemy.engine import make_url

    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else repr(exc)
    safe = make_url(url)
    where = safe.render_as_string(hide_password=True)
    if "does not exist" in text and safe.database and "database" in text:
        return StateError(
            f"database {safe.database!r} does not exist on {safe.host or 'localhost'}; "
            f"create it with: createdb {safe.database}   (then: relwatch db upgrade)"
        )
    if "unable to open database file" in text:
        return StateError(f"cannot open the SQLite file of {where}; check the folder exists")
    return ServiceUnavailable(f"cannot reach database {where}: {text}")
