"""Collect commands: the source registry, crawling, and the Reuters-21578 import."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from relwatch.cli._common import console, db_session, progress_bar, settings

SourcesOpt = Annotated[
    Path | None,
    typer.Option(
        "--sources",
        help="A YAML registry to use instead of the built-in one (top-level 'sources:' list; "
        "see relwatch/collect/data/sources.yaml for the fields).",
        dir_okay=False,
    ),
]
ExtendOpt = Annotated[
    bool,
    typer.Option(
        "--extend",
        help="Merge --sources over the built-in registry by name instead of replacing it "
        "(an entry with 'enabled: false' switches a built-in source off).",
    ),
]
SourceOpt = Annotated[
    list[str] | None,
    typer.Option("--source", "-s", help="Only this source (by name; repeat for several)."),
]
CountryOpt = Annotated[
    list[str] | None,
    typer.Option("--country", "-c", help="Only sources of this ISO3 country (repeatable)."),
]

sources_app = typer.Typer(
    help="The source registry: which outlets relwatch reads, per country, and whether they answer.",
    no_args_is_help=True,
)
import_app = typer.Typer(
    help="Load a news corpus from the data directory as articles (no network needed).",
    no_args_is_help=True,
)


def _pick(
    sources: Path | None,
    extend: bool,
    names: list[str] | None,
    countries: list[str] | None,
    *,
    enabled_only: bool = True,
) -> list:
    """The sources a command works on: the same checks as a crawl job's."""
    from relwatch.collect.sources import load_registry

    registry = load_registry(sources, extend_default=extend, sources_file=settings().sources_file)
    return registry.choose(names, countries, enabled_only=enabled_only)


@sources_app.command("list")
def sources_list(
    sources: SourcesOpt = None,
    extend: ExtendOpt = False,
    country: CountryOpt = None,
) -> None:
    """Show every source: country, media or government, kind, language, rate limit, feed URL.

    Example: relwatch sources list --country KOR
    """
    chosen = _pick(sources, extend, None, country, enabled_only=False)
    table = Table(title=f"{len(chosen)} sources")
    for col in ("name", "country", "category", "kind", "lang", "req/s", "schedule", "url"):
        table.add_column(col, overflow="fold")
    for s in sorted(chosen, key=lambda s: (s.country, s.category, s.name)):
        name = s.name if s.enabled else f"[dim]{s.name} (disabled)[/]"
        table.add_row(
            name,
            s.country,
            s.category,
            s.kind,
            s.language,
            f"{s.rate_limit_per_sec:g}",
            s.schedule or "-",
            s.url,
        )
    console.print(table)


@sources_app.command("check")
def sources_check(
    sources: SourcesOpt = None,
    extend: ExtendOpt = False,
    source: SourceOpt = None,
    country: CountryOpt = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each source.", min=0.1)] = 8.0,
) -> None:
    """Fetch each source's feed once (robots.txt respected, no retries) and report what answers.

    A source that cannot be reached shows as "unreachable" (as every source does on a
    machine without internet). Exit code 1 when any source is not ok.

    Example: relwatch sources check --country JPN --timeout 5
    """
    from relwatch.collect.feeds import FeedError, discover
    from relwatch.collect.http import FEED_TYPES, Fetcher

    chosen = _pick(sources, extend, source, country)

    async def check_all() -> list[tuple[str, str]]:
        async with Fetcher(timeout=timeout, retries=0) as fetcher:
            for spec in chosen:
                fetcher.set_rate(spec.url, spec.rate_limit_per_sec)

            async def one(spec) -> tuple[str, str]:  # noqa: ANN001
                result = await fetcher.fetch(spec.url, accept=FEED_TYPES)
                if result.error in ("unreachable", "connection", "timeout"):
                    return "unreachable", result.detail or ""
                if result.error == "robots":
                    return "blocked", result.detail or ""
                if not result.ok:
                    return "failed", result.describe()
                try:
                    found = discover(spec.kind, result.content, result.final_url, spec.selectors)
                except FeedError as exc:
                    return "malformed", str(exc)
                n = len(found.items) or len(found.sitemaps)
                what = "items" if found.items or not found.sitemaps else "child sitemaps"
                return "ok", f"HTTP {result.status}, {n} {what}"

            return await asyncio.gather(*(one(s) for s in chosen))

    with console.status(f"checking {len(chosen)} sources…"):
        results = asyncio.run(check_all())
    table = Table(title="source check")
    for col in ("name", "country", "status", "detail"):
        table.add_column(col, overflow="fold")
    colours = {"ok": "green", "unreachable": "red", "blocked": "yellow"}
    for spec, (status, detail) in zip(chosen, results, strict=True):
        colour = colours.get(status, "red")
        table.add_row(spec.name, spec.country, f"[{colour}]{status}[/]", detail[:160])
    console.print(table)
    bad = sum(1 for status, _ in results if status != "ok")
    console.print(f"{len(results) - bad} ok, {bad} not ok")
    if bad:
        raise typer.Exit(code=1)


