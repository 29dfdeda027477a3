"""Reading the index: series, alerts, recent shifts, the latest matrix, exports, evidence.

These are what the CLI, the API and the dashboard call. Every function takes the session
and explicit parameters; ``model_version=None`` means the model whose index was computed
most recently. Pair strings are ``AAA-BBB`` ISO3 codes, in any case.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pycountry
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from relwatch.core.errors import InputError, NotFoundError
from relwatch.core.models import (
    Article,
    IndexAlert,
    IndexPoint,
    Pair,
    Prediction,
    Sentence,
    Source,
)
from relwatch.index import store
from relwatch.index.params import GRAINS, IndexParams
from relwatch.index.tone import FIGURE_COLUMNS, prepare

__all__ = [
    "EXPORT_COLUMNS",
    "SERIES_COLUMNS",
    "AlertRecord",
    "EvidenceItem",
    "evidence",
    "export_index",
    "list_alerts",
    "matrix",
    "parse_country",
    "parse_pair",
    "query_series",
    "resolve_model",
    "top_shifts",
]

SERIES_COLUMNS = ["date", "source", "target", "directed", *FIGURE_COLUMNS, "model_version"]
#: The documented export: the series less the publisher count and the smoothed value.
EXPORT_COLUMNS = [c for c in SERIES_COLUMNS if c not in ("sources", "tone_smooth7")]
# Codes in use that ISO 3166 leaves to users (Kosovo).
_EXTRA_CODES = {"XKX"}
_PAIR = re.compile(r"^\s*([A-Za-z]{3})\s*[-/:]\s*([A-Za-z]{3})\s*$")


def parse_country(code: str) -> str:
    """An ISO3 code, upper-cased; InputError for anything else."""
    value = code.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise InputError(f"country {code!r}: expected an ISO3 code such as KOR or USA")
    if value not in _EXTRA_CODES and pycountry.countries.get(alpha_3=value) is None:
        raise InputError(f"country {code!r}: not an ISO 3166 alpha-3 code")
    return value


def parse_pair(text: str | tuple[str, str]) -> tuple[str, str]:
    """``"usa-jpn"`` → ("USA", "JPN"); the order is kept (it matters for directed views)."""
    if isinstance(text, tuple):
        a, b = text
    else:
        match = _PAIR.match(text or "")
        if not match:
            raise InputError(f"pair {text!r}: expected two ISO3 codes like USA-JPN")
        a, b = match.groups()
    a, b = parse_country(a), parse_country(b)
    if a == b:
        raise InputError(f"pair {a}-{b}: the two countries must differ")
    return a, b


def resolve_model(session: Session, model_version: str | None = None) -> tuple[str, str]:
    """(name, version) of the index to read: the given version, else the newest built one."""
    return store.latest_index_model(session, model_version)


def _view(source: str, target: str, directed: bool) -> tuple[str, str]:
    a, b = parse_pair((source, target))
    return (a, b) if directed else (min(a, b), max(a, b))


def _check_grain(grain: str) -> str:
    if grain not in GRAINS:
        raise InputError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    return grain


def _check_range(start: dt.date | None, end: dt.date | None) -> None:
    if start is not None and end is not None and start > end:
        raise InputError(f"start {start} is after end {end}")


def _points_frame(rows: list[Any], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["date"] = pd.to_datetime(frame["date"])
    for col in ("tone", "tone_raw", "ci_low", "ci_high", "attention", "tone_smooth7"):
        if col in frame:
            frame[col] = frame[col].astype(float)
    for col in ("volume", "articles", "sources", "n_conflict", "n_neutral", "n_cooperation"):
        if col in frame:
            frame[col] = frame[col].astype(int)
    frame["directed"] = frame["directed"].astype(bool)
    return frame


def query_series(
    session: Session,
    *,
    source: str,
    target: str,
    directed: bool = False,
    grain: str = "day",
    start: dt.date | None = None,
    end: dt.date | None = None,
    seen_from: str = "",
    model_version: str | None = None,
) -> pd.DataFrame:
    """One pair's series (``SERIES_COLUMNS``), oldest first; undirected pairs are read as
    (min code, max code). Empty frame when the pair has no points in the range."""
    _check_grain(grain)
    _check_range(start, end)
    src, tgt = _view(source, target, directed)
    seen = parse_country(seen_from) if seen_from else ""
    name, version = resolve_model(session, model_version)
    cols = [getattr(IndexPoint, c) for c in SERIES_COLUMNS[1:-1]]
    stmt = select(IndexPoint.period, *cols, IndexPoint.model_version).where(
        IndexPoint.grain == grain,
        IndexPoint.source == src,
        IndexPoint.target == tgt,
        IndexPoint.directed.is_(bool(directed)),
        IndexPoint.seen_from == seen,
        IndexPoint.model_name == name,
        IndexPoint.model_version == version,
    )
    if start is not None:
        stmt = stmt.where(IndexPoint.period >= start)
    if end is not None:
        stmt = stmt.where(IndexPoint.period <= end)
    rows = session.execute(stmt.order_by(IndexPoint.period)).all()
    return _points_frame(rows, SERIES_COLUMNS)


@dataclass(frozen=True)
class AlertRecord:
    """A stored alert, as the CLI and API show it."""

    id: int
    source: str
    target: str
    directed: bool
    seen_from: str
    day: dt.date
    direction: str
    size: float
    statistic: float
    baseline: float
    value: float
    volume: int
    evidence: list[int]
    model_name: str
    model_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_alerts(
    session: Session,
    *,
    pair: str | tuple[str, str] | None = None,
    since: dt.date | None = None,
    model_version: str | None = None,
    directed: bool | None = None,
    limit: int | None = None,
) -> list[AlertRecord]:
    """Alerts newest first; ``pair`` matches both orders and both views."""
    name, version = resolve_model(session, model_version)
    stmt = select(IndexAlert).where(
        IndexAlert.model_name == name, IndexAlert.model_version == version
    )
    if pair is not None:
        a, b = parse_pair(pair)
        stmt = stmt.where(
            or_(
                and_(IndexAlert.source == a, IndexAlert.target == b),
                and_(IndexAlert.source == b, IndexAlert.target == a),
            )
        )
    if since is not None:
        stmt = stmt.where(IndexAlert.day >= since)
    if directed is not None:
        stmt = stmt.where(IndexAlert.directed.is_(bool(directed)))
    stmt = stmt.order_by(IndexAlert.day.desc(), IndexAlert.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        AlertRecord(
            id=a.id,
            source=a.source,
            target=a.target,
            directed=a.directed,
            seen_from=a.seen_from,
            day=a.day,
            direction=a.direction,
            size=a.size,
            statistic=a.statistic,
            baseline=a.baseline,
            value=a.value,
            volume=a.volume,
            evidence=[int(i) for i in a.evidence or []],
            model_name=a.model_name,
            model_version=a.model_version,
        )
        for a in session.scalars(stmt)
    ]


def top_shifts(
    session: Session,
    *,
    n: int = 5,
    window_days: int = 30,
    end: dt.date | None = None,
    min_volume: int = 10,
    directed: bool = False,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Pairs whose tone moved most between the last ``window_days`` and the window before.

    Windows count *covered* days (days with any index point), so a corpus with gaps (or a
    crawler that was down) compares like with like; on a daily feed this is the calendar.
    Each window's tone is the sentence-weighted mean of the day points' raw tone; pairs need
    ``min_volume`` sentences in both windows. ``end`` defaults to the newest day with points.
    Columns: source, target, directed, before, after, shift, volume_before, volume_after.
    """
    if n < 1 or window_days < 1:
        raise InputError("n and window_days must be at least 1")
    name, version = resolve_model(session, model_version)
    where = [
        IndexPoint.grain == "day",
        IndexPoint.directed.is_(bool(directed)),
        IndexPoint.seen_from == "",
        IndexPoint.model_name == name,
        IndexPoint.model_version == version,
    ]
    if end is None:
        end = session.scalar(select(func.max(IndexPoint.period)).where(*where))
    columns = ["source", "target", "directed", "before", "after", "shift"]
    columns += ["volume_before", "volume_after"]
    if end is None:
        return pd.DataFrame(columns=columns)
    covered = list(
        session.scalars(
            select(IndexPoint.period)
            .where(*where, IndexPoint.period <= end)
            .distinct()
            .order_by(IndexPoint.period.desc())
            .limit(2 * window_days + 1)
        )
    )
    if len(covered) <= window_days:
        return pd.DataFrame(columns=columns)
    split = covered[window_days]  # the after-window holds the days past it
    first = (
        covered[2 * window_days]
        if len(covered) > 2 * window_days
        else covered[-1] - dt.timedelta(days=1)
    )
    rows = session.execute(
        select(
            IndexPoint.source,
            IndexPoint.target,
            IndexPoint.period,
            IndexPoint.tone_raw,
            IndexPoint.volume,
        ).where(*where, IndexPoint.period > first, IndexPoint.period <= end)
    ).all()
    frame = pd.DataFrame(rows, columns=["source", "target", "period", "tone_raw", "volume"])
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["after"] = pd.to_datetime(frame["period"]) > pd.Timestamp(split)
    frame["wt"] = frame["tone_raw"] * frame["volume"]
    agg = frame.groupby(["source", "target", "after"]).agg(wt=("wt", "sum"), v=("volume", "sum"))
    agg["tone"] = agg["wt"] / agg["v"]
    wide = agg.unstack("after")
    if (False not in wide["tone"].columns) or (True not in wide["tone"].columns):
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(
        {
            "before": wide["tone"][False],
            "after": wide["tone"][True],
            "volume_before": wide["v"][False],
            "volume_after": wide["v"][True],
        }
    ).dropna()
    out = out[(out["volume_before"] >= min_volume) & (out["volume_after"] >= min_volume)]
    out["shift"] = out["after"] - out["before"]
    out["directed"] = bool(directed)
    out = out.reset_index()
    out = out.reindex(out["shift"].abs().sort_values(ascending=False).index).head(n)
    out[["volume_before", "volume_after"]] = out[["volume_before", "volume_after"]].astype(int)
    return out[columns].reset_index(drop=True)


