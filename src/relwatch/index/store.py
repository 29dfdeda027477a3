"""Database side of the index: read predictions as frames, replace points and alerts.

Everything here is portable SQL (SQLite and PostgreSQL): plain joins and GROUP BYs, dates
turned into days in pandas (UTC; naive timestamps are taken as UTC), and replacement as
delete-by-id then bulk insert inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, delete, insert, or_, select
from sqlalchemy.orm import Session

from relwatch.core.errors import NotFoundError
from relwatch.core.models import (
    Article,
    IndexAlert,
    IndexPoint,
    Pair,
    Prediction,
    Sentence,
    Source,
)

__all__ = [
    "UNIT_COLUMNS",
    "delete_ids",
    "insert_rows",
    "latest_index_model",
    "latest_prediction_model",
    "load_activity",
    "load_units",
    "point_keys",
    "stored_pair_days",
    "stored_params",
    "to_days",
]

UNIT_COLUMNS = [
    "prediction_id",
    "sentence_id",
    "article_id",
    "publisher_id",
    "publisher",
    "day",
    "a",
    "b",
    "direction",
    "p_conflict",
    "p_neutral",
    "p_cooperation",
    "score",
    "created_at",
]
_CHUNK = 500


def to_days(values: pd.Series) -> pd.Series:
    """UTC calendar day (midnight, tz-naive) of timestamps; naive ones are taken as UTC."""
    stamps = pd.to_datetime(values, utc=True)
    return stamps.dt.tz_convert(None).dt.normalize()


def _utc_naive(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True).dt.tz_convert(None)


def _day_bounds(start: dt.date | None, end: dt.date | None) -> list[Any]:
    clauses: list[Any] = []
    if start is not None:
        lo = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
        clauses.append(Article.published_at >= lo)
    if end is not None:
        hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        clauses.append(Article.published_at < hi)
    return clauses


def _eligible(stmt: Select[Any], model_name: str, model_version: str) -> Select[Any]:
    """Predictions of one model on index-eligible pairs (not venue-only, dated article)."""
    return (
        stmt.join(Pair, Prediction.pair_id == Pair.id)
        .join(Sentence, Pair.sentence_id == Sentence.id)
        .join(Article, Sentence.article_id == Article.id)
        .where(
            Prediction.model_name == model_name,
            Prediction.model_version == model_version,
            Pair.place_only.is_(False),
            Article.published_at.is_not(None),
        )
    )


def load_units(
    session: Session,
    *,
    model_name: str,
    model_version: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    pairs: Iterable[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Eligible predictions of one model as a frame (``UNIT_COLUMNS``), optionally by day/pair.

    ``pairs`` are unordered: (KOR, JPN) matches pairs stored either way round.
    """
    stmt = _eligible(
        select(
            Prediction.id,
            Sentence.id,
            Article.id,
            Article.source_id,
            Source.country,
            Article.published_at,
            Pair.a,
            Pair.b,
            Prediction.direction,
            Prediction.p_conflict,
            Prediction.p_neutral,
            Prediction.p_cooperation,
            Sentence.score,
            Prediction.created_at,
        ),
        model_name,
        model_version,
    ).outerjoin(Source, Article.source_id == Source.id)
    stmt = stmt.where(*_day_bounds(start, end))
    if pairs is not None:
        wanted = sorted({tuple(sorted(p)) for p in pairs})
        if not wanted:
            return pd.DataFrame(columns=UNIT_COLUMNS)
        stmt = stmt.where(
            or_(
                *(
                    or_(and_(Pair.a == x, Pair.b == y), and_(Pair.a == y, Pair.b == x))
                    for x, y in wanted
                )
            )
        )
    rows = session.execute(stmt.order_by(Prediction.id)).all()
    frame = pd.DataFrame(rows, columns=UNIT_COLUMNS)
    if frame.empty:
        frame["day"] = pd.to_datetime(frame["day"])
        return frame
    frame["day"] = to_days(frame["day"])
    frame["created_at"] = _utc_naive(frame["created_at"])
    frame["publisher"] = frame["publisher"].fillna("").astype(str)
    frame["publisher_id"] = pd.to_numeric(frame["publisher_id"], errors="coerce")
    return frame


