"""Job commands: submit background work and follow it (in-process or on Celery workers)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from relwatch.cli._common import console, db_session, settings
from relwatch.core.errors import InputError

jobs_app = typer.Typer(
    help=(
        "Background jobs. Without RELWATCH_BROKER_URL they run in this process; with it, on "
        "any `celery -A relwatch.worker worker`. Every job is a row you can list and inspect.\n\n"
        "Examples: [bold]relwatch jobs submit extract -p limit=500[/] · "
        "[bold]relwatch jobs list --status failed[/] · [bold]relwatch jobs show 3f2a9c1e[/]"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def parse_param_options(items: list[str] | None) -> dict[str, object]:
    """``KEY=VALUE`` options as a dict; VALUE is parsed as JSON when it can be."""
    params: dict[str, object] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param {item!r}: expected KEY=VALUE")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


@jobs_app.command("submit")
def submit_job(
    kind: Annotated[
        str, typer.Argument(help="Job kind, e.g. 'doctor' (see `relwatch jobs kinds`).")
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="KEY=VALUE (VALUE parsed as JSON when it can be); checked before the job "
            "is recorded, e.g. -p limit=100 -p countries='[\"KOR\"]'.",
        ),
    ] = None,
) -> None:
    """Check the parameters, record the job and hand it to the workers; prints its id."""
    from relwatch.flows.worker import submit

    console.print(submit(kind, parse_param_options(param), settings=settings()))


@jobs_app.command("kinds")
def kinds() -> None:
    """List the job kinds workers can execute, with their parameters."""
    from relwatch.flows.params import JOB_PARAMS

    for kind, model in sorted(JOB_PARAMS.items()):
        fields = ", ".join(model.model_fields) or "-"
        console.print(f"[bold]{kind}[/]: {fields}", highlight=False)


@jobs_app.command("list")
def list_jobs(
    limit: Annotated[int, typer.Option(min=1, help="How many recent jobs.")] = 20,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this kind.")] = None,
    status: Annotated[
        str | None, typer.Option(help="Only jobs in this status (queued|running|...).")
    ] = None,
) -> None:
    """Show recent jobs, newest first (ids shortened; `jobs show` takes the short id)."""
    from relwatch.flows import ledger

    table = Table(title="jobs")
    for col in ("id", "kind", "status", "created", "finished", "error"):
        table.add_column(col)
    with db_session() as session:
        for job in ledger.list_jobs(session, limit=limit, kind=kind, status=status):
            table.add_row(
                job.id[: ledger.SHORT_ID],
                job.kind,
                job.status,
                f"{job.created_at:%Y-%m-%d %H:%M:%S}",
                f"{job.finished_at:%H:%M:%S}" if job.finished_at else "-",
                (job.error or "")[:60],
            )
    console.print(table)


@jobs_app.command("show")
def show_job(
    job_id: Annotated[str, typer.Argument(help="Job id, or its short form from `jobs list`.")],
) -> None:
    """Print one job as JSON (params, result, error, timings)."""
    from relwatch.flows import ledger

    with db_session() as session:
        data = ledger.job_dict(ledger.get_job(session, job_id))
    console.print_json(json.dumps(data, default=str))


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
