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
