"""How often do index alerts fire on real dates versus the same data with shuffled dates?

Run:  .venv/bin/python bench/index_alerts.py [DATABASE] [--model NAME@VERSION]
          [--shuffles 5] [--seed 0] [--z 3.0 3.5 4.0 4.5]

DATABASE is a path to a SQLite file or a SQLAlchemy URL (default: the configured database).
The detector (``relwatch.index.alerts``) runs on every undirected all-publisher pair series
with the stored index's parameters (or the defaults). Then the publication days are
permuted across articles — each article keeps its sentences and its pair, only the day
moves — which destroys every real change while keeping volumes and article clustering; any
alert there is a false alarm. Rates are alerts per 1,000 tested pair-days (days that pass
the minimum-volume rule); the nominal rate is P(|z| ≥ alert_z) for a standard normal.
Hyperparameters are re-estimated on each shuffle, as a full build would. ``--z`` sweeps
thresholds on the same shuffles, to choose ``alert_z`` by its false-alarm rate on shuffled
dates rather than by the normal tail (days of one pair share news cycles, so the tail is
heavier than normal).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from relwatch.core.db import session_scope  # noqa: E402
from relwatch.index import IndexParams, current_params, latest_prediction_model  # noqa: E402
from relwatch.index.alerts import scan  # noqa: E402
from relwatch.index.store import load_units  # noqa: E402
from relwatch.index.tone import estimate_hyper, expand_views, prepare  # noqa: E402


def database_url(arg: str | None) -> str | None:
    if arg is None or "://" in arg:
        return arg
    path = Path(arg).expanduser().resolve()
    if not path.exists():
        sys.exit(f"no database at {path}")
    return f"sqlite:///{path}"


def rate(units: pd.DataFrame, params: IndexParams) -> tuple[int, int, float]:
    """(alerts, tested pair-days, alerts per 1,000 tested) on undirected series."""
    hyper = estimate_hyper(units, params)
    views = expand_views(prepare(units, params), by_publisher=False)
    views = views[~views["directed"].astype(bool)].reset_index(drop=True)
    tested = scan(views, hyper, params)
    n_alerts, n_tested = int(tested["alert"].sum()), int(tested["eligible"].sum())
    return n_alerts, n_tested, 1000 * n_alerts / n_tested if n_tested else float("nan")


def shuffled(units: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    days = units.groupby("article_id")["day"].first()
    moved = pd.Series(rng.permutation(days.to_numpy()), index=days.index)
    return units.assign(day=moved.loc[units["article_id"]].to_numpy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("database", nargs="?", help="SQLite path or SQLAlchemy URL")
    parser.add_argument("--model", help="NAME@VERSION (default: newest predictions)")
    parser.add_argument("--shuffles", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--z", type=float, nargs="+", help="alert_z values to sweep")
    args = parser.parse_args()
    with session_scope(database_url(args.database)) as session:
        if args.model:
            name, _, version = args.model.rpartition("@")
        else:
            name, version = latest_prediction_model(session)
        params = current_params(session, model_name=name, model_version=version)
        units = load_units(session, model_name=name, model_version=version)
    if units.empty:
        sys.exit(f"no index-eligible predictions of {name}@{version}")
    print(
        f"{name}@{version}: {len(units)} predictions, stored alert_z={params.alert_z}, "
        f"min volume {params.alert_min_volume} sentences / {params.alert_min_articles} articles"
    )
    rng = np.random.default_rng(args.seed)
    shuffles = [shuffled(units, rng) for _ in range(args.shuffles)]
    print(
        f"{'alert_z':>7}  {'real alerts':>11}  {'real ‰':>7}  {'shuffled ‰':>10}  "
        f"{'nominal ‰':>9}  real/shuffled"
    )
    for z in args.z or [params.alert_z]:
        swept = dataclasses.replace(params, alert_z=z)
        real = rate(units, swept)
        fake = [rate(frame, swept) for frame in shuffles]
        alerts, tested = sum(f[0] for f in fake), sum(f[1] for f in fake)
        false_rate = 1000 * alerts / tested if tested else float("nan")
        nominal = 1000 * math.erfc(z / math.sqrt(2))
        ratio = f"{real[2] / false_rate:.1f}x" if false_rate > 0 else "no false alarm"
        print(
            f"{z:>7.2f}  {real[0]:>5}/{real[1]:<5}  {real[2]:>7.2f}  {false_rate:>10.2f}  "
            f"{nominal:>9.2f}  {ratio}"
        )
    print(
        f"rates per 1,000 tested pair-days; shuffled: {args.shuffles} date permutations "
        "(every alert there is a false alarm)"
    )


if __name__ == "__main__":
    main()
