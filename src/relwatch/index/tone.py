"""The pair index as arithmetic on a frame of predictions (no database here).

One row in = one prediction of one model on one (sentence, A, B) unit, with its article, day,
publisher and probabilities. Per sentence the tone is s = P(cooperation) − P(conflict). A
period's figure for a pair view is built in three steps:

1. ``tone_raw``: the weighted mean of s (equal weights by default, see ``IndexParams``).
2. ``tone``: empirical-Bayes shrinkage of ``tone_raw`` toward the pair's prior level — the
   trailing ``prior_days`` mean of the pair's own sentences, blended with the grand mean of all
   pairs by ``prior_pseudo`` so a pair without history is pulled toward the typical tone. The
   data's weight is n_eff / (n_eff + k) with n_eff = σ² / V (V: the period's sampling variance
   under a sentence-in-article random-effects model, so 50 sentences of one article count
   about as one) and k = σ² / (τ² + V_L): σ² per-sentence within-day variance, τ² the variance
   of a period's true tone around the level, V_L the level's own uncertainty. σ², τ² are
   estimated from the data by the method of moments (``estimate_hyper``; τ² on the median,
   so level shifts do not inflate it), never guessed.
3. The interval is the posterior one around the reported (shrunk) tone: tone ± q·√(w·V̂),
   where V̂ is the cluster-robust variance of ``tone_raw`` (sum over articles of squared summed
   residuals, G/(G−1) correction) moderated toward the model variance with ``moderation_df``
   prior degrees of freedom, and q the t quantile with G − 1 + moderation_df df. With one
   article (G = 1) only the pooled model variance remains. Intervals are clipped to [−1, 1].

Weeks and months are computed from their sentences, not from day values.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from relwatch.index.params import GRAINS, Hyper, IndexParams

__all__ = [
    "FIGURE_COLUMNS",
    "GROUP_COLS",
    "POINT_COLUMNS",
    "aggregate",
    "compute_points",
    "estimate_hyper",
    "expand_views",
    "period_start",
    "prepare",
    "sentence_tone",
    "variance_components",
    "window_sums",
]

GROUP_COLS = ["source", "target", "directed", "seen_from"]
#: The figures of one index point, declared once for the build, the store and the readers.
FIGURE_COLUMNS = [
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
]
POINT_COLUMNS = [*GROUP_COLS, "period", *FIGURE_COLUMNS]
_SUM_COLS = ["W", "W2", "SW", "BB", "Wd2", "volume", "articles"]
_TAU2_FLOOR = 1e-4
_DAY_SHIFT = 1 << 22  # keeps day ordinals positive for any plausible date
_KEY_SCALE = 1 << 23


def sentence_tone(p_cooperation: np.ndarray, p_conflict: np.ndarray) -> np.ndarray:
    """s = P(cooperation) − P(conflict): +1 all cooperation, −1 all conflict."""
    return np.asarray(p_cooperation, dtype=float) - np.asarray(p_conflict, dtype=float)


def prepare(units: pd.DataFrame, params: IndexParams) -> pd.DataFrame:
    """Add tone ``s``, weight ``w`` and argmax label (0 conflict, 1 neutral, 2 cooperation)."""
    out = units.copy()
    out["day"] = pd.to_datetime(out["day"]).dt.normalize()
    out["s"] = sentence_tone(out["p_cooperation"].to_numpy(), out["p_conflict"].to_numpy())
    if params.weighting == "textrank":
        score = pd.to_numeric(out["score"], errors="coerce").fillna(1.0).to_numpy(dtype=float)
        out["w"] = np.maximum(score, params.min_weight)
    else:
        out["w"] = 1.0
    probs = out[["p_conflict", "p_neutral", "p_cooperation"]].to_numpy(dtype=float)
    out["label"] = probs.argmax(axis=1)
    if "publisher" not in out:
        out["publisher"] = ""
    out["publisher"] = out["publisher"].fillna("").astype(str)
    if "publisher_id" not in out:
        out["publisher_id"] = np.nan
    return out


def expand_views(units: pd.DataFrame, *, by_publisher: bool) -> pd.DataFrame:
    """One row per (unit, view) the unit counts for.

    Undirected: (min code, max code) once. Directed: ``a->b`` counts for a→b, ``b->a`` for
    b→a, ``mutual`` or unknown for both. With ``by_publisher`` every row is repeated with
    ``seen_from`` = its publisher's country (when known); '' always means all publishers.
    """
    a, b = units["a"].astype(str), units["b"].astype(str)
    direction = units["direction"].fillna("mutual").astype(str)
    first = a <= b
    und = units.assign(source=a.where(first, b), target=b.where(first, a), directed=False)
    fwd = units[direction != "b->a"].assign(
        source=a[direction != "b->a"], target=b[direction != "b->a"], directed=True
    )
    bwd = units[direction != "a->b"].assign(
        source=b[direction != "a->b"], target=a[direction != "a->b"], directed=True
    )
    views = pd.concat([und, fwd, bwd], ignore_index=True)
    views["seen_from"] = ""
    if by_publisher:
        pub = views[views["publisher"] != ""].copy()
        pub["seen_from"] = pub["publisher"]
        views = pd.concat([views, pub], ignore_index=True)
    views["gid"] = views.groupby(GROUP_COLS, sort=True).ngroup()
    return views


def period_start(days: pd.Series, grain: str) -> pd.Series:
    """First day of the period holding each day: the day, its Monday, the 1st of its month."""
    days = pd.to_datetime(days).dt.normalize()
    if grain == "day":
        return days
    if grain == "week":
        return days - pd.to_timedelta(days.dt.weekday, unit="D")
    if grain == "month":
        return days - pd.to_timedelta(days.dt.day - 1, unit="D")
    raise ValueError(f"unknown grain {grain!r}")


def _ordinal(days: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    values = np.asarray(pd.to_datetime(days).values, dtype="datetime64[D]")
    return values.astype(np.int64) + _DAY_SHIFT


def aggregate(views: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Per (view, period): weighted sums, counts, and the cluster-robust residual sum.

    W = Σw, W2 = Σw², SW = Σws, BB = Σ_articles (Σw)², CR = Σ_articles (Σ w·(s − ȳ))²,
    Wd2 = Σ_days (Σw)² (for the variance of a mean over days).
    """
    v = views.assign(
        period=period_start(views["day"], grain),
        ws=views["w"] * views["s"],
        w2=views["w"] ** 2,
        c0=(views["label"] == 0).astype(int),
        c1=(views["label"] == 1).astype(int),
        c2=(views["label"] == 2).astype(int),
    )
    keys = ["gid", "period"]
    g = v.groupby(keys, sort=True).agg(
        W=("w", "sum"),
        W2=("w2", "sum"),
        SW=("ws", "sum"),
        volume=("sentence_id", "nunique"),
        articles=("article_id", "nunique"),
        sources=("publisher_id", "nunique"),
        n_conflict=("c0", "sum"),
        n_neutral=("c1", "sum"),
        n_cooperation=("c2", "sum"),
    )
    g["y"] = g["SW"] / g["W"]
    art = v.groupby([*keys, "article_id"], sort=False).agg(A=("ws", "sum"), B=("w", "sum"))
    art = art.join(g["y"], on=keys)
    art["r2"] = (art["A"] - art["B"] * art["y"]) ** 2
    art["B2"] = art["B"] ** 2
    g = g.join(art.groupby(level=[0, 1]).agg(CR=("r2", "sum"), BB=("B2", "sum")))
    day_w = v.groupby([*keys, "day"], sort=False)["w"].sum() ** 2
    g["Wd2"] = day_w.groupby(level=[0, 1]).sum()
    return g.reset_index()


