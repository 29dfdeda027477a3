"""Model commands: list / promote / roll back registry versions, export, batch predict.

Exit codes: 0 done; 1 promotion refused by the gate (a decision, not an error: both
figures are printed); 2 bad input or configuration (one line, no traceback).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from relwatch.cli._common import console, err_console, progress_bar, settings
from relwatch.core.errors import InputError, PromotionRefused

if TYPE_CHECKING:
    from relwatch.classify.stored import StoredPredictStats
    from relwatch.serve.models import LoadedModel

models_app = typer.Typer(
    help=(
        "The model registry (MLflow aliases, not stages): every trained model is a version "
        "of the registered model; [bold]challenger[/] marks the newest, [bold]champion[/] "
        "the one that serves.\n\n"
        "Typical flow: [bold]relwatch train[/] → [bold]relwatch models list[/] → "
        "[bold]relwatch models promote[/] (gated on gate-set macro-F1) → "
        "[bold]relwatch models rollback[/] if the new champion misbehaves."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)

# Run metrics shown by `models list` (name -> column header); absent ones are left out.
SHOWN_METRICS = {
    "gate_macro_f1": "gate F1",
    "int8_agreement": "int8 agree",
}


def _registry():  # lazy import keeps `relwatch --help` fast (no MLflow)
    from relwatch.track import registry

    return registry


@models_app.command("list")
def list_cmd() -> None:
    """Show every version with its aliases, gate metric and run, newest first.

    Columns: gate F1 (macro-F1 on the gate set, what promote compares),
    int8 agree (int8 vs fp32 label agreement), the MLflow run and creation time.
    """
    config = settings()
    versions = _registry().list_models(settings=config)
    shown = [m for m in SHOWN_METRICS if any(m in v.metrics for v in versions)]
    table = Table(title=f"{config.registered_model} ({config.mlflow_tracking_uri})")
    for column in ("ver", "aliases", "kind"):
        table.add_column(column, no_wrap=True)
    for metric in shown:
        table.add_column(SHOWN_METRICS[metric], justify="right", no_wrap=True)
    table.add_column("run", no_wrap=True)
    table.add_column("created UTC")
    for v in versions:
        aliases = ", ".join(
            f"[bold green]{a}[/]" if a == "champion" else f"[yellow]{a}[/]" for a in v.aliases
        )
        table.add_row(
            v.version,
            aliases or "-",
            v.tags.get("kind", "?"),
            *(f"{v.metrics[m]:.4f}" if m in v.metrics else "-" for m in shown),
            (v.run_id or "-")[:8],
            v.created.strftime("%m-%d %H:%M"),
        )
    console.print(table)


@models_app.command("promote")
def promote_cmd(
    version: Annotated[
        str | None,
        typer.Option("--version", "-v", help="Version to promote; default: the challenger."),
    ] = None,
    margin: Annotated[
        float | None,
        typer.Option(
            help="How much gate macro-F1 the candidate may trail the champion by "
            "(default: RELWATCH_PROMOTE_MARGIN, 0.0).",
            min=0.0,
        ),
    ] = None,
    metric: Annotated[
        str, typer.Option(help="Run metric the gate compares (higher is better).")
    ] = "gate_macro_f1",
    allow_gate_change: Annotated[
        bool,
        typer.Option(
            "--allow-gate-change",
            help="Promote even though the two versions were scored on different gate sets "
            "(e.g. after the gate's data changed); the figures are printed but not comparable.",
        ),
    ] = False,
) -> None:
    """Make a version the champion if its gate-set macro-F1 ≥ the champion's − margin.

    The first promotion (no champion yet) always passes. A refusal prints both figures
    and exits with code 1; the champion does not move.
    """
    try:
        result = _registry().promote(
            settings=settings(),
            version=version,
            margin=margin,
            gate_metric=metric,
            allow_gate_change=allow_gate_change,
        )
    except PromotionRefused as exc:
        r = exc.result
        err_console.print(
            f"[bold red]refused:[/] version {r.version} {r.metric} = {r.candidate_metric:.4f}, "
            f"champion v{r.previous} {r.metric} = {r.champion_metric:.4f}, "
            f"margin {r.margin:.4f} (needs ≥ {r.champion_metric - r.margin:.4f})",
            highlight=False,
        )
        raise typer.Exit(code=1) from None
    against = (
        f"champion v{result.previous} {result.champion_metric:.4f}"
        if result.champion_metric is not None
        else ("no champion yet" if result.previous is None else f"v{result.previous} (no metric)")
    )
    console.print(
        f"version [bold]{result.version}[/] is now [bold green]champion[/] "
        f"({result.metric} {result.candidate_metric:.4f} vs {against}, margin {result.margin})"
    )


@models_app.command("rollback")
def rollback_cmd() -> None:
    """Move champion back to the version it replaced at its promotion."""
    result = _registry().rollback(settings=settings())
    console.print(
        f"champion rolled back: version {result.from_version} → [bold green]{result.to_version}[/]"
    )


@models_app.command("export")
def export_cmd(
    model_dir: Annotated[Path, typer.Argument(help="A trained model dir (relwatch.json inside).")],
    out_dir: Annotated[Path, typer.Argument(help="Where to write the serving package.")],
    recipe: Annotated[
        str | None,
        typer.Option(
            help="int8 recipe: full (smallest, fastest) | keep-ffn-out | keep-ffn (default: "
            "feed-forward layers stay fp32, for ≥ 99% agreement with fp32)."
        ),
    ] = None,
) -> None:
    """Export a trained model to ONNX fp32 + int8 (the serving package ``predict`` loads)."""
    from relwatch.classify.export import export_onnx

    if not model_dir.is_dir():
        raise InputError(f"model dir {model_dir} does not exist")
    with console.status("exporting to ONNX and quantizing…"):
        result = export_onnx(model_dir, out_dir, recipe=recipe)
    sizes = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in result.files.items())
    console.print(f"serving package at [bold]{result.out_dir}[/]: {sizes}")


def predict_cmd(
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help='JSON lines: {"id", "text", "source"?, "target"?} per line, or the output '
            "of relwatch extract (every pair of every row is labelled).",
        ),
    ] = None,
    output_path: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="JSON lines out: every input field plus "
            "label, probs and model_version. Written atomically.",
        ),
    ] = None,
    db: Annotated[
        bool,
        typer.Option(
            "--db",
            help="Instead of files: classify every stored pair this model version has not "
            "classified yet (resumable; a re-run adds nothing).",
        ),
    ] = False,
    start: Annotated[
        str | None, typer.Option("--from", help="With --db: first article date, YYYY-MM-DD.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="With --db: last article date, YYYY-MM-DD.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="With --db: at most this many pairs.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="models:/relwatch-relation@champion (the default), a version number "
            "(e.g. 3), or a local serving-package / TF-IDF folder.",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per model call.")] = 64,
    precision: Annotated[
        str, typer.Option(help="int8 (default, faster) or fp32 (reference).")
    ] = "int8",
) -> None:
    """Label sentences with a relation model: a JSON-lines file, or the stored pairs.

    Examples: [bold]relwatch predict --db[/] (the champion, every unclassified pair) ·
    [bold]relwatch predict --db --model 3 --from 1987-03-01 --to 1987-04-30[/] ·
    [bold]relwatch predict --input sentences.jsonl --output labelled.jsonl[/]

    Malformed lines are reported with their line number and skipped; the output file
    appears only when the run completes.
    """
    if db:
        if input_path is not None or output_path is not None:
            raise InputError("--db reads the database: leave out --input/--output")
        _predict_db(model, start, end, limit)
        return
    if input_path is None or output_path is None:
        raise InputError("give --input and --output (or --db to classify the stored pairs)")
    from rich.progress import DownloadColumn

    from relwatch.core.jsonl import check_input_file, check_output_path
    from relwatch.flows.params import PredictFileParams, parse_params
    from relwatch.flows.predict import predict_jsonl

    params = parse_params(
        "predict",
        {
            "model": model,
            "input": input_path,
            "output": output_path,
            "batch_size": batch_size,
            "precision": precision,
        },
    )
    assert isinstance(params, PredictFileParams)
    check_input_file(params.input)
    check_output_path(params.output, inputs=(params.input,))
    total = input_path.stat().st_size
    with progress_bar("predict", counter=DownloadColumn(), transient=True) as progress:
        task = progress.add_task("predict", total=total)
        stats, loaded = predict_jsonl(
            params,
            settings=settings(),
            on_progress=lambda done: progress.update(task, completed=done),
        )
    for line_no, reason in stats.errors[:20]:
        err_console.print(f"[yellow]line {line_no}:[/] {reason}", highlight=False)
    if stats.skipped > 20:
        err_console.print(f"… and {stats.skipped - 20} more skipped lines")
    if stats.not_english:
        err_console.print(
            f"[yellow]warning:[/] {stats.not_english} row(s) do not look like English; "
            "the model reads English only, so their labels are unreliable",
            highlight=False,
        )
    pairs = f", {stats.pairs} pairs" if stats.pairs else ""
    console.print(
        f"wrote {stats.written} rows{pairs} to [bold]{output_path}[/] with model {loaded.version}"
        f" ({stats.skipped} malformed lines skipped)"
    )


def _predict_db(model: str | None, start: str | None, end: str | None, limit: int | None) -> None:
    from rich.progress import (
        TextColumn,
    )

    from relwatch.flows.params import PredictDbParams, parse_params
    from relwatch.flows.predict import predict_db

    params = parse_params(
        "predict_db", {"model": model, "start": start, "end": end, "limit": limit}
    )
    assert isinstance(params, PredictDbParams)
    progress = progress_bar("predict --db", extra=(TextColumn("{task.fields[rate]}"),))
    task = progress.add_task("pairs", total=None, rate="")

    def started(loaded: LoadedModel, todo: int) -> None:
        progress.start()
        progress.update(task, total=todo)

    def advance(stats: StoredPredictStats) -> None:
        progress.update(task, completed=stats.predicted, rate=f"{stats.per_second:.0f} sentences/s")

    try:
        stats, loaded = predict_db(
            settings=settings(),
            model=params.model,
            start=params.start,
            end=params.end,
            limit=params.limit,
            on_start=started,
            on_progress=advance,
        )
    finally:
        progress.stop()
    model_share = stats.model_seconds / stats.seconds if stats.seconds else 0.0
    console.print(
        f"classified [bold]{stats.predicted}[/] of {stats.pending} pending pairs with "
        f"{loaded.name} v{loaded.version} in {stats.seconds:.1f}s "
        f"({stats.per_second:.0f} sentences/s; model {model_share:.0%} of the time)"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
    app.command("predict")(predict_cmd)
