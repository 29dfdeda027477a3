"""Where a recipe's coop-vs-conflict sign errors come from, read from its out-of-fold rows.

Run:  .venv/bin/python bench/cv_errors.py OUT.folds.json [--name NAME] [--show]

Two questions about the sign errors of a ``bench/cv.py --json OUT`` run (``OUT.folds.json``):

- **Do they lean one way?** Temperature scaling keeps the order of the classes, so it cannot
  move a row from one side to the other; a per-class logit bias (vector scaling's bias) can,
  where more clashes read as rapprochements than the reverse (or the other way). For every
  fold it fits a temperature and a bias on the news rows of the *other folds of the same
  repeat* (never the fold it scores; never another repeat, whose folds hold the same rows) by
  NLL, and scores the held-out fold's conflibert rows with and without the bias.
- **Do they stay with the row?** Each repeat trains other fold models on other rows; a row
  that every repeat's model gets wrong is the recipe's error (or the label's), not the
  fold's. ``--show`` prints those sentences (it loads the pool from the data directory).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cv_paired import load_folds  # noqa: E402
from scipy.special import log_softmax  # noqa: E402

from relwatch.classify.evaluate import (  # noqa: E402
    CONFLICT,
    COOPERATION,
    NEUTRAL,
    coop_conflict_accuracy,
    macro_f1,
    sign_errors,
)


def fit_bias(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Temperature and per-class bias (the first class's fixed at 0) minimising mean NLL."""
    from scipy.optimize import minimize

    rows = np.arange(len(labels))

    def nll(p: np.ndarray) -> float:
        scores = logits / np.exp(p[0]) + np.r_[0.0, p[1:]]
        return float(-log_softmax(scores, axis=1)[rows, labels].mean())

    fit = minimize(nll, np.zeros(logits.shape[1]), method="Nelder-Mead", options={"xatol": 1e-5})
    return float(np.exp(fit.x[0])), np.r_[0.0, fit.x[1:]]


def raw_logits(fold: dict, source_index: int) -> np.ndarray:
    """Logits up to a per-row constant: the stored log-probabilities times the temperature
    the fold model scored at."""
    return np.asarray(fold["logp"][source_index], dtype=float) * fold.get("scored_at", 1.0)


def nested(folds: dict[tuple[int, int], dict], sources: int = 2) -> list[dict[str, float]]:
    """Per held-out fold: figures without and with a bias fitted on its repeat's other folds
    (``sources``: how many of the stored news sources the fit reads; conflibert is scored)."""
    out = []
    for (repeat, index), fold in sorted(folds.items()):
        others = [f for (r, i), f in folds.items() if r == repeat and i != index]
        if not others:
            continue
        fit_on = [(o, s) for o in others for s in range(min(sources, len(o["gold"])))]
        z = np.concatenate([raw_logits(o, s) for o, s in fit_on])
        y = np.concatenate([np.asarray(o["gold"][s], dtype=int) for o, s in fit_on])
        t, bias = fit_bias(z, y)
        scores = raw_logits(fold, 0) / t
        gold = np.asarray(fold["gold"][0], dtype=int)
        plain = np.exp(log_softmax(scores, axis=1))
        shifted = np.exp(log_softmax(scores + bias, axis=1))
        polar_pick = np.where(plain[:, COOPERATION] >= plain[:, CONFLICT], COOPERATION, CONFLICT)
        out.append(
            {
                "repeat": repeat,
                "fold": index,
                "temperature": t,
                "bias_neutral": float(bias[1]),
                "bias_cooperation": float(bias[2]),
                "cvc": coop_conflict_accuracy(gold, plain) or 0.0,
                "cvc_biased": coop_conflict_accuracy(gold, shifted) or 0.0,
                "f1": macro_f1(gold, plain.argmax(axis=1)),
                "f1_biased": macro_f1(gold, shifted.argmax(axis=1)),
                "conflict_as_cooperation": int(
                    ((gold == CONFLICT) & (polar_pick == COOPERATION)).sum()
                ),
                "cooperation_as_conflict": int(
                    ((gold == COOPERATION) & (polar_pick == CONFLICT)).sum()
                ),
            }
        )
    return out