def window_sums(
    table: pd.DataFrame,
    cols: Iterable[str],
    gid: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> dict[str, np.ndarray]:
    """Sums of ``cols`` over the rows of ``table`` (gid, period) with lo ≤ period < hi, per query.

    Vectorised with one sort and cumulative sums; ``lo``/``hi`` are datetimes.
    """
    order = np.lexsort((_ordinal(table["period"]), table["gid"].to_numpy()))
    keys = table["gid"].to_numpy()[order] * _KEY_SCALE + _ordinal(table["period"])[order]
    q_gid = np.asarray(gid, dtype=np.int64) * _KEY_SCALE
    i_lo = np.searchsorted(keys, q_gid + _ordinal(lo), side="left")
    i_hi = np.searchsorted(keys, q_gid + _ordinal(hi), side="left")
    out = {}
    for col in cols:
        cum = np.concatenate([[0.0], np.cumsum(table[col].to_numpy(dtype=float)[order])])
        out[col] = cum[i_hi] - cum[i_lo]
    return out


def variance_components(views: pd.DataFrame) -> tuple[float, float]:
    """(σ_e², τ_u²): within-article and between-article (within pair-day) variance of s.

    One-way ANOVA method of moments on unweighted sentences of the undirected all-publisher
    view. When no article has two sentences the two cannot be told apart: all within-day
    variance is put in σ_e² (which gives the same variance for one-sentence articles).
    """
    defaults = Hyper()
    if views.empty:
        return defaults.sigma_e2, defaults.tau_u2
    v = views.assign(s2=views["s"] ** 2)
    art = v.groupby(["gid", "day", "article_id"], sort=False).agg(
        n=("s", "size"), S=("s", "sum"), S2=("s2", "sum")
    )
    art["m"] = art["S"] / art["n"]
    n_total, n_art = float(art["n"].sum()), len(art)
    ss_within = float((art["S2"] - art["n"] * art["m"] ** 2).sum())
    day = art.groupby(level=[0, 1]).agg(
        n=("n", "sum"), S=("S", "sum"), S2=("S2", "sum"), G=("n", "size")
    )
    art = art.join((day["S"] / day["n"]).rename("md"), on=["gid", "day"])
    art["ssb"] = art["n"] * (art["m"] - art["md"]) ** 2
    art["nn"] = art["n"] ** 2
    day = day.join(art.groupby(level=[0, 1]).agg(ssb=("ssb", "sum"), nn=("nn", "sum")))
    if n_total <= n_art:
        multi = day[day["n"] >= 2]
        dof = float((multi["n"] - 1).sum())
        if dof <= 0:
            return defaults.sigma_e2, defaults.tau_u2
        within_day = float((multi["S2"] - multi["S"] ** 2 / multi["n"]).sum())
        return max(within_day / dof, 1e-6), 0.0
    sigma_e2 = max(ss_within / (n_total - n_art), 1e-6)
    multi = day[day["G"] >= 2]
    denom = float((multi["n"] - multi["nn"] / multi["n"]).sum())
    if denom <= 0:
        return sigma_e2, sigma_e2  # no day with two articles: assume an ICC of one half
    tau_u2 = (float(multi["ssb"].sum()) - sigma_e2 * float((multi["G"] - 1).sum())) / denom
    return sigma_e2, max(tau_u2, 0.0)


def _trailing(
    day_agg: pd.DataFrame, agg: pd.DataFrame, days: int, cols: Iterable[str]
) -> dict[str, np.ndarray]:
    start = pd.to_datetime(agg["period"])
    return window_sums(
        day_agg,
        cols,
        agg["gid"].to_numpy(),
        (start - pd.Timedelta(days=days)).to_numpy(),
        start.to_numpy(),
    )


#: Median of a χ² with one degree of freedom (scipy.special.chdtri(1, 0.5)).
_CHI2_1_MEDIAN = 0.454936423119572


def _moment_tau2(dev2: np.ndarray, noise: np.ndarray, extra: np.ndarray | None = None) -> float:
    """Between-period variance τ² with E[dev²] = τ²·(1 + extra) + noise (method of moments).

    Iterated with weights 1/(τ²(1+extra) + noise)² (Paule–Mandel style) so noisy low-volume
    periods do not dominate; floored at a small positive value. Mean-based on purpose: the
    shrinkage prior must include real shifts, or it would flatten them.
    """
    if len(dev2) == 0:
        return Hyper().tau2["day"]
    extra = np.zeros_like(dev2) if extra is None else extra
    tau2 = max(float(np.mean(dev2 - noise)), _TAU2_FLOOR)
    for _ in range(200):
        var = tau2 * (1.0 + extra) + noise
        u = 1.0 / var**2
        new = float(np.sum(u * (dev2 - noise)) / np.sum(u * (1.0 + extra)))
        new = max(new, _TAU2_FLOOR)
        if abs(new - tau2) < 1e-10:
            return new
        tau2 = new
    return tau2


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, cum[-1] / 2.0)])


