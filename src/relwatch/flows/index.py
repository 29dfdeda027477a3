"""Index flow: open a transaction on the configured database and bring the index up to date.

The one call behind ``relwatch index build`` and the ``index_build`` job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from relwatch.core.config import Settings
from relwatch.core.db import require_schema, session_scope
from relwatch.index import build_index, latest_prediction_model

__all__ = ["build"]


def build(
    *,
    settings: Settings,
    model: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    full: bool = False,
    progress: Any = None,
) -> dict[str, Any]:
    """Recompute the days with new predictions of ``model`` (default: the newest version).

    ``model`` is a version (``3``) or ``NAME@VERSION``; the report says what was recomputed.
    """
    require_schema(settings.database_url)
    name, _, version = (model or "").rpartition("@")
    with session_scope(settings.database_url) as session:
        model_name, model_version = latest_prediction_model(session, version or None)
        if name and name != model_name:
            model_name = name
        report = build_index(
            session,
            model_name=model_name,
            model_version=model_version,
            start=start,
            end=end,
            full=full,
            progress=progress,
        )
    return report.to_dict()
