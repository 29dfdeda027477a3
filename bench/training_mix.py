"""Which training mix? Per-source *validation* figures for candidate mixes, side by side.

Run:  .venv/bin/python bench/training_mix.py [--candidate NAME ...] [--epochs N] [--json OUT]

The labelled sets mean different things by "neutral" and come in different registers
(news wire, UN documents), so a pooled figure hides what a mix does to the news the
model serves. Each candidate is trained with ``relwatch train``'s own pipeline (no
MLflow) and scored on the validation split of every set; the choice is made on those
figures. Test figures are printed too, marked as such, for the report only — never
choose on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from relwatch.classify.pipeline import run_training  # noqa: E402
from relwatch.classify.train import TrainingArguments  # noqa: E402
from relwatch.core.config import get_settings  # noqa: E402

ALL_SETS = ("conflibert", "keep_it_local", "seed_sample", "directed_sentiment")
CANDIDATES: dict[str, dict[str, Any]] = {
    "news-only": {"datasets": ("conflibert", "seed_sample")},
    "un-heavier": {
        "dataset_caps": {"keep_it_local": 800, "directed_sentiment": 600},
        "dataset_weights": {"keep_it_local": 0.5, "directed_sentiment": 0.5, "seed_sample": 2.0},
    },
    "default": {},
    "pairs-heavy": {
        "dataset_caps": {"keep_it_local": 500, "directed_sentiment": 2000},
        "dataset_weights": {"keep_it_local": 0.3, "directed_sentiment": 0.5, "seed_sample": 2.0},
    },
    "no-un": {"datasets": ("conflibert", "seed_sample", "directed_sentiment")},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--candidate",
        action="append",
        choices=sorted(CANDIDATES),
        help="mix(es) to train; default all",
    )
    parser.add_argument("--epochs", type=int, help="override epochs for every candidate")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--threads", type=int, default=2, help="torch threads, the same for every candidate"
    )
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console()
    results: dict[str, dict[str, Any]] = {}
    for name in args.candidate or list(CANDIDATES):
        overrides = dict(CANDIDATES[name])
        if args.epochs:
            overrides["num_epochs"] = args.epochs
        # every set is held out and reported (gate or report set), and checkpoints are
        # chosen on the news gate, exactly as in a default run
        # the validation split picks checkpoints here, as in the runs this table compared
        targs = TrainingArguments(
            num_threads=args.threads, refit=False, temperature=None, **overrides
        )
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="relwatch-mix-") as tmp:
            run = run_training(targs, data_dir=get_settings().require_data_dir(), run_dir=Path(tmp))
        figures: dict[str, Any] = {"seconds": round(time.perf_counter() - started, 1)}
        for split in ("validation", "test"):
            for source, report in run.reports[split].by_source.items():
                figures[f"{split}.{source}"] = {
                    "n": report.n,
                    "macro_f1": round(report.macro_f1, 4),
                    "cvc": None
                    if report.coop_conflict_accuracy is None
                    else round(report.coop_conflict_accuracy, 4),
                }
        results[name] = figures
        console.print(f"[bold]{name}[/] trained and scored in {figures['seconds']} s")

    for split in ("validation", "test"):
        title = (
            "per-source VALIDATION (choose on this)"
            if split == "validation"
            else "per-source TEST (report only)"
        )
        table = Table(title=title)
        table.add_column("mix")
        for source in ALL_SETS:
            table.add_column(f"{source} F1 / CvC", justify="right")
        for name, figures in results.items():
            cells = []
            for source in ALL_SETS:
                f = figures.get(f"{split}.{source}")
                if f is None:
                    cells.append("-")
                    continue
                cvc = "-" if f["cvc"] is None else f"{f['cvc']:.3f}"
                cells.append(f"{f['macro_f1']:.3f} / {cvc}")
            table.add_row(name, *cells)
        console.print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
