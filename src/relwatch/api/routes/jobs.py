"""``/v1/jobs``: submit bulk and scheduled work, and follow it; the API never waits on a job."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool

from relwatch.api.deps import ApiKeyHeader, JobsDep, SessionDep, SettingsDep, admin_allowed
from relwatch.api.schemas import ErrorBody, JobAccepted, JobRequest
from relwatch.flows import get_job, job_dict, list_jobs
from relwatch.flows.params import parse_params, server_paths
from relwatch.flows.worker import submit

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses={422: {"model": ErrorBody}})


@router.post(
    "",
    status_code=202,
    response_model=JobAccepted,
    responses={403: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def create(
    body: JobRequest, settings: SettingsDep, jobs: JobsDep, x_api_key: ApiKeyHeader = None
) -> dict[str, Any]:
    """Record a job and hand it to a worker (or a background thread without a broker).

    Kinds: ``predict_texts`` (``{"texts": [{"text", "source"?, "target"?}], "model"?,
    "lang"?}``), ``predict_db`` (``{"start"?, "end"?, "model"?, "limit"?}``),
    ``index_build``, ``extract``, ``crawl``, ``train``, ``doctor`` … Parameters that name
    files or folders on the server need the admin key.
    """
    checked = parse_params(body.kind, body.params)
    paths = server_paths(checked)
    if paths:
        admin_allowed(settings, x_api_key)
    job_id = await run_in_threadpool(submit, body.kind, body.params, settings=settings, runner=jobs)
    return {"id": job_id, "status": "queued"}


@router.get("")
def index(
    session: SessionDep,
    limit: int = Query(20, ge=1, le=500),
    kind: str | None = Query(None, max_length=50),
    status: str | None = Query(None, max_length=20),
) -> dict[str, Any]:
    """Recent jobs, newest first."""
    return {
        "jobs": [job_dict(j) for j in list_jobs(session, limit=limit, kind=kind, status=status)]
    }


@router.get("/{job_id}", responses={404: {"model": ErrorBody}})
def show(
    job_id: Annotated[str, Path(min_length=1, max_length=64)], session: SessionDep
) -> dict[str, Any]:
    """Status, progress, result or error of one job (a unique id prefix of 4+ characters works)."""
    return job_dict(get_job(session, job_id))
