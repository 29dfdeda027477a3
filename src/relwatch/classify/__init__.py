"""Relation classification: (sentence, country A, country B) → conflict / neutral / cooperation.

Data loading and splits (``data``), input marking (``markers``), training (``train``),
evaluation (``evaluate``), the pure training run (``pipeline``) and model cards (``card``)
live here; export and serving (``export``, ``engine``) need only onnxruntime and tokenizers
at run time. Nothing here talks to MLflow: that is the retrain flow's job.
"""

from relwatch.classify.data import Dataset, Example, load_any
from relwatch.classify.engine import RelationModel
from relwatch.classify.export import ExportResult, export_onnx
from relwatch.classify.markers import format_input
from relwatch.classify.meta import ModelMeta, read_meta, write_meta
from relwatch.classify.pipeline import RunResult, run_training
from relwatch.classify.predict import PredictStats, predict_file
from relwatch.classify.train import TrainingArguments

__all__ = [
    "Dataset",
    "Example",
    "ExportResult",
    "ModelMeta",
    "PredictStats",
    "RelationModel",
    "RunResult",
    "TrainingArguments",
    "export_onnx",
    "format_input",
    "load_any",
    "predict_file",
    "read_meta",
    "run_training",
    "write_meta",
]
