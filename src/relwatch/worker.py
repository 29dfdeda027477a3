"""The Celery app: bulk and scheduled work on many machines, or in-process by default.

Work is recorded as a :class:`~relwatch.core.models.Job` row first, then handed to Celery
with only the job id, so the API, the CLI and any worker see one truth in the database.
With no ``RELWATCH_BROKER_URL`` Celery runs tasks eagerly in the calling process; with one
(Redis or RabbitMQ), ``celery -A relwatch.worker worker`` processes them anywhere.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from celery import Celery

from relwatch.core.config import get_settings
from relwatch.core.db import session_scope
from relwatch.core.logging import get_logger
from relwatch.core.models import Job, utcnow

log = get_logger(__name__)

JobHandler = Callable[[dict[str, Any]], dict[str, Any]]
_HANDLERS: dict[str, JobHandler] = {}


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Register the library call that executes jobs of ``kind``."""

    def decorate(fn: JobHandler) -> JobHandler:
        _HANDLERS[kind] = fn
        return fn

    return decorate


def job_kinds() -> list[str]:
    return sorted(_HANDLERS)


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery("relwatch")
    app.conf.update(
        broker_url=settings.broker_url or "memory://",
        result_backend=settings.result_backend or None,
        task_always_eager=settings.embedded,
        task_eager_propagates=False,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        broker_connection_retry_on_startup=True,
    )
    return app


celery_app = make_celery()
app = celery_app


@celery_app.task(name="relwatch.execute_job", bind=True)
def execute_job(self: Any, job_id: str) -> str:
    """Run one recorded job and store its outcome; failures are data, not crashes."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            log.error("job.missing", job_id=job_id)
            return "missing"
        job.status, job.started_at = "running", utcnow()
        kind, params = job.kind, dict(job.params or {})
    log.info("job.start", job_id=job_id, kind=kind)
    try:
        result = _HANDLERS[kind](params)
        status, error = "succeeded", None
    except Exception as exc:
        result, status = None, "failed"
        error = f"{type(exc).__name__}: {exc}"
        log.error(
            "job.failed", job_id=job_id, kind=kind, error=error, trace=traceback.format_exc(limit=5)
        )
    with session_scope() as session:
        job = session.get(Job, job_id)
        job.status, job.result, job.error = status, result, error
        job.progress, job.finished_at = 1.0 if status == "succeeded" else job.progress, utcnow()
    log.info("job.end", job_id=job_id, kind=kind, status=status)
    return status


class UnknownJobKind(ValueError):
    """Asked for a job kind no handler is registered for."""


def submit(kind: str, params: dict[str, Any] | None = None) -> str:
    """Record a job and enqueue it; returns the job id (in-process: already finished)."""
    if kind not in _HANDLERS:
        raise UnknownJobKind(f"unknown job kind {kind!r}; known: {', '.join(job_kinds())}")
    with session_scope() as session:
        job = Job(kind=kind, params=params or {}, status="queued")
        session.add(job)
        session.flush()
        job_id = job.id
    async_result = execute_job.apply_async(args=[job_id])
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is not None and job.celery_task_id is None:
            job.celery_task_id = async_result.id
    return job_id


@job_handler("doctor")
def _doctor_job(params: dict[str, Any]) -> dict[str, Any]:
    """Check backends from the worker's side: proves a remote worker can reach them."""
    from dataclasses import asdict

    from relwatch.core.health import check_all

    return {"checks": [asdict(c) for c in check_all(get_settings())]}


@job_handler("crawl")
def _crawl_job(params: dict[str, Any]) -> dict[str, Any]:
    """One crawl of the registry (or the named sources / countries) into the database."""
    from relwatch.collect import crawl, load_registry
    from relwatch.core.db import session_factory

    registry = load_registry(params.get("sources_file"))
    specs = [s for s in registry.sources if s.enabled]
    if params.get("sources"):
        specs = registry.select(params["sources"])
    if params.get("countries"):
        wanted = {c.upper() for c in params["countries"]}
        specs = [s for s in specs if s.country in wanted]
    report = crawl(session_factory(), specs, max_items=params.get("max_items"))
    return report.as_dict()


