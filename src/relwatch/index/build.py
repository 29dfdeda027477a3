"""Build the index: decide what is stale, recompute it from the sentences, replace it.

Incremental by default. A pair-day is *changed* when it has eligible predictions newer than
its stored points, none stored, or a different count than its points were built from
(deleted or re-flagged pairs). A day with a changed pair is *recomputed* for every pair (the
attention shares move); the following ``IndexParams.reach_days`` days are *refreshed* for the
changed pairs only, because their prior level, smoothed value and alerts read it; the weeks
and months holding either are rebuilt from their sentences. σ², τ² and k
are estimated on a full build and then frozen (stored in each point's ``params``), so
published history does not move when a day is added; ``full=True`` re-estimates them.
Everything happens in the caller's transaction: a failed build leaves the old index whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from relwatch.core.errors import InputError, NotFoundError
from relwatch.core.models import IndexAlert, IndexPoint, Prediction, utcnow
from relwatch.index import store
from relwatch.index.alerts import detect_alerts
from relwatch.index.params import GRAINS, Hyper, IndexParams
from relwatch.index.tone import (
    FIGURE_COLUMNS,
    GROUP_COLS,
    compute_points,
    estimate_hyper,
    period_start,
)

__all__ = ["INDEX_VERSION", "BuildReport", "build_index", "current_params"]

#: Bumped when the computation changes in a way that must not mix with stored points.
INDEX_VERSION = 1

Progress = Callable[[str, int, int], None]


@dataclass
class BuildReport:
    """What a build did; ``days_recomputed == 0`` means the index was already current."""

    model_name: str
    model_version: str
    full: bool
    days_recomputed: int = 0
    days_refreshed: int = 0
    weeks_recomputed: int = 0
    weeks_refreshed: int = 0
    months_recomputed: int = 0
    months_refreshed: int = 0
    points_written: int = 0
    points_deleted: int = 0
    alerts_written: int = 0
    alerts_deleted: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    hyper: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Selection:
    """Which stored rows a build replaces: every pair on ``full`` periods, and the
    ``pairs`` (unordered) on ``partial`` periods; ``pairs=None`` means all pairs."""

    full: set[pd.Timestamp]
    partial: set[pd.Timestamp]
    pairs: set[tuple[str, str]] | None

    def mask(self, period: pd.Series, source: pd.Series, target: pd.Series) -> np.ndarray:
        period = pd.to_datetime(period)
        in_full = period.isin(list(self.full)).to_numpy()
        in_partial = period.isin(list(self.partial)).to_numpy()
        if self.pairs is None:
            return in_full | in_partial
        keys = [tuple(sorted(p)) for p in zip(source, target, strict=True)]
        touched = np.array([k in self.pairs for k in keys], dtype=bool)
        return in_full | (in_partial & touched)

    @property
    def bounds(self) -> tuple[dt.date, dt.date] | None:
        every = self.full | self.partial
        if not every:
            return None
        return min(every).date(), max(every).date()


def _resolve_params(
    params: dict[str, Any] | IndexParams | None, stored: dict[str, Any] | None
) -> IndexParams:
    if isinstance(params, IndexParams):
        return params
    if params is None and stored and isinstance(stored.get("params"), dict):
        return IndexParams.from_dict(stored["params"])
    return IndexParams.from_dict(params)


def current_params(session: Session, *, model_name: str, model_version: str) -> IndexParams:
    """The params the stored index of this model was built with (defaults before any build)."""
    stored = store.stored_params(session, model_name=model_name, model_version=model_version)
    return _resolve_params(None, stored)


def _periods(days: Iterable[pd.Timestamp], grain: str) -> set[pd.Timestamp]:
    series = pd.Series(pd.to_datetime(list(days)), dtype="datetime64[ns]")
    return set(period_start(series, grain)) if len(series) else set()


def _dirty_pair_days(
    activity: pd.DataFrame, stored: pd.DataFrame, *, everything: bool
) -> pd.DataFrame:
    """(day, lo, hi) whose predictions changed since their points were computed: newer
    predictions, a different count (deleted or re-flagged pairs), no points, or no data left."""
    both = activity.merge(stored, on=["day", "lo", "hi"], how="outer", indicator=True)
    if everything:
        return both[["day", "lo", "hi"]]
    changed = (both["_merge"] != "both") | (
        (both["_merge"] == "both")
        & (
            (pd.to_datetime(both["last_created"]) > pd.to_datetime(both["computed"]))
            | (both["n"].astype(float) != both["volume"].astype(float))
        )
    )
    return both.loc[changed, ["day", "lo", "hi"]]


def _point_rows(frame: pd.DataFrame, grain: str, common: dict[str, Any]) -> list[dict[str, Any]]:
    cols = ["period", *GROUP_COLS, *FIGURE_COLUMNS]
    rows = frame[cols].to_dict("records")
    for row in rows:
        row["directed"] = bool(row["directed"])
        row.update(common, grain=grain)
    return rows


def _alert_rows(frame: pd.DataFrame, common: dict[str, Any]) -> list[dict[str, Any]]:
    rows = frame.to_dict("records")
    for row in rows:
        row["directed"] = bool(row["directed"])
        row.update(common)
    return rows


def _replace(
    session: Session,
    table: type[IndexPoint] | type[IndexAlert],
    selection: _Selection,
    new: pd.DataFrame,
    rows: Callable[[pd.DataFrame], list[dict[str, Any]]],
    *,
    model_name: str,
    model_version: str,
    grain: str | None = None,
) -> tuple[int, int, pd.DataFrame]:
    """Delete the selected stored rows, insert the selected new ones; (deleted, written)."""
    bounds = selection.bounds
    if bounds is None:
        return 0, 0, new.iloc[0:0]
    old = store.point_keys(
        session,
        table,
        model_name=model_name,
        model_version=model_version,
        lo=bounds[0],
        hi=bounds[1],
        grain=grain,
    )
    gone = old[selection.mask(old["period"], old["source"], old["target"])]
    deleted = store.delete_ids(session, table, gone["id"].tolist())
    key = "period" if table is IndexPoint else "day"
    keep = new[selection.mask(new[key], new["source"], new["target"])] if len(new) else new
    written = store.insert_rows(session, table, rows(keep)) if len(keep) else 0
    return deleted, written, keep


def build_index(
    session: Session,
    *,
    model_name: str,
    model_version: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    params: dict[str, Any] | IndexParams | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Bring the index of one model version up to date with its predictions.

    ``start``/``end`` limit which days are checked (their neighbours are still refreshed so
    the series stays consistent). ``params`` (see ``IndexParams``) default to those of the
    stored index, else the defaults; a change of params or the first build recomputes the
    whole history and re-estimates the hyperparameters, as does ``full=True`` (within the
    range). Writes happen in ``session``'s transaction; the caller commits.
    """
    if start is not None and end is not None and start > end:
        raise InputError(f"start {start} is after end {end}")
    tick = progress or (lambda _stage, _done, _total: None)
    has_any = session.scalar(
        select(Prediction.id)
        .where(Prediction.model_name == model_name, Prediction.model_version == model_version)
        .limit(1)
    )
    if has_any is None:
        raise NotFoundError(f"no predictions of {model_name}@{model_version} in the database")
    computed_at = utcnow()
    stored = store.stored_params(session, model_name=model_name, model_version=model_version)
    p = _resolve_params(params, stored)
    fresh = (
        stored is None
        or stored.get("params") != p.to_dict()
        or stored.get("version") != INDEX_VERSION
        or "hyper" not in stored
    )
    if fresh:
        start = end = None  # new settings: the whole history, one consistent estimate
    everything = full or fresh
    model = {"model_name": model_name, "model_version": model_version}
    tick("check", 0, 3)
    activity = store.load_activity(session, **model, start=start, end=end)
    stored_days = store.stored_pair_days(session, **model, start=start, end=end)
    changed = _dirty_pair_days(activity, stored_days, everything=everything)
    dirty = set(pd.to_datetime(changed["day"]))
    report = BuildReport(model_name, model_version, full=everything, params=p.to_dict())
    every_unit: pd.DataFrame | None = None
    if everything:
        tick("estimate", 1, 3)
        every_unit = store.load_units(session, **model)
        hyper = estimate_hyper(every_unit, p)
    else:
        hyper = Hyper.from_dict(stored["hyper"])  # type: ignore[index]
    report.hyper = hyper.to_dict()
    effective = p.resolved(hyper)  # by_publisher=None decided by the (frozen) estimates
    report.params = effective.to_dict()
    if not dirty:
        tick("done", 3, 3)
        return report

    reach = pd.to_timedelta(np.arange(1, p.reach_days + 1), unit="D")
    refresh = {d + r for d in dirty for r in reach} - dirty
    first, last = min(dirty), max(dirty | refresh)
    lo = min(period_start(pd.Series([first]), g).iloc[0] for g in GRAINS)
    lo = lo - pd.Timedelta(days=p.reach_days + p.prior_days)
    hi = max(last + pd.Timedelta(days=6 - last.weekday()), last + pd.offsets.MonthEnd(0))
    tick("read", 1, 3)
    if every_unit is not None:
        units = every_unit[(every_unit["day"] >= lo) & (every_unit["day"] <= hi)]
    else:
        units = store.load_units(session, **model, start=lo.date(), end=hi.date())
    units = units.drop(columns=["created_at"]).reset_index(drop=True)

    # Every pair is rewritten on a changed day (attention shares move); later days only for
    # the pairs whose own data changed (their prior, smoothing and alerts read it).
    touched: set[tuple[str, str]] | None = None
    if not everything:
        touched = set(zip(changed["lo"], changed["hi"], strict=True))

    tick("compute", 2, 3)
    frames = (
        compute_points(units, hyper, effective)
        if len(units)
        else {g: pd.DataFrame() for g in GRAINS}
    )
    found = detect_alerts(units, hyper, effective) if len(units) else pd.DataFrame()
    stamp = {"params": p.to_dict(), "hyper": hyper.to_dict(), "version": INDEX_VERSION}
    common = {**model, "params": stamp, "computed_at": computed_at}
    for grain in GRAINS:
        full_periods = _periods(dirty, grain)
        selection = _Selection(full_periods, _periods(refresh, grain) - full_periods, touched)
        frame = frames[grain]
        if frame.empty:
            frame = pd.DataFrame(columns=["period", "source", "target"])
        deleted, written, kept = _replace(
            session,
            IndexPoint,
            selection,
            frame,
            lambda f, g=grain: _point_rows(f, g, common),
            **model,
            grain=grain,
        )
        report.points_deleted += deleted
        report.points_written += written
        refreshed = len(set(kept["period"]) & selection.partial) if len(kept) else 0
        setattr(report, f"{grain}s_recomputed", len(full_periods))
        setattr(report, f"{grain}s_refreshed", refreshed)
    if found.empty:
        found = pd.DataFrame(columns=["day", "source", "target"])
    deleted, written, _ = _replace(
        session,
        IndexAlert,
        _Selection(set(dirty), refresh, touched),
        found,
        lambda f: _alert_rows(f, {**model, "params": stamp, "created_at": computed_at}),
        **model,
    )
    report.alerts_deleted, report.alerts_written = deleted, written
    session.flush()
    tick("done", 3, 3)
    return report
