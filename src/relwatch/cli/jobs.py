"""Job commands: submit background work and follow it (in-process or on Celery workers)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from relwatch.cli._common import UserError, console
from relwatch.core.db import session_scope
from relwatch.core.models import Job

jobs_app = typer.Typer(
    help=(
        "Background jobs. Without RELWATCH_BROKER_URL they run in this process; with it, on "
        "any `celery -A relwatch.worker worker`. Every job is a row you can list and inspect."
    ),
    no_args_is_help=True,
)


@jobs_app.command("submit")
def submit_job(
    kind: Annotated[
        str, typer.Argument(help="Job kind, e.g. 'doctor' (see `relwatch jobs kinds`).")
    ],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="KEY=VALUE (VALUE parsed as JSON when it can be)."),
    ] = None,
) -> None:
    """Record a job and hand it to the workers; prints its id."""
    from relwatch import worker

    params: dict[str, object] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--param {item!r}: expected KEY=VALUE")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    try:
        job_id = worker.submit(kind, params)
    except worker.UnknownJobKind as exc:
        raise UserError(str(exc)) from None
    console.print(job_id)


@jobs_app.command("kinds")
def kinds() -> None:
    """List the job kinds workers can execute."""
    from relwatch import worker

    for kind in worker.job_kinds():
        console.print(kind)


@jobs_app.command("list")
def list_jobs(
    limit: Annotated[int, typer.Option(min=1, help="How many recent jobs.")] = 20,
) -> None:
    """Show recent jobs, newest first."""
    table = Table(title="jobs")
    for col in ("id", "kind", "status", "created", "finished", "error"):
        table.add_column(col)
    with session_scope() as s:
        for job in s.scalars(select(Job).order_by(Job.created_at.desc()).limit(limit)):
            table.add_row(
                job.id,
                job.kind,
                job.status,
                f"{job.created_at:%Y-%m-%d %H:%M:%S}",
                f"{job.finished_at:%H:%M:%S}" if job.finished_at else "-",
                (job.error or "")[:60],
            )
    console.print(table)


@jobs_app.command("show")
def show_job(job_id: Annotated[str, typer.Argument(help="Job id from `jobs list`.")]) -> None:
    """Print one job as JSON (params, result, error, timings)."""
    with session_scope() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise UserError(f"no job {job_id}")
        data = {
            "id": job.id,
            "kind": job.kind,
            "status": job.status,
            "params": job.params,
            "result": job.result,
            "error": job.error,
            "celery_task_id": job.celery_task_id,
            "created_at": str(job.created_at),
            "started_at": str(job.started_at),
            "finished_at": str(job.finished_at),
        }
    console.print_json(json.dumps(data, default=str))


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
