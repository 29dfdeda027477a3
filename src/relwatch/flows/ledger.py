"""The job ledger: every job is a row first, so every face and worker sees one truth.

Queries for the CLI's ``jobs list/show`` and the API's ``/v1/jobs`` live here, and so do
the state changes a worker makes; ids may be given whole or by the short prefix that
``jobs list`` prints.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relwatch.core.errors import InputError, JobNotFound
from relwatch.core.models import Job, utcnow

__all__ = [
    "JOB_STATUSES",
    "SHORT_ID",
    "create_job",
    "finish_job",
    "get_job",
    "job_dict",
    "list_jobs",
    "set_progress",
    "start_job",
]

JOB_STATUSES = ("queued", "running", "succeeded", "failed")
SHORT_ID = 8
_MIN_PREFIX = 4


def create_job(session: Session, *, kind: str, params: dict[str, Any]) -> Job:
    job = Job(kind=kind, params=params, status="queued")
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: str) -> Job:
    """The job with this id, or with this unique id prefix (at least 4 characters)."""
    job_id = job_id.strip().lower()
    job = session.get(Job, job_id)
    if job is not None:
        return job
    if len(job_id) < _MIN_PREFIX:
        raise InputError(f"job id {job_id!r} is too short; give at least {_MIN_PREFIX} characters")
    matches = session.scalars(select(Job).where(Job.id.startswith(job_id)).limit(2)).all()
    if not matches:
        raise JobNotFound(f"no job {job_id} (see: relwatch jobs list)")
    if len(matches) > 1:
        raise InputError(f"job id prefix {job_id!r} matches several jobs; give more characters")
    return matches[0]


def list_jobs(
    session: Session, *, limit: int = 20, kind: str | None = None, status: str | None = None
) -> list[Job]:
    if limit < 1:
        raise InputError("limit must be at least 1")
    if status is not None and status not in JOB_STATUSES:
        raise InputError(f"status must be one of {', '.join(JOB_STATUSES)}, not {status!r}")
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    if status:
        query = query.where(Job.status == status)
    return list(session.scalars(query))


def job_dict(job: Job) -> dict[str, Any]:
    """A JSON-friendly view of a job (the CLI's ``jobs show`` and the API)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "params": job.params,
        "result": job.result,
        "error": job.error,
        "celery_task_id": job.celery_task_id,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def start_job(session: Session, job: Job) -> None:
    job.status, job.started_at = "running", utcnow()


def set_progress(session: Session, job_id: str, progress: float) -> None:
    job = session.get(Job, job_id)
    if job is not None:
        job.progress = max(0.0, min(1.0, float(progress)))


def finish_job(
    session: Session, job: Job, *, result: dict[str, Any] | None, error: str | None
) -> None:
    job.status = "failed" if error else "succeeded"
    job.result, job.error, job.finished_at = result, error, utcnow()
    if not error:
        job.progress = 1.0
