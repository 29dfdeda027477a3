"""``relwatch.json``: the typed metadata every trained model dir and serving package carries.

One dataclass, one reader and one writer for the trainer, the exporter and the engine, and
the package's file names declared once, so a missing or broken file gives the same
one-line message wherever it is read and no reader guesses a default for a missing field.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from relwatch.core.errors import ModelError, ModelLoadError

__all__ = [
    "META_FILE",
    "ONNX_FILES",
    "ONNX_FP32_FILE",
    "ONNX_INT8_FILE",
    "TFIDF_FILE",
    "TOKENIZER_FILE",
    "ModelMeta",
    "read_meta",
    "write_meta",
]

META_FILE = "relwatch.json"
ONNX_FP32_FILE = "model.fp32.onnx"
ONNX_INT8_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
TFIDF_FILE = "model.joblib"
ONNX_FILES: dict[str, str] = {"int8": ONNX_INT8_FILE, "fp32": ONNX_FP32_FILE}

Kind = Literal["transformer", "tfidf"]


@dataclass(frozen=True)
class ModelMeta:
    """What a model is and how to feed it; written by the trainer, extended by the exporter."""

    kind: Kind
    labels: tuple[str, ...]
    max_length: int
    temperature: float
    input_format: str
    base_model: str
    quantization: dict[str, Any] | None = None
    files: dict[str, int] = field(default_factory=dict)
    onnx_opset: int | None = None
    pooling: Literal["cls", "entity-start"] = "cls"
    """The head: ``cls`` (a sentence classifier; packages written before the field existed)
    or ``entity-start`` (states at the pair's markers, ``classify.pairmodel``). Serving is
    the same for both: the ONNX graph finds the markers itself."""

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = META_FILE) -> ModelMeta:
        """Validate a parsed ``relwatch.json``; a missing or wrong field is a ``ModelError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        required = {
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        missing = sorted(required - set(data))
        if missing:
            raise ModelError(f"{where}: missing field(s) {', '.join(missing)}")
        if data["kind"] not in ("transformer", "tfidf"):
            raise ModelError(f"{where}: 'kind' must be 'transformer' or 'tfidf'")
        try:
            meta = cls(
                **{
                    **{k: v for k, v in data.items() if k in names},
                    "labels": tuple(data["labels"]),
                    "max_length": int(data["max_length"]),
                    "temperature": float(data["temperature"]),
                    "files": dict(data.get("files") or {}),
                }
            )
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{where}: {exc}") from None
        if meta.temperature <= 0:
            raise ModelError(f"{where}: temperature must be > 0, not {meta.temperature}")
        if meta.max_length < 1:
            raise ModelError(f"{where}: max_length must be >= 1")
        if meta.pooling not in ("cls", "entity-start"):
            raise ModelError(f"{where}: 'pooling' must be 'cls' or 'entity-start'")
        return meta

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["labels"] = list(self.labels)
        return out

    def replace(self, **changes: Any) -> ModelMeta:
        return dataclasses.replace(self, **changes)


def read_meta(model_dir: Path | str, error: type[ModelError] = ModelLoadError) -> ModelMeta:
    """The ``relwatch.json`` of ``model_dir``; ``error`` when absent, broken or incomplete."""
    path = Path(model_dir) / META_FILE
    if not path.is_file():
        raise error(f"{model_dir} is not a relwatch model: {META_FILE} is missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise error(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a JSON object")
    try:
        return ModelMeta.from_dict(data, where=str(path))
    except ModelError as exc:
        raise error(str(exc)) from None


def write_meta(model_dir: Path, meta: ModelMeta) -> None:
    """Write ``relwatch.json`` into ``model_dir``."""
    (Path(model_dir) / META_FILE).write_text(
        json.dumps(meta.to_dict(), indent=2) + "\n", encoding="utf-8"
    )
