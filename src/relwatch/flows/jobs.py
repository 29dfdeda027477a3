"""Job handlers: each kind of background work as one call into the library.

A handler receives validated parameters (:mod:`relwatch.flows.params`), the settings and
nothing else; it returns a JSON-friendly result that the ledger stores. The CLI commands
call the same library functions, so a job and a command do the same work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from relwatch.core.config import Settings
from relwatch.flows.params import (
    CrawlParams,
    DoctorParams,
    ExtractParams,
    ImportReutersParams,
    IndexBuildParams,
    JobParams,
    PredictDbParams,
    PredictFileParams,
    PredictTextsParams,
    TrainParams,
)

__all__ = ["HANDLERS", "Handler", "job_kinds", "run_handler"]

Handler = Callable[[Any, Settings], dict[str, Any]]


def _doctor(params: DoctorParams, settings: Settings) -> dict[str, Any]:
    """Check backends from the worker's side: proves a remote worker can reach them."""
    from relwatch.core.health import check_all

    return {"checks": [asdict(c) for c in check_all(settings)]}


def _crawl(params: CrawlParams, settings: Settings) -> dict[str, Any]:
    """One crawl of the registry (or the named sources / countries) into the database."""
    from relwatch.collect import crawl, load_registry
    from relwatch.core.db import session_factory

    registry = load_registry(params.sources_file, sources_file=settings.sources_file)
    specs = registry.choose(params.sources, params.countries)
    report = crawl(
        session_factory(settings.database_url),
        specs,
        max_items=params.max_items,
        settings=settings,
    )
    return report.as_dict()


def _import_reuters(params: ImportReutersParams, settings: Settings) -> dict[str, Any]:
    """Load Reuters-21578 stories from the data directory as dated articles."""
    from relwatch.collect import import_reuters
    from relwatch.core.db import session_scope

    path = params.directory or settings.require_data_dir() / "reuters21578"
    with session_scope(settings.database_url) as session:
        report = import_reuters(session, path, params.limit)
    return {k: str(v) if hasattr(v, "isoformat") else v for k, v in asdict(report).items()}


def _extract(params: ExtractParams, settings: Settings) -> dict[str, Any]:
    """Sentences, mentions and pairs for articles not yet extracted."""
    from relwatch.extract import extract_pending, load_gazetteer

    stats = extract_pending(settings.database_url, limit=params.limit, batch_size=params.batch_size)
    return {
        "articles": stats.articles,
        "sentences": stats.sentences,
        "mentions": stats.mentions,
        "pairs": stats.pairs,
        "seconds": round(stats.seconds, 2),
        "alias_version": load_gazetteer().version,
    }


def _train(params: TrainParams, settings: Settings) -> dict[str, Any]:
    """Train, evaluate, export and register a model (bulk work for a worker with CPU/GPU)."""
    from relwatch.flows.retrain import retrain

    result = retrain(training_arguments(params), settings=settings)
    return {
        "run_id": result.run_id,
        "version": result.version,
        "gate_macro_f1": result.gate.macro_f1 if result.gate else None,
        "seconds": round(result.seconds, 1),
    }


def training_arguments(params: TrainParams) -> Any:
    """The ``TrainingArguments`` a ``train`` job or ``relwatch train`` runs with."""
    from relwatch.classify.train import TrainingArguments

    overrides: dict[str, Any] = {"model": params.model, "base_model": params.base_model}
    if params.datasets is not None:
        overrides["datasets"] = tuple(params.datasets)
        # Not the cross-validated recipe: the validation split chooses the checkpoint and
        # fits the temperature, as it must for a mix nobody cross-validated.
        overrides.update(refit=False, temperature=None, student_temperature=None)
    if params.epochs is not None:
        overrides["num_epochs"] = params.epochs
    if params.max_length is not None:
        overrides["max_length"] = params.max_length
    if params.seed is not None:
        overrides["seed"] = params.seed
    if params.quick:
        return TrainingArguments.quick(**overrides)
    if params.thorough:
        return TrainingArguments.thorough(**overrides)
    return TrainingArguments(**overrides)


def _predict(params: PredictFileParams, settings: Settings) -> dict[str, Any]:
    """Label a JSONL file with a registered or local model (bulk batch prediction)."""
    from relwatch.flows.predict import predict_jsonl

    stats, loaded = predict_jsonl(params, settings=settings)
    return {
        "model_version": loaded.version,
        "read": stats.read,
        "written": stats.written,
        "skipped": stats.skipped,
        "pairs": stats.pairs,
        "not_english": stats.not_english,
        "errors": stats.errors[:20],
    }


def _predict_db(params: PredictDbParams, settings: Settings) -> dict[str, Any]:
    """Classify the stored pairs the model version has not classified yet."""
    from relwatch.flows.predict import predict_db

    stats, loaded = predict_db(
        settings=settings,
        model=params.model,
        start=params.start,
        end=params.end,
        limit=params.limit,
    )
    return {
        "model_name": loaded.name,
        "model_version": loaded.version,
        "pending": stats.pending,
        "predicted": stats.predicted,
        "seconds": round(stats.seconds, 2),
        "per_second": round(stats.per_second, 1),
    }


def _index_build(params: IndexBuildParams, settings: Settings) -> dict[str, Any]:
    """Recompute the index for the days that have new predictions."""
    from relwatch.flows.index import build

    report = build(
        settings=settings, model=params.model, start=params.start, end=params.end, full=params.full
    )
    return report.to_dict()


def _predict_texts(params: PredictTextsParams, settings: Settings) -> dict[str, Any]:
    """Classify many texts (bulk form of the API's predict); the answers are the result."""
    from relwatch.serve.models import load_model
    from relwatch.serve.relations import TextItem, predict_items_sync

    loaded = load_model(
        params.model or settings.serve_model, settings=settings, threads=settings.serve_threads
    )
    model = {"name": loaded.name, "version": loaded.version}
    items = [TextItem(t.text, t.source, t.target) for t in params.texts]
    answers = predict_items_sync(loaded.engine, model, items, params.lang)
    return {
        "model": model,
        "texts": len(items),
        "pairs": sum(len(a["pairs"]) for a in answers),
        "items": answers,
    }


HANDLERS: dict[str, Handler] = {
    "doctor": _doctor,
    "crawl": _crawl,
    "import_reuters": _import_reuters,
    "extract": _extract,
    "train": _train,
    "predict": _predict,
    "predict_db": _predict_db,
    "index_build": _index_build,
    "predict_texts": _predict_texts,
}


def job_kinds() -> list[str]:
    return sorted(HANDLERS)


def run_handler(kind: str, params: JobParams, settings: Settings) -> dict[str, Any]:
    return HANDLERS[kind](params, settings)
