"""``relwatch extract``: sentences, country mentions and pairs from JSONL files or the database."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from relwatch.cli._common import UserError, console, err_console

MAX_ERRORS_SHOWN = 10


class Unit(StrEnum):
    sentence = "sentence"
    article = "article"


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


def _parse_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("'date' must be a string like 2019-06-30")
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise ValueError(f"'date' {value!r} is not an ISO date (YYYY-MM-DD)") from None


def read_rows(path: Path) -> list[tuple[dict[str, Any], dt.date | None]]:
    """Read and validate every row first, so bad input never leaves a half-written output."""
    if not path.is_file():
        raise UserError(f"input file not found: {path}")
    rows: list[tuple[dict[str, Any], dt.date | None]] = []
    errors: list[str] = []
    seen: set[str] = set()
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        try:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    errors.append(f"line {lineno}: not valid JSON ({exc.msg})")
                    continue
                if not isinstance(row, dict):
                    errors.append(f"line {lineno}: expected a JSON object")
                    continue
                if not isinstance(row.get("id"), str | int) or isinstance(row.get("id"), bool):
                    errors.append(f"line {lineno}: 'id' is missing or not a string/number")
                    continue
                if not isinstance(row.get("text"), str):
                    errors.append(f"line {lineno}: 'text' is missing or not a string")
                    continue
                key = str(row["id"])
                if key in seen:
                    errors.append(f"line {lineno}: duplicate id {key!r}")
                    continue
                seen.add(key)
                try:
                    day = _parse_date(row.get("date"))
                except ValueError as exc:
                    errors.append(f"line {lineno}: {exc}")
                    continue
                rows.append((row, day))
        except UnicodeDecodeError:
            raise UserError(f"{path} is not UTF-8 text") from None
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        more = (
            f" (and {len(errors) - MAX_ERRORS_SHOWN} more)"
            if len(errors) > MAX_ERRORS_SHOWN
            else ""
        )
        raise UserError(f"{len(errors)} malformed line(s) in {path}: {shown}{more}")
    return rows


def _write_atomic(path: Path, lines: list[str]) -> None:
    """Write to a temporary file beside ``path`` and rename: readers never see half a file."""
    if not path.parent.is_dir():
        raise UserError(f"output folder does not exist: {path.parent}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(lines)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def extract_file(
    input_path: Path, output_path: Path, unit: Unit, batch_size: int, ner: bool
) -> tuple[int, int]:
    """File-to-file extraction behind the command: returns (input rows, output rows)."""
    from relwatch.extract.pipeline import Extractor, annotate_rows

    rows = read_rows(input_path)
    extractor = Extractor(ner_policy="ambiguous" if ner else "off")
    out_lines: list[str] = []
    with _progress() as progress:
        task = progress.add_task(f"extract ({unit.value}s)", total=len(rows))
        for begin in range(0, len(rows), batch_size):
            chunk = rows[begin : begin + batch_size]
            for rec in annotate_rows(
                [r for r, _ in chunk], unit.value, extractor, [d for _, d in chunk]
            ):
                out_lines.append(json.dumps(rec, ensure_ascii=False) + "\n")
            progress.advance(task, len(chunk))
    _write_atomic(output_path, out_lines)
    return len(rows), len(out_lines)


def extract_db(limit: int | None, batch_size: int, ner: bool) -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from relwatch.core.config import get_settings
    from relwatch.extract.pipeline import Extractor, extract_pending

    url = get_settings().database_url
    extractor = Extractor(ner_policy="ambiguous" if ner else "off")
    with _progress() as progress:
        task = progress.add_task("extract (database)", total=None)

        def report(stats, todo: int) -> None:  # noqa: ANN001 - ExtractStats
            progress.update(task, completed=stats.articles, total=todo)

        try:
            stats = extract_pending(
                url, limit=limit, batch_size=batch_size, extractor=extractor, progress=report
            )
        except (OperationalError, ProgrammingError) as exc:
            raise UserError(f"database not ready ({exc.orig}); run: relwatch db upgrade") from None
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
            raise UserError("--db reads the database: leave out --input/--output")
        extract_db(limit, batch_size, ner)
        return
    if input is None or output is None:
        raise UserError("give --input and --output (or --db to extract the database)")
    if input.resolve() == output.resolve():
        raise UserError("--output must differ from --input")
    n_in, n_out = extract_file(input, output, unit, batch_size, ner)
    from relwatch.extract.gazetteer import load_gazetteer

    console.print(
        f"wrote {n_out} rows from {n_in} input rows to [bold]{output}[/] "
        f"(aliases {load_gazetteer().version})"
    )


def register(app: typer.Typer) -> None:
    app.command("extract", rich_help_panel="Pipeline")(extract)
