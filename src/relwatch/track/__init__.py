"""Experiment tracking and the model registry (MLflow).

Every training run is an MLflow run; every exported model is a registered model version
whose aliases (``challenger``, ``champion``) say which one serves. Stages are deprecated
in MLflow 3 and are never used. Every call takes the settings explicitly.
"""

from relwatch.track.registry import (
    CHALLENGER,
    CHAMPION,
    GATE_METRIC,
    PromotionResult,
    RollbackResult,
    VersionInfo,
    alias_version,
    describe,
    list_models,
    log_relation_model,
    promote,
    resolve_model,
    rollback,
)
from relwatch.track.tracking import configure_mlflow, get_client

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "GATE_METRIC",
    "PromotionResult",
    "RollbackResult",
    "VersionInfo",
    "alias_version",
    "configure_mlflow",
    "describe",
    "get_client",
    "list_models",
    "log_relation_model",
    "promote",
    "resolve_model",
    "rollback",
]
