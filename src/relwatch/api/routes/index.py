"""``/v1/index``: the stored pair index — series, matrix, evidence, alerts, status.

The parameters are the CLI's (``relwatch index show/alerts/evidence``); ``format=csv``
returns the same rows as a CSV download. Handlers are plain functions (FastAPI runs them
in its thread pool) because the database calls block.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from relwatch.api.deps import SessionDep
from relwatch.api.schemas import ErrorBody
from relwatch.serve import indexview

router = APIRouter(
    prefix="/v1/index",
    tags=["index"],
    responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)

Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")]
Model = Annotated[
    str | None, Query(max_length=200, description="NAME@VERSION or VERSION; default: newest.")
]
Pair = Annotated[str, Query(min_length=3, max_length=20, description="e.g. KOR-JPN")]
Directed = Annotated[bool, Query(description="Directed view: source → target as written.")]


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}_"))
        elif isinstance(value, list | tuple):
            out[name] = " ".join(str(v) for v in value)
        else:
            out[name] = value
    return out


def _csv(
    rows: list[dict[str, Any]], filename: str, context: dict[str, Any] | None = None
) -> Response:
    """Rows (nested dicts flattened as parent_child) as a CSV attachment."""
    flat = [{**_flatten(context or {}), **_flatten(r)} for r in rows]
    columns = list(dict.fromkeys(k for r in flat for k in r))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("")
def series(
    session: SessionDep,
    pair: Pair,
    grain: Annotated[Literal["day", "week", "month"], Query()] = "day",
    directed: Directed = False,
    seen_from: Annotated[str, Query(max_length=3, description="Publisher country.")] = "",
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    model: Model = None,
    format: Format = "json",
) -> Any:
    """A pair's tone series with its 90% interval, volume, attention and label counts."""
    body = indexview.series_view(
        session,
        pair=pair,
        grain=grain,
        directed=directed,
        seen_from=seen_from,
        start=start,
        end=end,
        model=model,
    )
    if format == "csv":
        context = {"pair": body["pair"], "grain": grain, "directed": directed}
        return _csv(body["points"], f"relwatch_{body['pair']}_{grain}.csv", context)
    return body


@router.get("/matrix")
def matrix(
    session: SessionDep,
    countries: Annotated[
        str, Query(max_length=400, description="Comma-separated ISO3 codes.")
    ] = ",".join(indexview.FOCUS_COUNTRIES),
    day: Annotated[dt.date | None, Query(description="Default: the newest day.")] = None,
    window: Annotated[int, Query(ge=1, le=indexview.MAX_WINDOW_DAYS)] = 30,
    extra: Annotated[bool, Query(description="Add other pairs with volume.")] = False,
    model: Model = None,
    format: Format = "json",
) -> Any:
    """Latest tone per undirected pair, its volume over the window and shift vs the one before."""
    codes = [c for c in (p.strip() for p in countries.split(",")) if c]
    body = indexview.matrix_view(
        session, countries=codes, day=day, window=window, extra=extra, model=model
    )
    if format == "csv":
        return _csv(body["cells"], f"relwatch_matrix_{body['day']}.csv", {"day": body["day"]})
    return body


@router.get("/evidence")
def evidence(
    session: SessionDep,
    pair: Pair,
    date: Annotated[dt.date, Query(description="Day (or first day).")],
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    directed: Directed = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    model: Model = None,
    format: Format = "json",
) -> Any:
    """The sentences behind a figure, those that pushed it most first."""
    body = indexview.evidence_view(
        session, pair=pair, start=date, end=end, directed=directed, limit=limit, model=model
    )
    if format == "csv":
        return _csv(body["items"], f"relwatch_evidence_{pair}_{date}.csv")
    return body


@router.get("/alerts")
def alerts(
    session: SessionDep,
    pair: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[dt.date | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    model: Model = None,
    format: Format = "json",
) -> Any:
    """Change alerts (days whose tone left the pair's trailing baseline), newest first."""
    body = indexview.alerts_view(session, pair=pair, since=since, limit=limit, model=model)
    if format == "csv":
        return _csv(body["alerts"], "relwatch_alerts.csv")
    return body


@router.get("/status")
def status(session: SessionDep, model: Model = None, format: Format = "json") -> Any:
    """Which model's index is read, when it was computed, the days and pairs it covers."""
    body = indexview.status_view(session, model=model)
    if format == "csv":
        return _csv([body], "relwatch_index_status.csv")
    return body
