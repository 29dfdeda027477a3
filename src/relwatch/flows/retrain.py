"""The retrain flow: train (classify) → log (track) → export + int8 check → register (track).

The one library call behind ``relwatch train``, the ``train`` job and the demo, so a model
trained by any face is logged, exported and registered the same way.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from relwatch.classify.augment import contrast_sentences, input_view
from relwatch.classify.data import Example, cap, normalize_sentence
from relwatch.classify.export import ExportResult, export_onnx
from relwatch.classify.pipeline import STAGES, RunResult, StageCallback, run_training, write_card
from relwatch.classify.train import TrainingArguments, resolve_threads
from relwatch.core.config import Settings

__all__ = ["RETRAIN_STAGES", "int8_agreement", "retrain"]

RETRAIN_STAGES = (*STAGES, "logging to MLflow", "exporting ONNX", "registering")


def retrain(
    args: TrainingArguments,
    *,
    settings: Settings,
    extra_train: Sequence[Path] = (),
    eval_sets: Sequence[Path] = (),
    out_dir: Path | None = None,
    track: bool = True,
    register: bool = True,
    stage: StageCallback | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RunResult:
    """Train and evaluate; with ``track`` also log, export int8 ONNX and register."""
    started = time.perf_counter()
    total = len(RETRAIN_STAGES) if track else len(STAGES)

    def step(index: int) -> None:
        if stage:
            stage(RETRAIN_STAGES[index], index, total)

    data_dir = settings.data_dir if settings.data_dir and settings.data_dir.is_dir() else None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = out_dir or settings.home / "runs" / f"{stamp}-{args.model}"
    result = run_training(
        args,
        data_dir=data_dir,
        run_dir=run_dir,
        model_name=settings.registered_model,
        extra_train=extra_train,
        eval_sets=eval_sets,
        stage=lambda _name, index, _total: step(index),
        progress=progress,
    )
    if not track:
        return result

    import mlflow

    from relwatch.track.registry import log_relation_model
    from relwatch.track.runs import start_training_run

    step(3)
    t = time.perf_counter()
    with start_training_run(
        result, settings=settings, threads_used=resolve_threads(args.num_threads)
    ):
        result.timings["mlflow"] = round(time.perf_counter() - t, 2)
        step(4)
        t = time.perf_counter()
        package = export_onnx(
            result.model_dir, run_dir / "package", check_texts=_check_texts(result, args) or None
        )
        result.package_dir = package.out_dir
        mlflow.log_metrics(package.metrics())
        agreement = int8_agreement(package, result.gate_rows)
        if agreement:
            mlflow.log_metrics(agreement)
            result.timings["int8_agreement"] = round(agreement["int8_agreement"], 4)
        result.timings["export"] = round(time.perf_counter() - t, 2)

        step(5)
        t = time.perf_counter()
        if register:
            example = [e.model_input() for e in result.gate_rows[:3]] or ["Seoul and Tokyo met."]
            result.version = log_relation_model(
                package.out_dir, settings=settings, input_example=example
            )
        result.card_path = write_card(result)
        mlflow.log_artifact(str(result.card_path))
        result.timings["register"] = round(time.perf_counter() - t, 2)
        result.seconds = time.perf_counter() - started
        mlflow.log_metric("total_seconds", result.seconds)
    return result


def _check_texts(result: RunResult, args: TrainingArguments) -> list[str]:
    """Validation rows of the gate sets (news sentences and pair-contrast pairs), for
    choosing the int8 recipe: marked as served, and bare where the row has a sentence
    label, since serving meets both. No labels are used, only fp32/int8 agreement.
    """
    rows = [
        e
        for s in result.sets
        if s.name in result.gate_sets
        for e in cap(result.splits[s.name]["validation"], 300, seed=args.seed)
    ]
    contrast = contrast_sentences(rows)
    bare = [
        e for e in rows if normalize_sentence(e.text) not in contrast and e.model_input() != e.text
    ]
    return [e.model_input() for e in rows] + [input_view(e, "bare") for e in bare]


def int8_agreement(package: ExportResult, rows: Sequence[Example]) -> dict[str, float]:
    """int8 vs fp32 agreement and the macro-F1 each reaches on the gate set."""
    from relwatch.classify.engine import RelationModel
    from relwatch.classify.evaluate import macro_f1

    if package.kind != "transformer" or not rows:
        return {}
    texts = [e.model_input() for e in rows]
    gold = [e.label_id for e in rows]
    fp32 = RelationModel.load(package.out_dir, precision="fp32").predict_proba(texts).argmax(1)
    int8 = RelationModel.load(package.out_dir, precision="int8").predict_proba(texts).argmax(1)
    return {
        "int8_agreement": float((fp32 == int8).mean()),
        "gate_macro_f1_onnx_fp32": macro_f1(gold, fp32),
        "gate_macro_f1_onnx_int8": macro_f1(gold, int8),
    }
