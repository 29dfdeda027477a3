"""Structured logging: key=value lines on a terminal, JSON lines for log shippers."""

from __future__ import annotations

import logging
import sys

import structlog

from relwatch.core.config import Settings

_configured = False


def configure_logging(
    settings: Settings | None = None, *, level: str | None = None, json: bool | None = None
) -> None:
    """Route stdlib and structlog records through one renderer on stderr."""
    global _configured
    level = level or (settings.log_level if settings else "INFO")
    json = (settings.log_json if settings else False) if json is None else json
    renderer = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "alembic", "mlflow", "urllib3", "trafilatura"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    _configured = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
