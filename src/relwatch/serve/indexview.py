"""The stored index as the API and the dashboard read it: JSON-ready shapes over relwatch.index.

The arithmetic stays in :mod:`relwatch.index`; here the results get the shapes the
dashboard is built against (``pair``/``source``/``target``, ``model`` as name and version,
``updated_at`` = when the index was last computed) and the matrix gets, per undirected
pair, its latest tone, its volume over the window and its shift against the window before.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from relwatch.core.errors import InputError, NotFoundError
from relwatch.core.models import IndexPoint, Pair, Prediction

# relwatch.index (and pandas under it) is imported by the first index request, not by the
# server's start: the API is ready about 0.3 s sooner on two cores.

__all__ = [
    "FOCUS_COUNTRIES",
    "alerts_view",
    "evidence_view",
    "matrix_view",
    "parse_model_option",
    "series_view",
    "status_view",
]

FOCUS_COUNTRIES = ("KOR", "PRK", "USA", "CHN", "JPN", "RUS", "IND")
POINT_FIELDS = (
    "tone",
    "tone_raw",
    "ci_low",
    "ci_high",
    "volume",
    "articles",
    "sources",
    "attention",
    "n_conflict",
    "n_neutral",
    "n_cooperation",
    "tone_smooth7",
)
MAX_WINDOW_DAYS = 3660


def parse_model_option(model: str | None) -> tuple[str | None, str | None]:
    """``NAME@VERSION`` → (NAME, VERSION); ``VERSION`` → (None, VERSION); as the CLI reads it."""
    if model is None or not model.strip():
        return None, None
    name, sep, version = model.strip().rpartition("@")
    if (sep and not name) or not version:
        raise InputError(f"model {model!r}: expected NAME@VERSION or VERSION")
    return (name or None), version


def _model(session: Session, model: str | None) -> tuple[str, str]:
    from relwatch.index import resolve_model

    want_name, version = parse_model_option(model)
    name, version = resolve_model(session, version)
    if want_name is not None and want_name != name:
        raise NotFoundError(f"no index points for {want_name}@{version}")
    return name, version


def _updated_at(session: Session, name: str, version: str) -> str | None:
    stamp = session.scalar(
        select(func.max(IndexPoint.computed_at)).where(
            IndexPoint.model_name == name, IndexPoint.model_version == version
        )
    )
    return _iso(stamp)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _num(value: Any) -> Any:
    """JSON-safe number: NaN and infinities become null, numpy scalars plain Python."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def series_view(
    session: Session,
    *,
    pair: str,
    grain: str = "day",
    directed: bool = False,
    seen_from: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """One pair's series with the model and when the index was computed."""
    from relwatch.index import parse_pair, query_series

    a, b = parse_pair(pair)
    source, target = (a, b) if directed else (min(a, b), max(a, b))
    name, version = _model(session, model)
    frame = query_series(
        session,
        source=a,
        target=b,
        directed=directed,
        grain=grain,
        start=start,
        end=end,
        seen_from=seen_from,
        model_version=version,
    )
    points = [
        {"date": row["date"].date().isoformat(), **{k: _num(row[k]) for k in POINT_FIELDS}}
        for row in frame.to_dict(orient="records")
    ]
    return {
        "pair": f"{source}-{target}",
        "source": source,
        "target": target,
        "grain": grain,
        "directed": directed,
        "seen_from": seen_from.upper() or None,
        "model": {"name": name, "version": version},
        "updated_at": _updated_at(session, name, version),
        "points": points,
    }


def _day_where(name: str, version: str) -> list[Any]:
    return [
        IndexPoint.grain == "day",
        IndexPoint.directed.is_(False),
        IndexPoint.seen_from == "",
        IndexPoint.model_name == name,
        IndexPoint.model_version == version,
    ]


