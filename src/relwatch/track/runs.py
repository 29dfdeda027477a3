"""One training run as an MLflow run: tags, params, dataset versions, metrics, artifacts.

The retrain flow opens the run with :func:`start_training_run`, exports and registers
inside it, and closes it; every figure a promotion compares is logged here, with the
content hash of the gate rows so that only figures on one gate set are compared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from relwatch.classify.data import Dataset, Example, content_hash
from relwatch.classify.pipeline import RunResult
from relwatch.core.config import Settings
from relwatch.track.registry import RUN_TAG_GATE
from relwatch.track.tracking import configure_mlflow

if TYPE_CHECKING:
    from mlflow.entities import Run

__all__ = ["log_datasets", "start_training_run"]


def log_datasets(sets: Sequence[Dataset], splits: dict[str, dict[str, list[Example]]]) -> None:
    """Each dataset version as an MLflow input, identified by its content hash."""
    import mlflow
    import pandas as pd
    from mlflow.data.sources import LocalArtifactDatasetSource

    for dataset in sets:
        frame = pd.DataFrame(
            [
                {"label": e.label, "split": split, "has_pair": bool(e.source or e.a_span)}
                for split, rows in splits[dataset.name].items()
                for e in rows
            ]
        )
        source = LocalArtifactDatasetSource(dataset.origin) if dataset.origin else None
        entry = mlflow.data.from_pandas(
            frame, source=source, name=dataset.name, digest=dataset.digest[:32]
        )
        mlflow.log_input(entry, context="training", tags={"sha256": dataset.digest})


def _metrics(result: RunResult) -> dict[str, float]:
    gate, trained = result.gate, result.trained
    metrics: dict[str, float] = {
        "train_seconds": trained.train_seconds,
        "temperature": trained.temperature,
    }
    if gate is not None:
        metrics["gate_macro_f1"] = gate.macro_f1
        metrics.update(gate.metrics("gate"))
        if gate.by_source:
            metrics["gate_mean_source_macro_f1"] = float(
                np.mean([r.macro_f1 for r in gate.by_source.values()])
            )
    for name, report in result.reports.items():
        metrics.update(report.metrics(name.replace(":", "_")))
    return {
        k.replace("(", "").replace(")", ""): float(v) for k, v in metrics.items() if v is not None
    }


@contextmanager
def start_training_run(
    result: RunResult, *, settings: Settings, threads_used: int
) -> Iterator[Run]:
    """An active MLflow run holding everything ``result`` measured; the caller logs the rest."""
    import mlflow

    configure_mlflow(settings)
    kind = str(result.params.get("model", "?"))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    with mlflow.start_run(run_name=f"{kind}-{stamp}") as run:
        result.run_id = run.info.run_id
        mlflow.set_tags(
            {
                "relwatch.kind": kind,
                "relwatch.stage": "classify",
                "relwatch.profile": str(result.params.get("profile", "")),
                RUN_TAG_GATE: content_hash(result.gate_rows),
                "relwatch.gate_sets": ",".join(sorted(result.gate_sets)),
            }
        )
        params: dict[str, Any] = {**result.params, "threads_used": threads_used}
        mlflow.log_params(params)
        mlflow.log_params(
            {f"data_{name}_sha256": info["hash"][:16] for name, info in result.data.items()}
        )
        log_datasets(result.sets, result.splits)
        mlflow.log_metrics(_metrics(result))
        for point in result.trained.history:
            # a refit has no validation rows: its points carry the training loss only
            curve = {"train_loss": point["train_loss"]}
            if "val_score" in point:
                curve["val_select_score"] = point["val_score"]
            mlflow.log_metrics(curve, step=int(point["step"]))
        for png in result.figures:
            mlflow.log_artifact(str(png), artifact_path="figures")
        mlflow.log_artifact(str(result.run_dir / "metrics.json"))
        yield run
