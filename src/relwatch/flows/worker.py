"""The Celery app: bulk and scheduled work on many machines, or in-process by default.

Work is recorded as a :class:`~relwatch.core.models.Job` row first, then handed to Celery
with only the job id, so the API, the CLI and any worker see one truth in the database.
With no ``RELWATCH_BROKER_URL`` Celery runs tasks eagerly in the calling process; with one
(Redis or RabbitMQ), ``celery -A relwatch.worker worker`` processes them anywhere. This
module is a face: it is the one place of the worker that reads the global settings.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from celery import Celery

from relwatch.core.config import Settings, get_settings
from relwatch.core.db import session_scope
from relwatch.core.errors import RelwatchError, ServiceUnavailable
from relwatch.core.logging import get_logger
from relwatch.core.models import Job
from relwatch.flows import ledger
from relwatch.flows.jobs import run_handler
from relwatch.flows.params import parse_params

__all__ = ["JobThreads", "app", "celery_app", "execute", "make_celery", "submit"]

log = get_logger(__name__)


def make_celery(settings: Settings) -> Celery:
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


celery_app = make_celery(get_settings())
app = celery_app


def execute(job_id: str, *, settings: Settings) -> str:
    """Run one recorded job and store its outcome; failures are data, not crashes."""
    with session_scope(settings.database_url) as session:
        job = session.get(Job, job_id)
        if job is None:
            log.error("job.missing", job_id=job_id)
            return "missing"
        ledger.start_job(session, job)
        kind, raw = job.kind, dict(job.params or {})
    log.info("job.start", job_id=job_id, kind=kind)
    result, error = None, None
    try:
        result = run_handler(kind, parse_params(kind, raw), settings)
    except RelwatchError as exc:
        error = str(exc)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.error("job.failed", job_id=job_id, kind=kind, trace=traceback.format_exc(limit=5))
    with session_scope(settings.database_url) as session:
        job = session.get(Job, job_id)
        ledger.finish_job(session, job, result=result, error=error)
        status = job.status
    log.info("job.end", job_id=job_id, kind=kind, status=status, error=error)
    return status


@celery_app.task(name="relwatch.execute_job", bind=True)
def execute_job(self: Any, job_id: str) -> str:
    return execute(job_id, settings=get_settings())


def _check_broker(settings: Settings) -> None:
    if settings.embedded:
        return
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=5)
    except Exception as exc:
        raise ServiceUnavailable(
            f"cannot reach the Celery broker {settings.broker_url}: {exc}; "
            "start it or unset RELWATCH_BROKER_URL to run jobs in-process"
        ) from None


def submit(
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    settings: Settings,
    runner: Callable[[str], None] | None = None,
) -> str:
    """Validate, record and enqueue a job; returns its id (in-process: already finished).

    Nothing is written when the parameters are invalid or the broker is unreachable; a
    job whose hand-off fails after all is marked failed, never left queued. Without a
    broker, ``runner`` (e.g. :class:`JobThreads`) takes the recorded job instead of the
    calling thread, so a server answers at once while the job runs.
    """
    from relwatch.core.db import require_schema

    checked = parse_params(kind, params)
    require_schema(settings.database_url)
    _check_broker(settings)
    with session_scope(settings.database_url) as session:
        job_id = ledger.create_job(session, kind=kind, params=checked.model_dump(mode="json")).id
    if settings.embedded and runner is not None:
        runner(job_id)
        return job_id
    try:
        async_result = execute_job.apply_async(args=[job_id], retry=False)
    except Exception as exc:
        with session_scope(settings.database_url) as session:
            job = session.get(Job, job_id)
            ledger.finish_job(session, job, result=None, error=f"not queued: {exc}")
        raise ServiceUnavailable(f"job {job_id[:8]} could not be queued: {exc}") from None
    with session_scope(settings.database_url) as session:
        job = session.get(Job, job_id)
        if job is not None and job.celery_task_id is None:
            job.celery_task_id = async_result.id
    return job_id


class JobThreads:
    """In-process jobs on background threads: what a server uses when no broker is set.

    Celery's in-process (eager) mode runs a job in the caller's thread; a web request must
    not wait for that. Jobs still queued when the server stops are marked failed, never
    left queued forever.
    """

    def __init__(self, settings: Settings, workers: int = 2) -> None:
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._futures: dict[str, Future[str]] = {}
        self._lock = threading.Lock()

    def __call__(self, job_id: str) -> None:
        with self._lock:
            self._futures = {k: f for k, f in self._futures.items() if not f.done()}
            self._futures[job_id] = self._pool.submit(execute, job_id, settings=self.settings)

    def wait(self, job_id: str, timeout: float | None = None) -> str:
        """Block until a job submitted here ends (tests, scripts)."""
        with self._lock:
            future = self._futures.get(job_id)
        return "unknown" if future is None else future.result(timeout=timeout)

    def shutdown(self) -> None:
        with self._lock:
            never_started = [k for k, f in self._futures.items() if f.cancel()]
        self._pool.shutdown(wait=False, cancel_futures=True)
        for job_id in never_started:
            with session_scope(self.settings.database_url) as session:
                job = session.get(Job, job_id)
                if job is not None and job.status == "queued":
                    ledger.finish_job(
                        session, job, result=None, error="the server stopped before it started"
                    )


@celery_app.task(name="relwatch.submit_job")
def submit_job_task(kind: str, params: dict[str, Any]) -> str:
    """Beat's entry point: record the job (so it shows in `jobs list`) and run it."""
    return submit(kind, params, settings=get_settings())


@celery_app.on_after_finalize.connect
def _setup_periodic_tasks(sender: Celery, **_: Any) -> None:
    settings = get_settings()
    if settings.embedded:
        return
    from relwatch.collect import load_registry
    from relwatch.flows.beat import beat_schedule

    try:
        registry = load_registry(sources_file=settings.sources_file)
    except RelwatchError as exc:  # a broken user registry must not stop the worker
        log.error("beat.registry_invalid", error=str(exc))
        return
    sender.conf.beat_schedule = beat_schedule(registry)
