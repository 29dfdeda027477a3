"""One pure training run: data → split → train → evaluate per source → model card.

Nothing here talks to MLflow: logging, export, the int8 check and registration are the
retrain flow (``relwatch.flows.retrain``), which calls this and then ``relwatch.track``.
Keeping the run itself free of tracking lets benchmarks and tests train exactly as the
command line does without a store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relwatch.classify.augment import contrast_sentences, input_view
from relwatch.classify.card import load_cv_estimate, render_card
from relwatch.classify.data import (
    BUNDLED,
    LOADERS,
    SPLITS,
    Dataset,
    Example,
    cap,
    load_any,
    normalize_sentence,
    split_dataset,
)
from relwatch.classify.evaluate import Report, evaluate, plot_confusion
from relwatch.classify.train import TrainedModel, TrainingArguments, load_scorer, train_model
from relwatch.core.errors import ConfigError, InputError
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
    run_dir: Path = Path()
    sets: list[Dataset] = field(default_factory=list)
    splits: dict[str, dict[str, list[Example]]] = field(default_factory=dict)
    gate_rows: list[Example] = field(default_factory=list)
    gate_sets: set[str] = field(default_factory=set)
    figures: list[Path] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    model_name: str = "relwatch-relation"
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
        raise InputError(f"dataset named twice: {', '.join(sorted(duplicates))}")
    return sets


def _scored(
    name: str,
    rows: Sequence[Example],
    score: Callable[[Sequence[str]], np.ndarray],
    view: str = "marked",
) -> Report:
    texts = [input_view(e, view) for e in rows]
    probs = score(texts) if rows else np.zeros((0, len(LABELS)))
    return evaluate(
        name,
        [e.label_id for e in rows],
        probs,
        [e.dataset for e in rows],
        groups=[normalize_sentence(e.text) for e in rows],
    )


def _memoised(
    score: Callable[[Sequence[str]], np.ndarray],
) -> Callable[[Sequence[str]], np.ndarray]:
    """Score each distinct input once: the gate rows are also test rows, and a bare view
    repeats the marked one where a row has no markers."""
    seen: dict[str, np.ndarray] = {}

    def cached(texts: Sequence[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in seen))
        if todo:
            seen.update(zip(todo, score(todo), strict=True))
        if not texts:
            return np.zeros((0, len(LABELS)))
        return np.stack([seen[t] for t in texts])

    return cached


STAGES = ("loading data", "training", "evaluating")


def run_training(
    args: TrainingArguments,
    *,
    data_dir: Path | None,
    run_dir: Path,
    model_name: str = "relwatch-relation",
    extra_train: Sequence[Path] = (),
    eval_sets: Sequence[Path] = (),
    stage: StageCallback | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RunResult:
    """Train and evaluate per source into ``run_dir`` (model, figures, metrics, card)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def mark(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 2)
        return now

    def step(index: int) -> None:
        if stage:
            stage(STAGES[index], index, len(STAGES))

    step(0)
    shared = [*args.datasets, *args.gate_datasets, *args.report_datasets]
    if data_dir is None and any(s in LOADERS and s not in BUNDLED for s in shared):
        raise ConfigError("data directory not found; set RELWATCH_DATA_DIR")
    sets = load_training_data(args, data_dir, extra_train)
    train_names = {*args.datasets, *(s.name for s in sets[len(sets) - len(extra_train) :])}
    evals = [load_any(path, data_dir) for path in eval_sets]
    splits = {
        s.name: split_dataset(
            s,
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
    training_rows = [e for e in merged["train"] if e.dataset in train_names]
    if args.refit and args.model == "transformer":
        # the recipe was chosen by cross-validation: validation rows become training rows
        training_rows += [e for e in merged["validation"] if e.dataset in train_names]
        selection = []
    t = mark("data", started)

    step(1)
    model_dir = run_dir / "model"
    trained = train_model(training_rows, selection, args, model_dir, progress)
    t = mark("train", t)
    for name, count in trained.info.get("rows_by_set", {}).items():
        data_info[name]["trained_rows"] = count

    step(2)
    score = _memoised(load_scorer(model_dir, args.num_threads))

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

    # Capped per source only, so every news row of a small gate set stays in the report;
    # after a refit the validation rows were trained on, so they are not reported.
    reports = (
        {}
        if not selection and args.refit
        else {"validation": _scored("validation", held_out(merged["validation"]), score)}
    )
    reports["test"] = _scored("test", held_out(merged["test"]), score)
    gate_rows = [e for e in merged["test"] if e.dataset in gate_sets]
    gate = _scored("gate", gate_rows, score)
    # The same gate sentences with one side marked and with none: rows whose sentence has
    # one label for every pair (a sentence label), so the input without markers still has
    # a right answer. Serving meets all three when the extractor finds one or no country.
    contrast = contrast_sentences(gate_rows)
    sentence_level = [e for e in gate_rows if normalize_sentence(e.text) not in contrast]
    for view in ("one-side", "bare"):
        reports[f"gate:{view}"] = _scored(f"gate:{view}", sentence_level, score, view)
    for s in evals:
        reports[f"eval:{s.name}"] = _scored(f"eval:{s.name}", s.examples, score)
    mark("evaluate", t)

    figures = run_dir / "figures"
    pngs = [
        plot_confusion(r, figures / f"confusion_{name.replace(':', '_')}.png")
        for name, r in [*reports.items(), ("gate", gate)]
        if r.n
    ]
    for source, sub in reports["test"].by_source.items():
        pngs.append(plot_confusion(sub, figures / f"confusion_test_{source}.png"))
    result = RunResult(
        model_dir,
        trained,
        reports,
        gate,
        data_info,
        run_dir=run_dir,
        sets=sets,
        splits=splits,
        gate_rows=gate_rows,
        gate_sets=gate_sets,
        figures=pngs,
        params=args.to_params(),
        model_name=model_name,
        timings=timings,
    )
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
    result.card_path = write_card(result)
    result.seconds = time.perf_counter() - started
    return result


def write_card(result: RunResult) -> Path:
    """(Re)write the model card; the retrain flow calls it again once run and version exist."""
    card = render_card(
        name=result.model_name,
        kind=str(result.params.get("model", "?")),
        params=result.params,
        data=result.data,
        reports=list(result.reports.values()),
        gate=result.gate,
        temperature=result.trained.temperature,
        train_seconds=result.trained.train_seconds,
        run_id=result.run_id,
        version=result.version,
        cv=load_cv_estimate() if result.params.get("model") == "transformer" else None,
    )
    path = result.run_dir / "model_card.md"
    path.write_text(card, encoding="utf-8")
    return path