def crawl_command(
    sources: SourcesOpt = None,
    extend: ExtendOpt = False,
    source: SourceOpt = None,
    country: CountryOpt = None,
    max_items: Annotated[
        int | None,
        typer.Option(
            "--max-items",
            min=1,
            help="Fetch at most N articles per source this run; the rest stay queued.",
        ),
    ] = None,
) -> None:
    """Crawl the sources once: read feeds, fetch new articles, extract, dedup and store them.

    Polite by default (robots.txt, per-host rate limits from the registry, retries with
    backoff, conditional GET) and incremental: a second run fetches only new items, and
    an interrupted run (Ctrl-C) resumes where it stopped. Ends with a table of new /
    unchanged / duplicate / blocked / failed per source; exit code 1 when every source failed.

    Examples: relwatch crawl --country KOR --max-items 20 ;
    relwatch crawl --sources my_sources.yaml --source "Local paper"
    """

    from relwatch.collect.crawler import CrawlEvent, crawl
    from relwatch.core.db import require_schema, session_factory

    chosen = _pick(sources, extend, source, country)
    config = settings()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", style="bold"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[summary]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks = {s.name: progress.add_task(s.name, total=None, summary="reading feed") for s in chosen}
    counts: dict[str, dict[str, int]] = {s.name: {} for s in chosen}

    def on_event(event: CrawlEvent) -> None:
        task = tasks[event.source]
        if event.kind == "queued":
            feed = "" if event.outcome in ("ok", "") else f" (feed: {event.outcome})"
            progress.update(task, total=event.total, summary=f"{event.total} to fetch{feed}")
            if event.total == 0:
                progress.update(task, total=1, completed=1, summary=f"nothing new{feed}")
        elif event.kind == "item":
            c = counts[event.source]
            c[event.outcome] = c.get(event.outcome, 0) + 1
            summary = " ".join(f"{k}={v}" for k, v in sorted(c.items()))
            progress.update(task, advance=1, summary=summary)

    require_schema(config.database_url)
    with progress:
        report = crawl(
            session_factory(config.database_url),
            chosen,
            max_items=max_items,
            settings=config,
            on_event=on_event,
        )
    table = Table(title=f"crawl summary ({report.seconds:.1f}s)")
    for col in ("source", "country", "feed", "new", "unchanged", "duplicate", "blocked", "failed"):
        table.add_column(
            col,
            justify="right"
            if col in {"new", "unchanged", "duplicate", "blocked", "failed"}
            else "left",
        )
    for s in report.sources:
        table.add_row(
            s.name,
            s.country,
            s.feed,
            str(s.new),
            str(s.unchanged),
            str(s.duplicate),
            str(s.blocked),
            f"[red]{s.failed}[/]" if s.failed else "0",
        )
    table.add_row(
        "[bold]total[/]",
        "",
        "",
        *(
            f"[bold]{report.total(k)}[/]"
            for k in ("new", "unchanged", "duplicate", "blocked", "failed")
        ),
    )
    console.print(table)
    for s in report.sources:
        for err in s.errors[:3]:
            console.print(f"[dim]{s.name}: {err}[/]", highlight=False)
    if all(s.feed not in ("ok", "not modified") and not s.new for s in report.sources):
        raise typer.Exit(code=1)


@import_app.command("reuters")
def import_reuters_command(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Folder with reut2-*.sgm; default: <data dir>/reuters21578.", file_okay=False
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=1,
            help="Read only the first N stories (corpus order: 26 Feb 1987 onwards).",
        ),
    ] = None,
) -> None:
    """Load Reuters-21578 (21,578 dated 1987 newswire stories) as articles.

    Safe to run again: stories already imported are skipped, so raising --limit adds
    only the missing ones. Research use only: the text stays in your database.

    Example: relwatch import reuters --limit 3000
    """
    from relwatch.collect.reuters import corpus_files, import_reuters

    config = settings()
    folder = directory or config.require_data_dir() / "reuters21578"
    files = corpus_files(folder)
    total = sum(f.read_bytes().count(b"<REUTERS ") for f in files)
    total = min(total, limit) if limit else total
    progress = progress_bar("importing Reuters-21578", stderr=False)
    with db_session() as session, progress:
        task = progress.add_task("import", total=total)
        report = import_reuters(
            session, folder, limit, on_progress=lambda n: progress.advance(task, n)
        )
    span = ""
    if report.first_date and report.last_date:
        span = f", dated {report.first_date:%Y-%m-%d} to {report.last_date:%Y-%m-%d}"
    console.print(
        f"read {report.read} stories: [bold]{report.imported} imported[/]{span}; "
        f"{report.already_present} already present, {report.duplicates} duplicates, "
        f"{report.empty} empty skipped"
    )


def register(app: typer.Typer) -> None:
    app.command("crawl")(crawl_command)
    app.add_typer(sources_app, name="sources")
    app.add_typer(import_app, name="import")
