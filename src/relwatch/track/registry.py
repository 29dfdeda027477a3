"""The model registry: register, promote, roll back and resolve relation models.

Aliases, not stages (deprecated in MLflow 3): a new version gets ``challenger``;
``champion`` is what ``relwatch predict``, the API and the workers serve. Promotion is
*gated*: the candidate's macro-F1 on the fixed gate set (logged by the trainer as
``gate_macro_f1``) must be at least the champion's minus a margin. Every promotion
records the champion it replaced in a model-version tag, so ``rollback`` can walk back
the champions one by one without any state outside MLflow — it works the same on the
embedded SQLite store and on a tracking server backed by PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relwatch.core.config import Settings
from relwatch.core.errors import ModelRegistryError, PromotionRefused
from relwatch.core.logging import get_logger
from relwatch.track.tracking import get_client

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

log = get_logger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
GATE_METRIC = "gate_macro_f1"
TAG_PREVIOUS = "relwatch.previous_champion"
TAG_PROMOTED_AT = "relwatch.promoted_at"
TAG_ROLLED_BACK_AT = "relwatch.rolled_back_at"
# Run tag: content hash of the gate rows. Gate figures are comparable only on one gate set.
RUN_TAG_GATE = "relwatch.gate_sha256"
MODEL_ARTIFACT = "model"
_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))$")


@dataclass(frozen=True)
class PromotionResult:
    """What the gate compared and decided."""

    version: str
    previous: str | None
    metric: str
    candidate_metric: float
    champion_metric: float | None
    margin: float
    promoted: bool


@dataclass(frozen=True)
class VersionInfo:
    """One registered version as ``relwatch models list`` shows it."""

    version: str
    aliases: list[str]
    run_id: str | None
    created: datetime
    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _pip_requirements() -> list[str]:
    """Pinned serving deps: skips MLflow's slow requirement inference (it loads the model)."""
    from importlib.metadata import PackageNotFoundError, version

    reqs = []
    for dist in ("mlflow", "onnxruntime", "tokenizers", "numpy", "pandas", "scikit-learn"):
        try:
            reqs.append(f"{dist}=={version(dist)}")
        except PackageNotFoundError:
            continue
    return reqs


def _signature() -> Any:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from relwatch.core.models import LABELS

    inputs = Schema(
        [
            ColSpec("string", "text"),
            ColSpec("string", "source", required=False),
            ColSpec("string", "target", required=False),
        ]
    )
    outputs = Schema([ColSpec("string", "label"), *(ColSpec("double", lb) for lb in LABELS)])
    return ModelSignature(inputs=inputs, outputs=outputs)


def log_relation_model(
    package_dir: Path, *, settings: Settings, input_example: list[str], precision: str = "int8"
) -> str:
    """Log a serving package as a pyfunc model in the *active* run, register it, mark it
    ``challenger`` and return the new version number (as a string).

    Also logs the package sizes as run metrics, so every run records what it serves.
    """
    import mlflow
    import pandas as pd

    from relwatch.classify.engine import RelationModel
    from relwatch.track.pyfunc import PACKAGE_ARTIFACT, RelationPyfunc

    package_dir = Path(package_dir)
    run = mlflow.active_run()
    if run is None:
        raise ModelRegistryError("log_relation_model must be called inside mlflow.start_run()")
    model = RelationModel.load(package_dir, precision=precision)  # fail before logging
    example = pd.DataFrame({"text": [str(t) for t in input_example] or ["Seoul and Tokyo met."]})
    sizes = {
        f"size_{name.replace('.', '_')}_mb": round(size / 1e6, 3)
        for name, size in model.meta.files.items()
        if name.endswith(".onnx")
    }
    if sizes:
        mlflow.log_metrics(sizes)
    info = mlflow.pyfunc.log_model(
        name=MODEL_ARTIFACT,
        python_model=RelationPyfunc(precision=precision),
        artifacts={PACKAGE_ARTIFACT: str(package_dir)},
        signature=_signature(),
        input_example=example,
        pip_requirements=_pip_requirements(),
        registered_model_name=settings.registered_model,
    )
    version = str(info.registered_model_version)
    client = get_client(settings)
    client.set_registered_model_alias(settings.registered_model, CHALLENGER, version)
    keys = ("kind", "base_model", "input_format")
    for key in (*keys, "pooling") if model.meta.kind == "transformer" else keys:
        value = getattr(model.meta, key)
        if value:
            client.set_model_version_tag(settings.registered_model, version, key, str(value))
    client.set_model_version_tag(settings.registered_model, version, "precision", precision)
    log.info(
        "registered model version",
        name=settings.registered_model,
        version=version,
        alias=CHALLENGER,
        run_id=run.info.run_id,
    )
    return version


def _alias_version(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def _get_version(client: MlflowClient, name: str, version: str | int) -> ModelVersion:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, str(version))
    except MlflowException:
        raise ModelRegistryError(f"{name} has no version {version}") from None


