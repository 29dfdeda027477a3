"""Pair-level figures on the held-out pair-contrast sentences, by the role of the mentions.

Run:  .venv/bin/python bench/pair_contrast.py --model RUN/package [--precision int8]
      [--model OTHER ...] [--split test]

Scores every pair of the held-out pair-contrast sentences (the gate's pair-level half;
``--split all`` for every sentence, trained on or not) with each model (a serving package,
a TF-IDF dir or a trained torch model dir) in the same run, and prints pair-level
macro-F1, accuracy, recall per class, how often a pair with a venue or a reporter is
called neutral, coop-vs-conflict accuracy, the probability spread between the pairs of a
sentence, and the share of sentences holding both a cooperating and a conflicting pair
whose every polar pair is on the right side.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from relwatch.classify.data import pair_contrast_rows, split_of  # noqa: E402
from relwatch.classify.evaluate import (  # noqa: E402
    contrast_metrics,
    coop_conflict_accuracy,
    macro_f1,
)
from relwatch.classify.markers import format_input  # noqa: E402
from relwatch.core.models import LABELS  # noqa: E402


def pairs(split: str) -> list[dict]:
    """One dict per pair: text (marked), gold label id, sentence id, the roles of A and B."""
    out = []
    for row in pair_contrast_rows():
        if split != "all" and split_of(row["text"], seed=13, validation=0.15, test=0.30) != split:
            continue
        mentions = {m["code"]: m for m in row["mentions"]}
        for pair in row["pairs"]:
            a, b = mentions[pair["a"]], mentions[pair["b"]]
            out.append(
                {
                    "text": format_input(
                        row["text"], a_span=tuple(a["span"]), b_span=tuple(b["span"])
                    ),
                    "gold": LABELS.index(pair["label"]),
                    "sentence": row["id"],
                    "roles": {a["role"], b["role"]},
                }
            )
    return out


def scorer(path: Path, precision: str):
    if (path / "model.fp32.onnx").is_file() or (path / "model.joblib").is_file():
        from relwatch.classify.engine import RelationModel

        return RelationModel.load(path, precision=precision).predict_proba
    from relwatch.classify.train import load_scorer

    return load_scorer(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", required=True)
    parser.add_argument("--precision", default="int8", choices=("int8", "fp32"))
    parser.add_argument("--split", default="test", choices=("test", "validation", "train", "all"))
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    rows = pairs(args.split)
    gold = np.array([r["gold"] for r in rows])
    groups = [r["sentence"] for r in rows]
    place = np.array(["place" in r["roles"] for r in rows])
    reporter = np.array(["reporter" in r["roles"] for r in rows])
    neutral = LABELS.index("neutral")
    table = Table(
        title=f"pair-contrast {args.split}: {len(set(groups))} sentences, {len(rows)} pairs"
    )
    columns = (
        "model",
        "macro-F1",
        "acc.",
        *(f"recall {label}" for label in LABELS),
        f"venue pairs neutral (n={place.sum()})",
        f"reporter pairs neutral (n={reporter.sum()})",
        "coop-vs-conflict",
        "spread",
        "pair-contrast accuracy",
        "mixed all right",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "model" else "right")
    for path in args.model:
        probs = scorer(path, args.precision)([r["text"] for r in rows])
        pred = probs.argmax(axis=1)
        contrast = contrast_metrics(groups, gold, probs)
        recalls = [
            f"{(pred[gold == i] == i).mean():.3f}" if (gold == i).any() else "-"
            for i in range(len(LABELS))
        ]
        table.add_row(
            str(path),
            f"{macro_f1(gold, pred):.3f}",
            f"{(pred == gold).mean():.3f}",
            *recalls,
            f"{(pred[place] == neutral).mean():.3f}",
            f"{(pred[reporter] == neutral).mean():.3f}",
            f"{coop_conflict_accuracy(gold, probs):.3f}",
            f"{contrast.get('contrast_spread', 0.0):.3f}",
            f"{contrast.get('contrast_accuracy', 0.0):.3f} "
            f"of {contrast.get('differing_sentences', 0):.0f}",
            f"{contrast.get('mixed_all_right', 0.0):.3f} "
            f"of {contrast.get('mixed_sentences', 0):.0f}",
        )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
