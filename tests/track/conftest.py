"""An MLflow store shared by the registry tests of one module; one registered model per test.

Creating an MLflow SQLite store runs its migrations (seconds), so the store is shared and
each test isolates itself with its own registered-model name.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from relwatch.core.config import get_settings


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{root / 'mlflow.db'}", (root / "artifacts").as_uri()


@pytest.fixture
def registry_env(mlflow_store: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """Point settings at the shared store with a fresh registered-model name; return it."""
    from relwatch.core import config

    uri, artifacts = mlflow_store
    name = f"relwatch-relation-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("RELWATCH_MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("RELWATCH_MLFLOW_ARTIFACT_ROOT", artifacts)
    monkeypatch.setenv("RELWATCH_REGISTERED_MODEL", name)
    config.get_settings.cache_clear()
    return name


def log_version(package: Path, gate_macro_f1: float | None, gate: str | None = None) -> str:
    """One training run's worth of registry work: a run with a gate metric + the model."""
    import mlflow

    from relwatch.track.registry import log_relation_model
    from relwatch.track.tracking import configure_mlflow

    configure_mlflow(get_settings())
    with mlflow.start_run():
        if gate_macro_f1 is not None:
            mlflow.log_metric("gate_macro_f1", gate_macro_f1)
        if gate is not None:
            mlflow.set_tag("relwatch.gate_sha256", gate)
        return log_relation_model(
            package, settings=get_settings(), input_example=["Seoul and Tokyo met."]
        )