def _require_model(client: MlflowClient, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        raise ModelRegistryError(
            f"no registered model {name!r} in the MLflow store; train one first "
            "(relwatch train --quick)"
        ) from None


def _run_metrics(client: MlflowClient, mv: ModelVersion) -> dict[str, float]:
    from mlflow.exceptions import MlflowException

    if not mv.run_id:
        return {}
    try:
        return dict(client.get_run(mv.run_id).data.metrics)
    except MlflowException:
        return {}


def _gate_hash(client: MlflowClient, mv: ModelVersion) -> str | None:
    from mlflow.exceptions import MlflowException

    if not mv.run_id:
        return None
    try:
        return client.get_run(mv.run_id).data.tags.get(RUN_TAG_GATE)
    except MlflowException:
        return None


def promote(
    *,
    settings: Settings,
    version: str | int | None = None,
    margin: float | None = None,
    gate_metric: str = GATE_METRIC,
    allow_gate_change: bool = False,
) -> PromotionResult:
    """Move ``champion`` to ``version`` (default: the challenger) if the gate allows it.

    Raises :class:`PromotionRefused` (with both figures) when the candidate's gate metric
    is below the champion's minus ``margin`` (default ``settings.promote_margin``), and
    :class:`ModelRegistryError` for anything the user must fix first — including two versions
    scored on different gate sets, whose figures say nothing about each other, unless
    ``allow_gate_change`` accepts that once (the figures are still printed).
    """
    client = get_client(settings)
    name = settings.registered_model
    _require_model(client, name)
    margin = settings.promote_margin if margin is None else float(margin)
    if margin < 0:
        raise ModelRegistryError(f"margin must be >= 0, not {margin}")
    if version is None:
        candidate = _alias_version(client, name, CHALLENGER)
        if candidate is None:
            raise ModelRegistryError(f"{name} has no {CHALLENGER}; pass the version to promote")
    else:
        candidate = _get_version(client, name, version)
    metric = _run_metrics(client, candidate).get(gate_metric)
    if metric is None:
        raise ModelRegistryError(
            f"version {candidate.version} has no {gate_metric} metric on its run; "
            "it cannot pass the promotion gate"
        )
    champion = _alias_version(client, name, CHAMPION)
    if champion is not None and str(champion.version) == str(candidate.version):
        raise ModelRegistryError(f"version {candidate.version} is already {CHAMPION}")
    champion_metric = None
    if champion is not None:
        champion_metric = _run_metrics(client, champion).get(gate_metric)
        ours, theirs = _gate_hash(client, candidate), _gate_hash(client, champion)
        if ours and theirs and ours != theirs and not allow_gate_change:
            raise ModelRegistryError(
                f"version {candidate.version} was scored on another gate set than champion "
                f"v{champion.version} (gate {ours[:12]} vs {theirs[:12]}), so their "
                f"{gate_metric} figures are not comparable; retrain the champion's recipe "
                "on the current data, or accept the change with --allow-gate-change"
            )
    result = PromotionResult(
        version=str(candidate.version),
        previous=str(champion.version) if champion else None,
        metric=gate_metric,
        candidate_metric=float(metric),
        champion_metric=None if champion_metric is None else float(champion_metric),
        margin=margin,
        promoted=False,
    )
    if champion_metric is not None and metric + 1e-12 < champion_metric - margin:
        log.info(
            "promotion refused",
            version=result.version,
            candidate=metric,
            champion=champion_metric,
            margin=margin,
        )
        raise PromotionRefused(
            f"refused: version {result.version} has {result.metric} "
            f"{result.candidate_metric:.4f} < champion v{result.previous} "
            f"{result.champion_metric:.4f} - margin {result.margin:.4f}",
            result,
        )
    client.set_model_version_tag(name, result.version, TAG_PREVIOUS, result.previous or "")
    client.set_model_version_tag(name, result.version, TAG_PROMOTED_AT, _now())
    client.set_registered_model_alias(name, CHAMPION, result.version)
    challenger = _alias_version(client, name, CHALLENGER)
    if challenger is not None and str(challenger.version) == result.version:
        client.delete_registered_model_alias(name, CHALLENGER)
    log.info(
        "promoted",
        name=name,
        version=result.version,
        previous=result.previous,
        metric=gate_metric,
        candidate=metric,
        champion=champion_metric,
    )
    return PromotionResult(**{**result.__dict__, "promoted": True})


@dataclass(frozen=True)
class RollbackResult:
    """The champion before and after a rollback."""

    from_version: str
    to_version: str


def rollback(*, settings: Settings) -> RollbackResult:
    """Move ``champion`` back to the champion it replaced (recorded at promotion)."""
    client = get_client(settings)
    name = settings.registered_model
    _require_model(client, name)
    champion = _alias_version(client, name, CHAMPION)
    if champion is None:
        raise ModelRegistryError(f"{name} has no {CHAMPION}; nothing to roll back")
    previous = (champion.tags or {}).get(TAG_PREVIOUS) or ""
    if not previous:
        raise ModelRegistryError(
            f"version {champion.version} was the first {CHAMPION}; there is no earlier one"
        )
    _get_version(client, name, previous)  # a deleted version cannot serve again
    client.set_registered_model_alias(name, CHAMPION, previous)
    client.set_model_version_tag(name, champion.version, TAG_ROLLED_BACK_AT, _now())
    log.info("rolled back", name=name, from_version=champion.version, to_version=previous)
    return RollbackResult(from_version=str(champion.version), to_version=previous)


def list_models(*, settings: Settings) -> list[VersionInfo]:
    """Every version of the registered model, newest first, with aliases and run metrics."""
    client = get_client(settings)
    name = settings.registered_model
    _require_model(client, name)
    # search_model_versions leaves aliases empty on some stores; the model has them all.
    by_version: dict[str, list[str]] = {}
    for alias, version in (client.get_registered_model(name).aliases or {}).items():
        by_version.setdefault(str(version), []).append(alias)
    versions = client.search_model_versions(f"name = '{name}'")
    out = [
        VersionInfo(
            version=str(mv.version),
            aliases=sorted(by_version.get(str(mv.version), [])),
            run_id=mv.run_id,
            created=datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=UTC),
            status=str(mv.status),
            metrics=_run_metrics(client, mv),
            tags=dict(mv.tags or {}),
        )
        for mv in versions
    ]
    return sorted(out, key=lambda v: int(v.version), reverse=True)


