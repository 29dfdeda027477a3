"""One training run end to end: data → split → train → evaluate → MLflow → export → register.

The CLI and ``make demo`` call :func:`run_training`; keeping the orchestration in the
library means tests and Celery jobs train exactly the way the command line does.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relwatch.classify.card import render_card
from relwatch.classify.data import (
    LOADERS,
    SPLITS,
    Dataset,
    Example,
    cap,
    content_hash,
    load_any,
    split_examples,
)
from relwatch.classify.evaluate import Report, evaluate, plot_confusion
from relwatch.classify.export import ExportResult
from relwatch.classify.train import TrainedModel, TrainingArguments, load_scorer, train_model
from relwatch.core.config import get_settings
from relwatch.core.logging import get_logger
from relwatch.core.models import LABELS

log = get_logger(__name__)

StageCallback = Callable[[str, int, int], None]


@dataclass
class RunResult:
    """What a training run produced, for the CLI summary and for tests."""

    model_dir: Path
    trained: TrainedModel
    reports: dict[str, Report]
    gate: Report | None
    data: dict[str, dict[str, Any]]
    run_id: str | None = None
    version: str | None = None
    package_dir: Path | None = None
    card_path: Path | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


def load_training_data(
    args: TrainingArguments, data_dir: Path | None, extra: Sequence[Path] = ()
) -> list[Dataset]:
    """The training sets, the gate sets (loaded even when not trained on, so the gate never
    moves with the mix), the report-only sets and user files; each a hashed dataset version."""
    names = list(dict.fromkeys([*args.datasets, *args.gate_datasets, *args.report_datasets]))
    sets = [load_any(spec, data_dir) for spec in names]
    sets += [load_any(path, data_dir) for path in extra]
    names = [s.name for s in sets]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"dataset named twice: {', '.join(sorted(duplicates))}")
    return sets


def _scored(
    name: str, rows: Sequence[Example], score: Callable[[Sequence[str]], np.ndarray]
) -> Report:
    probs = score([e.model_input() for e in rows]) if rows else np.zeros((0, len(LABELS)))
    return evaluate(name, [e.label_id for e in rows], probs, [e.dataset for e in rows])


def _log_datasets(sets: Sequence[Dataset], splits: dict[str, dict[str, list[Example]]]) -> None:
    """Each dataset version as an MLflow input, identified by its content hash."""
    import mlflow
    import pandas as pd
    from mlflow.data.sources import LocalArtifactDatasetSource

    for dataset in sets:
        frame = pd.DataFrame(
            [
                {"label": e.label, "split": split, "has_pair": bool(e.source or e.a_span)}
                for split, rows in splits[dataset.name].items()
                for e in rows
            ]
        )
        source = LocalArtifactDatasetSource(dataset.origin) if dataset.origin else None
        entry = mlflow.data.from_pandas(
            frame, source=source, name=dataset.name, digest=dataset.digest[:32]
        )
        mlflow.log_input(entry, context="training", tags={"sha256": dataset.digest})


def run_training(
    args: TrainingArguments,
    *,
    extra_train: Sequence[Path] = (),
    eval_sets: Sequence[Path] = (),
    out_dir: Path | None = None,
    track: bool = True,
    register: bool = True,
    stage: StageCallback | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RunResult:
    """Train, evaluate per source, and (with ``track``) log, export and register the model."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    settings = get_settings()

    def mark(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 2)
        return now

    def step(name: str, index: int) -> None:
        if stage:
            stage(name, index, 6)

    step("loading data", 0)
    data_dir = settings.data_dir if settings.data_dir and settings.data_dir.is_dir() else None
    shared = [*args.datasets, *args.gate_datasets, *args.report_datasets]
    if data_dir is None and any(s in LOADERS for s in shared):
        data_dir = settings.require_data_dir()
    sets = load_training_data(args, data_dir, extra_train)
    train_names = {*args.datasets, *(s.name for s in sets[len(sets) - len(extra_train) :])}
    evals = [load_any(path, data_dir) for path in eval_sets]
    splits = {
        s.name: split_examples(
            s.examples,
            seed=args.split_seed,
            validation=args.validation_fraction,
            test=args.test_fraction,
        )
        for s in sets
    }
    data_info = {
        s.name: {
            "rows": len(s),
            "hash": s.digest,
            "origin": s.origin,
            **{k: len(v) for k, v in splits[s.name].items()},
        }
        for s in sets
    }
    for s in sets:
        data_info[s.name]["trained_on"] = s.name in train_names
    for s in evals:
        data_info[f"eval:{s.name}"] = {
            "rows": len(s),
            "hash": s.digest,
            "origin": s.origin,
            "train": 0,
            "validation": 0,
            "test": len(s),
        }
    merged = {name: [e for s in sets for e in splits[s.name][name]] for name in SPLITS}
    gate_sets = set(args.gate_datasets) & {s.name for s in sets} or {s.name for s in sets}
    # Early stopping and calibration look at the gate sets the model learns from: a set it
    # never sees (e.g. UN documents in a news-only mix) would pick checkpoints and fit the
    # temperature on a task it was not trained for.
    select_sets = (gate_sets & train_names) or gate_sets
    selection = [e for e in merged["validation"] if e.dataset in select_sets]
    t = mark("data", started)

    step("training", 1)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = out_dir or settings.home / "runs" / f"{stamp}-{args.model}"
    model_dir = run_dir / "model"
    training_rows = [e for e in merged["train"] if e.dataset in train_names]
    trained = train_model(training_rows, selection, args, model_dir, progress)
    t = mark("train", t)
    for name, count in trained.info.get("rows_by_set", {}).items():
        data_info[name]["trained_rows"] = count

    step("evaluating", 2)
    score = load_scorer(model_dir, args.num_threads)

    def held_out(rows: list[Example]) -> list[Example]:
        """Gate sets whole; other sets capped per source (reports only, stable choice)."""
        kept = [e for e in rows if e.dataset in gate_sets]
        for s in sets:
            if s.name not in gate_sets:
                kept += cap(
                    [e for e in rows if e.dataset == s.name],
                    args.eval_cap_per_source,
                    seed=args.seed,
                )
        return kept

    reports = {
        # Capped per source only: a pooled cap (max_eval_examples, meant for early
        # stopping) left 24 of 218 news rows in the quick run's validation report.
        "validation": _scored("validation", held_out(merged["validation"]), score),
        "test": _scored("test", held_out(merged["test"]), score),
    }
    gate_rows = [e for e in merged["test"] if e.dataset in gate_sets]
    gate = _scored("gate", gate_rows, score)
    for s in evals:
        reports[f"eval:{s.name}"] = _scored(f"eval:{s.name}", s.examples, score)
    t = mark("evaluate", t)

    figures = run_dir / "figures"
    pngs = [
        plot_confusion(r, figures / f"confusion_{name.replace(':', '_')}.png")
        for name, r in [*reports.items(), ("gate", gate)]
        if r.n
    ]
    for source, sub in reports["test"].by_source.items():
        pngs.append(plot_confusion(sub, figures / f"confusion_test_{source}.png"))
    result = RunResult(model_dir, trained, reports, gate, data_info, timings=timings)
    (run_dir / "metrics.json").write_text(
        json.dumps(
            {
                **{k: r.to_dict() for k, r in reports.items()},
                "gate": gate.to_dict(),
                "timings": timings,
                "history": trained.history,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    params = args.to_params()

    if not track:
        result.card_path = _write_card(run_dir, args, result, params)
        result.seconds = time.perf_counter() - started
        return result

    import mlflow

    from relwatch.track.tracking import configure_mlflow

    step("logging to MLflow", 3)
    configure_mlflow(settings)
    with mlflow.start_run(run_name=f"{args.model}-{stamp}") as run:
        result.run_id = run.info.run_id
        from relwatch.track.registry import RUN_TAG_GATE

        mlflow.set_tags(
            {
                "relwatch.kind": args.model,
                "relwatch.stage": "classify",
                "relwatch.profile": args.profile,
                RUN_TAG_GATE: content_hash(gate_rows),
                "relwatch.gate_sets": ",".join(sorted(gate_sets)),
            }
        )
        from relwatch.classify.train import resolve_threads

        mlflow.log_params({**params, "threads_used": resolve_threads(args.num_threads)})
        mlflow.log_params(
            {f"data_{name}_sha256": info["hash"][:16] for name, info in data_info.items()}
        )
        _log_datasets(sets, splits)
        metrics: dict[str, float] = {
            "gate_macro_f1": gate.macro_f1,
            "train_seconds": trained.train_seconds,
            "temperature": trained.temperature,
        }
        metrics.update(gate.metrics("gate"))
        if gate.by_source:
            metrics["gate_mean_source_macro_f1"] = float(
                np.mean([r.macro_f1 for r in gate.by_source.values()])
            )
        for name, report in reports.items():
            metrics.update(report.metrics(name.replace(":", "_")))
        mlflow.log_metrics(
            {
                k.replace("(", "").replace(")", ""): float(v)
                for k, v in metrics.items()
                if v is not None
            }
        )
        for point in trained.history:
            mlflow.log_metrics(
                {"val_select_score": point["val_score"], "train_loss": point["train_loss"]},
                step=int(point["step"]),
            )
        for png in pngs:
            mlflow.log_artifact(str(png), artifact_path="figures")
        mlflow.log_artifact(str(run_dir / "metrics.json"))
        t = mark("mlflow", t)

        step("exporting ONNX", 4)
        from relwatch.classify.export import export_onnx

        # Choose the int8 recipe on validation rows of every set, trained on or not: the
        # model will also read text unlike its training data, and it is there that fp32 is
        # unsure and rounding flips labels. No labels are used, only fp32/int8 agreement.
        check = [e for s in sets for e in cap(splits[s.name]["validation"], 300, seed=args.seed)]
        package = export_onnx(
            model_dir, run_dir / "package", check_texts=[e.model_input() for e in check] or None
        )
        result.package_dir = package.out_dir
        mlflow.log_metrics(package.metrics())
        agreement = _int8_agreement(package, gate_rows)
        if agreement:
            mlflow.log_metrics(agreement)
            result.timings["int8_agreement"] = round(agreement["int8_agreement"], 4)
        t = mark("export", t)

        step("registering", 5)
        if register:
            from relwatch.track.registry import log_relation_model

            example = [e.model_input() for e in gate_rows[:3]] or ["Seoul and Tokyo met."]
            result.version = log_relation_model(package.out_dir, input_example=example)
        result.card_path = _write_card(run_dir, args, result, params)
        mlflow.log_artifact(str(result.card_path))
        t = mark("register", t)
        result.seconds = time.perf_counter() - started
        mlflow.log_metric("total_seconds", result.seconds)
    return result


def _int8_agreement(package: ExportResult, rows: Sequence[Example]) -> dict[str, float]:
    """int8 vs fp32 agreement and the macro-F1 each reaches on the gate set (issue gate)."""
    from relwatch.classify.engine import RelationModel
    from relwatch.classify.evaluate import macro_f1

    if package.kind != "transformer" or not rows:
        return {}
    package_dir = package.out_dir
    texts = [e.model_input() for e in rows]
    gold = [e.label_id for e in rows]
    fp32 = RelationModel.load(package_dir, precision="fp32").predict_proba(texts).argmax(1)
    int8 = RelationModel.load(package_dir, precision="int8").predict_proba(texts).argmax(1)
    return {
        "int8_agreement": float((fp32 == int8).mean()),
        "gate_macro_f1_onnx_fp32": macro_f1(gold, fp32),
        "gate_macro_f1_onnx_int8": macro_f1(gold, int8),
    }


def _write_card(
    run_dir: Path, args: TrainingArguments, result: RunResult, params: dict[str, Any]
) -> Path:
    card = render_card(
        name=get_settings().registered_model,
        kind=args.model,
        params=params,
        data=result.data,
        reports=list(result.reports.values()),
        gate=result.gate,
        temperature=result.trained.temperature,
        train_seconds=result.trained.train_seconds,
        run_id=result.run_id,
        version=result.version,
    )
    path = run_dir / "model_card.md"
    path.write_text(card, encoding="utf-8")
    return path
