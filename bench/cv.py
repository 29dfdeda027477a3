"""Model selection by repeated stratified k-fold cross-validation on the news sets.

Run:  .venv/bin/python bench/cv.py [--candidate NAME ...] [--folds 3] [--repeats 1]
      [--epochs N] [--json OUT] [--threads 2]

A single 200-row validation split moves by ±0.03 macro-F1 between seeds, and the gate
(the test split) must stay untouched until the end, so recipes are compared here. The
pool is every conflibert, seed_sample, pair_contrast and market_news row *outside* the gate
(their train and validation splits, exactly the rows a refit trains on); training-only sets a
recipe names (``TRAIN_ONLY``: ``undoings``) join every fold's training rows whole. Per
source, folds are stratified by label and grouped by sentence (a sentence's pairs never
straddle a fold).
Each fold trains the candidate with a fixed schedule (no early stopping: nothing of the
held-out fold is looked at) and scores the held-out fold:

- news rows (conflibert, seed_sample) marked, with one side marked, and bare;
- pair-contrast and market-news pairs: pair-level macro-F1, the probability spread between
  the pairs of one sentence, and the share of sentences holding both a cooperating and a
  conflicting pair whose every polar pair lands on the right side.

It prints mean ± std over folds × repeats per source (choose on these), and the
temperature fitted on the pooled out-of-fold news logits: the value the refit uses.
``--write-estimate`` stores the figures in the package (``classify/data/cv_estimate.json``,
merged with candidates measured in earlier runs of the same protocol), where every model
card reads them; ``--chosen`` names the recipe the defaults implement.
The quick protocol (3 folds × 1 repeat) is what two shared CPU cores afford: every
candidate trains three times. ``--estimate --folds 5 --repeats 2`` measures only the chosen
recipe, its fold models trained on 80% of the pool (nearer the refit), and stores it apart
from the comparison rows; its out-of-fold temperature is the recipe's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from relwatch.classify.augment import VIEWS, input_view  # noqa: E402
from relwatch.classify.data import (  # noqa: E402
    Example,
    load_any,
    normalize_sentence,
    split_dataset,
)
from relwatch.classify.evaluate import (  # noqa: E402
    contrast_metrics,
    coop_conflict_accuracy,
    macro_f1,
)
from relwatch.classify.train import (  # noqa: E402
    PAIR_AWARE_WEIGHTS,
    THOROUGH_TEACHER_TEMPERATURE,
    TrainingArguments,
    load_scorer,
    recipe_temperature,
    train_model,
    train_seed_ensemble,
)
from relwatch.core.config import get_settings  # noqa: E402

POOL = ("conflibert", "seed_sample", "pair_contrast", "market_news")
# Bundled training-only sets (no held-out split): a fold whose recipe names one trains on all
# of it, so the scored folds stay the pool's.
TRAIN_ONLY = ("undoings",)
PAIRED = ("pair_contrast", "market_news")
NEWS = ("conflibert", "seed_sample")
NO_AUGMENTATION = {
    "swap_names": 0.0,
    "swap_sides": 0.0,
    "one_side_markers": 0.0,
    "bare_markers": 0.0,
}
# Candidates name their epochs, training sets and loss weights, so that a change of the
# defaults never changes what a stored row describes.
WEIGHTS = PAIR_AWARE_WEIGHTS
MIX = {
    "datasets": ("conflibert", "seed_sample", "pair_contrast", "market_news", "directed_contrast"),
    "dataset_weights": WEIGHTS,
}
SIX = {**MIX, "num_epochs": 6}
CANDIDATES: dict[str, dict[str, Any]] = {
    # entity-start head, pair-contrast data, name/side swaps, marker dropout, 6 epochs
    "pair-aware": SIX,
    "pair-aware-4ep": {**MIX, "num_epochs": 4},
    "pair-aware-8ep": {**MIX, "num_epochs": 8},
    "pair-aware-10ep": {**MIX, "num_epochs": 10},
    # 8 epochs with relwatch's undoing and withdrawal sentences added
    "undoings-8ep": {**MIX, "datasets": (*MIX["datasets"], "undoings"), "num_epochs": 8},
    # 8 epochs with the CAMEO news rows at loss weight 2 (about 60% of the loss, from 43%)
    "conflibert-x2-8ep": {
        **MIX,
        "num_epochs": 8,
        "dataset_weights": {**WEIGHTS, "conflibert": 2.0},
    },
    "pair-aware-lr5e-5": {**SIX, "learning_rate": 5e-5},
    "pairs-x2": {**SIX, "dataset_weights": {"seed_sample": 2.0, "pair_contrast": 2.0}},
    # the first released recipe on the same pool: sentence head, no pair-contrast rows
    "sentence-head": {
        "dataset_weights": WEIGHTS,
        "pooling": "cls",
        "datasets": ("conflibert", "seed_sample"),
        "num_epochs": 4,
        **NO_AUGMENTATION,
    },
    # the new data and augmentation with the old head: does the head matter?
    "sentence-head+pairs": {**SIX, "pooling": "cls"},
    # pair-aware without marker dropout: does one model serve bare input?
    "no-marker-dropout": {**SIX, "one_side_markers": 0.0, "bare_markers": 0.0},
    # pair-aware without name swaps
    "no-name-swap": {**SIX, "swap_names": 0.0},
    # layer-wise learning-rate decay with a longer warmup, the base rate raised so the top
    # layers learn as fast as before
    "llrd": {**SIX, "layer_lr_decay": 0.8, "learning_rate": 1.2e-4, "warmup_ratio": 0.1},
    # three seeds of the 6-epoch recipe, probabilities averaged: what an ensemble (or a
    # student distilled from it) could gain at most
    "ensemble-3": {**SIX, "ensemble_seeds": (42, 7, 2026)},
    # one model taught by three seeds of the 6-epoch recipe (the ensemble-3 teachers, scoring
    # at the temperature they were measured with): the thorough preset
    "distilled-3": {
        **SIX,
        "distill_seeds": (42, 7, 2026),
        "temperature": THOROUGH_TEACHER_TEMPERATURE,
    },
    # equal classes by drawing rows, not by weighting the loss
    "balanced-sampling": {**SIX, "class_balanced_sampling": True},
    # SetFit-style contrastive tuning of the body first (one positive and one negative
    # partner per row), then the usual fine-tune
    "setfit-body": {**SIX, "contrastive_iterations": 1},
    "tfidf": {**MIX, "model": "tfidf"},
    "no-market-news": {**SIX, "datasets": ("conflibert", "seed_sample", "pair_contrast")},
}
DESCRIPTIONS = {
    "pair-aware": "entity-start head, pair-contrast data, name and side swaps, marker "
    "dropout, 6 epochs at 8e-5",
    "pair-aware-4ep": "pair-aware, 4 epochs",
    "pair-aware-8ep": "pair-aware, 8 epochs",
    "pair-aware-10ep": "pair-aware, 10 epochs",
    "undoings-8ep": "pair-aware, 8 epochs, with relwatch's undoing and withdrawal sentences "
    "(lifted sanctions, withdrawn troops: cooperation; severed ties, quit accords: conflict)",
    "conflibert-x2-8ep": "pair-aware, 8 epochs, the CAMEO news rows (conflibert) at loss weight 2",
    "pair-aware-lr5e-5": "pair-aware at learning rate 5e-5",
    "pairs-x2": "pair-aware with pair-contrast rows at loss weight 2",
    "sentence-head": "the earlier recipe: sentence (CLS) head, news rows only, no "
    "augmentation, 4 epochs",
    "no-market-news": "pair-aware without the market-news sentences",
    "sentence-head+pairs": "sentence head with the pair-contrast data and the same augmentation",
    "no-marker-dropout": "pair-aware, always both markers",
    "no-name-swap": "pair-aware without name swaps",
    "tfidf": "TF-IDF + logistic regression on the pair-aware training rows",
    "ensemble-3": "pair-aware trained with three seeds, probabilities averaged (three models "
    "to serve: the ceiling for a distilled student, not a recipe)",
    "distilled-3": "pair-aware student taught by the mean probabilities of three seeds of the "
    "default recipe (distill_alpha 0.5; four trainings)",
    "balanced-sampling": "pair-aware with each epoch's rows drawn so the classes come equally "
    "often, instead of a class-weighted loss",
    "setfit-body": "pair-aware after a SetFit-style contrastive epoch on the encoder (one "
    "same-label and one other-label partner per row, half of those from the row's own sentence "
    "where it has one; cosine loss at 2e-5)",
    "llrd": "pair-aware with layer-wise learning-rate decay 0.8 (embeddings at 0.26x), "
    "base rate 1.2e-4, warmup 10%",
}
ESTIMATE = ROOT / "src" / "relwatch" / "classify" / "data" / "cv_estimate.json"
PROTOCOL = (
    "stratified (by label), sentence-grouped k-fold per source on the rows outside the gate "
    "(bench/cv.py), repeated with reshuffled folds; each candidate's folds x repeats is in "
    "its row; fixed schedule, no early stopping; mean ± std over every held-out fold."
)


def load_pool(base: TrainingArguments, data_dir: Path) -> dict[str, list[Example]]:
    """Every pool set's rows outside the gate (its train and validation splits), in the
    order the folds index."""
    pool = {}
    for name in POOL:
        parts = split_dataset(
            load_any(name, data_dir),
            seed=base.split_seed,
            validation=base.validation_fraction,
            test=base.test_fraction,
        )
        pool[name] = parts["train"] + parts["validation"]  # never the gate (test split)
    return pool


def folds_of(rows: Sequence[Example], k: int, seed: int) -> list[list[int]]:
    """Indices of each fold: stratified by label, grouped by sentence."""
    from sklearn.model_selection import StratifiedGroupKFold

    labels = [e.label for e in rows]
    groups = [normalize_sentence(e.text) for e in rows]
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [list(test) for _, test in splitter.split(np.zeros(len(rows)), labels, groups)]


def score_fold(score, rows: Sequence[Example], source: str) -> dict[str, Any]:
    """Figures for one held-out fold of one source, and its marked log-probabilities."""
    gold = np.array([e.label_id for e in rows])
    out: dict[str, Any] = {}
    views = VIEWS if source in NEWS else ("marked",)
    logp = None
    for view in views:
        probs = score([input_view(e, view) for e in rows])
        out[f"f1.{view}"] = macro_f1(gold, probs.argmax(axis=1))
        if view == "marked":
            logp = np.log(np.clip(probs, 1e-12, 1.0))
            cvc = coop_conflict_accuracy(gold, probs)
            out["cvc"] = cvc
            if source in PAIRED:
                groups = [normalize_sentence(e.text) for e in rows]
                out.update(contrast_metrics(groups, gold, probs))
    return {"figures": out, "logp": logp, "gold": gold}


def run_candidate(
    name: str,
    args: TrainingArguments,
    pool: dict[str, list[Example]],
    k: int,
    repeats: int,
    state: Path | None = None,
    seeds: Sequence[int] | None = None,
    train_only: dict[str, list[Example]] | None = None,
) -> dict[str, Any]:
    """Train and score every fold; with ``state``, each finished fold is saved there and a
    rerun resumes after the last one (a fold on two busy cores takes up to half an hour).
    With ``seeds``, each fold trains one model per training seed and scores their mean
    probabilities (the folds stay those of ``args.seed``). ``train_only`` sets the recipe
    names are added whole to every fold's training rows."""
    figures: dict[str, list[dict[str, Any]]] = {s: [] for s in pool}
    oof_logp, oof_gold, oof_scale = [], [], []
    seconds = []
    done = json.loads(state.read_text("utf-8")) if state and state.is_file() else {}
    for repeat in range(repeats):
        split = {s: folds_of(rows, k, seed=args.seed + repeat) for s, rows in pool.items()}
        for fold in range(k):
            key = f"{name}/{repeat}/{fold}"
            if key in done:
                for s in pool:
                    figures[s].append(done[key]["figures"][s])
                oof_logp += [np.array(x) for x in done[key]["logp"]]
                oof_gold += [np.array(x) for x in done[key]["gold"]]
                scored_at = done[key].get("scored_at", args.scoring_temperature())
                oof_scale += [np.full(len(x), scored_at) for x in done[key]["gold"]]
                seconds.append(done[key]["seconds"])
                continue
            fold_figures: dict[str, Any] = {}
            fold_logp, fold_gold = [], []
            held = {s: set(split[s][fold]) for s in pool}
            train = [
                e
                for s, rows in pool.items()
                if s in args.datasets
                for i, e in enumerate(rows)
                if i not in held[s]
            ] + [e for s, rows in (train_only or {}).items() if s in args.datasets for e in rows]
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="relwatch-cv-") as tmp:
                if seeds:
                    score = train_seed_ensemble(train, [], args, seeds, Path(tmp))
                else:
                    train_model(train, [], args, Path(tmp) / "model")
                    score = load_scorer(Path(tmp) / "model", args.num_threads)
                for s, rows in pool.items():
                    out = score_fold(score, [rows[i] for i in sorted(held[s])], s)
                    figures[s].append(out["figures"])
                    fold_figures[s] = out["figures"]
                    if s in NEWS:
                        fold_logp.append(out["logp"])
                        fold_gold.append(out["gold"])
            oof_logp += fold_logp
            oof_gold += fold_gold
            oof_scale += [np.full(len(x), args.scoring_temperature()) for x in fold_gold]
            seconds.append(time.perf_counter() - started)
            if state:
                done[key] = {
                    "figures": fold_figures,
                    "logp": [x.tolist() for x in fold_logp],
                    "gold": [x.tolist() for x in fold_gold],
                    # the pool indices of those rows, so a row is followed across repeats
                    "rows": [[int(i) for i in sorted(held[s])] for s in pool if s in NEWS],
                    "seconds": seconds[-1],
                    "scored_at": args.scoring_temperature(),
                }
                state.write_text(json.dumps(done), encoding="utf-8")
            news = figures["conflibert"][-1]
            pairs = figures["pair_contrast"][-1]
            market = figures["market_news"][-1]
            print(
                f"  {name} repeat {repeat + 1} fold {fold + 1}/{k}: conflibert "
                f"{news['f1.marked']:.3f} / one-side {news['f1.one-side']:.3f} / bare "
                f"{news['f1.bare']:.3f}; pair_contrast {pairs['f1.marked']:.3f}; market_news "
                f"{market['f1.marked']:.3f} ({seconds[-1]:.0f} s)",
                flush=True,
            )
    temperature = None
    if args.model == "transformer" and oof_logp:
        temperature = recipe_temperature(
            np.concatenate(oof_logp), np.concatenate(oof_gold), np.concatenate(oof_scale)
        )
    summary = {
        s: {
            key: (
                float(np.mean([f[key] for f in folds if f.get(key) is not None])),
                float(np.std([f[key] for f in folds if f.get(key) is not None])),
            )
            for key in sorted({k for f in folds for k, v in f.items() if v is not None})
        }
        for s, folds in figures.items()
    }
    return {
        "design": f"{k}x{repeats}",
        "summary": summary,
        "folds": figures,
        "oof_temperature": temperature,
        "fold_seconds": [round(x, 1) for x in seconds],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", action="append", choices=sorted(CANDIDATES))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--epochs", type=int, help="override epochs for every candidate")
    parser.add_argument("--json", type=Path, help="also write every fold's figures here")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--write-estimate", action="store_true", help=f"store the figures in {ESTIMATE.name}"
    )
    parser.add_argument(
        "--chosen", default="pair-aware-8ep", choices=sorted(CANDIDATES), help="the default recipe"
    )
    parser.add_argument(
        "--from-json", type=Path, help="print (and store) the figures of an earlier --json run"
    )
    parser.add_argument(
        "--estimate",
        action="store_true",
        help="measure only --chosen and store it as the estimate of the served recipe, apart "
        "from the comparison rows (with --folds 5 each fold model trains on 80%% of the pool, "
        "nearer the refit's 100%% than a 3-fold comparison's 67%%); its out-of-fold temperature "
        "becomes the recipe's",
    )
    opts = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    base = TrainingArguments(num_threads=opts.threads)
    data_dir = get_settings().require_data_dir()
    pool = load_pool(base, data_dir)
    train_only = {name: load_any(name, data_dir).examples for name in TRAIN_ONLY}
    console.print(
        "pool (gate excluded): "
        + ", ".join(f"{s} {len(rows)}" for s, rows in pool.items())
        + f"; {opts.folds} folds x {opts.repeats} repeat(s); training only: "
        + ", ".join(f"{s} {len(rows)}" for s, rows in train_only.items())
    )
    results: dict[str, Any] = (
        json.loads(opts.from_json.read_text("utf-8")) if opts.from_json else {}
    )
    default = [opts.chosen, "sentence-head", "tfidf"]
    names = [opts.chosen] if opts.estimate else opts.candidate or default
    for name in [] if opts.from_json else names:
        overrides = dict(CANDIDATES[name])
        seeds = overrides.pop("ensemble_seeds", None)
        if opts.epochs:
            overrides["num_epochs"] = opts.epochs
        args = replace(base, **overrides)
        started = time.perf_counter()
        state = opts.json.with_suffix(".folds.json") if opts.json else None
        results[name] = run_candidate(
            name, args, pool, opts.folds, opts.repeats, state, seeds=seeds, train_only=train_only
        )
        results[name]["seconds"] = round(time.perf_counter() - started, 1)
        console.print(f"[bold]{name}[/] done in {results[name]['seconds']:.0f} s")
        if opts.json:  # after every candidate: a stopped run keeps what it measured
            opts.json.write_text(json.dumps(results, indent=2), encoding="utf-8")

    def cell(summary: dict[str, Any], key: str) -> str:
        if key not in summary:
            return "-"
        mean, std = summary[key]
        return f"{mean:.3f} ± {std:.3f}"

    table = Table(title=f"cross-validated, {opts.folds} folds x {opts.repeats} (mean ± std)")
    columns = [
        ("conflibert", "f1.marked", "conflibert F1 marked"),
        ("conflibert", "f1.one-side", "one side"),
        ("conflibert", "f1.bare", "bare"),
        ("conflibert", "cvc", "coop-vs-conflict"),
        ("seed_sample", "f1.marked", "seed F1"),
        ("pair_contrast", "f1.marked", "pairs F1"),
        ("pair_contrast", "contrast_accuracy", "pair-contrast accuracy"),
        ("pair_contrast", "mixed_all_right", "mixed sentences right"),
        ("pair_contrast", "contrast_spread", "spread"),
        ("market_news", "f1.marked", "market-news F1"),
    ]
    table.add_column("candidate")
    for _, _, title in columns:
        table.add_column(title, justify="right")
    table.add_column("T (OOF)", justify="right")
    for name, result in results.items():
        t = result["oof_temperature"]
        table.add_row(
            name,
            *(cell(result["summary"][s], key) for s, key, _ in columns),
            "-" if t is None else f"{t:.3f}",
        )
    console.print(table)
    if opts.json:
        opts.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if opts.write_estimate:
        write_estimate(results, opts, base, {s: len(rows) for s, rows in pool.items()})


