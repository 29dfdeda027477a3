"""Shared CLI plumbing: one-line errors with exit code 2, never a traceback."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

from relwatch.core.config import SettingsError, get_settings
from relwatch.core.logging import configure_logging

console = Console()
err_console = Console(stderr=True)


class UserError(Exception):
    """Bad input or configuration a user can fix; shown as one line, exit code 2."""


def fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code=2)


def run_app(app: typer.Typer) -> None:
    """Run the app, turning known error types into one line and exit code 2."""
    try:
        get_settings()
        configure_logging()
    except SettingsError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    try:
        code = app(standalone_mode=False)
    except (UserError, SettingsError, FileNotFoundError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
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
