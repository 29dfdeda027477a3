"""Batch prediction of a JSON-lines file: resolve the model, label, write atomically.

The calls behind ``relwatch predict --input`` / ``--db`` and the ``predict`` and
``predict_db`` jobs, so a command and a job write the same ``model_version`` for the same
model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from relwatch.classify.predict import PredictStats, predict_file
from relwatch.classify.stored import (
    DEFAULT_CHUNK,
    StoredPredictStats,
    pending_pairs,
    predict_stored_pairs,
)
from relwatch.core.config import Settings
from relwatch.core.jsonl import check_input_file, check_output_path
from relwatch.flows.params import PredictFileParams
from relwatch.serve.models import LoadedModel, load_model

__all__ = ["predict_db", "predict_jsonl"]


def predict_jsonl(
    params: PredictFileParams,
    *,
    settings: Settings,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[PredictStats, LoadedModel]:
    """Check input and output first, then load the model and label the file."""
    check_input_file(params.input)
    check_output_path(params.output, inputs=(params.input,))
    loaded = load_model(params.model, settings=settings, precision=params.precision)
    stats = predict_file(
        loaded.engine,
        params.input,
        params.output,
        model_version=loaded.version,
        batch_size=params.batch_size,
        on_progress=on_progress,
    )
    return stats, loaded


def predict_db(
    *,
    settings: Settings,
    model: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    on_progress: Callable[[StoredPredictStats], None] | None = None,
    on_start: Callable[[LoadedModel, int], None] | None = None,
) -> tuple[StoredPredictStats, LoadedModel]:
    """Classify the stored pairs a model version (default: the champion) has not seen."""
    from relwatch.core.db import require_schema, session_factory, session_scope

    require_schema(settings.database_url)
    loaded = load_model(model, settings=settings)
    if on_start is not None:
        with session_scope(settings.database_url) as session:
            todo = pending_pairs(
                session, model_name=loaded.name, model_version=loaded.version, start=start, end=end
            )
        on_start(loaded, min(todo, limit) if limit is not None else todo)
    stats = predict_stored_pairs(
        session_factory(settings.database_url),
        loaded.engine,
        model_name=loaded.name,
        model_version=loaded.version,
        start=start,
        end=end,
        limit=limit,
        chunk_size=chunk_size,
        on_progress=on_progress,
    )
    return stats, loaded