def _robust_tau2(dev2: np.ndarray, noise: np.ndarray, extra: np.ndarray | None = None) -> float:
    """Like :func:`_moment_tau2`, but on the median: the *ordinary* day-to-day variation.

    τ² is the value at which the standardised squared deviations dev² / (τ²(1+extra) + noise)
    have the median of a χ²₁, so the level shifts the alerts look for cannot inflate the
    alerts' yardstick and hide themselves (the mean-based τ² rises several-fold on a series
    with one lasting shift). A second pass weights periods by their information
    (τ² / (τ² + noise))². Solved by bisection; floored.
    """
    if len(dev2) == 0:
        return Hyper().tau2["day"]
    extra = np.zeros_like(dev2) if extra is None else extra

    def solve(weights: np.ndarray) -> float:
        def excess(tau2: float) -> float:
            r2 = dev2 / (tau2 * (1.0 + extra) + noise)
            return _weighted_median(r2, weights) - _CHI2_1_MEDIAN

        lo, hi = _TAU2_FLOOR, 4.0  # s lies in [-1, 1]: no tone variance exceeds 4
        if excess(lo) <= 0:
            return lo
        if excess(hi) > 0:
            return hi
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
        return (lo + hi) / 2

    pilot = solve(np.ones_like(dev2))
    return solve((pilot / (pilot + noise)) ** 2)


