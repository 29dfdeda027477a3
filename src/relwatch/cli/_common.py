"""Shared CLI plumbing: one place that turns every user-facing error into one line, exit 2.

Commands raise :class:`relwatch.core.errors.RelwatchError` subclasses (or let library
ones through); :func:`run_app` prints ``error: <message>`` and exits 2. A refused promotion
exits 1 (a decision, not an error); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy.orm import Session

from relwatch.core.config import Settings, get_settings
from relwatch.core.errors import InputError, RelwatchError
from relwatch.core.logging import configure_logging

__all__ = [
    "console",
    "db_session",
    "err_console",
    "fail",
    "progress_bar",
    "run_app",
    "settings",
]

console = Console()
err_console = Console(stderr=True)


def fail(message: str) -> NoReturn:
    raise InputError(message)


def settings() -> Settings:
    """The global settings: the CLI is a face, and faces are where settings are read."""
    return get_settings()


@contextmanager
def db_session() -> Iterator[Session]:
    """A transaction on the configured database, refused early when it is not migrated."""
    from relwatch.core.db import require_schema, session_scope

    url = settings().database_url
    require_schema(url)
    with session_scope(url) as session:
        yield session


def progress_bar(
    label: str = "{task.description}",
    *,
    counter: ProgressColumn | None = None,
    extra: tuple[ProgressColumn, ...] = (),
    remaining: bool = True,
    stderr: bool = True,
    transient: bool = False,
) -> Progress:
    """The one progress bar of the CLI: label, bar, a counter (done/total by default), any
    extra columns, elapsed and (optionally) remaining time; on stderr unless told otherwise."""
    columns: list[ProgressColumn] = [
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        counter or MofNCompleteColumn(),
        *extra,
        TimeElapsedColumn(),
    ]
    if remaining:
        columns.append(TimeRemainingColumn())
    return Progress(*columns, console=err_console if stderr else console, transient=transient)


def _error(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


def run_app(app: typer.Typer) -> None:
    """Run the app, turning known error types into one line and exit code 2."""
    from sqlalchemy.exc import DBAPIError

    try:
        configure_logging(get_settings())
    except RelwatchError as exc:
        _error(str(exc))
        sys.exit(2)
    try:
        code = app(standalone_mode=False)
    except RelwatchError as exc:
        _error(str(exc))
        sys.exit(2)
    except DBAPIError as exc:
        from relwatch.core.db import describe_db_error

        _error(str(describe_db_error(exc, get_settings().database_url)))
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        # Usage errors from Typer's bundled click arrive here in non-standalone mode.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