def write_estimate(
    results: dict[str, Any], opts: argparse.Namespace, base: TrainingArguments, pool: dict
) -> None:
    """Merge this run's candidates into the packaged estimate (same protocol and pool only)."""
    import datetime as dt

    from relwatch.classify.card import fold_count, recipe_params

    old = json.loads(ESTIMATE.read_text("utf-8")) if ESTIMATE.is_file() else {}
    same_pool = old.get("pool") == pool
    candidates = dict(old.get("candidates", {})) if same_pool else {}
    compared_with = dict(old.get("compared_with", {})) if same_pool else {}
    served = old.get("estimate") if same_pool else None
    if served and served.get("candidate") != opts.chosen:
        # A new recipe is chosen: the old estimate stays a row to compare against, and the old
        # recipe stays the reference for the fold counts the new one was not measured with.
        previous = served.pop("candidate")
        candidates[f"{previous}@{served['folds']}"] = served
        for name in [n for n in candidates if n.split("@")[0] == previous]:
            compared_with.setdefault(fold_count(candidates[name]), name)
        served = None
    for name, result in results.items():
        row = {
            "description": DESCRIPTIONS[name],
            "summary": result["summary"],
            "oof_temperature": result["oof_temperature"],
            "fold_seconds": result["fold_seconds"],
            "folds": result.get("design") or f"{opts.folds}x{opts.repeats}",
            "measured": dt.date.today().isoformat(),
        }
        same = name not in candidates or candidates[name]["folds"] == row["folds"]
        if opts.estimate and name == opts.chosen:
            served = {"candidate": name, **row}
            if not same:
                continue  # its comparison row (another design) stays as it is
        candidates[name if same else f"{name}@{row['folds']}"] = row
    for name, entry in candidates.items():  # a preset's run card finds its candidate's row
        entry["description"] = DESCRIPTIONS.get(name.split("@")[0], entry.get("description"))
        overrides = CANDIDATES.get(name.split("@")[0])
        if overrides is None or "ensemble_seeds" in overrides:
            entry.pop("recipe", None)  # several models (or unknown): no single run follows it
        else:
            entry["recipe"] = recipe_params(replace(base, **overrides).to_params())
    if opts.chosen not in candidates:
        raise SystemExit(f"--chosen {opts.chosen} has not been measured with this protocol")
    overrides = dict(CANDIDATES[opts.chosen])
    overrides.pop("ensemble_seeds", None)
    chosen_args = replace(base, **overrides)
    estimate = {
        "protocol": PROTOCOL,
        "pool": pool,
        "chosen": opts.chosen,
        "recipe": recipe_params(chosen_args.to_params()),
        "temperature": (served or candidates[opts.chosen])["oof_temperature"],
        "candidates": candidates,
    }
    if served:
        estimate["estimate"] = served
    # Rows are judged against a reference with as many folds (the card's rule): the chosen
    # recipe where it was measured so, else the recipe it replaced.
    chosen_folds = {fold_count(row) for row in (candidates[opts.chosen], served or {})}
    compared_with = {k: n for k, n in compared_with.items() if k not in chosen_folds}
    if compared_with:
        estimate["compared_with"] = compared_with
    ESTIMATE.write_text(json.dumps(estimate, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {ESTIMATE.relative_to(ROOT)} ({len(candidates)} candidates)")


if __name__ == "__main__":
    main()
