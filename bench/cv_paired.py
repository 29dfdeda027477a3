"""Paired comparison of two cross-validated recipes on the same folds.

Run:  .venv/bin/python bench/cv_paired.py BASE.folds.json CANDIDATE.folds.json
      [--base NAME] [--candidate NAME]

``bench/cv.py --json OUT`` keeps every finished fold in ``OUT.folds.json``: its figures per
source and the out-of-fold news log-probabilities, row by row. Two recipes run with the same
folds and repeats hold out the same rows in every fold, so they can be compared fold by fold
and sentence by sentence, which separates a real difference from the spread between folds
that two mean ± std rows cannot: the spread of one recipe over folds (±0.013 coop-vs-conflict)
is mostly the folds' difficulty, which both recipes share.

It prints, per source and figure, the mean of the per-fold differences (candidate − base),
their standard error and how many folds the candidate wins; and, for coop-vs-conflict on the
news rows, the sign errors only one of the two recipes makes, with McNemar's exact two-sided
p-value per repeat (a row appears once in each repeat).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from relwatch.classify.evaluate import sign_errors  # noqa: E402


def load_folds(path: Path, name: str | None) -> dict[tuple[int, int], dict[str, Any]]:
    """One recipe's folds of a ``.folds.json`` file, keyed by (repeat, fold)."""
    state = json.loads(path.read_text("utf-8"))
    names = sorted({key.rsplit("/", 2)[0] for key in state})
    if name is None:
        if len(names) != 1:
            raise SystemExit(f"{path} holds {', '.join(names)}: name one with --base/--candidate")
        name = names[0]
    if name not in names:
        raise SystemExit(f"{path} holds no folds of {name!r} (it has {', '.join(names)})")
    out = {}
    for key, fold in state.items():
        recipe, repeat, index = key.rsplit("/", 2)
        if recipe == name:
            out[(int(repeat), int(index))] = fold
    return out


def figure_differences(
    base: dict[tuple[int, int], dict[str, Any]], cand: dict[tuple[int, int], dict[str, Any]]
) -> dict[str, dict[str, dict[str, float]]]:
    """Per source and figure: mean, standard error and wins of candidate − base per fold."""
    shared = sorted(set(base) & set(cand))
    diffs: dict[str, dict[str, list[float]]] = {}
    for key in shared:
        for source, figures in cand[key]["figures"].items():
            for figure, value in figures.items():
                old = base[key]["figures"].get(source, {}).get(figure)
                if value is None or old is None:
                    continue
                diffs.setdefault(source, {}).setdefault(figure, []).append(value - old)
    return {
        source: {figure: _describe(values) for figure, values in figures.items()}
        for source, figures in diffs.items()
    }


def _describe(diffs: list[float]) -> dict[str, float]:
    d = np.asarray(diffs, dtype=float)
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else float("nan")
    return {
        "mean": float(d.mean()),
        "se": se,
        "wins": int((d > 0).sum()),
        "losses": int((d < 0).sum()),
        "folds": len(d),
    }


def mcnemar_p(only_base_wrong: int, only_cand_wrong: int) -> float:
    """Exact two-sided McNemar p-value: the discordant rows as a fair coin's tosses."""
    n = only_base_wrong + only_cand_wrong
    if n == 0:
        return 1.0
    k = min(only_base_wrong, only_cand_wrong)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_sign_errors(
    base: dict[tuple[int, int], dict[str, Any]],
    cand: dict[tuple[int, int], dict[str, Any]],
    source_index: int = 0,
) -> dict[int, dict[str, float]]:
    """Per repeat: sign errors of each recipe on the news rows both held out, the rows only
    one of them gets wrong, and McNemar's p. The folds must hold out the same rows."""
    out: dict[int, dict[str, float]] = {}
    for key in sorted(set(base) & set(cand)):
        gold = base[key]["gold"][source_index]
        if cand[key]["gold"][source_index] != gold:
            raise SystemExit(f"repeat {key[0]} fold {key[1]}: the two runs held out other rows")
        old = sign_errors(gold, np.asarray(base[key]["logp"][source_index]))
        new = sign_errors(gold, np.asarray(cand[key]["logp"][source_index]))
        row = out.setdefault(
            key[0], {"rows": 0, "base": 0, "candidate": 0, "only_base": 0, "only_candidate": 0}
        )
        row["rows"] += len(old)
        row["base"] += int(old.sum())
        row["candidate"] += int(new.sum())
        row["only_base"] += int((old & ~new).sum())
        row["only_candidate"] += int((new & ~old).sum())
    for row in out.values():
        row["p"] = mcnemar_p(int(row["only_base"]), int(row["only_candidate"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="the base recipe's .folds.json")
    parser.add_argument("candidate", type=Path, help="the candidate's .folds.json")
    parser.add_argument("--base", dest="base_name", help="recipe name in BASE (if several)")
    parser.add_argument("--candidate", dest="cand_name", help="recipe name in CANDIDATE")
    opts = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    base = load_folds(opts.base, opts.base_name)
    cand = load_folds(opts.candidate, opts.cand_name)
    shared = sorted(set(base) & set(cand))
    if not shared:
        raise SystemExit("the two files share no (repeat, fold): run both with the same design")
    console = Console(width=140)
    console.print(f"{len(shared)} shared folds (of {len(base)} base, {len(cand)} candidate)")
    table = Table("source", "figure", "candidate − base", "± se", "wins / losses")
    for source, figures in figure_differences(base, cand).items():
        for figure, d in sorted(figures.items()):
            table.add_row(
                source,
                figure,
                f"{d['mean']:+.4f}",
                f"{d['se']:.4f}",
                f"{d['wins']} / {d['losses']} of {d['folds']}",
            )
    console.print(table)
    for repeat, row in paired_sign_errors(base, cand).items():
        console.print(
            f"repeat {repeat + 1}: conflibert sign errors on {row['rows']} polar rows: base "
            f"{row['base']}, candidate {row['candidate']}; only base wrong {row['only_base']}, "
            f"only candidate wrong {row['only_candidate']} (McNemar p = {row['p']:.3f})"
        )


if __name__ == "__main__":
    main()
