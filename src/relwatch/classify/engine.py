"""The serving engine: a serving package (or TF-IDF dir) → calibrated relation probabilities.

Only onnxruntime, tokenizers and numpy are needed at run time — never torch — so the API,
the Celery workers and ``relwatch predict`` stay small and start fast. Int8 is the default
(smaller, faster, agrees with fp32 on ≥ 99% of predictions); fp32 is there for checks.
Temperature scaling fitted by the trainer is applied here, so every consumer gets the
same calibrated probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from relwatch.classify.markers import format_input
from relwatch.classify.meta import (
    META_FILE,
    ONNX_FILES,
    TFIDF_FILE,
    TOKENIZER_FILE,
    ModelMeta,
    read_meta,
)
from relwatch.core.errors import ModelLoadError
from relwatch.core.models import LABELS

Precision = Literal["int8", "fp32"]
DEFAULT_BATCH_SIZE = 32


class _Backend(Protocol):
    def logits(self, texts: Sequence[str]) -> np.ndarray: ...


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (numerically stable)."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class _OnnxBackend:
    """tokenizers + onnxruntime: pads each batch to its longest sentence only."""

    def __init__(
        self, path: Path, precision: Precision, max_length: int, threads: int, spin: bool
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        onnx_path = path / ONNX_FILES[precision]
        if not onnx_path.is_file():
            raise ModelLoadError(f"{path}: {onnx_path.name} is missing (run the export first)")
        tokenizer_path = path / TOKENIZER_FILE
        if not tokenizer_path.is_file():
            raise ModelLoadError(f"{path}: {TOKENIZER_FILE} is missing")
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length=max_length)
        pad_id = self.tokenizer.token_to_id("[PAD]")
        self.tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        if not spin:  # idle workers sleep instead of holding cores others need
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.input_names = [i.name for i in self.session.get_inputs()]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return self.session.run(None, {n: feeds[n] for n in self.input_names})[0]


class _TfidfBackend:
    """A scikit-learn pipeline with ``predict_proba``; log-probabilities act as logits."""

    def __init__(self, path: Path, labels: Sequence[str]) -> None:
        import joblib

        model_path = path / TFIDF_FILE
        if not model_path.is_file():
            raise ModelLoadError(f"{path}: {TFIDF_FILE} is missing")
        self.pipeline = joblib.load(model_path)
        classes = [str(c) for c in self.pipeline.classes_]
        if all(c.lstrip("-").isdigit() for c in classes):  # integer-coded classes
            classes = [labels[int(c)] for c in classes]
        missing = set(labels) - set(classes)
        if missing:
            raise ModelLoadError(f"{path}: the pipeline has no class for {sorted(missing)}")
        self.order = [classes.index(label) for label in labels]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        probs = self.pipeline.predict_proba(list(texts))[:, self.order]
        return np.log(np.clip(probs, 1e-12, 1.0))


@dataclass
class RelationModel:
    """A loaded relation classifier; cheap to call, safe to share within one process."""

    path: Path
    kind: str
    labels: tuple[str, ...]
    temperature: float
    precision: Precision | None
    meta: ModelMeta
    backend: _Backend
    batch_size: int = DEFAULT_BATCH_SIZE

    @classmethod
    def load(
        cls,
        path: Path | str,
        *,
        precision: Precision = "int8",
        threads: int = 0,
        spin: bool = True,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> RelationModel:
        """Load a serving package (``export_onnx`` output) or a TF-IDF model dir.

        ``spin=False`` lets onnxruntime's idle worker threads sleep rather than spin-wait:
        a little latency per batch, but the cores are free for whatever shares them."""
        path = Path(path)
        if not path.is_dir():
            raise ModelLoadError(f"model path {path} does not exist or is not a folder")
        meta_path = path / META_FILE
        meta = read_meta(path, ModelLoadError)
        labels = meta.labels
        if set(labels) != set(LABELS):
            raise ModelLoadError(f"{meta_path}: labels {list(labels)} are not {list(LABELS)}")
        if precision not in ONNX_FILES:
            raise ModelLoadError(f"precision must be int8 or fp32, not {precision!r}")
        kind = meta.kind
        backend: _Backend
        if kind == "transformer":
            backend = _OnnxBackend(path, precision, meta.max_length, threads, spin)
        elif kind == "tfidf":
            backend = _TfidfBackend(path, labels)
            precision = None  # type: ignore[assignment]
        else:
            raise ModelLoadError(f"{meta_path}: unknown model kind {kind!r}")
        return cls(path, kind, labels, meta.temperature, precision, meta, backend, batch_size)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape ``(n, 3)``, columns in ``LABELS`` order.

        Texts are sorted by length and batched, so padding (and memory) stays small
        whatever the caller passes; the result is in the caller's order.
        """
        texts = list(texts)
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float64)
        if not texts:
            return out
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("texts must be strings")
        order = np.argsort([len(t) for t in texts], kind="stable")
        column = [self.labels.index(label) for label in LABELS]
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            logits = self.backend.logits([texts[i] for i in idx])
            out[idx] = softmax(logits, self.temperature)[:, column]
        return out

    def predict(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Label rows ``{"text", "source"?, "target"?, "a_span"?, "b_span"?}``.

        The pair is marked when given: by its spans when present, else by locating the
        names in the text.
        """
        texts = [
            format_input(
                row["text"],
                row.get("source") or None,
                row.get("target") or None,
                row.get("a_span") or None,
                row.get("b_span") or None,
            )
            for row in rows
        ]
        probs = self.predict_proba(texts)
        return [
            {
                "label": LABELS[int(p.argmax())],
                "probs": {label: round(float(v), 6) for label, v in zip(LABELS, p, strict=True)},
            }
            for p in probs
        ]
