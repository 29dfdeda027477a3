"""``relwatch extract --input/--output``: JSON-lines file in, annotated JSON-lines file out.

The whole input is read and validated before any extraction (bad input never leaves a
half-written output); the output is written atomically. Rows that do not read as English
are still annotated, and counted so the caller can warn.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from relwatch.core.errors import DataError, InputError
from relwatch.core.jsonl import JsonlReport, atomic_output, check_output_path, iter_jsonl
from relwatch.core.text import looks_english

__all__ = ["ExtractFileStats", "extract_file", "read_rows"]

Unit = Literal["sentence", "article"]


@dataclass
class ExtractFileStats:
    rows_in: int
    rows_out: int
    not_english: int
    alias_version: str


def _parse_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("'date' must be a string like 2019-06-30")
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise ValueError(f"'date' {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _check_row(row: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(row.get("id"), str | int) or isinstance(row.get("id"), bool):
        raise ValueError("'id' is missing or not a string/number")
    if not isinstance(row.get("text"), str):
        raise ValueError("'text' is missing or not a string")
    _parse_date(row.get("date"))
    return row


def read_rows(path: Path) -> list[tuple[dict[str, Any], dt.date | None]]:
    """Every row with its date; one :class:`DataError` naming the bad lines otherwise."""
    report = JsonlReport()
    rows: list[tuple[dict[str, Any], dt.date | None]] = []
    seen: set[str] = set()
    for line_no, row in iter_jsonl(path, report=report, validate=_check_row):
        key = str(row["id"])
        if key in seen:
            report.skip(line_no, f"duplicate id {key!r}")
            continue
        seen.add(key)
        rows.append((row, _parse_date(row.get("date"))))
    if report.skipped:
        raise DataError(report.summary(path))
    return rows


def extract_file(
    input_path: Path,
    output_path: Path,
    *,
    unit: Unit = "sentence",
    batch_size: int = 100,
    ner: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> ExtractFileStats:
    """Annotate ``input_path`` into ``output_path``; ``on_progress(done, total)`` per batch."""
    from relwatch.extract.pipeline import Extractor, annotate_rows

    if unit not in ("sentence", "article"):
        raise InputError(f"unit must be sentence or article, not {unit!r}")
    if batch_size < 1:
        raise InputError("batch size must be at least 1")
    check_output_path(output_path, inputs=(input_path,))
    rows = read_rows(input_path)
    extractor = Extractor(ner_policy="ambiguous" if ner else "off")
    not_english = sum(1 for row, _ in rows if not looks_english(row["text"]))
    written = 0
    with atomic_output(output_path) as out:
        for begin in range(0, len(rows), batch_size):
            chunk = rows[begin : begin + batch_size]
            for rec in annotate_rows([r for r, _ in chunk], unit, extractor, [d for _, d in chunk]):
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                written += 1
            if on_progress:
                on_progress(begin + len(chunk), len(rows))
    return ExtractFileStats(len(rows), written, not_english, extractor.alias_version)