def estimate_hyper(units: pd.DataFrame, params: IndexParams) -> Hyper:
    """Estimate σ_e², τ_u², τ²(grain), τ_pair² and the grand mean from all predictions.

    Uses the undirected all-publisher view so each prediction counts once. τ² compares each
    period's raw tone with the pair's pure trailing mean (periods with history only) and
    subtracts both sampling variances.
    """
    hyper = Hyper()
    if units.empty:
        return hyper
    u = prepare(units, params)
    views = expand_views(u, by_publisher=False)
    und = views[~views["directed"].astype(bool)].copy()
    hyper.n_units = len(und)
    hyper.publisher_countries = int(u.loc[u["publisher"] != "", "publisher"].nunique())
    hyper.grand_mean = float((und["w"] * und["s"]).sum() / und["w"].sum())
    hyper.sigma_e2, hyper.tau_u2 = variance_components(und)
    day_agg = aggregate(und, "day")

    def noise(w2: np.ndarray, bb: np.ndarray, w: np.ndarray) -> np.ndarray:
        return (hyper.tau_u2 * bb + hyper.sigma_e2 * w2) / w**2

    tau2: dict[str, float] = {}
    for grain in GRAINS:
        agg = day_agg if grain == "day" else aggregate(und, grain)
        tr = _trailing(day_agg, agg, params.prior_days, ["W", "SW", "W2", "BB", "Wd2"])
        has = tr["W"] > 0
        if not has.any():
            tau2[grain] = hyper.tau2[grain]
            continue
        y = agg["y"].to_numpy()[has]
        level = tr["SW"][has] / tr["W"][has]
        v = noise(agg["W2"].to_numpy()[has], agg["BB"].to_numpy()[has], agg["W"].to_numpy()[has])
        v_level = noise(tr["W2"][has], tr["BB"][has], tr["W"][has])
        days_share = tr["Wd2"][has] / tr["W"][has] ** 2
        if grain == "day":
            tau2[grain] = _moment_tau2((y - level) ** 2, v + v_level, days_share)
        else:
            v_level = v_level + tau2["day"] * days_share
            tau2[grain] = _moment_tau2((y - level) ** 2, v + v_level)
    hyper.tau2 = tau2
    hyper.tau2_alert = _alert_tau2(day_agg, noise(day_agg["W2"], day_agg["BB"], day_agg["W"]))

    pairs = day_agg.groupby("gid").agg(
        W=("W", "sum"), SW=("SW", "sum"), W2=("W2", "sum"), BB=("BB", "sum"), Wd2=("Wd2", "sum")
    )
    if len(pairs) >= 2:
        m = (pairs["SW"] / pairs["W"]).to_numpy()
        v = noise(pairs["W2"].to_numpy(), pairs["BB"].to_numpy(), pairs["W"].to_numpy())
        v = v + tau2["day"] * (pairs["Wd2"] / pairs["W"] ** 2).to_numpy()
        hyper.tau_pair2 = _moment_tau2((m - hyper.grand_mean) ** 2, v)
    return hyper.rounded()


def _alert_tau2(day_agg: pd.DataFrame, noise: pd.Series, max_gap_days: int = 7) -> float:
    """Ordinary day-to-day variance of the true tone, from differences of near days.

    (y_d − y_prev)² has expectation 2τ² + V_d + V_prev while the level holds; a lasting shift
    spoils one difference, not the thirty days the trailing level needs to catch up, and the
    median-based solve shrugs that one off. This is the alerts' yardstick.
    """
    frame = day_agg.assign(v=noise.to_numpy()).sort_values(["gid", "period"])
    same = frame["gid"].eq(frame["gid"].shift())
    gap = (frame["period"] - frame["period"].shift()).dt.days
    near = (same & (gap <= max_gap_days)).to_numpy()
    if not near.any():
        return Hyper().tau2_alert
    diff2 = (frame["y"] - frame["y"].shift()).to_numpy()[near] ** 2
    both = (frame["v"] + frame["v"].shift()).to_numpy()[near]
    return _robust_tau2(diff2, both, np.ones_like(diff2))