def load_activity(
    session: Session,
    *,
    model_name: str,
    model_version: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Per (day, unordered pair ``lo``-``hi``): eligible predictions ``n`` and the newest
    one's ``last_created`` (UTC, naive)."""
    stmt = _eligible(
        select(Article.published_at, Prediction.created_at, Pair.a, Pair.b),
        model_name,
        model_version,
    ).where(*_day_bounds(start, end))
    frame = pd.DataFrame(
        session.execute(stmt).all(), columns=["published_at", "created_at", "a", "b"]
    )
    if frame.empty:
        return pd.DataFrame(
            {
                "day": pd.Series(dtype="datetime64[ns]"),
                "lo": pd.Series(dtype=object),
                "hi": pd.Series(dtype=object),
                "n": pd.Series(dtype=int),
                "last_created": pd.Series(dtype="datetime64[ns]"),
            }
        )
    frame["day"] = to_days(frame["published_at"])
    frame["created_at"] = _utc_naive(frame["created_at"])
    first = frame["a"] <= frame["b"]
    frame["lo"] = frame["a"].where(first, frame["b"])
    frame["hi"] = frame["b"].where(first, frame["a"])
    return (
        frame.groupby(["day", "lo", "hi"])
        .agg(n=("created_at", "size"), last_created=("created_at", "max"))
        .reset_index()
    )


def _model(table: Any, model_name: str, model_version: str) -> list[Any]:
    return [table.model_name == model_name, table.model_version == model_version]


def stored_pair_days(
    session: Session,
    *,
    model_name: str,
    model_version: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Per stored undirected all-publisher day point: day, pair (lo, hi), the ``volume`` it
    was built from and when (``computed``, UTC naive)."""
    stmt = select(
        IndexPoint.period,
        IndexPoint.source,
        IndexPoint.target,
        IndexPoint.volume,
        IndexPoint.computed_at,
    ).where(
        IndexPoint.grain == "day",
        IndexPoint.directed.is_(False),
        IndexPoint.seen_from == "",
        *_model(IndexPoint, model_name, model_version),
    )
    if start is not None:
        stmt = stmt.where(IndexPoint.period >= start)
    if end is not None:
        stmt = stmt.where(IndexPoint.period <= end)
    frame = pd.DataFrame(
        session.execute(stmt).all(), columns=["day", "lo", "hi", "volume", "computed"]
    )
    frame["day"] = pd.to_datetime(frame["day"])
    frame["computed"] = _utc_naive(frame["computed"]) if len(frame) else frame["computed"]
    return frame


def point_keys(
    session: Session,
    table: type[IndexPoint] | type[IndexAlert],
    *,
    model_name: str,
    model_version: str,
    lo: dt.date,
    hi: dt.date,
    grain: str | None = None,
) -> pd.DataFrame:
    """Ids, periods and pairs of stored rows (points of one grain, or alerts) in [lo, hi]."""
    when = table.period if table is IndexPoint else table.day
    stmt = select(table.id, when, table.source, table.target).where(
        *_model(table, model_name, model_version), when >= lo, when <= hi
    )
    if grain is not None:
        stmt = stmt.where(IndexPoint.grain == grain)
    frame = pd.DataFrame(session.execute(stmt).all(), columns=["id", "period", "source", "target"])
    frame["period"] = pd.to_datetime(frame["period"])
    return frame


def delete_ids(
    session: Session, table: type[IndexPoint] | type[IndexAlert], ids: Sequence[int]
) -> int:
    """Delete rows by id in chunks (portable, no dialect upsert)."""
    ids = [int(i) for i in ids]
    for i in range(0, len(ids), _CHUNK):
        session.execute(delete(table).where(table.id.in_(ids[i : i + _CHUNK])))
    return len(ids)


def _plain(value: Any) -> Any:
    """numpy/pandas scalars to what every DB driver binds."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def insert_rows(
    session: Session,
    table: type[IndexPoint] | type[IndexAlert],
    rows: list[dict[str, Any]],
) -> int:
    """Bulk insert plain dicts in chunks."""
    for i in range(0, len(rows), _CHUNK):
        chunk = [{k: _plain(v) for k, v in row.items()} for row in rows[i : i + _CHUNK]]
        session.execute(insert(table), chunk)
    return len(rows)


def stored_params(
    session: Session, *, model_name: str, model_version: str
) -> dict[str, Any] | None:
    """The ``params`` JSON of the newest point of this model (None before the first build)."""
    return session.scalar(
        select(IndexPoint.params)
        .where(*_model(IndexPoint, model_name, model_version))
        .order_by(IndexPoint.computed_at.desc(), IndexPoint.id.desc())
        .limit(1)
    )


def _latest_model(
    session: Session, table: Any, stamp: Any, version: str | None, missing: str
) -> tuple[str, str]:
    stmt = select(table.model_name, table.model_version)
    if version is not None:
        stmt = stmt.where(table.model_version == version)
    row = session.execute(stmt.order_by(stamp.desc(), table.id.desc()).limit(1)).first()
    if row is None:
        what = f"model version {version}" if version else "any model"
        raise NotFoundError(missing.format(what=what))
    return str(row[0]), str(row[1])


def latest_prediction_model(session: Session, version: str | None = None) -> tuple[str, str]:
    """(name, version) of the model with the newest prediction (of ``version`` if given)."""
    return _latest_model(
        session,
        Prediction,
        Prediction.created_at,
        version,
        "no predictions of {what} in the database; run relwatch predict first",
    )


def latest_index_model(session: Session, version: str | None = None) -> tuple[str, str]:
    """(name, version) of the model with the most recently computed index points."""
    return _latest_model(
        session,
        IndexPoint,
        IndexPoint.computed_at,
        version,
        "no index points for {what}; run relwatch index build first",
    )
