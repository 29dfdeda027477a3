"""Index flow: bring the pair index of one model version up to date, in one transaction.

The one call behind ``relwatch index build`` and the ``index_build`` job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from relwatch.core.config import Settings
from relwatch.core.db import require_schema, session_scope
from relwatch.core.errors import InputError
from relwatch.index import BuildReport, build_index, current_params, latest_prediction_model

__all__ = ["build", "parse_model"]


def parse_model(spec: str | None) -> tuple[str | None, str | None]:
    """``NAME@VERSION`` → (NAME, VERSION); ``VERSION`` → (None, VERSION); None → (None, None)."""
    if spec is None or not spec.strip():
        return None, None
    name, sep, version = spec.strip().rpartition("@")
    if (sep and not name) or not version:
        raise InputError(f"model {spec!r}: expected NAME@VERSION or VERSION")
    return (name or None), version


def build(
    *,
    settings: Settings,
    model: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    full: bool = False,
    weighting: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> BuildReport:
    """Recompute the days with new predictions of ``model`` (default: the newest version)."""
    require_schema(settings.database_url)
    name, version = parse_model(model)
    with session_scope(settings.database_url) as session:
        if name is None:
            name, version = latest_prediction_model(session, version)
        assert version is not None
        params = None
        if weighting is not None:
            base = current_params(session, model_name=name, model_version=version).to_dict()
            params = {**base, "weighting": weighting}
        return build_index(
            session,
            model_name=name,
            model_version=version,
            start=start,
            end=end,
            params=params,
            full=full,
            progress=progress,
        )
