"""``relwatch index``: build the daily pair index and read it (series, chart, alerts, evidence).

A thin face over :mod:`relwatch.index`: settings and the session are opened here, the
library does the work, and its errors (one line each) reach the user with exit code 2.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from relwatch.cli._common import console, db_session, progress_bar, settings
from relwatch.core.errors import InputError

if TYPE_CHECKING:  # pandas is imported by the library when a command runs, not by --help
    import pandas as pd

index_app = typer.Typer(
    help=(
        "The daily pair index (국가쌍 지수): tone from −1 (conflict, 갈등) to +1 (cooperation, "
        "협력) per country pair and day, week or month, with a 90% interval, volume, "
        "attention, change alerts and the sentences behind every figure.\n\n"
        "Typical flow: [bold]relwatch predict[/] (predictions in the database) → "
        "[bold]relwatch index build[/] → [bold]relwatch index show --pair KOR-JPN[/] → "
        "[bold]relwatch index evidence --pair KOR-JPN --date 1987-04-17[/].\n\n"
        "Pairs are ISO3 codes in any case (usa-jpn). Undirected views read the pair as "
        "(min, max) code; [bold]--directed[/] reads source → target as written."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)


class Grain(StrEnum):
    day = "day"
    week = "week"
    month = "month"


class Format(StrEnum):
    csv = "csv"
    parquet = "parquet"


class View(StrEnum):
    all = "all"
    undirected = "undirected"
    directed = "directed"


PairOpt = Annotated[str, typer.Option("--pair", "-p", help="Country pair, e.g. KOR-JPN.")]
FromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="NAME@VERSION or VERSION. Default: for build, the model with the newest "
        "predictions; otherwise the index built most recently.",
    ),
]
DirectedOpt = Annotated[
    bool, typer.Option("--directed", help="Directed view: source → target as written.")
]


def _day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{option} {value!r}: expected a date as YYYY-MM-DD") from None


def _date(value: str | None, option: str) -> dt.date | None:
    return None if value is None else _day(value, option)


def _version(model: str | None) -> str | None:
    from relwatch.flows.index import parse_model

    return parse_model(model)[1]


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or value != value:  # NaN
        return "-"
    return f"{value:+.{digits}f}"


@index_app.command("build")
def build_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    model: ModelOpt = None,
    full: Annotated[
        bool, typer.Option("--full", help="Recompute every day and re-estimate σ², τ², k.")
    ] = False,
    weighting: Annotated[
        str | None,
        typer.Option(help="Sentence weights: equal or textrank (default: keep the index's)."),
    ] = None,
) -> None:
    """Compute or update the index from the predictions in the database.

    Incremental: only days with new (or removed) predictions are recomputed, plus the
    neighbours, weeks and months they touch; a second run with nothing new does nothing.

    Examples:
      relwatch index build
      relwatch index build --model relwatch-relation@3 --full
      relwatch index build --from 1987-03-01 --to 1987-03-31
    """
    from relwatch.flows.index import build

    first, last = _date(start, "--from"), _date(end, "--to")
    with progress_bar("index build[/] {task.description}", remaining=False) as bar:
        task = bar.add_task("", total=3)

        def tick(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        report = build(
            settings=settings(),
            model=model,
            start=first,
            end=last,
            full=full,
            weighting=weighting,
            progress=tick,
        )
    name, version = report.model_name, report.model_version
    if report.days_recomputed == 0:
        console.print(f"index of {name}@{version} is up to date (0 days recomputed)")
        return
    hyper = report.hyper
    console.print(
        f"index of [bold]{name}@{version}[/] ({'full' if report.full else 'incremental'}): "
        f"{report.days_recomputed} days recomputed, {report.days_refreshed} refreshed; "
        f"{report.weeks_recomputed + report.weeks_refreshed} weeks, "
        f"{report.months_recomputed + report.months_refreshed} months; "
        f"{report.points_written} points, {report.alerts_written} alerts written"
    )
    console.print(
        f"weighting={report.params['weighting']}  σ²={hyper['sigma2']:.4f}  "
        f"τ²(day)={hyper['tau2']['day']:.4f}  k(day)={hyper['k']['day']:.1f} sentences",
        highlight=False,
    )


def _chart(frame: pd.DataFrame, path: Path, title: str) -> None:
    """Tone with its interval band over volume bars, one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    x = frame["date"]
    top.fill_between(x, frame["ci_low"], frame["ci_high"], alpha=0.25, label="90% interval")
    top.plot(x, frame["tone"], lw=1.5, label="tone")
    top.scatter(x, frame["tone_raw"], s=6, alpha=0.5, label="raw", color="grey")
    if frame["tone_smooth7"].notna().any():
        top.plot(x, frame["tone_smooth7"], lw=1, ls="--", label="7-day")
    top.axhline(0, color="black", lw=0.5)
    top.set_ylim(-1, 1)
    top.set_ylabel("tone (conflict − / cooperation +)")
    top.legend(loc="upper left", fontsize=8)
    top.set_title(title)
    bottom.bar(x, frame["volume"], color="grey")
    bottom.set_ylabel("sentences")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@index_app.command("show")
