"""Fixtures for collect tests: a live HTTP server on 127.0.0.1 and DB session factories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .server import FixtureServer

FIXTURES = Path(__file__).parent / "fixtures"

# Fast but real: short timeouts and tiny backoff so hostile pages cost milliseconds.
FAST_FETCH: dict[str, Any] = {
    "timeout": 1.0,
    "retries": 2,
    "backoff_s": 0.01,
    "default_rate": 200.0,
}


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as srv:
        srv.route("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        yield srv


@pytest.fixture
def fixture_html() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in FIXTURES.glob("*.html")}


@pytest.fixture
def sessions(db_url: str):
    from sqlalchemy.orm import sessionmaker

    from relwatch.core.db import make_engine

    engine = make_engine(db_url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()
