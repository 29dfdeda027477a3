"""The schedule grammar of the source registry and the beat: ``30m``, ``6h``, ``1d`` or cron.

One parser for both: the registry validates a source's ``schedule`` with it, and the
Celery beat turns the parsed value into its own schedule objects, so a schedule the
registry accepts is one the beat can run.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["DEFAULT_SCHEDULE", "Cron", "parse_schedule"]

_DURATION = re.compile(r"^(?P<number>\d+)(?P<unit>[smhd])$")
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z]+$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
DEFAULT_SCHEDULE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Cron:
    """A 5-field cron expression, field by field."""

    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str


def parse_schedule(spec: str | None) -> dt.timedelta | Cron:
    """A positive duration or a cron; ``ValueError`` naming the grammar otherwise."""
    if spec is None or not spec.strip():
        return DEFAULT_SCHEDULE
    spec = spec.strip()
    duration = _DURATION.match(spec)
    if duration:
        value = dt.timedelta(**{_UNITS[duration["unit"]]: int(duration["number"])})
        if value <= dt.timedelta(0):
            raise ValueError(f"schedule {spec!r} must be longer than zero")
        return value
    fields = spec.split()
    if len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields):
        return Cron(*fields)
    raise ValueError(f"must be a duration like '30m'/'6h'/'1d' or a 5-field cron, got {spec!r}")