def show_cmd(
    pair: PairOpt,
    grain: Annotated[Grain, typer.Option(help="day, week or month.")] = Grain.day,
    directed: DirectedOpt = False,
    start: FromOpt = None,
    end: ToOpt = None,
    seen_from: Annotated[
        str, typer.Option(help="Only publishers of this country (ISO3); default all.")
    ] = "",
    model: ModelOpt = None,
    rows: Annotated[int, typer.Option(min=1, help="Table rows (latest); the chart has all.")] = 30,
    chart: Annotated[
        Path | None,
        typer.Option(help="PNG to write (default: <home>/charts/<pair>_<grain>.png)."),
    ] = None,
    no_chart: Annotated[bool, typer.Option("--no-chart", help="Table only.")] = False,
) -> None:
    """Show a pair's series as a table and a chart (interval band, volume bars).

    Examples:
      relwatch index show --pair KOR-JPN
      relwatch index show --pair usa-jpn --grain week --directed --from 1987-01-01
      relwatch index show --pair CHN-USA --chart cn_us.png
    """
    from relwatch.index import parse_pair, query_series, resolve_model

    a, b = parse_pair(pair)
    first, last = _date(start, "--from"), _date(end, "--to")
    with db_session() as session:
        name, version = resolve_model(session, _version(model))
        frame = query_series(
            session,
            source=a,
            target=b,
            directed=directed,
            grain=grain.value,
            start=first,
            end=last,
            seen_from=seen_from,
            model_version=version,
        )
    view = f"{a}→{b}" if directed else f"{min(a, b)}–{max(a, b)}"
    if frame.empty:
        console.print(f"no {grain.value} points for {view} ({name}@{version}) in that range")
        return
    table = Table(title=f"{view} by {grain.value} · {name}@{version}")
    for col in ("date", "tone", "90% interval", "raw", "sent.", "art.", "attn", "c/n/co"):
        table.add_column(col, justify="right" if col != "date" else "left", no_wrap=True)
    if grain is Grain.day:
        table.add_column("7-day", justify="right")
    for r in frame.tail(rows).itertuples(index=False):
        cells = [
            f"{r.date:%Y-%m-%d}",
            _fmt(r.tone),
            f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]",
            _fmt(r.tone_raw),
            str(r.volume),
            str(r.articles),
            f"{r.attention:.0%}",
            f"{r.n_conflict}/{r.n_neutral}/{r.n_cooperation}",
        ]
        if grain is Grain.day:
            cells.append(_fmt(r.tone_smooth7))
        table.add_row(*cells)
    console.print(table)
    if not no_chart:
        slug = f"{a}-{b}_{grain.value}_directed" if directed else f"{min(a, b)}-{max(a, b)}"
        slug = slug if directed else f"{slug}_{grain.value}"
        path = chart or settings().home / "charts" / f"{slug}.png"
        _chart(frame, path, f"{view} ({grain.value}) · {name}@{version}")
        console.print(f"chart: {path}")


@index_app.command("alerts")
def alerts_cmd(
    pair: Annotated[str | None, typer.Option("--pair", "-p", help="Only this pair.")] = None,
    since: Annotated[str | None, typer.Option(help="Only alerts on or after YYYY-MM-DD.")] = None,
    model: ModelOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
) -> None:
    """List change alerts: days whose tone left the pair's trailing baseline.

    Examples:
      relwatch index alerts
      relwatch index alerts --pair USA-JPN --since 1987-03-01
    """
    from relwatch.index import list_alerts, resolve_model

    first = _date(since, "--since")
    with db_session() as session:
        name, version = resolve_model(session, _version(model))
        found = list_alerts(session, pair=pair, since=first, model_version=version, limit=limit)
    if not found:
        console.print(f"no alerts ({name}@{version})")
        return
    table = Table(title=f"alerts · {name}@{version}")
    for col in ("day", "pair", "view", "direction", "size", "z", "baseline", "value", "sent."):
        table.add_column(col, no_wrap=True)
    for a in found:
        arrow = "→" if a.directed else "–"
        colour = "red" if a.direction == "to_conflict" else "green"
        table.add_row(
            f"{a.day:%Y-%m-%d}",
            f"{a.source}{arrow}{a.target}",
            "directed" if a.directed else "pair",
            f"[{colour}]{a.direction}[/]",
            _fmt(a.size, 2),
            f"{a.statistic:+.1f}",
            _fmt(a.baseline, 2),
            _fmt(a.value, 2),
            str(a.volume),
        )
    console.print(table)
    console.print("see the sentences: relwatch index evidence --pair A-B --date DAY")


