"""Does the model read the verb or the noun? Minimal pairs of an event and its undoing.

Run:  .venv/bin/python bench/reversals.py --model RUN/package [--model OTHER ...]
      [--precision int8]

Most sign errors of the cross-validated recipe (the out-of-fold coop-vs-conflict misses of
``bench/cv.py``) are sentences whose verb undoes what their noun names: CAMEO codes lifting
sanctions, calling off a strike, a ceasefire or a release as cooperation, and closing a
border, severing ties or reneging on an accord as conflict. ``bench/data/reversals.jsonl``
holds 60 hand-written minimal pairs between two countries ("imposed sanctions on" /
"lifted sanctions on"): the plain sentence and the one that undoes it carry opposite labels.
Printed per model: coop-vs-conflict accuracy on the plain and on the reversed sentences,
how often a reversed sentence is called neutral, and the share of pairs with both sides
right (a model that reads only the nouns scores 0 there). A diagnostic, never trained on.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pair_contrast import scorer  # noqa: E402

from relwatch.classify.evaluate import coop_conflict_accuracy  # noqa: E402
from relwatch.classify.markers import format_input  # noqa: E402
from relwatch.core.models import LABELS  # noqa: E402

DATA = ROOT / "bench" / "data" / "reversals.jsonl"


def load() -> list[dict]:
    rows = [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]
    for row in rows:
        for side in ("a", "b"):
            start, end = row[f"{side}_span"]
            if row["text"][start:end] != row[side]:
                raise SystemExit(f"{row['id']}: span of {side} is not {row[side]!r}")
    return rows


def figures(rows: list[dict], probs: np.ndarray) -> dict[str, float]:
    """Sign accuracy per kind, neutral share of the reversals, minimal pairs both right."""
    gold = np.array([LABELS.index(r["label"]) for r in rows])
    kind = np.array([r["kind"] for r in rows])
    pick = probs.argmax(axis=1)
    coop, conflict = LABELS.index("cooperation"), LABELS.index("conflict")
    side = np.where(probs[:, coop] >= probs[:, conflict], coop, conflict)
    both: dict[int, list[bool]] = {}
    for row, right in zip(rows, side == gold, strict=True):
        both.setdefault(row["pair"], []).append(bool(right))
    neutral = LABELS.index("neutral")
    return {
        "plain": float(coop_conflict_accuracy(gold[kind == "plain"], probs[kind == "plain"])),
        "reversal": float(
            coop_conflict_accuracy(gold[kind == "reversal"], probs[kind == "reversal"])
        ),
        "reversal_neutral": float((pick[kind == "reversal"] == neutral).mean()),
        "both_right": float(np.mean([all(v) for v in both.values()])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", required=True)
    parser.add_argument("--precision", default="int8", choices=("int8", "fp32"))
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    rows = load()
    texts = [
        format_input(r["text"], a_span=tuple(r["a_span"]), b_span=tuple(r["b_span"])) for r in rows
    ]
    table = Table(title=f"reversals: {len(rows) // 2} minimal pairs ({DATA.name})")
    for column in (
        "model",
        "coop-vs-conflict, plain",
        "coop-vs-conflict, reversed",
        "reversed called neutral",
        "pairs with both right",
    ):
        table.add_column(column, justify="left" if column == "model" else "right")
    for path in args.model:
        out = figures(rows, scorer(path, args.precision)(texts))
        table.add_row(
            str(path),
            f"{out['plain']:.3f}",
            f"{out['reversal']:.3f}",
            f"{out['reversal_neutral']:.3f}",
            f"{out['both_right']:.3f}",
        )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
