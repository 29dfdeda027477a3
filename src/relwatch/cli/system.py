"""System commands: database migrations and the backend doctor."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from relwatch.cli._common import console
from relwatch.core.config import get_settings
from relwatch.core.health import check_all

db_app = typer.Typer(
    help="Database schema: apply Alembic migrations to the configured database.",
    no_args_is_help=True,
)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision; 'head' is the newest.")
    ] = "head",
) -> None:
    """Create or migrate the database schema (safe to run again and again)."""
    from relwatch.core import db

    settings = get_settings()
    settings.ensure_dirs()
    db.upgrade(settings.database_url, revision)
    current = db.current_revision(settings.database_url)
    console.print(
        f"database [bold]{_redact(settings.database_url)}[/] at revision [bold]{current}[/]"
    )


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    from relwatch.core import db

    console.print(
        db.current_revision(get_settings().database_url) or "empty (run: relwatch db upgrade)"
    )


def doctor() -> None:
    """Show every configured backend and whether it is reachable right now.

    Checks the database, the MLflow tracking store, Redis, the Celery broker and the data
    directory. Exit code 1 when a configured backend is down.
    """
    settings = get_settings()
    table = Table(title="relwatch doctor", show_lines=False)
    for column in ("backend", "configured", "mode", "status", "detail"):
        table.add_column(column)
    results = check_all(settings)
    for r in results:
        status = "[green]ok[/]" if r.ok else "[red]unreachable[/]"
        table.add_row(r.name, _redact(r.target), r.mode, status, r.detail)
    console.print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(code=1)


def _redact(url: str) -> str:
    """Hide passwords in URLs before printing them."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("doctor")(doctor)
