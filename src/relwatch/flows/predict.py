"""Batch prediction of a JSON-lines file: resolve the model, label, write atomically.

The one call behind ``relwatch predict --input`` and the ``predict`` job, so both write
the same ``model_version`` for the same model.
"""

from __future__ import annotations

from collections.abc import Callable

from relwatch.classify.predict import PredictStats, predict_file
from relwatch.core.config import Settings
from relwatch.core.jsonl import check_input_file, check_output_path
from relwatch.flows.params import PredictFileParams
from relwatch.serve.models import LoadedModel, load_model

__all__ = ["predict_jsonl"]


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
