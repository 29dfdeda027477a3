"""The ``relwatch`` command line: a thin layer over the library.

Each stage registers its own commands from a module of this package, so the CLI grows
with the data flow: system (db, doctor), collect, extract, classify.
"""

from __future__ import annotations

import typer

from relwatch.cli import collect, extract, index, jobs, models, serve, system, train
from relwatch.cli._common import run_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="relwatch",
    help=(
        "relwatch reads international news and measures how relations between countries "
        "move, day by day.\n\n"
        "Typical flow: [bold]relwatch db upgrade[/] → [bold]relwatch crawl[/] (or "
        "[bold]relwatch import reuters[/]) → [bold]relwatch extract --db[/] → "
        "[bold]relwatch train[/] → [bold]relwatch models promote[/] → "
        "[bold]relwatch predict --db[/] → [bold]relwatch index build[/] → "
        "[bold]relwatch index show --pair KOR-JPN[/] or [bold]relwatch serve[/].\n\n"
        "Everything runs embedded under .relwatch/ until RELWATCH_* settings point it at "
        "PostgreSQL, MLflow, Redis and Celery; [bold]relwatch doctor[/] shows which."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

for module in (system, jobs, collect, extract, train, models, index, serve):
    module.register(app)


def main() -> None:
    """Entry point of the ``relwatch`` script."""
    run_app(app)