def _download_package(
    client: MlflowClient, name: str, mv: ModelVersion, settings: Settings
) -> Path:
    """The serving package of a version, downloaded once into ``settings.models_dir``."""
    import mlflow.artifacts

    settings.ensure_dirs()
    target = settings.registered_model_dir(name) / f"v{mv.version}-{(mv.run_id or 'norun')[:8]}"
    if (target / "relwatch.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        local = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{name}/{mv.version}",
                dst_path=str(tmp),
                tracking_uri=settings.mlflow_tracking_uri,
            )
        )
        # pyfunc keeps an artifact under its source folder's name: find it by its metadata.
        found = sorted(p.parent for p in local.rglob("relwatch.json"))
        if not found:
            raise ModelRegistryError(
                f"{name} version {mv.version} holds no relwatch serving package"
            )
        if target.exists():
            shutil.rmtree(target)
        os.replace(found[0], target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model(spec: str, *, settings: Settings) -> tuple[Path, str | None]:
    """A local serving dir and its registry version for ``spec``.

    ``spec`` is ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, a bare version number
    (of ``settings.registered_model``) or a local path (version ``None``). Prefix a
    folder whose name is all digits with ``./``.
    """
    spec = str(spec).strip()
    if not spec:
        raise ModelRegistryError("empty model spec; give models:/NAME@ALIAS, a version or a path")
    match = _URI.match(spec)
    if match is None and not spec.isdigit():
        path = Path(spec).expanduser()
        if spec.startswith("models:"):
            raise ModelRegistryError(
                f"bad model URI {spec!r}; expected models:/NAME@ALIAS or models:/NAME/VERSION"
            )
        if not path.is_dir():
            raise ModelRegistryError(f"model path {spec} does not exist (or is not a folder)")
        return path.resolve(), None
    client = get_client(settings)
    if match is None:
        name, alias, version = settings.registered_model, None, spec
    else:
        name, alias, version = match["name"], match["alias"], match["version"]
    _require_model(client, name)
    if alias is not None:
        mv = _alias_version(client, name, alias)
        if mv is None:
            raise ModelRegistryError(f"{name} has no alias {alias!r}")
    else:
        mv = _get_version(client, name, version)
    return _download_package(client, name, mv, settings), str(mv.version)


def alias_version(alias: str, *, settings: Settings, name: str | None = None) -> str | None:
    """The version ``alias`` points at (None when unset): a cheap poll for hot reload,
    which downloads nothing."""
    client = get_client(settings)
    name = name or settings.registered_model
    _require_model(client, name)
    mv = _alias_version(client, name, alias)
    return None if mv is None else str(mv.version)


def describe(info: VersionInfo) -> dict[str, Any]:
    """A JSON-friendly view of a version (for the API and ``--json`` output)."""
    return {
        "version": info.version,
        "aliases": info.aliases,
        "run_id": info.run_id,
        "created": info.created.isoformat(),
        "status": info.status,
        "metrics": info.metrics,
        "tags": info.tags,
    }


__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "GATE_METRIC",
    "ModelRegistryError",
    "PromotionRefused",
    "PromotionResult",
    "RollbackResult",
    "VersionInfo",
    "alias_version",
    "describe",
    "list_models",
    "log_relation_model",
    "promote",
    "resolve_model",
    "rollback",
]
