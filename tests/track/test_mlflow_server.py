"""The production path: the registry against an ``mlflow server`` backed by PostgreSQL.

Starts a real tracking server (own fresh database, free port, artifacts proxied by the
server), then registers, promotes, refuses, rolls back and resolves through HTTP only.
Skipped outside CI when PostgreSQL is down; a failure in CI (``CI=true``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from relwatch.core.config import get_settings
from tests.classify.tiny_models import tiny_package
from tests.conftest import PG_ADMIN_URL, require_service
from tests.track.conftest import log_version

pytestmark = [pytest.mark.services, pytest.mark.postgres, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    require_service("PostgreSQL", PG_ADMIN_URL, 5432)
    from sqlalchemy import create_engine, text

    db = f"relwatch_mlflow_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    port = free_port()
    mlflow_bin = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [
            mlflow_bin,
            "server",
            "--backend-store-uri",
            PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}",
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"mlflow server exited: {(tmp_path / 'server.log').read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server not up: {(tmp_path / 'server.log').read_text()}")
            time.sleep(1)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server's own process group only
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def test_registry_round_trip_on_a_postgres_backed_server(
    mlflow_server: str, monkeypatch: pytest.MonkeyPatch
):
    from relwatch.core import config
    from relwatch.track import registry

    monkeypatch.setenv("RELWATCH_MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.delenv("RELWATCH_MLFLOW_ARTIFACT_ROOT", raising=False)
    config.get_settings.cache_clear()

    package = tiny_package()
    assert log_version(package, 0.8) == "1"
    assert registry.promote(settings=get_settings()).version == "1"
    assert log_version(package, 0.6) == "2"
    with pytest.raises(registry.PromotionRefused):
        registry.promote(settings=get_settings())
    assert registry.promote(settings=get_settings(), margin=0.25).previous == "1"
    assert registry.rollback(settings=get_settings()).to_version == "1"
    listed = {v.version: v for v in registry.list_models(settings=get_settings())}
    assert listed["1"].aliases == ["champion"] and listed["2"].aliases == []
    assert listed["2"].metrics["gate_macro_f1"] == 0.6
    path, version = registry.resolve_model(
        "models:/relwatch-relation@champion", settings=get_settings()
    )
    assert version == "1" and (path / "model.int8.onnx").is_file()
    # artifacts went through the server, not to a client-local folder
    experiment = registry.get_client(settings=get_settings()).get_experiment_by_name("relwatch")
    assert experiment.artifact_location.startswith("mlflow-artifacts:")