def matrix(
    session: Session,
    *,
    countries: list[str],
    day: dt.date | None = None,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Latest tone (on or before ``day``) per undirected pair, as a symmetric country matrix.

    NaN where a pair has no point; the diagonal is NaN.
    """
    codes = list(dict.fromkeys(parse_country(c) for c in countries))
    if len(codes) < 2:
        raise InputError("matrix needs at least two countries")
    name, version = resolve_model(session, model_version)
    where = [
        IndexPoint.grain == "day",
        IndexPoint.directed.is_(False),
        IndexPoint.seen_from == "",
        IndexPoint.model_name == name,
        IndexPoint.model_version == version,
        IndexPoint.source.in_(codes),
        IndexPoint.target.in_(codes),
    ]
    if day is not None:
        where.append(IndexPoint.period <= day)
    latest = (
        select(
            IndexPoint.source.label("s"),
            IndexPoint.target.label("t"),
            func.max(IndexPoint.period).label("p"),
        )
        .where(*where)
        .group_by(IndexPoint.source, IndexPoint.target)
        .subquery()
    )
    rows = session.execute(
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
    ).all()
    out = pd.DataFrame(np.nan, index=codes, columns=codes)
    for a, b, tone in rows:
        out.loc[a, b] = out.loc[b, a] = tone
    return out


def export_index(
    session: Session,
    *,
    path: str | Path,
    fmt: str = "csv",
    grain: str = "day",
    directed: bool | None = None,
    seen_from: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
    model_version: str | None = None,
) -> int:
    """Write the index (``EXPORT_COLUMNS``) to CSV or Parquet atomically; returns the rows.

    ``directed=None`` exports both views.
    """
    if fmt not in ("csv", "parquet"):
        raise InputError(f"format must be csv or parquet, not {fmt!r}")
    _check_grain(grain)
    _check_range(start, end)
    seen = parse_country(seen_from) if seen_from else ""
    name, version = resolve_model(session, model_version)
    stmt = select(IndexPoint.period, *(getattr(IndexPoint, c) for c in EXPORT_COLUMNS[1:])).where(
        IndexPoint.grain == grain,
        IndexPoint.seen_from == seen,
        IndexPoint.model_name == name,
        IndexPoint.model_version == version,
    )
    if directed is not None:
        stmt = stmt.where(IndexPoint.directed.is_(bool(directed)))
    if start is not None:
        stmt = stmt.where(IndexPoint.period >= start)
    if end is not None:
        stmt = stmt.where(IndexPoint.period <= end)
    order = (IndexPoint.period, IndexPoint.source, IndexPoint.target, IndexPoint.directed)
    frame = _points_frame(session.execute(stmt.order_by(*order)).all(), EXPORT_COLUMNS)
    frame["date"] = frame["date"].dt.date
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target} is a directory; give a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(frame)


@dataclass
class EvidenceItem:
    """One sentence behind a figure, with both countries marked and its provenance."""

    prediction_id: int
    day: dt.date
    source: str
    target: str
    a: str
    b: str
    text: str
    marked: str
    a_span: tuple[int, int]
    b_span: tuple[int, int]
    title: str | None
    source_name: str | None
    url: str | None
    external_id: str | None
    p_conflict: float
    p_neutral: float
    p_cooperation: float
    tone: float
    weight: float
    contribution: float
    direction: str | None
    model_name: str
    model_version: str

    repeats: int = 0
    """Other ranked sentences with the same text (wire copies), folded into this one."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mark_spans(text: str, spans: list[tuple[int, int]], open_: str = "«", close: str = "»") -> str:
    """``text`` with each (start, end) span wrapped; overlapping or bad spans are skipped."""
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos or not 0 <= start < end <= len(text):
            continue
        out += [text[pos:start], open_, text[start:end], close]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def evidence(
    session: Session,
    *,
    source: str,
    target: str,
    start: dt.date,
    end: dt.date | None = None,
    directed: bool = False,
    model_version: str | None = None,
    limit: int = 20,
) -> list[EvidenceItem]:
    """The sentences behind a pair's figure over [start, end], strongest first.

    A sentence's contribution is w·s / Σw, its share of the raw tone; sentences are ranked
    by contribution signed toward the figure (those pushing it where it went first), so a
    conflict-leaning day lists its most conflictual sentences.
    """
    end = end or start
    _check_range(start, end)
    if limit < 1:
        raise InputError("limit must be at least 1")
    src, tgt = _view(source, target, directed)
    try:
        name, version = resolve_model(session, model_version)
    except NotFoundError:
        name, version = store.latest_prediction_model(session, model_version)
    stored = store.stored_params(session, model_name=name, model_version=version)
    params = IndexParams.from_dict((stored or {}).get("params"))
    units = store.load_units(
        session,
        model_name=name,
        model_version=version,
        start=start,
        end=end,
        pairs=[(src, tgt)],
    )
    if directed and len(units):
        d = units["direction"].fillna("mutual")
        forward = (units["a"] == src) & (d != "b->a")
        backward = (units["b"] == src) & (d != "a->b")
        units = units[forward | backward]
    if units.empty:
        raise NotFoundError(
            f"no predictions of {name}@{version} for {src}-{tgt} between {start} and {end}"
        )
    u = prepare(units, params)
    figure = float((u["w"] * u["s"]).sum() / u["w"].sum())
    u["contribution"] = u["w"] * u["s"] / u["w"].sum()
    sign = np.sign(figure) or 1.0
    u["rank"] = u["contribution"] * sign
    # Wire services repeat a sentence across updates of a story: rank a few more than
    # asked, then fold identical sentences into the first, so the list is `limit` distinct.
    u = u.sort_values(["rank", "prediction_id"], ascending=[False, True]).head(limit * 4)
    details = {
        row.id: row
        for row in session.execute(
            select(
                Prediction.id,
                Prediction.direction,
                Pair.a_start,
                Pair.a_end,
                Pair.b_start,
                Pair.b_end,
                Sentence.text,
                Article.title,
                Article.url,
                Article.external_id,
                Source.name.label("source_name"),
            )
            .join(Pair, Prediction.pair_id == Pair.id)
            .join(Sentence, Pair.sentence_id == Sentence.id)
            .join(Article, Sentence.article_id == Article.id)
            .outerjoin(Source, Article.source_id == Source.id)
            .where(Prediction.id.in_([int(i) for i in u["prediction_id"]]))
        )
    }
    items: list[EvidenceItem] = []
    seen: dict[str, EvidenceItem] = {}
    for row in u.itertuples(index=False):
        d = details[int(row.prediction_id)]
        key = " ".join(d.text.split()).lower()
        if key in seen:
            seen[key].repeats += 1
            continue
        if len(items) == limit:
            continue
        spans = [(d.a_start, d.a_end), (d.b_start, d.b_end)]
        items.append(
            EvidenceItem(
                prediction_id=int(row.prediction_id),
                day=pd.Timestamp(row.day).date(),
                source=src,
                target=tgt,
                a=str(row.a),
                b=str(row.b),
                text=d.text,
                marked=mark_spans(d.text, spans),
                a_span=spans[0],
                b_span=spans[1],
                title=d.title,
                source_name=d.source_name,
                url=d.url,
                external_id=d.external_id,
                p_conflict=float(row.p_conflict),
                p_neutral=float(row.p_neutral),
                p_cooperation=float(row.p_cooperation),
                tone=float(row.s),
                weight=float(row.w),
                contribution=float(row.contribution),
                direction=d.direction,
                model_name=name,
                model_version=version,
            )
        )
        seen[key] = items[-1]
    return items
