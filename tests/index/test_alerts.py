"""Change alerts on synthetic daily series: a step is caught, stationary noise is not."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from relwatch.index.alerts import ALERT_COLUMNS, detect_alerts, scan
from relwatch.index.params import IndexParams
from relwatch.index.tone import estimate_hyper, expand_views, prepare
from tests.index.synth import DAY0, Builder, random_effects_days

PARAMS = IndexParams(by_publisher=False, weighting="equal")
SHAPE = {"tau": 0.05, "tau_u": 0.1, "sigma_e": 0.15, "articles": (3, 6), "sentences": (1, 4)}


def _shifted(before: int, after: int, jump: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    builder, _ = random_effects_days(rng, n_days=before, level=0.3, **SHAPE)
    later = Builder()
    later.next_article, later.next_sentence = 10**6, 10**6
    random_effects_days(rng, n_days=after, level=0.3 + jump, builder=later, **SHAPE)
    tail = later.frame()
    tail["day"] = tail["day"] + pd.Timedelta(days=before)
    return pd.concat([builder.frame(), tail], ignore_index=True)


def _undirected(alerts: pd.DataFrame) -> pd.DataFrame:
    return alerts[~alerts["directed"].astype(bool)]


def test_step_change_gives_one_alert_at_its_onset():
    units = _shifted(90, 30, -0.5, seed=1)
    hyper = estimate_hyper(units, PARAMS)
    alerts = _undirected(detect_alerts(units, hyper, PARAMS))
    assert list(alerts.columns) == ALERT_COLUMNS
    assert len(alerts) == 1
    alert = alerts.iloc[0]
    onset = pd.Timestamp(DAY0 + dt.timedelta(days=90))
    assert onset <= alert["day"] <= onset + pd.Timedelta(days=2)
    assert alert["direction"] == "to_conflict"
    assert alert["size"] < -0.3 and alert["statistic"] <= -PARAMS.alert_z
    assert alert["baseline"] > 0.2 and alert["value"] < 0.0
    assert alert["volume"] >= PARAMS.alert_min_volume


def test_alert_evidence_is_the_days_predictions_most_toward_conflict_first():
    units = _shifted(90, 30, -0.5, seed=1)
    hyper = estimate_hyper(units, PARAMS)
    alert = _undirected(detect_alerts(units, hyper, PARAMS)).iloc[0]
    day = units[units["day"] == alert["day"]].set_index("prediction_id")
    assert set(alert["evidence"]) == set(day.index)  # fewer than alert_evidence that day
    tones = (day["p_cooperation"] - day["p_conflict"]).loc[alert["evidence"]].to_numpy()
    assert np.all(np.diff(tones) >= -1e-12)  # most conflictual first


def test_cooperation_step_is_named_as_such():
    units = _shifted(90, 30, +0.4, seed=4)
    alerts = _undirected(detect_alerts(units, estimate_hyper(units, PARAMS), PARAMS))
    assert alerts["direction"].tolist() == ["to_cooperation"]


def test_stationary_noise_gives_no_alert():
    for seed in range(3):
        rng = np.random.default_rng(100 + seed)
        builder, _ = random_effects_days(rng, n_days=120, level=0.1, **SHAPE)
        units = builder.frame()
        assert detect_alerts(units, estimate_hyper(units, PARAMS), PARAMS).empty


def test_minimum_volume_rule_keeps_thin_days_out():
    units = _shifted(40, 10, -0.6, seed=2)
    thin = IndexParams(by_publisher=False, alert_min_volume=1000)
    views = expand_views(prepare(units, thin), by_publisher=False)
    tested = scan(views, estimate_hyper(units, thin), thin)
    assert not tested["eligible"].any()
    assert detect_alerts(units, estimate_hyper(units, thin), thin).empty
