"""The daily pair index: tone, interval, volume, attention, alerts and evidence.

Reads predictions (``relwatch.core.models``) and writes ``index_points`` and
``index_alerts``; depends on ``relwatch.core`` only. Pure arithmetic lives in ``tone`` and
``alerts`` (frames in, frames out), database access in ``store``, the incremental build in
``build`` and the read side in ``query``.
"""

from __future__ import annotations

from relwatch.index.build import BuildReport, build_index, current_params
from relwatch.index.params import DEFAULT_WEIGHTING, GRAINS, Hyper, IndexParams
from relwatch.index.query import (
    EXPORT_COLUMNS,
    SERIES_COLUMNS,
    AlertRecord,
    EvidenceItem,
    evidence,
    export_index,
    list_alerts,
    matrix,
    parse_country,
    parse_pair,
    query_series,
    resolve_model,
    top_shifts,
)
from relwatch.index.store import latest_prediction_model

__all__ = [
    "DEFAULT_WEIGHTING",
    "EXPORT_COLUMNS",
    "GRAINS",
    "SERIES_COLUMNS",
    "AlertRecord",
    "BuildReport",
    "EvidenceItem",
    "Hyper",
    "IndexParams",
    "build_index",
    "current_params",
    "evidence",
    "export_index",
    "latest_prediction_model",
    "list_alerts",
    "matrix",
    "parse_country",
    "parse_pair",
    "query_series",
    "resolve_model",
    "top_shifts",
]
