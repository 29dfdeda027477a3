"""The index stage against a real migrated database (SQLite; PostgreSQL where marked)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from relwatch.core import db
from relwatch.core.errors import InputError, NotFoundError
from relwatch.core.models import IndexAlert, IndexPoint, Prediction
from relwatch.index import (
    EXPORT_COLUMNS,
    SERIES_COLUMNS,
    Hyper,
    IndexParams,
    build_index,
    evidence,
    export_index,
    list_alerts,
    matrix,
    parse_pair,
    query_series,
    top_shifts,
)
from relwatch.index.params import DEFAULT_WEIGHTING
from relwatch.index.store import load_units
from relwatch.index.tone import compute_points
from tests.index.conftest import MODEL, insert_units
from tests.index.synth import DAY0, Builder, random_effects_days

NAME, VERSION = MODEL


def _build(url: str, **kw):
    with db.session_scope(url) as s:
        return build_index(s, model_name=NAME, model_version=VERSION, **kw)


def _two_pairs(days: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    builder, _ = random_effects_days(rng, n_days=days, articles=(1, 3), sentences=(1, 3))
    random_effects_days(
        rng,
        n_days=days,
        level=-0.3,
        articles=(1, 2),
        sentences=(1, 2),
        builder=builder,
        a="USA",
        b="CHN",
        publisher="USA",
        publisher_id=2,
    )
    return builder.frame()


def _day_points(url: str) -> pd.DataFrame:
    with db.session_scope(url) as s:
        rows = s.execute(
            select(
                IndexPoint.id,
                IndexPoint.period,
                IndexPoint.source,
                IndexPoint.target,
                IndexPoint.computed_at,
            ).where(IndexPoint.grain == "day")
        ).all()
    return pd.DataFrame(rows, columns=["id", "period", "source", "target", "computed_at"])


def test_build_is_idempotent_and_incremental(both_db_url: str):
    url = both_db_url
    insert_units(url, _two_pairs())
    first = _build(url)
    assert first.full and first.days_recomputed == 40
    assert (first.weeks_recomputed, first.months_recomputed) == (6, 2)
    assert first.points_written > 0 and first.points_deleted == 0
    again = _build(url)
    assert (again.days_recomputed, again.points_written, again.points_deleted) == (0, 0, 0)
    assert not again.full

    before = _day_points(url)
    late = Builder()
    late.next_article, late.next_sentence = 10**6, 10**6
    day = DAY0 + dt.timedelta(days=20)
    late.article(day, [-0.7, -0.6, -0.8])
    insert_units(url, late.frame())
    third = _build(url)
    assert third.days_recomputed == 1
    assert (third.weeks_recomputed, third.months_recomputed) == (1, 1)
    params = IndexParams()
    assert 1 <= third.days_refreshed <= params.reach_days
    after = _day_points(url)
    # nothing before the new day, and nothing of the untouched pair but that day's
    # attention share, was rewritten
    period = pd.to_datetime(before["period"])
    other_pair = before["source"].isin(["USA", "CHN"]) & (period != pd.Timestamp(day))
    untouched = (period < pd.Timestamp(day)) | other_pair
    assert set(before[untouched]["id"]) <= set(after["id"])
    assert len(after) == len(before)
    assert _build(url).days_recomputed == 0

    # the incremental result equals a computation over everything with the stored estimates
    with db.session_scope(url) as s:
        stored = s.scalars(select(IndexPoint).where(IndexPoint.grain == "day")).all()
        hyper = Hyper.from_dict(stored[0].params["hyper"])
        units = load_units(s, model_name=NAME, model_version=VERSION)
        got = {(p.period, p.source, p.target, p.directed, p.seen_from): p.tone for p in stored}
    want = compute_points(units, hyper, params.resolved(hyper), ["day"])["day"]
    assert hyper.publisher_countries == 2 and (want["seen_from"] == "USA").any()
    assert len(want) == len(got)
    for row in want.itertuples(index=False):
        key = (row.period.date(), row.source, row.target, bool(row.directed), row.seen_from)
        assert got[key] == pytest.approx(row.tone, abs=1e-9)


def test_deleted_predictions_are_noticed(db_url: str):
    insert_units(db_url, _two_pairs(days=10))
    _build(db_url)
    with db.session_scope(db_url) as s:
        victim = s.scalars(select(Prediction.id).order_by(Prediction.id).limit(1)).one()
        s.execute(delete(Prediction).where(Prediction.id == victim))
    report = _build(db_url)
    assert report.days_recomputed == 1


def test_place_only_pairs_are_excluded(both_db_url: str):
    normal, venue = Builder(), Builder()
    venue.next_article, venue.next_sentence = 500, 500
    normal.article(DAY0, [0.5, 0.5])
    venue.article(DAY0, [-0.9, -0.9, -0.9])  # e.g. "talks held in Tokyo": JPN only a venue
    venue.article(DAY0, [-0.9], a="USA", b="CHN")
    insert_units(both_db_url, normal.frame())
    insert_units(both_db_url, venue.frame(), place_only=True)
    _build(both_db_url)
    with db.session_scope(both_db_url) as s:
        series = query_series(s, source="KOR", target="JPN")
        assert series["volume"].tolist() == [2]
        assert series["tone_raw"].tolist() == pytest.approx([0.5])
        assert series["attention"].tolist() == pytest.approx([1.0])
        assert query_series(s, source="USA", target="CHN").empty
        total = s.scalar(select(func.count()).select_from(Prediction))
    assert total == 6  # kept in the database


def test_query_series_columns_views_and_grains(db_url: str):
    insert_units(db_url, _two_pairs(days=20))
    _build(db_url)
    with db.session_scope(db_url) as s:
        und = query_series(s, source="kor", target="JPN")
        same = query_series(s, source="JPN", target="kor")
        fwd = query_series(s, source="KOR", target="JPN", directed=True)
        week = query_series(s, source="KOR", target="JPN", grain="week")
        seen = query_series(s, source="CHN", target="USA", seen_from="usa")
        window = query_series(
            s,
            source="KOR",
            target="JPN",
            start=DAY0 + dt.timedelta(days=5),
            end=DAY0 + dt.timedelta(days=9),
        )
    assert list(und.columns) == SERIES_COLUMNS
    assert len(und) == 20 and und["date"].is_monotonic_increasing
    assert (und["source"].iloc[0], und["target"].iloc[0]) == ("JPN", "KOR")
    pd.testing.assert_frame_equal(und, same)
    assert fwd["directed"].all() and (fwd["source"] == "KOR").all()
    assert und["tone_smooth7"].notna().all() and week["tone_smooth7"].isna().all()
    assert len(week) == 3 and (week["date"].dt.weekday == 0).all()
    assert int(week["volume"].sum()) == int(und["volume"].sum())
    assert len(seen) == 20 and len(window) == 5
    assert (und["ci_low"] <= und["tone"]).all() and (und["tone"] <= und["ci_high"]).all()
    assert (und["model_version"] == VERSION).all()


def test_evidence_is_ranked_by_contribution_toward_the_figure(db_url: str):
    b = Builder()
    b.article(DAY0, [-0.8, 0.2], a="USA", b="JPN")
    b.article(DAY0, [-0.5, -0.1, 0.6], a="JPN", b="USA", direction="a->b")
    ids = insert_units(db_url, b.frame())
    _build(db_url)
    with db.session_scope(db_url) as s:
        items = evidence(s, source="usa", target="JPN", start=DAY0)
        directed = evidence(s, source="JPN", target="USA", start=DAY0, directed=True)
        top2 = evidence(s, source="USA", target="JPN", start=DAY0, limit=2)
    # figure = (−0.8 + 0.2 − 0.5 − 0.1 + 0.6) / 5 < 0: most conflictual first
    assert [round(i.tone, 2) for i in items] == [-0.8, -0.5, -0.1, 0.2, 0.6]
    assert [i.prediction_id for i in top2] == [ids[1], ids[3]]
    first = items[0]
    assert first.marked == "«the United States» and «Japan» talked (1)."
    assert first.text[slice(*first.a_span)] == "the United States"
    assert (first.title, first.source_name) == ("Story 1", "pub1")
    assert first.url.startswith("https://news.example/") and first.external_id.startswith("syn:")
    assert first.model_version == VERSION and first.day == DAY0
    assert first.p_cooperation - first.p_conflict == pytest.approx(first.tone)
    assert sum(i.contribution for i in items) == pytest.approx(-0.6 / 5)
    # JPN→USA: the a->b article plus the undirected (mutual) one
    assert len(directed) == 5
    with db.session_scope(db_url) as s, pytest.raises(NotFoundError):
        evidence(s, source="USA", target="JPN", start=DAY0 + dt.timedelta(days=3))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_columns(db_url: str, tmp_path, fmt: str):
    insert_units(db_url, _two_pairs(days=5))
    _build(db_url)
    out = tmp_path / "out" / f"index.{fmt}"
    with db.session_scope(db_url) as s:
        n = export_index(s, path=out, fmt=fmt)
        n_und = export_index(s, path=tmp_path / f"u.{fmt}", fmt=fmt, directed=False)
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert list(frame.columns) == EXPORT_COLUMNS
    assert len(frame) == n == 5 * 2 * 3  # 5 days × 2 pairs × (undirected + two directions)
    assert n_und == 10
    assert not list(tmp_path.joinpath("out").glob(".*"))  # no temp file left behind


def test_alerts_are_stored_with_their_evidence(db_url: str):
    rng = np.random.default_rng(1)
    shape = {"tau": 0.05, "tau_u": 0.1, "sigma_e": 0.15, "articles": (3, 6), "sentences": (1, 4)}
    b, _ = random_effects_days(rng, n_days=60, level=0.3, **shape)
    later = Builder()
    later.next_article, later.next_sentence = 10**6, 10**6
    random_effects_days(rng, n_days=15, level=-0.3, builder=later, **shape)
    tail = later.frame()
    tail["day"] = tail["day"] + pd.Timedelta(days=60)
    ids = insert_units(db_url, pd.concat([b.frame(), tail], ignore_index=True))
    report = _build(db_url)
    assert report.alerts_written >= 1
    onset = DAY0 + dt.timedelta(days=60)
    with db.session_scope(db_url) as s:
        found = list_alerts(s, pair="kor-jpn")
        undirected = [a for a in found if not a.directed]
        assert list_alerts(s, pair="USA-CHN") == []
        assert list_alerts(s, since=onset + dt.timedelta(days=10)) == []
        alert = undirected[0]
        assert onset <= alert.day <= onset + dt.timedelta(days=2)
        assert alert.direction == "to_conflict" and alert.size < 0
        assert set(alert.evidence) <= set(ids.values())
        days = {e.day for e in evidence(s, source="KOR", target="JPN", start=alert.day, limit=100)}
        assert days == {alert.day}
    # the stored alert survives an incremental no-op build
    assert _build(db_url).alerts_deleted == 0


def test_top_shifts_and_matrix(db_url: str):
    b = Builder()
    for d in range(20):
        day = DAY0 + dt.timedelta(days=d)
        b.article(day, [0.4 if d < 10 else -0.4] * 3)
        b.article(day, [0.1] * 3, a="USA", b="CHN", publisher="USA", publisher_id=2)
    insert_units(db_url, b.frame())
    _build(db_url)
    with db.session_scope(db_url) as s:
        shifts = top_shifts(s, n=5, window_days=10)
        grid = matrix(s, countries=["KOR", "JPN", "usa", "CHN", "IND"])
        early = matrix(s, countries=["KOR", "JPN"], day=DAY0 + dt.timedelta(days=3))
    assert shifts[["source", "target"]].values.tolist()[0] == ["JPN", "KOR"]
    assert shifts.iloc[0]["shift"] == pytest.approx(-0.8)
    assert shifts.iloc[1]["shift"] == pytest.approx(0.0)
    assert grid.loc["KOR", "JPN"] == grid.loc["JPN", "KOR"] < 0
    assert grid.loc["USA", "CHN"] > 0
    assert np.isnan(grid.loc["KOR", "IND"]) and np.isnan(grid.loc["KOR", "KOR"])
    assert early.loc["KOR", "JPN"] > 0


def test_changed_params_rebuild_everything_and_are_kept(db_url: str):
    insert_units(db_url, _two_pairs(days=10))
    assert _build(db_url).params["weighting"] == DEFAULT_WEIGHTING == "textrank"
    changed = _build(db_url, params={"weighting": "equal"})
    assert changed.full and changed.days_recomputed == 10
    kept = _build(db_url)  # no params: the stored ones
    assert kept.days_recomputed == 0 and kept.params["weighting"] == "equal"
    with pytest.raises(InputError, match="unknown index parameter"):
        _build(db_url, params={"weigthing": "equal"})
    with pytest.raises(InputError):
        _build(db_url, params={"weighting": "loudest"})


def test_clear_errors(db_url: str):
    for bad in ("USAJPN", "US-JP", "usa-usa", "USA-ZZZ", ""):
        with pytest.raises(InputError):
            parse_pair(bad)
    assert parse_pair(" usa-jpn ") == ("USA", "JPN")
    with db.session_scope(db_url) as s:
        with pytest.raises(NotFoundError, match="index build"):
            query_series(s, source="USA", target="JPN")
        with pytest.raises(NotFoundError):
            build_index(s, model_name="nope", model_version="9")
    insert_units(db_url, _two_pairs(days=3))
    _build(db_url)
    with db.session_scope(db_url) as s:
        with pytest.raises(InputError, match="grain"):
            query_series(s, source="USA", target="JPN", grain="year")
        with pytest.raises(InputError, match="format"):
            export_index(s, path="x.xlsx", fmt="xlsx")
        with pytest.raises(InputError, match="after"):
            build_index(
                s,
                model_name=NAME,
                model_version=VERSION,
                start=DAY0,
                end=DAY0 - dt.timedelta(days=1),
            )


def test_index_rows_are_unique_per_key(both_db_url: str):
    point = dict(
        grain="day",
        period=dt.date(2024, 3, 1),
        source="KOR",
        target="JPN",
        directed=True,
        model_name="m",
        model_version="1",
        tone=0.3,
        tone_raw=0.35,
        ci_low=0.1,
        ci_high=0.5,
        volume=12,
        articles=4,
        sources=2,
        attention=0.2,
    )
    alert = dict(
        source="KOR",
        target="JPN",
        directed=False,
        day=dt.date(2024, 3, 1),
        direction="to_conflict",
        size=-0.4,
        statistic=-4.2,
        baseline=0.3,
        value=-0.1,
        volume=9,
        model_name="m",
        model_version="1",
        evidence=[1, 2],
    )
    with db.session_scope(both_db_url) as s:
        s.add(IndexPoint(**point))
        s.add(IndexPoint(**{**point, "seen_from": "KOR"}))  # another view: allowed
        s.add(IndexAlert(**alert))
    with db.session_scope(both_db_url) as s:
        assert s.scalars(select(IndexPoint.seen_from).order_by(IndexPoint.id)).all() == ["", "KOR"]
    with pytest.raises(IntegrityError), db.session_scope(both_db_url) as s:
        s.add(IndexPoint(**point))
    with pytest.raises(IntegrityError), db.session_scope(both_db_url) as s:
        s.add(IndexAlert(**alert))
