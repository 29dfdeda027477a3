"""The index arithmetic on synthetic predictions with known answers (no database)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from relwatch.index.params import Hyper, IndexParams
from relwatch.index.tone import (
    compute_points,
    estimate_hyper,
    expand_views,
    prepare,
    variance_components,
)
from tests.index.synth import DAY0, Builder, random_effects_days

#: Fixed hyperparameters for tests that check one mechanism at a time.
FIXED = Hyper(
    grand_mean=0.0,
    sigma_e2=0.04,
    tau_u2=0.02,
    tau2={"day": 0.01, "week": 0.005, "month": 0.002},
    tau_pair2=0.02,
)
PARAMS = IndexParams(by_publisher=False, weighting="equal")


def _row(points: pd.DataFrame, day: dt.date, *, source="JPN", target="KOR", directed=False):
    sel = points[
        (points["period"] == pd.Timestamp(day))
        & (points["source"] == source)
        & (points["target"] == target)
        & (points["directed"] == directed)
        & (points["seen_from"] == "")
    ]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def test_interval_covers_true_daily_mean_about_90_percent():
    """Days with a random true tone and article-level random effects: ~90% coverage."""
    hits, total = 0, 0
    for seed, shape in ((11, ((1, 6), (1, 5))), (12, ((2, 12), (1, 3)))):
        rng = np.random.default_rng(seed)
        builder, truth = random_effects_days(rng, n_days=200, articles=shape[0], sentences=shape[1])
        units = builder.frame()
        hyper = estimate_hyper(units, PARAMS)
        days = compute_points(units, hyper, PARAMS, grains=["day"])["day"]
        days = days[~days["directed"].astype(bool)]
        mu = days["period"].dt.date.map(truth)
        hits += int(((days["ci_low"] <= mu) & (mu <= days["ci_high"])).sum())
        total += len(days)
    assert total == 400
    assert 0.85 <= hits / total <= 0.95


def test_variance_components_and_prior_strength_are_estimated_from_data():
    rng = np.random.default_rng(3)
    builder, _ = random_effects_days(
        rng, n_days=200, tau=0.12, tau_u=0.15, sigma_e=0.2, articles=(2, 8), sentences=(1, 6)
    )
    hyper = estimate_hyper(builder.frame(), PARAMS)
    assert hyper.sigma_e2 == pytest.approx(0.04, rel=0.15)
    assert hyper.tau_u2 == pytest.approx(0.0225, rel=0.35)
    assert hyper.tau2["day"] == pytest.approx(0.0144, rel=0.4)
    assert hyper.k["day"] == pytest.approx(hyper.sigma2 / hyper.tau2["day"])
    assert hyper.grand_mean == pytest.approx(0.1, abs=0.03)


def test_variance_components_without_repeated_sentences_fall_back_to_pooled():
    b = Builder()
    for d in range(10):
        for s in (-0.2, 0.0, 0.3):
            b.article(DAY0 + dt.timedelta(days=d), [s])
    views = expand_views(prepare(b.frame(), PARAMS), by_publisher=False)
    sigma_e2, tau_u2 = variance_components(views[~views["directed"]])
    assert tau_u2 == 0.0
    assert sigma_e2 == pytest.approx(np.var([-0.2, 0.0, 0.3], ddof=1))


def _history(b: Builder, level: float, days: int = 30) -> dt.date:
    for d in range(days):
        for _ in range(4):
            b.article(DAY0 + dt.timedelta(days=d), [level, level])
    return DAY0 + dt.timedelta(days=days)


def test_one_sentence_is_pulled_to_the_prior_and_two_hundred_barely():
    low, high = Builder(), Builder()
    day = _history(low, 0.5)
    _history(high, 0.5)
    low.article(day, [-0.5])
    for _ in range(200):
        high.article(day, [-0.5])
    one = _row(compute_points(low.frame(), FIXED, PARAMS, ["day"])["day"], day)
    many = _row(compute_points(high.frame(), FIXED, PARAMS, ["day"])["day"], day)
    assert one["tone_raw"] == pytest.approx(-0.5) and many["tone_raw"] == pytest.approx(-0.5)
    # one sentence: weight (τ²+V_L)/(τ²+V_L+σ²) ≈ 0.15 → most of the way back to +0.5
    assert one["tone"] > 0.2
    assert many["tone"] < -0.45
    assert one["ci_high"] - one["ci_low"] > many["ci_high"] - many["ci_low"]


def test_pair_without_history_is_pulled_toward_the_grand_mean():
    b = Builder()
    b.article(DAY0, [0.8])
    point = _row(compute_points(b.frame(), FIXED, PARAMS, ["day"])["day"], DAY0)
    assert FIXED.grand_mean < point["tone"] < point["tone_raw"]


def test_one_article_of_fifty_is_less_certain_than_fifty_articles_of_one():
    one, many = Builder(), Builder()
    one.article(DAY0, [0.3] * 50)
    for _ in range(50):
        many.article(DAY0, [0.3])
    a = _row(compute_points(one.frame(), FIXED, PARAMS, ["day"])["day"], DAY0)
    b = _row(compute_points(many.frame(), FIXED, PARAMS, ["day"])["day"], DAY0)
    assert a["volume"] == b["volume"] == 50
    assert (a["articles"], b["articles"]) == (1, 50)
    assert a["ci_high"] - a["ci_low"] > 2 * (b["ci_high"] - b["ci_low"])


def test_clustered_noise_widens_the_interval_with_the_same_sentences():
    rng = np.random.default_rng(5)
    tones = rng.normal(0.2, 0.2, 40)
    clustered, spread = Builder(), Builder()
    for chunk in np.split(tones, 2):
        clustered.article(DAY0, chunk)
    for t in tones:
        spread.article(DAY0, [t])
    a = _row(compute_points(clustered.frame(), FIXED, PARAMS, ["day"])["day"], DAY0)
    b = _row(compute_points(spread.frame(), FIXED, PARAMS, ["day"])["day"], DAY0)
    assert a["tone_raw"] == pytest.approx(b["tone_raw"])
    assert a["ci_high"] - a["ci_low"] > b["ci_high"] - b["ci_low"]


def test_directed_and_undirected_views():
    b = Builder()
    b.article(DAY0, [0.5, 0.5, 0.5], a="KOR", b="JPN", direction="a->b")  # KOR→JPN
    b.article(DAY0, [-0.5, -0.5], a="JPN", b="KOR", direction="a->b")  # JPN→KOR
    b.article(DAY0, [-0.7], a="KOR", b="JPN", direction="b->a")  # JPN→KOR
    b.article(DAY0, [0.0], a="KOR", b="JPN", direction="mutual")  # both
    b.article(DAY0, [0.1], a="KOR", b="JPN", direction=None)  # both
    pts = compute_points(b.frame(), FIXED, PARAMS, ["day"])["day"]
    kj = _row(pts, DAY0, source="KOR", target="JPN", directed=True)
    jk = _row(pts, DAY0, source="JPN", target="KOR", directed=True)
    und = _row(pts, DAY0, source="JPN", target="KOR", directed=False)
    assert (kj["volume"], jk["volume"], und["volume"]) == (5, 5, 8)
    assert kj["tone_raw"] == pytest.approx((1.5 + 0.0 + 0.1) / 5)
    assert jk["tone_raw"] == pytest.approx((-1.0 - 0.7 + 0.0 + 0.1) / 5)
    assert und["tone_raw"] == pytest.approx((1.5 - 1.0 - 0.7 + 0.1) / 8)
    assert not ((pts["source"] == "KOR") & ~pts["directed"].astype(bool)).any()


def test_week_and_month_come_from_sentences_not_from_day_values():
    b = Builder()
    monday = dt.date(2024, 1, 1)
    b.article(monday, [0.8])
    b.article(monday + dt.timedelta(days=1), [-0.2] * 9)
    pts = compute_points(b.frame(), FIXED, PARAMS)
    days = pts["day"][~pts["day"]["directed"].astype(bool)]
    week = _row(pts["week"], monday)
    month = _row(pts["month"], monday)
    assert days["tone_raw"].mean() == pytest.approx(0.3)
    assert week["tone_raw"] == pytest.approx(-0.1)
    assert month["tone_raw"] == pytest.approx(-0.1)
    assert (week["volume"], week["articles"]) == (10, 2)


def test_smoothed_series_is_sentence_weighted_over_trailing_seven_days():
    b = Builder()
    b.article(DAY0, [1.0 * 0.8])
    b.article(DAY0 + dt.timedelta(days=3), [0.0] * 3)
    b.article(DAY0 + dt.timedelta(days=8), [-0.4])
    days = compute_points(b.frame(), FIXED, PARAMS, ["day"])["day"]
    assert _row(days, DAY0 + dt.timedelta(days=3))["tone_smooth7"] == pytest.approx(0.8 / 4)
    # day 8's window (days 2..8) no longer holds day 0
    assert _row(days, DAY0 + dt.timedelta(days=8))["tone_smooth7"] == pytest.approx(-0.4 / 4)


def test_textrank_weighting_weighs_important_sentences_more():
    b = Builder()
    b.article(DAY0, [0.8, -0.4], scores=[1.0, 0.25])
    equal = _row(compute_points(b.frame(), FIXED, PARAMS, ["day"])["day"], DAY0)
    ranked = _row(
        compute_points(b.frame(), FIXED, IndexParams(by_publisher=False, weighting="textrank"))[
            "day"
        ],
        DAY0,
    )
    assert equal["tone_raw"] == pytest.approx(0.2)
    assert ranked["tone_raw"] == pytest.approx((0.8 - 0.1) / 1.25)


def test_attention_counts_and_publisher_split():
    b = Builder()
    b.article(DAY0, [0.5, 0.5], a="KOR", b="JPN", publisher="KOR", publisher_id=1)
    b.article(DAY0, [-0.5], a="USA", b="CHN", publisher="USA", publisher_id=2)
    b.article(DAY0, [-0.6, 0.0, 0.7], a="USA", b="CHN", publisher="USA", publisher_id=2)
    units = b.frame()
    middle = units.index[4]  # the s = 0 sentence: make it clearly neutral
    units.loc[middle, ["p_conflict", "p_neutral", "p_cooperation"]] = [0.1, 0.8, 0.1]
    pts = compute_points(units, FIXED, IndexParams(by_publisher=True), ["day"])["day"]
    kj = _row(pts, DAY0)
    assert kj["attention"] == pytest.approx(2 / 6)
    assert (kj["n_conflict"], kj["n_neutral"], kj["n_cooperation"]) == (0, 0, 2)
    cu = _row(pts, DAY0, source="CHN", target="USA")
    assert (cu["n_conflict"], cu["n_neutral"], cu["n_cooperation"]) == (2, 1, 1)
    assert (cu["sources"], cu["articles"]) == (1, 2)
    seen = pts[(pts["seen_from"] == "USA") & ~pts["directed"].astype(bool)]
    assert seen[["source", "target"]].values.tolist() == [["CHN", "USA"]]
    assert seen.iloc[0]["attention"] == pytest.approx(1.0)