def persistent(folds: dict[tuple[int, int], dict]) -> dict[str, Any]:
    """Conflibert sign errors per repeat and the pool rows wrong in every repeat (folds
    written before ``bench/cv.py`` stored row indices are skipped)."""
    wrong: dict[int, dict[int, bool]] = {}
    for (repeat, _), fold in folds.items():
        if "rows" not in fold:
            continue
        gold = np.asarray(fold["gold"][0])
        polar = [i for i, y in zip(fold["rows"][0], gold, strict=True) if y != NEUTRAL]
        errors = sign_errors(gold, np.asarray(fold["logp"][0]))
        wrong.setdefault(repeat, {}).update(zip(polar, errors.tolist(), strict=True))
    if not wrong:
        return {"repeats": 0, "errors": [], "always": [], "sometimes": []}
    shared = set.intersection(*(set(rows) for rows in wrong.values()))
    hits = {i: sum(rows[i] for rows in wrong.values()) for i in shared}
    return {
        "repeats": len(wrong),
        "errors": [sum(rows.values()) for _, rows in sorted(wrong.items())],
        "always": sorted(i for i, n in hits.items() if n == len(wrong)),
        "sometimes": sorted(i for i, n in hits.items() if 0 < n < len(wrong)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folds", type=Path, help="a bench/cv.py --json run's .folds.json")
    parser.add_argument("--name", help="the recipe, where the file holds several")
    parser.add_argument(
        "--show", action="store_true", help="print the sentences every repeat gets wrong"
    )
    opts = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    folds = load_folds(opts.folds, opts.name)
    rows = nested(folds)
    if not rows:
        raise SystemExit("no repeat with two or more finished folds")
    table = Table(
        "repeat/fold",
        "T",
        "bias neutral / coop",
        "coop-vs-conflict",
        "biased",
        "F1",
        "biased",
        "conflict→coop / coop→conflict",
        title="bias fitted on the other folds of the repeat (NLL), conflibert rows scored",
    )
    for r in rows:
        table.add_row(
            f"{r['repeat'] + 1}/{r['fold'] + 1}",
            f"{r['temperature']:.2f}",
            f"{r['bias_neutral']:+.2f} / {r['bias_cooperation']:+.2f}",
            f"{r['cvc']:.3f}",
            f"{r['cvc_biased']:.3f}",
            f"{r['f1']:.3f}",
            f"{r['f1_biased']:.3f}",
            f"{r['conflict_as_cooperation']} / {r['cooperation_as_conflict']}",
        )
    console = Console(width=140)
    console.print(table)

    def mean(key: str) -> str:
        values = [r[key] for r in rows]
        return f"{np.mean(values):.4f} ± {np.std(values):.4f}"

    console.print(
        f"{len(rows)} folds: coop-vs-conflict {mean('cvc')} → {mean('cvc_biased')}; macro-F1 "
        f"{mean('f1')} → {mean('f1_biased')}; sign errors conflict→coop "
        f"{sum(r['conflict_as_cooperation'] for r in rows)}, coop→conflict "
        f"{sum(r['cooperation_as_conflict'] for r in rows)}"
    )
    stay = persistent(folds)
    if stay["repeats"] < 2:
        return
    console.print(
        f"sign errors per repeat {stay['errors']}; on rows every one of the {stay['repeats']} "
        f"repeats gets wrong: {len(stay['always'])}; on rows only some get wrong: "
        f"{len(stay['sometimes'])}"
    )
    if opts.show:
        from cv import load_pool

        from relwatch.classify.train import TrainingArguments
        from relwatch.core.config import get_settings

        news = load_pool(TrainingArguments(), get_settings().require_data_dir())["conflibert"]
        for i in stay["always"]:
            console.print(f"- [{news[i].label}] {news[i].text}", markup=False)


if __name__ == "__main__":
    main()
