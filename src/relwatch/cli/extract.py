"""``relwatch extract``: sentences, country mentions and pairs from JSONL files or the database."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    Progress,
)

from relwatch.cli._common import console, err_console, progress_bar, settings
from relwatch.core.errors import InputError

MAX_ERRORS_SHOWN = 10


class Unit(StrEnum):
    sentence = "sentence"
    article = "article"


def _progress() -> Progress:
    return progress_bar()


def extract_db(limit: int | None, batch_size: int, ner: bool) -> None:
    from relwatch.core.db import require_schema
    from relwatch.extract.pipeline import Extractor, extract_pending

    url = settings().database_url
    require_schema(url)
    extractor = Extractor(ner_policy="ambiguous" if ner else "off")
    with _progress() as progress:
        task = progress.add_task("extract (database)", total=None)

        def report(stats, todo: int) -> None:  # noqa: ANN001 - ExtractStats
            progress.update(task, completed=stats.articles, total=todo)

        stats = extract_pending(
            url, limit=limit, batch_size=batch_size, extractor=extractor, progress=report
        )
    console.print(
        f"extracted [bold]{stats.articles}[/] articles → {stats.sentences} sentences, "
        f"{stats.mentions} mentions, {stats.pairs} pairs in {stats.seconds:.1f}s "
        f"({stats.articles_per_s:.1f} articles/s, {stats.sentences_per_s:.0f} sentences/s; "
        f"aliases {extractor.alias_version})"
    )


def extract(
    input: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help='JSONL file, one object per line: {"id", "text", "date"?}. '
            "'date' (YYYY-MM-DD) decides which leaders are in office.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="JSONL file to write (replaced atomically when done)."),
    ] = None,
    unit: Annotated[
        Unit,
        typer.Option(
            help="sentence: each row's text is one sentence, rows are kept and annotated. "
            "article: each row is split into sentences; one output row per sentence with "
            "article_id, sentence_index and a TextRank score."
        ),
    ] = Unit.sentence,
    db: Annotated[
        bool,
        typer.Option(
            "--db",
            help="Instead of files: extract the configured database's articles that "
            "have no extraction yet (Article.extracted_at empty).",
        ),
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="With --db: at most this many articles.")
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(
            min=1, help="Rows (or articles) per NER batch and, with --db, per transaction."
        ),
    ] = 100,
    ner: Annotated[
        bool,
        typer.Option(
            "--ner/--no-ner",
            help="Check ambiguous aliases ('Jordan', 'Chad', 'Georgia') with "
            "spaCy NER. --no-ner is faster and less precise.",
        ),
    ] = True,
) -> None:
    """Find country mentions and country pairs in news text.

    Each output row gains [bold]mentions[/] ([{start, end, text, iso3, kind}], offsets into
    that row's sentence; kind is name/demonym/capital/leader/institution), [bold]countries[/]
    (sorted ISO3 codes) and [bold]pairs[/] ([{a, b, a_span, b_span}], A named first).

    Examples:

      relwatch extract --input news.jsonl --output units.jsonl --unit article

      relwatch extract --db --limit 5000
    """
    if db:
        if input is not None or output is not None:
            raise InputError("--db reads the database: leave out --input/--output")
        extract_db(limit, batch_size, ner)
        return
    if input is None or output is None:
        raise InputError("give --input and --output (or --db to extract the database)")
    from relwatch.core.jsonl import check_input_file, check_output_path
    from relwatch.extract.files import extract_file

    check_input_file(input)
    check_output_path(output, inputs=(input,))
    progress = _progress()
    task = progress.add_task(f"extract ({unit.value}s)", total=None)

    def advance(done: int, total: int) -> None:
        progress.start()  # only once the input has been read and checked
        progress.update(task, completed=done, total=total)

    try:
        stats = extract_file(
            input, output, unit=unit.value, batch_size=batch_size, ner=ner, on_progress=advance
        )
    finally:
        progress.stop()
    if stats.not_english:
        err_console.print(
            f"[yellow]warning:[/] {stats.not_english} row(s) do not look like English; "
            "relwatch finds country names in English text only",
            highlight=False,
        )
    console.print(
        f"wrote {stats.rows_out} rows from {stats.rows_in} input rows to [bold]{output}[/] "
        f"(aliases {stats.alias_version})"
    )


def register(app: typer.Typer) -> None:
    app.command("extract", rich_help_panel="Pipeline")(extract)
