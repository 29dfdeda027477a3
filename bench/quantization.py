"""int8 vs fp32: label agreement and macro-F1 per quantization recipe, on held-out data.

Run:  .venv/bin/python bench/quantization.py --model-dir .relwatch/runs/<run>/model
      [--dataset conflibert --dataset keep_it_local] [--limit 600]

Exports the trained model once per int8 recipe and scores the *test split* of each set
(the same deterministic split ``relwatch train`` holds out, so pass a model trained by
it) with fp32 and int8 in the same run. The acceptance bar is agreement ≥ 0.99 and a
macro-F1 drop ≤ 0.01 (1 point).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from relwatch.classify.data import cap, load_named, split_dataset  # noqa: E402
from relwatch.classify.export import QUANT_RECIPES, compare_precisions, export_onnx  # noqa: E402
from relwatch.classify.train import TrainingArguments  # noqa: E402
from relwatch.core.config import get_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="trained model dir")
    parser.add_argument(
        "--dataset", action="append", help="set(s); default conflibert and pair_contrast"
    )
    parser.add_argument("--limit", type=int, default=600, help="test rows per set at most")
    parser.add_argument("--split-seed", type=int, default=13)
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    data_dir = get_settings().require_data_dir()
    defaults = TrainingArguments()
    sets = {}
    for name in args.dataset or ["conflibert", "pair_contrast"]:
        test = split_dataset(
            load_named(name, data_dir),
            seed=args.split_seed,
            validation=defaults.validation_fraction,
            test=defaults.test_fraction,
        )["test"]
        sets[name] = cap(test, args.limit, seed=13)  # a stable sample, not file order
        if name == "conflibert":  # news rows reach serving bare too
            sets[f"{name} (bare)"] = [replace(e, a_span=None, b_span=None) for e in sets[name]]
    table = Table(title=f"int8 vs fp32 on held-out test splits — {args.model_dir}")
    for column in ("recipe", "int8 MB", "set", "n", "agreement", "fp32 F1", "int8 F1", "drop"):
        table.add_column(column, justify="left" if column in {"recipe", "set"} else "right")
    tmp = Path(tempfile.mkdtemp(prefix="relwatch-quant-"))
    try:
        for recipe in QUANT_RECIPES:
            result = export_onnx(args.model_dir, tmp / recipe, recipe=recipe)
            for name, rows in sets.items():
                m = compare_precisions(
                    result.out_dir, [e.model_input() for e in rows], [e.label for e in rows]
                )
                table.add_row(
                    recipe,
                    f"{(result.int8_bytes or 0) / 1e6:.1f}",
                    name,
                    str(len(rows)),
                    f"{m['int8_agreement']:.4f}",
                    f"{m['fp32_macro_f1']:.4f}",
                    f"{m['int8_macro_f1']:.4f}",
                    f"{100 * m['int8_macro_f1_drop']:+.2f} pt",
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    console = Console(width=max(110, Console().width))
    console.print(table)
    console.print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