def _quantile(level: float, df: np.ndarray) -> np.ndarray:
    """Two-sided t quantile (normal where df is 0 = infinite); scipy imported here because
    importing it costs a second that the read-only commands should not pay."""
    from scipy import special

    p = (1.0 + level) / 2.0
    safe = np.where(df > 0, df, 1.0)
    return np.where(df > 0, special.stdtrit(safe, p), float(special.ndtri(p)))


def compute_points(
    units: pd.DataFrame,
    hyper: Hyper,
    params: IndexParams,
    grains: Iterable[str] = GRAINS,
) -> dict[str, pd.DataFrame]:
    """Index points for every view and period present in ``units``, per grain.

    A period's trailing prior and smoothing read only rows of ``units``: give enough days
    before the first period you keep (``IndexParams.reach_days`` plus a month covers it).
    """
    u = prepare(units, params)
    views = expand_views(u, by_publisher=bool(params.by_publisher))
    groups = views.drop_duplicates("gid").set_index("gid")[GROUP_COLS].sort_index()
    day_agg = aggregate(views, "day")
    out: dict[str, pd.DataFrame] = {}
    m0, nu0 = params.prior_pseudo, params.moderation_df
    for grain in grains:
        agg = day_agg if grain == "day" else aggregate(views, grain)
        tr = _trailing(day_agg, agg, params.prior_days, ["W", "SW", "W2", "BB", "Wd2"])
        level = (tr["SW"] + m0 * hyper.grand_mean) / (tr["W"] + m0)
        v_level = (
            hyper.tau_u2 * tr["BB"]
            + hyper.sigma_e2 * tr["W2"]
            + hyper.tau2["day"] * tr["Wd2"]
            + m0**2 * hyper.tau_pair2
        ) / (tr["W"] + m0) ** 2
        prior_var = hyper.tau2[grain] + v_level
        w_tot = agg["W"].to_numpy()
        v_model = (hyper.tau_u2 * agg["BB"].to_numpy() + hyper.sigma_e2 * agg["W2"].to_numpy()) / (
            w_tot**2
        )
        weight = prior_var / (prior_var + v_model)
        y = agg["y"].to_numpy()
        tone = weight * y + (1.0 - weight) * level
        g = agg["articles"].to_numpy(dtype=float)
        df = g - 1.0
        v_cr = np.where(g >= 2, g / np.maximum(df, 1.0) * agg["CR"].to_numpy() / w_tot**2, 0.0)
        total_df = df + nu0
        v_int = np.where(
            total_df > 0, (df * v_cr + nu0 * v_model) / np.where(total_df > 0, total_df, 1), v_model
        )
        # Only the cluster-robust part is noisy: effective df (df + ν0)² / df (∞ when G = 1).
        eff_df = np.where(df > 0, total_df**2 / np.maximum(df, 1.0), 0.0)
        half = _quantile(params.level, eff_df) * np.sqrt(weight * v_int)
        frame = agg[["gid", "period", "volume", "articles", "sources"]].copy()
        frame["tone"] = tone
        frame["tone_raw"] = y
        frame["ci_low"] = np.clip(tone - half, -1.0, 1.0)
        frame["ci_high"] = np.clip(tone + half, -1.0, 1.0)
        for col in ("n_conflict", "n_neutral", "n_cooperation"):
            frame[col] = agg[col].to_numpy()
        if grain == "day":
            start = pd.to_datetime(agg["period"])
            sm = window_sums(
                day_agg,
                ["W", "SW"],
                agg["gid"].to_numpy(),
                (start - pd.Timedelta(days=params.smooth_days - 1)).to_numpy(),
                (start + pd.Timedelta(days=1)).to_numpy(),
            )
            frame["tone_smooth7"] = sm["SW"] / sm["W"]
        else:
            frame["tone_smooth7"] = np.nan
        frame = frame.join(groups, on="gid")
        frame["attention"] = frame["volume"] / _coverage(u, grain, frame)
        out[grain] = frame
    return out


def _coverage(units: pd.DataFrame, grain: str, frame: pd.DataFrame) -> np.ndarray:
    """Index-eligible sentences per period (and per publisher country for split rows)."""
    u = units.assign(period=period_start(units["day"], grain))
    every = u.groupby("period")["sentence_id"].nunique().rename("all")
    by_pub = (
        u[u["publisher"] != ""]
        .groupby(["publisher", "period"])["sentence_id"]
        .nunique()
        .rename("pub")
    )
    den = frame[["seen_from", "period"]].join(every, on="period")
    den = den.join(by_pub, on=["seen_from", "period"])
    return np.where(den["seen_from"] == "", den["all"], den["pub"]).astype(float)
