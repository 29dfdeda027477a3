"""Export a trained model dir to a *serving package*: ONNX fp32 + dynamic int8 + tokenizer.

Serving must not need torch (a 700 MB dependency for a 23 MB model), so the trained
transformer is traced once here with ``torch.onnx.export(dynamo=False)`` — the dynamo
exporter is still fragile on BERT-style graphs — and quantized with onnxruntime's dynamic
int8 quantization, which needs no calibration data. The package carries everything the
engine reads: ``model.fp32.onnx``, ``model.int8.onnx``, ``tokenizer.json`` and
``relwatch.json`` (the trainer's metadata plus sizes). A TF-IDF model dir is already
servable and is copied as is.

torch and transformers are imported inside :func:`export_onnx` only: importing this
module stays cheap and torch-free.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relwatch.classify.meta import (
    META_FILE,
    ONNX_FP32_FILE,
    ONNX_INT8_FILE,
    TFIDF_FILE,
    TOKENIZER_FILE,
    ModelMeta,
    read_meta,
    write_meta,
)
from relwatch.core.errors import ExportError, ModelError
from relwatch.core.logging import get_logger

log = get_logger(__name__)

ONNX_OPSET = 17
# Sentences traced for the export self-check: ONNX fp32 must reproduce torch's logits.
_CHECK_SENTENCES = (
    "[A] Seoul [/A] and [B] Tokyo [/B] signed a new agreement on export controls.",
    "North Korea fired two ballistic missiles toward the sea.",
    "The ministers met.",
)


@dataclass(frozen=True)
class ExportResult:
    """Where the serving package went and what it weighs."""

    out_dir: Path
    kind: str
    files: dict[str, int] = field(default_factory=dict)  # file name -> bytes
    max_abs_diff: float | None = None  # torch vs ONNX fp32 logits on the self-check
    quantization: dict[str, Any] | None = None  # recipe + agreement on the check texts

    @property
    def fp32_bytes(self) -> int | None:
        return self.files.get(ONNX_FP32_FILE)

    @property
    def int8_bytes(self) -> int | None:
        return self.files.get(ONNX_INT8_FILE)

    def metrics(self) -> dict[str, float]:
        """Sizes (MB) and the export error, ready for ``mlflow.log_metrics``."""
        out: dict[str, float] = {}
        if self.fp32_bytes is not None:
            out["onnx_fp32_mb"] = round(self.fp32_bytes / 1e6, 3)
        if self.int8_bytes is not None:
            out["onnx_int8_mb"] = round(self.int8_bytes / 1e6, 3)
        if self.max_abs_diff is not None:
            out["onnx_fp32_max_abs_diff"] = self.max_abs_diff
        agreement = (self.quantization or {}).get("check_agreement")
        if agreement is not None:
            out["int8_check_agreement"] = agreement
        return out


def export_onnx(
    model_dir: Path,
    out_dir: Path,
    *,
    check_texts: list[str] | None = None,
    recipe: str | None = None,
    opset: int = ONNX_OPSET,
) -> ExportResult:
    """Write the serving package for ``model_dir`` into ``out_dir`` (replaced if present).

    ``check_texts`` (validation sentences, already formatted with markers) pick the int8
    recipe: the most compressed one whose labels agree with fp32 on ≥ 99% of them.

    The package is built in a temporary sibling folder and renamed into place, so a
    failed export never leaves a half-written package behind.
    """
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    meta = read_meta(model_dir, ExportError)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        if meta.kind == "tfidf":
            result_diff = None
            if not (model_dir / TFIDF_FILE).is_file():
                raise ExportError(f"{model_dir}: {TFIDF_FILE} is missing")
            shutil.copy2(model_dir / TFIDF_FILE, work / TFIDF_FILE)
        else:
            result_diff = _export_transformer(model_dir, work, meta, opset)
            meta = meta.replace(quantization=_choose_quantization(work, meta, check_texts, recipe))
        files = {
            p.name: p.stat().st_size
            for p in sorted(work.iterdir())
            if p.is_file() and p.name != META_FILE
        }
        meta = meta.replace(files=files, onnx_opset=opset if meta.kind != "tfidf" else None)
        write_meta(work, meta)
        files[META_FILE] = (work / META_FILE).stat().st_size
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    result = ExportResult(
        out_dir=out_dir,
        kind=meta.kind,
        files=files,
        max_abs_diff=result_diff,
        quantization=meta.quantization,
    )
    log.info(
        "exported serving package",
        out_dir=str(out_dir),
        kind=result.kind,
        recipe=(result.quantization or {}).get("recipe"),
        **result.metrics(),
    )
    return result


def _export_transformer(model_dir: Path, work: Path, meta: ModelMeta, opset: int) -> float:
    """Trace to ONNX fp32, quantize to int8, copy the tokenizer; return the self-check error."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from relwatch.classify.train import load_torch_model, model_logits

    hf_logging.disable_progress_bar()

    if not (model_dir / TOKENIZER_FILE).is_file():
        raise ExportError(f"{model_dir}: {TOKENIZER_FILE} is missing (save a fast tokenizer)")
    labels = meta.labels
    try:
        model = load_torch_model(model_dir, meta)
    except ModelError as exc:
        raise ExportError(str(exc)) from None
    model.eval()
    outputs = getattr(model, "num_labels", None) or model.config.num_labels
    if not labels or outputs != len(labels):
        raise ExportError(
            f"{model_dir}: model has {outputs} outputs but relwatch.json lists labels {labels}"
        )
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    max_length = meta.max_length
    enc = tokenizer(
        list(_CHECK_SENTENCES),
        padding=True,
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
    )
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc]
    args = tuple(enc[n] for n in names)
    dynamic = {n: {0: "batch", 1: "sequence"} for n in names}
    dynamic["logits"] = {0: "batch"}

    class _Logits(torch.nn.Module):
        """Return a bare tensor: ONNX outputs cannot be ModelOutput objects."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return model_logits(self.inner, dict(zip(names, inputs, strict=True)))

    # eval() on the wrapper: export restores the wrapper's mode afterwards, and a fresh
    # Module is in training mode — that would switch dropout on in the inner model.
    wrapper = _Logits(model).eval()
    fp32 = work / ONNX_FP32_FILE
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about Python bools in HF masking
        torch.onnx.export(
            wrapper,
            args,
            str(fp32),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=dynamic,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    # Check on a batch of another size and length than the traced one: a shape baked
    # into the graph by the tracer would show here, not on the traced inputs.
    check = tokenizer(
        list(_CHECK_SENTENCES[1:]),
        padding=True,
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
    )
    with torch.no_grad():
        expected = wrapper.eval()(*(check[n] for n in names)).numpy()
    session = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {n: check[n].numpy() for n in names})[0]
    diff = float(np.max(np.abs(got - expected)))
    if diff > 1e-3:
        raise ExportError(f"ONNX export disagrees with torch (max |Δlogit| = {diff:.2e})")
    shutil.copy2(model_dir / TOKENIZER_FILE, work / TOKENIZER_FILE)
    return diff


# Dynamic int8 recipes, most compressed first. Weights are quantized once (per channel),
# activations per batch; activation×activation MatMuls (attention scores) stay fp32.
# The feed-forward MatMuls see GELU's skewed activations and cause nearly all of the
# int8/fp32 disagreements, so the fallbacks keep them in fp32.
QUANT_RECIPES: tuple[str, ...] = ("full", "keep-ffn-out", "keep-ffn", "attention-only")
# Unchecked exports take the careful recipe: "full" fell to 98.4% agreement on a
# conflibert test split, "keep-ffn" kept 100% (bench/quantization.py).
DEFAULT_RECIPE = "keep-ffn"
AGREEMENT_TARGET = 0.99


def _quantize(fp32: Path, int8: Path, recipe: str) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if recipe not in QUANT_RECIPES:
        raise ExportError(f"unknown quantization recipe {recipe!r}; use one of {QUANT_RECIPES}")
    matmuls = [
        n.name
        for n in onnx.load(str(fp32), load_external_data=False).graph.node
        if n.op_type == "MatMul"
    ]
    ffn_out = [n for n in matmuls if n.endswith("/output/dense/MatMul") and "attention" not in n]
    ffn_in = [n for n in matmuls if "/intermediate/" in n]
    # The pair head's Linear layers export as Gemm, which no recipe quantizes: the label is
    # decided in fp32 from the pooled vectors.
    exclude = {
        "full": [],
        "keep-ffn-out": ffn_out,
        "keep-ffn": ffn_out + ffn_in,
        "attention-only": ffn_out + ffn_in,
    }[recipe]
    # The last resort also keeps the embedding tables (Gather) in fp32.
    op_types = ["MatMul"] if recipe == "attention-only" else ["MatMul", "Gather"]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # "consider pre-processing" advice on every call
    try:
        quantize_dynamic(
            str(fp32),
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=op_types,
            nodes_to_exclude=exclude,
            extra_options={"MatMulConstBOnly": True},
        )
    finally:
        root.setLevel(level)


def _labels(package: Path, texts: list[str], precision: str) -> np.ndarray:
    from relwatch.classify.engine import RelationModel

    return RelationModel.load(package, precision=precision).predict_proba(texts).argmax(axis=1)


def _choose_quantization(
    work: Path, meta: ModelMeta, check_texts: list[str] | None, recipe: str | None
) -> dict[str, Any]:
    """Quantize with the most compressed recipe whose int8 labels agree with fp32 enough.

    With an explicit ``recipe`` that one is used; without ``check_texts`` the careful
    ``DEFAULT_RECIPE``. The choice and its agreement go into ``relwatch.json``.
    """
    write_meta(work, meta)  # the engine reads it to score the candidates
    if recipe:
        candidates = [recipe]
    elif check_texts:
        candidates = list(QUANT_RECIPES)
    else:
        candidates = [DEFAULT_RECIPE]
    fp32_labels = _labels(work, check_texts, "fp32") if check_texts else None
    tried: dict[str, float] = {}
    for name in candidates:
        _quantize(work / ONNX_FP32_FILE, work / ONNX_INT8_FILE, name)
        if not check_texts:
            break
        tried[name] = float((_labels(work, check_texts, "int8") == fp32_labels).mean())
        log.info(
            "int8 agreement", recipe=name, agreement=round(tried[name], 4), texts=len(check_texts)
        )
        if tried[name] >= AGREEMENT_TARGET:
            break
    if tried and max(tried.values()) < AGREEMENT_TARGET:
        # No recipe reaches the bar (an under-trained model has many near-ties): ship the
        # closest one and say so, rather than the last one tried.
        name = max(tried, key=lambda k: (tried[k], -QUANT_RECIPES.index(k)))
        if name != list(tried)[-1]:
            _quantize(work / ONNX_FP32_FILE, work / ONNX_INT8_FILE, name)
        log.warning(
            "no int8 recipe reaches the agreement target",
            recipe=name,
            agreement=round(tried[name], 4),
            target=AGREEMENT_TARGET,
        )
    agreement = tried.get(name)
    return {
        "recipe": name,
        "check_agreement": agreement,
        "check_texts": len(check_texts or []),
        "tried": tried,
        "meets_target": None if agreement is None else agreement >= AGREEMENT_TARGET,
    }


def compare_precisions(
    package_dir: Path,
    texts: list[str],
    labels: list[str] | None = None,
    batch_size: int = 32,
) -> dict[str, float]:
    """How far int8 strays from fp32 on ``texts`` (the held-out test split, typically).

    Returns the share of identical predicted labels, the largest probability gap and,
    with gold ``labels``, both macro-F1 figures and the drop (positive = int8 is worse).
    The acceptance bar: agreement ≥ 0.99 and a drop ≤ 0.01.
    """
    import numpy as np

    from relwatch.classify.engine import RelationModel
    from relwatch.core.models import LABELS

    fp32 = RelationModel.load(package_dir, precision="fp32", batch_size=batch_size)
    int8 = RelationModel.load(package_dir, precision="int8", batch_size=batch_size)
    p32, p8 = fp32.predict_proba(texts), int8.predict_proba(texts)
    y32, y8 = p32.argmax(axis=1), p8.argmax(axis=1)
    out = {
        "int8_agreement": float(np.mean(y32 == y8)) if len(texts) else 1.0,
        "int8_max_prob_diff": float(np.max(np.abs(p32 - p8))) if len(texts) else 0.0,
    }
    if labels is not None:
        from sklearn.metrics import f1_score

        gold = [LABELS.index(label) for label in labels]
        f32 = f1_score(gold, y32, average="macro", labels=[0, 1, 2], zero_division=0)
        f8 = f1_score(gold, y8, average="macro", labels=[0, 1, 2], zero_division=0)
        out.update(
            fp32_macro_f1=float(f32), int8_macro_f1=float(f8), int8_macro_f1_drop=float(f32 - f8)
        )
    return out