@job_handler("import_reuters")
def _import_reuters_job(params: dict[str, Any]) -> dict[str, Any]:
    """Load Reuters-21578 stories from the data directory as dated articles."""
    from dataclasses import asdict
    from pathlib import Path

    from relwatch.collect import import_reuters

    path = Path(params.get("path") or get_settings().require_data_dir() / "reuters21578")
    with session_scope() as session:
        report = import_reuters(session, path, params.get("limit"))
    return {k: str(v) if hasattr(v, "isoformat") else v for k, v in asdict(report).items()}


@job_handler("extract")
def _extract_job(params: dict[str, Any]) -> dict[str, Any]:
    """Sentences, mentions and pairs for articles not yet extracted."""
    from relwatch.extract.pipeline import run_extract_job

    return run_extract_job(params)


_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def celery_schedule(spec: str | None) -> Any:
    """A registry ``schedule`` ('30m', '6h', '1d' or 5-field cron) as a beat schedule."""
    from datetime import timedelta

    from celery.schedules import crontab

    if not spec:
        return timedelta(hours=1)
    fields = spec.split()
    if len(fields) == 5:
        minute, hour, day_of_month, month_of_year, day_of_week = fields
        return crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
    number, unit = spec[:-1], spec[-1]
    return timedelta(**{_UNITS[unit]: float(number)})


def _beat_schedule() -> dict[str, Any]:
    """Celery beat: crawl each registry source on its own ``schedule`` (default hourly)."""
    from datetime import timedelta

    from relwatch.collect import load_registry

    schedule: dict[str, Any] = {}
    try:
        registry = load_registry()
    except Exception as exc:  # a broken user registry must not stop the worker
        log.error("beat.registry_invalid", error=str(exc))
        return schedule
    for spec in registry.sources:
        if not spec.enabled:
            continue
        schedule[f"crawl:{spec.name}"] = {
            "task": "relwatch.submit_job",
            "schedule": celery_schedule(spec.schedule),
            "args": ["crawl", {"sources": [spec.name]}],
        }
    schedule["extract:pending"] = {
        "task": "relwatch.submit_job",
        "schedule": timedelta(minutes=15),
        "args": ["extract", {}],
    }
    return schedule


@celery_app.task(name="relwatch.submit_job")
def submit_job_task(kind: str, params: dict[str, Any]) -> str:
    """Beat's entry point: record the job (so it shows in `jobs list`) and run it."""
    return submit(kind, params)


@celery_app.on_after_finalize.connect
def _setup_periodic_tasks(sender: Celery, **_: Any) -> None:
    if not get_settings().embedded:
        sender.conf.beat_schedule = _beat_schedule()


@job_handler("train")
def _train_job(params: dict[str, Any]) -> dict[str, Any]:
    """Train, evaluate, export and register a model (bulk work for a worker with CPU/GPU)."""
    from relwatch.classify.pipeline import run_training
    from relwatch.classify.train import TrainingArguments

    overrides = {k: v for k, v in params.items() if k != "quick"}
    if "datasets" in overrides:
        overrides["datasets"] = tuple(overrides["datasets"])
    args = (
        TrainingArguments.quick(**overrides)
        if params.get("quick")
        else TrainingArguments(**overrides)
    )
    result = run_training(args)
    return {
        "run_id": result.run_id,
        "version": result.version,
        "gate_macro_f1": result.gate.macro_f1 if result.gate else None,
        "seconds": round(result.seconds, 1),
    }


@job_handler("predict")
def _predict_job(params: dict[str, Any]) -> dict[str, Any]:
    """Label a JSONL file with a registered or local model (bulk batch prediction)."""
    from dataclasses import asdict
    from pathlib import Path

    from relwatch.classify.engine import RelationModel
    from relwatch.classify.predict import predict_file
    from relwatch.track.registry import resolve_model

    spec = params.get("model") or f"models:/{get_settings().registered_model}@champion"
    model_dir, version = resolve_model(spec)
    stats = predict_file(
        RelationModel.load(model_dir),
        Path(params["input"]),
        Path(params["output"]),
        model_version=version,
    )
    return {"model_version": version, **asdict(stats)}