@index_app.command("shifts")
def shifts_cmd(
    n: Annotated[int, typer.Option("--top", "-n", min=1, help="How many pairs.")] = 5,
    window: Annotated[
        int, typer.Option(min=1, help="Covered days (days with data) in each window compared.")
    ] = 30,
    end: ToOpt = None,
    min_volume: Annotated[
        int, typer.Option(min=1, help="Sentences a pair needs in each window.")
    ] = 10,
    directed: DirectedOpt = False,
    model: ModelOpt = None,
) -> None:
    """The pairs whose tone moved most: the last --window covered days against the ones before.

    Examples:
      relwatch index shifts
      relwatch index shifts --top 10 --window 14 --to 1987-04-30
    """
    from relwatch.index import resolve_model, top_shifts

    last = _date(end, "--to")
    with db_session() as session:
        name, version = resolve_model(session, _version(model))
        frame = top_shifts(
            session,
            n=n,
            window_days=window,
            end=last,
            min_volume=min_volume,
            directed=directed,
            model_version=version,
        )
    if frame.empty:
        console.print(f"no pair has {min_volume}+ sentences in both windows ({name}@{version})")
        return
    table = Table(
        title=f"largest shifts · last {window} days vs the {window} before · {name}@{version}"
    )
    for col in ("pair", "before", "after", "shift", "sentences (before → after)"):
        table.add_column(col, justify="left" if col == "pair" else "right", no_wrap=True)
    arrow = "→" if directed else "–"
    for row in frame.itertuples():
        colour = "red" if row.shift < 0 else "green"
        table.add_row(
            f"{row.source}{arrow}{row.target}",
            _fmt(row.before, 2),
            _fmt(row.after, 2),
            f"[{colour}]{_fmt(row.shift, 2)}[/]",
            f"{row.volume_before} → {row.volume_after}",
        )
    console.print(table)
    top = frame.iloc[0]
    console.print(f"chart: relwatch index show --pair {top.source}-{top.target} --grain week")


@index_app.command("evidence")
def evidence_cmd(
    pair: PairOpt,
    date: Annotated[str, typer.Option("--date", help="Day (or first day), YYYY-MM-DD.")],
    end: ToOpt = None,
    directed: DirectedOpt = False,
    model: ModelOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="Sentences shown.")] = 10,
) -> None:
    """The sentences behind a figure, those that pushed it most first, both countries marked.

    Examples:
      relwatch index evidence --pair USA-JPN --date 1987-04-17
      relwatch index evidence --pair USA-JPN --date 1987-04-01 --to 1987-04-30 --limit 20
    """
    from relwatch.index import evidence, parse_pair

    a, b = parse_pair(pair)
    first = _day(date, "--date")
    with db_session() as session:
        items = evidence(
            session,
            source=a,
            target=b,
            start=first,
            end=_date(end, "--to"),
            directed=directed,
            model_version=_version(model),
            limit=limit,
        )
    for rank, item in enumerate(items, 1):
        text = Text(item.text)
        for start_, end_ in (item.a_span, item.b_span):
            text.stylize("bold underline", start_, end_)
        head = (
            f"[bold]{rank}.[/] {item.day} · contribution {item.contribution:+.3f} · "
            f"conflict {item.p_conflict:.2f} / neutral {item.p_neutral:.2f} / "
            f"cooperation {item.p_cooperation:.2f} · direction {item.direction or '-'} · "
            f"{item.model_name}@{item.model_version}"
        )
        console.print(head, highlight=False)
        console.print(text)
        where = item.url or item.external_id or "-"
        copies = f" (+{item.repeats} identical in other stories)" if item.repeats else ""
        console.print(
            Text(f"   {item.source_name or '?'} — {item.title or '(no title)'} — {where}{copies}"),
            style="dim",
        )


@index_app.command("export")
def export_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (atomically).")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="csv or parquet.")] = Format.csv,
    grain: Annotated[Grain, typer.Option(help="day, week or month.")] = Grain.day,
    view: Annotated[View, typer.Option(help="all, undirected or directed rows.")] = View.all,
    start: FromOpt = None,
    end: ToOpt = None,
    model: ModelOpt = None,
) -> None:
    """Write the index to a file for analysts' own tools.

    Columns: date, source, target, directed, tone, tone_raw, ci_low, ci_high, volume,
    articles, attention, n_conflict, n_neutral, n_cooperation, model_version.

    Examples:
      relwatch index export --format csv --output index.csv
      relwatch index export -f parquet -o month.parquet --grain month --view undirected
    """
    from relwatch.index import export_index

    directed = {View.all: None, View.undirected: False, View.directed: True}[view]
    with db_session() as session:
        n = export_index(
            session,
            path=output,
            fmt=fmt.value,
            grain=grain.value,
            directed=directed,
            start=_date(start, "--from"),
            end=_date(end, "--to"),
            model_version=_version(model),
        )
    console.print(f"wrote {n} rows to {output}")


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
