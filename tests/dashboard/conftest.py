"""Fixtures of the dashboard tests: a demo-like index, the real app on a free port, Chromium.

The browser is Debian's Chromium driven by Playwright (no browser download): outside CI a
missing Chromium skips with the reason; in CI (``CI=true``) it is a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import IN_CI
from tests.index.conftest import MODEL, insert_units
from tests.index.synth import DAY0, Builder, random_effects_days

SHAPE = {"tau": 0.05, "tau_u": 0.1, "sigma_e": 0.15, "articles": (3, 6), "sentences": (1, 4)}
THIN = {"tau": 0.05, "tau_u": 0.1, "sigma_e": 0.2, "articles": (1, 3), "sentences": (1, 3)}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]


def _need(message: str) -> None:
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the browser test must run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium; Playwright's own browser downloads are not used."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            break
    else:
        _need("Chromium not found: apt-get install -y chromium (or set PATH)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need("playwright is not installed: pip install -e '.[dev]'")
    return path


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: $RELWATCH_TEST_ARTIFACTS when set, else the test's tmp dir."""
    base = os.environ.get("RELWATCH_TEST_ARTIFACTS")
    out = Path(base) / "dashboard" if base else tmp_path / "artifacts"
    out.mkdir(parents=True, exist_ok=True)
    return out


def build_demo_index(url: str) -> None:
    """A small demo-like index: KOR–JPN turns to conflict on day 60 (an alert), four more
    focus pairs with steady tones, one pair outside the focus countries, and publishers in
    two countries (so 'seen from' has points)."""
    from relwatch.core import db
    from relwatch.index import build_index

    rng = np.random.default_rng(1)
    b, _ = random_effects_days(rng, n_days=60, level=0.3, **SHAPE)
    steady = [
        ("USA", "CHN", -0.35, "USA", 2),
        ("KOR", "PRK", -0.5, "KOR", 1),
        ("KOR", "USA", 0.5, "USA", 2),
        ("CAN", "USA", 0.2, "USA", 2),
    ]
    for a, other, level, publisher, pub_id in steady:
        random_effects_days(
            rng,
            n_days=75,
            level=level,
            builder=b,
            a=a,
            b=other,
            publisher=publisher,
            publisher_id=pub_id,
            **THIN,
        )
    later = Builder()
    later.next_article, later.next_sentence = 10**6, 10**6
    random_effects_days(rng, n_days=15, level=-0.3, builder=later, **SHAPE)
    tail = later.frame()
    tail["day"] = tail["day"] + pd.Timedelta(days=60)
    insert_units(url, pd.concat([b.frame(), tail], ignore_index=True))
    with db.session_scope(url) as s:
        report = build_index(s, model_name=MODEL[0], model_version=MODEL[1])
    assert report.alerts_written >= 1, "the demo index should hold the KOR–JPN alert"


ALERT_ONSET = DAY0 + dt.timedelta(days=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    base: str


@pytest.fixture
def server(db_url: str) -> Iterator[Server]:
    """The real app (``create_app``) under uvicorn in a thread, over the demo index."""
    import uvicorn

    from relwatch.api.main import create_app
    from relwatch.core.config import get_settings

    build_demo_index(db_url)
    port = _free_port()
    app = create_app(get_settings())
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="dashboard-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield Server(base=f"http://127.0.0.1:{port}")
    finally:
        uv.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
