"""Equal or TextRank sentence weights for the pair index? Split-half reliability by article.

Run:  .venv/bin/python bench/index_weighting.py [DATABASE] [--model NAME@VERSION]
          [--splits 20] [--seed 0]

DATABASE is a path to a SQLite file or a SQLAlchemy URL (default: the configured database,
the demo's ``.relwatch/relwatch.db``). The articles behind every (undirected pair, period) are
split at random into two halves; each half gives its own raw tone (weighted mean of
P(cooperation) − P(conflict)) under each weighting. The correlation of the two halves over
pair-periods with sentences in both, stepped up with Spearman–Brown (2r / (1 + r)), is the
reliability of the full figure. ``within`` correlates deviations from each pair's mean (the
day-to-day movement the index is read for), ``overall`` also rewards telling pairs apart.
Articles, not sentences, are split because sentences of one story share its slant. The
weighting with the higher within-pair day reliability is the default
(``relwatch.index.params.DEFAULT_WEIGHTING``); the ratio textrank / equal is printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from relwatch.core.db import session_scope  # noqa: E402
from relwatch.index import IndexParams, latest_prediction_model  # noqa: E402
from relwatch.index.store import load_units  # noqa: E402
from relwatch.index.tone import expand_views, period_start, prepare  # noqa: E402


def database_url(arg: str | None) -> str | None:
    if arg is None or "://" in arg:
        return arg
    path = Path(arg).expanduser().resolve()
    if not path.exists():
        sys.exit(f"no database at {path}")
    return f"sqlite:///{path}"


def half_tones(views: pd.DataFrame, grain: str, half: np.ndarray) -> pd.DataFrame:
    """Raw tone per (pair, period) in each half of the articles; pair-periods in both."""
    v = views.assign(
        period=period_start(views["day"], grain), half=half, ws=views["w"] * views["s"]
    )
    agg = v.groupby(["gid", "period", "half"]).agg(W=("w", "sum"), SW=("ws", "sum"))
    tone = (agg["SW"] / agg["W"]).unstack("half").dropna()
    return tone.rename(columns={0: "a", 1: "b"})


def reliability(tone: pd.DataFrame) -> tuple[float, float]:
    """(overall, within-pair) Spearman–Brown reliability of the full figure."""

    def sb(x: pd.Series, y: pd.Series) -> float:
        r = float(np.corrcoef(x, y)[0, 1]) if len(x) > 2 else float("nan")
        return 2 * r / (1 + r)

    overall = sb(tone["a"], tone["b"])
    centred = tone - tone.groupby(level="gid").transform("mean")
    keep = tone.groupby(level="gid")["a"].transform("size") >= 3
    return overall, sb(centred.loc[keep, "a"], centred.loc[keep, "b"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("database", nargs="?", help="SQLite path or SQLAlchemy URL")
    parser.add_argument("--model", help="NAME@VERSION (default: newest predictions)")
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with session_scope(database_url(args.database)) as session:
        if args.model:
            name, _, version = args.model.rpartition("@")
        else:
            name, version = latest_prediction_model(session)
        units = load_units(session, model_name=name, model_version=version)
    if units.empty:
        sys.exit(f"no index-eligible predictions of {name}@{version}")
    print(
        f"{name}@{version}: {len(units)} predictions, {units['article_id'].nunique()} "
        f"articles, {units['day'].nunique()} days; {args.splits} random article splits"
    )
    rng = np.random.default_rng(args.seed)
    articles = units["article_id"].unique()
    results: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    views = {
        w: expand_views(prepare(units, IndexParams(weighting=w)), by_publisher=False)
        for w in ("equal", "textrank")
    }
    for w, v in views.items():
        views[w] = v[~v["directed"].astype(bool)].reset_index(drop=True)
    for _ in range(args.splits):
        side = pd.Series(rng.integers(0, 2, len(articles)), index=articles)
        for w, v in views.items():
            half = side.loc[v["article_id"]].to_numpy()
            for grain in ("day", "week"):
                tone = half_tones(v, grain, half)
                overall, within = reliability(tone)
                results.setdefault((w, grain), []).append((overall, within, len(tone)))
    print(f"{'weighting':<10} {'grain':<6} {'pair-periods':>12} {'overall':>8} {'within':>8}")
    summary = {}
    for (w, grain), rows in results.items():
        arr = np.array(rows, dtype=float)
        summary[(w, grain)] = np.nanmean(arr[:, 1])
        print(
            f"{w:<10} {grain:<6} {arr[:, 2].mean():>12.0f} {np.nanmean(arr[:, 0]):>8.3f} "
            f"{np.nanmean(arr[:, 1]):>8.3f}"
        )
    for grain in ("day", "week"):
        ratio = summary[("textrank", grain)] / summary[("equal", grain)]
        print(f"{grain}: within-pair reliability textrank / equal = {ratio:.3f}")
    best = max(("equal", "textrank"), key=lambda w: summary[(w, "day")])
    print(f"choose: {best} (higher within-pair day reliability)")


if __name__ == "__main__":
    main()
