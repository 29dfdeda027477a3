"""Point MLflow at the configured store: embedded SQLite by default, a server in production.

One function so the trainer, the registry commands and the tests agree on the tracking
URI, the registry URI and the experiment's artifact location.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from relwatch.core.config import Settings
from relwatch.core.logging import get_logger

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = get_logger(__name__)


def is_remote(uri: str) -> bool:
    """True for an MLflow tracking server (http/https/databricks), false for a local store."""
    return uri.startswith(("http://", "https://", "databricks"))


def configure_mlflow(settings: Settings) -> str:
    """Set tracking + registry URIs and the active experiment; return the experiment id.

    The embedded store keeps artifacts under ``settings.mlflow_artifact_root``. Against a
    tracking server the server's own artifact store is used (the client's local folder
    would be invisible to other machines), unless an artifact root was set explicitly.
    """
    import mlflow

    # tqdm bars on every artifact download would drown the CLI's own progress output.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = settings.mlflow_tracking_uri
    if uri.startswith("sqlite:///"):
        settings.ensure_dirs()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name(settings.mlflow_experiment)
    if experiment is None:
        default_root = (settings.home / "mlartifacts").as_uri()
        artifact_root = settings.mlflow_artifact_root
        if is_remote(uri) and artifact_root == default_root:
            artifact_root = None
        experiment_id = client.create_experiment(
            settings.mlflow_experiment, artifact_location=artifact_root
        )
        log.info(
            "created MLflow experiment",
            name=settings.mlflow_experiment,
            artifact_location=artifact_root or "server default",
        )
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def get_client(settings: Settings) -> MlflowClient:
    """An MLflow client on the configured store (configuring it first)."""
    import mlflow

    configure_mlflow(settings)
    return mlflow.MlflowClient(
        tracking_uri=settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri
    )