def matrix_view(
    session: Session,
    *,
    countries: list[str] | None = None,
    day: dt.date | None = None,
    window: int = 30,
    extra: bool = False,
    model: str | None = None,
) -> dict[str, Any]:
    """Latest tone per undirected pair (on or before ``day``), its volume over the last
    ``window`` days and its shift: the sentence-weighted raw tone of that window minus the
    window before (null when either window has no sentence). With ``extra``, pairs that
    involve other countries and have volume in the window are added."""
    import pandas as pd

    from relwatch.index import parse_country

    if not 1 <= window <= MAX_WINDOW_DAYS:
        raise InputError(f"window must be between 1 and {MAX_WINDOW_DAYS} days, not {window}")
    codes = list(dict.fromkeys(parse_country(c) for c in (countries or FOCUS_COUNTRIES)))
    if len(codes) < 2:
        raise InputError("the matrix needs at least two countries")
    name, version = _model(session, model)
    where = _day_where(name, version)
    if day is None:
        day = session.scalar(select(func.max(IndexPoint.period)).where(*where))
    cells: list[dict[str, Any]] = []
    if day is not None:
        among = [IndexPoint.source.in_(codes), IndexPoint.target.in_(codes)]
        latest = (
            select(
                IndexPoint.source.label("s"),
                IndexPoint.target.label("t"),
                func.max(IndexPoint.period).label("p"),
            )
            .where(*where, *among, IndexPoint.period <= day)
            .group_by(IndexPoint.source, IndexPoint.target)
            .subquery()
        )
        tones = {
            (s, t): tone
            for s, t, tone in session.execute(
                select(IndexPoint.source, IndexPoint.target, IndexPoint.tone)
                .join(
                    latest,
                    and_(
                        IndexPoint.source == latest.c.s,
                        IndexPoint.target == latest.c.t,
                        IndexPoint.period == latest.c.p,
                    ),
                )
                .where(*where)
            )
        }
        first = day - dt.timedelta(days=2 * window)
        rows = session.execute(
            select(
                IndexPoint.source,
                IndexPoint.target,
                IndexPoint.period,
                IndexPoint.tone,
                IndexPoint.tone_raw,
                IndexPoint.volume,
            ).where(*where, IndexPoint.period > first, IndexPoint.period <= day)
        ).all()
        frame = pd.DataFrame(
            rows, columns=["source", "target", "period", "tone", "tone_raw", "volume"]
        )
        split = day - dt.timedelta(days=window)
        stats: dict[tuple[str, str], dict[str, Any]] = {}
        if not frame.empty:
            frame["after"] = pd.to_datetime(frame["period"]) > pd.Timestamp(split)
            frame["wt"] = frame["tone_raw"] * frame["volume"]
            grouped = frame.groupby(["source", "target", "after"])[["wt", "volume"]].sum()
            for (s, t, after), row in grouped.iterrows():
                entry = stats.setdefault((s, t), {})
                if row["volume"] > 0:
                    entry["after" if after else "before"] = (row["wt"] / row["volume"], row)
            last_tone = (
                frame.sort_values("period").groupby(["source", "target"])["tone"].last().to_dict()
            )
        else:
            last_tone = {}
        keys = set(tones)
        if extra:
            keys |= {k for k, v in stats.items() if "after" in v}
        for s, t in sorted(keys):
            entry = stats.get((s, t), {})
            after, before = entry.get("after"), entry.get("before")
            tone = tones.get((s, t), last_tone.get((s, t)))
            cells.append(
                {
                    "source": s,
                    "target": t,
                    "tone": _num(tone),
                    "shift": _num(after[0] - before[0]) if after and before else None,
                    "volume": int(after[1]["volume"]) if after else 0,
                }
            )
    return {
        "countries": codes,
        "day": _iso(day),
        "window": window,
        "updated_at": _updated_at(session, name, version),
        "model": {"name": name, "version": version},
        "cells": cells,
    }


def evidence_view(
    session: Session,
    *,
    pair: str,
    start: dt.date,
    end: dt.date | None = None,
    directed: bool = False,
    limit: int = 20,
    model: str | None = None,
) -> dict[str, Any]:
    """The sentences behind a figure, with spans of the view's source and target."""
    from relwatch.index import evidence, parse_pair

    a, b = parse_pair(pair)
    _want, version = parse_model_option(model)
    items = evidence(
        session,
        source=a,
        target=b,
        start=start,
        end=end,
        directed=directed,
        model_version=version,
        limit=limit,
    )
    ids = [item.prediction_id for item in items]
    extra = {
        row.id: row
        for row in session.execute(
            select(
                Prediction.id,
                func.coalesce(Prediction.sentence_id, Pair.sentence_id).label("sentence_id"),
                Prediction.label,
            )
            .outerjoin(Pair, Prediction.pair_id == Pair.id)
            .where(Prediction.id.in_(ids))
        )
    }
    out = []
    for item in items:
        src_span, tgt_span = (
            (item.a_span, item.b_span) if item.a == item.source else (item.b_span, item.a_span)
        )
        row = extra.get(item.prediction_id)
        out.append(
            {
                "sentence_id": row.sentence_id if row else None,
                "prediction_id": item.prediction_id,
                "text": item.text,
                "spans": {"source": list(src_span), "target": list(tgt_span)},
                "title": item.title,
                "source_name": item.source_name,
                "url": item.url,
                "corpus_id": item.external_id,
                "date": item.day.isoformat(),
                "label": row.label if row else None,
                "probs": {
                    "conflict": item.p_conflict,
                    "neutral": item.p_neutral,
                    "cooperation": item.p_cooperation,
                },
                "direction": item.direction,
                "model_version": item.model_version,
                "contribution": _num(item.contribution),
                "repeats": int(getattr(item, "repeats", 0) or 0),
            }
        )
    return {"items": out}


def alerts_view(
    session: Session,
    *,
    pair: str | None = None,
    since: dt.date | None = None,
    limit: int = 50,
    model: str | None = None,
) -> dict[str, Any]:
    """Change alerts, newest first."""
    from relwatch.index import list_alerts

    if limit < 1:
        raise InputError("limit must be at least 1")
    _want, version = parse_model_option(model)
    found = list_alerts(session, pair=pair, since=since, model_version=version, limit=limit)
    return {
        "alerts": [
            {
                "day": a.day.isoformat(),
                "source": a.source,
                "target": a.target,
                "directed": a.directed,
                "direction": a.direction,
                "size": _num(a.size),
                "statistic": _num(a.statistic),
                "baseline": _num(a.baseline),
                "value": _num(a.value),
                "volume": a.volume,
            }
            for a in found
        ]
    }


def status_view(session: Session, *, model: str | None = None) -> dict[str, Any]:
    """Which model's index is read, when it was computed, the days it covers, its pairs."""
    name, version = _model(session, model)
    where = _day_where(name, version)
    first, last = session.execute(
        select(func.min(IndexPoint.period), func.max(IndexPoint.period)).where(*where)
    ).one()
    pairs = session.scalar(
        select(func.count()).select_from(
            select(IndexPoint.source, IndexPoint.target).where(*where).distinct().subquery()
        )
    )
    return {
        "model": {"name": name, "version": version},
        "updated_at": _updated_at(session, name, version),
        "first_day": _iso(first),
        "last_day": _iso(last),
        "pairs": int(pairs or 0),
    }
