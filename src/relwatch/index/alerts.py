"""Change alerts on a pair's daily series (no database here).

A day (or the last ``alert_window_days`` days) is tested against the pair's trailing baseline
(the ``prior_days`` before the window): z = (x − b) / √(τ²·D + V_x + V_b), where x and b are
the window's and the baseline's weighted tone, V_x and V_b their sampling variances under the
sentence-in-article model and τ²·D the day-to-day variation of the true tone the window is
expected to show anyway (τ² = ``Hyper.tau2_alert``, estimated from day-to-day differences on
the median, so the shifts being looked for do not blunt the test). A day is *flagged* when
|z| ≥ ``alert_z`` and the window has enough sentences and articles and the baseline enough
sentences (minimum-volume rule). An *alert* is a flagged day with no flagged day of the same
sign in the ``alert_cooldown_days`` before, so a lasting shift gives one alert at its onset.
Everything a day's result depends on lies in a fixed window before it, which is what lets
``build_index`` recompute alerts incrementally.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from relwatch.index.params import Hyper, IndexParams
from relwatch.index.tone import aggregate, expand_views, prepare, window_sums

__all__ = ["ALERT_COLUMNS", "detect_alerts", "scan"]

ALERT_COLUMNS = [
    "source",
    "target",
    "directed",
    "seen_from",
    "day",
    "direction",
    "size",
    "statistic",
    "baseline",
    "value",
    "volume",
    "evidence",
]


def scan(views: pd.DataFrame, hyper: Hyper, params: IndexParams) -> pd.DataFrame:
    """Every tested (view, day) of the all-publisher views with z, ``flag`` and ``alert``."""
    base = views[views["seen_from"] == ""]
    if base.empty:
        return pd.DataFrame(columns=["gid", "period", "z", "eligible", "flag", "alert"])
    day = aggregate(base, "day")
    start = pd.to_datetime(day["period"])
    gid = day["gid"].to_numpy()
    win = params.alert_window_days
    lo_x = (start - pd.Timedelta(days=win - 1)).to_numpy()
    hi_x = (start + pd.Timedelta(days=1)).to_numpy()
    cols = ["W", "SW", "W2", "BB", "Wd2", "volume", "articles"]
    x = window_sums(day, cols, gid, lo_x, hi_x)
    lo_b = (start - pd.Timedelta(days=win - 1 + params.prior_days)).to_numpy()
    b = window_sums(day, cols, gid, lo_b, lo_x)
    eligible = (
        (x["volume"] >= params.alert_min_volume)
        & (x["articles"] >= params.alert_min_articles)
        & (b["volume"] >= max(params.alert_min_baseline, 1))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        value = x["SW"] / x["W"]
        baseline = b["SW"] / b["W"]
        tau2 = hyper.tau2_alert
        var = (
            tau2 * x["Wd2"] / x["W"] ** 2
            + (hyper.tau_u2 * x["BB"] + hyper.sigma_e2 * x["W2"]) / x["W"] ** 2
            + (hyper.tau_u2 * b["BB"] + hyper.sigma_e2 * b["W2"] + tau2 * b["Wd2"]) / b["W"] ** 2
        )
        z = np.where(eligible, (value - baseline) / np.sqrt(var), 0.0)
    out = day[["gid", "period"]].copy()
    out["value"], out["baseline"], out["z"] = value, baseline, z
    out["volume"] = x["volume"].astype(int)
    out["eligible"] = eligible
    out["flag"] = eligible & (np.abs(z) >= params.alert_z)
    day["up"] = (out["flag"] & (z > 0)).astype(float).to_numpy()
    day["down"] = (out["flag"] & (z < 0)).astype(float).to_numpy()
    lo_c = (start - pd.Timedelta(days=params.alert_cooldown_days)).to_numpy()
    before = window_sums(day, ["up", "down"], gid, lo_c, start.to_numpy())
    recent = np.where(z > 0, before["up"], before["down"])
    out["alert"] = out["flag"] & (recent == 0)
    return out


def detect_alerts(units: pd.DataFrame, hyper: Hyper, params: IndexParams) -> pd.DataFrame:
    """Alerts for every all-publisher view (directed and undirected), with evidence ids.

    Evidence: the window's predictions ranked by w·(s − baseline) signed toward the alert's
    direction, the ``alert_evidence`` strongest first.
    """
    views = expand_views(prepare(units, params), by_publisher=False)
    tested = scan(views, hyper, params)
    hits = tested[tested["alert"]].reset_index(drop=True)
    if hits.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    hits["alert_id"] = np.arange(len(hits))
    hits["sign"] = np.sign(hits["z"])
    span = [
        hits.assign(day=pd.to_datetime(hits["period"]) - pd.Timedelta(days=k))
        for k in range(params.alert_window_days)
    ]
    window = pd.concat(span, ignore_index=True)[["alert_id", "gid", "day", "sign", "baseline"]]
    rows = views.merge(window, on=["gid", "day"])
    rows["contribution"] = rows["w"] * (rows["s"] - rows["baseline"]) * rows["sign"]
    rows = rows.sort_values(["alert_id", "contribution", "prediction_id"], ascending=[1, 0, 1])
    top = rows.groupby("alert_id").head(params.alert_evidence)
    evidence = top.groupby("alert_id")["prediction_id"].agg(lambda ids: [int(i) for i in ids])
    groups = views.drop_duplicates("gid").set_index("gid")[
        ["source", "target", "directed", "seen_from"]
    ]
    hits = hits.join(groups, on="gid").join(evidence.rename("evidence"), on="alert_id")
    hits["day"] = pd.to_datetime(hits["period"])
    hits["direction"] = np.where(hits["z"] > 0, "to_cooperation", "to_conflict")
    hits["size"] = hits["value"] - hits["baseline"]
    hits["statistic"] = hits["z"]
    return hits[ALERT_COLUMNS]
