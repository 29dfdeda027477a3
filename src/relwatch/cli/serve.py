"""``relwatch serve``: the HTTP API (and dashboard) under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from relwatch.cli._common import console, settings


def serve_cmd(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (default RELWATCH_API_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on (default RELWATCH_API_PORT)."),
    ] = None,
    reload_interval: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Seconds between checks of the champion alias; 0 = no hot reload "
            "(default RELWATCH_SERVE_RELOAD_INTERVAL_S).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model to serve: models:/NAME@ALIAS, a version or a local package folder "
            "(default RELWATCH_SERVE_MODEL, else the champion).",
        ),
    ] = None,
) -> None:
    """Run the API: predict, analyze articles, the index, models, jobs, health and metrics.

    The champion is loaded at start and followed: when the alias moves, the new version
    loads in the background and is swapped in (a version that fails to load or to answer
    leaves the old one serving). OpenAPI docs at /docs; the dashboard at /.

    Examples:
      relwatch serve
      relwatch serve --host 0.0.0.0 --port 8080 --reload-interval 60
      relwatch serve --model .relwatch/models/relwatch-relation/v1-3fcf4043
    """
    import uvicorn

    from relwatch.core.config import get_settings

    # Options become settings the way every other knob does (RELWATCH_*), so the app
    # factory reads one Settings object; the faces stay independent (uvicorn imports the
    # API by name).
    for name, value in (
        ("API_HOST", host),
        ("API_PORT", port),
        ("SERVE_RELOAD_INTERVAL_S", reload_interval),
        ("SERVE_MODEL", model),
    ):
        if value is not None:
            os.environ[f"RELWATCH_{name}"] = str(value)
    get_settings.cache_clear()
    config = settings()
    console.print(
        f"relwatch API on http://{config.api_host}:{config.api_port} "
        f"(docs /docs, dashboard /); model {config.serve_model or 'champion (followed)'}"
    )
    uvicorn.run(
        "relwatch.api.main:create_app",
        factory=True,
        host=config.api_host,
        port=config.api_port,
        log_config=None,  # our structured logging (configured by the CLI) handles uvicorn's
        access_log=False,  # request counts and latency are in /metrics
        timeout_graceful_shutdown=10,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
