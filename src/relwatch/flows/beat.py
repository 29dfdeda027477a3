"""Celery beat's schedule: crawl each registry source on its own schedule, extract often.

The schedule strings are parsed by :func:`relwatch.core.schedule.parse_schedule`, the same
parser the source registry validates with.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from relwatch.collect.sources import Registry
from relwatch.core.schedule import Cron, parse_schedule

__all__ = ["EXTRACT_EVERY", "beat_schedule", "celery_schedule"]

EXTRACT_EVERY = dt.timedelta(minutes=15)


def celery_schedule(spec: str | None) -> Any:
    """A registry ``schedule`` ('30m', '6h', '1d' or 5-field cron) as a beat schedule."""
    from celery.schedules import crontab

    parsed = parse_schedule(spec)
    if isinstance(parsed, Cron):
        return crontab(
            minute=parsed.minute,
            hour=parsed.hour,
            day_of_month=parsed.day_of_month,
            month_of_year=parsed.month_of_year,
            day_of_week=parsed.day_of_week,
        )
    return parsed


def beat_schedule(registry: Registry) -> dict[str, Any]:
    """One entry per enabled source, plus the extraction of pending articles."""
    schedule: dict[str, Any] = {}
    for spec in registry.enabled():
        schedule[f"crawl:{spec.name}"] = {
            "task": "relwatch.submit_job",
            "schedule": celery_schedule(spec.schedule),
            "args": ["crawl", {"sources": [spec.name]}],
        }
    schedule["extract:pending"] = {
        "task": "relwatch.submit_job",
        "schedule": EXTRACT_EVERY,
        "args": ["extract", {}],
    }
    return schedule
