"""Batch prediction over JSON-lines files: stream in, label in batches, write atomically.

Files of millions of sentences must not be read into memory, and a crash half-way must
not leave a truncated output that looks complete: rows are read one line at a time,
labelled ``batch_size`` at a time, and written through :func:`relwatch.core.jsonl.atomic_output`.
A malformed line is reported with its line number and skipped; a file with no usable line
at all is an error, not an empty success.

Rows that carry ``pairs`` (the output of ``relwatch extract``) get a prediction for every
pair, with the acting country marked as A when the pair has a direction; other rows are
labelled once, for their ``source``/``target`` names when given.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from relwatch.core.errors import InputError
from relwatch.core.jsonl import JsonlReport, atomic_output, check_output_path, iter_jsonl
from relwatch.core.logging import get_logger
from relwatch.core.text import looks_english

log = get_logger(__name__)

__all__ = ["ADDED_FIELDS", "PredictStats", "merge_output", "parse_row", "predict_file"]

ADDED_FIELDS = ("label", "probs", "model_version")


class _Model(Protocol):
    def predict(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]: ...


@dataclass
class PredictStats:
    """What a batch run did: the input report (read, skipped with line numbers and reasons),
    rows and pairs written, and rows that do not read as English."""

    report: JsonlReport = field(default_factory=JsonlReport)
    written: int = 0
    pairs: int = 0
    not_english: int = 0

    @property
    def read(self) -> int:
        return self.report.read

    @property
    def skipped(self) -> int:
        return self.report.skipped

    @property
    def errors(self) -> list[tuple[int, str]]:
        return self.report.errors


def parse_row(row: dict[str, Any]) -> dict[str, Any]:
    """One input row; ``ValueError`` with a short reason when it cannot be labelled."""
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    for key in ("source", "target"):
        if row.get(key) is not None and not isinstance(row[key], str):
            raise ValueError(f"'{key}' must be a string or null")
    pairs = row.get("pairs")
    if pairs is not None:
        if not isinstance(pairs, list):
            raise ValueError("'pairs' must be a list")
        for k, pair in enumerate(pairs):
            _check_pair(pair, k, len(text))
    return row


def _check_pair(pair: Any, k: int, length: int) -> None:
    if not isinstance(pair, dict) or not all(isinstance(pair.get(s), str) for s in "ab"):
        raise ValueError(f"pairs[{k}] must be an object with 'a' and 'b'")
    for key in ("a_span", "b_span"):
        span = pair.get(key)
        if span is None:
            continue
        ok = isinstance(span, list) and len(span) == 2 and all(isinstance(x, int) for x in span)
        if not ok or not 0 <= span[0] < span[1] <= length:
            raise ValueError(f"pairs[{k}].{key} must be [start, end] inside the text")


def _pair_inputs(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Model rows for every pair of ``row``, the actor marked as A where a direction says so."""
    out = []
    for pair in row["pairs"]:
        a, b = (pair["a"], pair.get("a_span")), (pair["b"], pair.get("b_span"))
        if pair.get("direction") == "b->a":
            a, b = b, a
        out.append(
            {
                "text": row["text"],
                "source": a[0],
                "target": b[0],
                "a_span": tuple(a[1]) if a[1] else None,
                "b_span": tuple(b[1]) if b[1] else None,
            }
        )
    return out


def merge_output(row: dict[str, Any], pred: dict[str, Any], version: str | None) -> dict:
    """Every input field, plus ours; an input field we would overwrite moves to ``input_*``."""
    out = dict(row)
    for key in ADDED_FIELDS:
        if key in out:
            out[f"input_{key}"] = out.pop(key)
    out.update(label=pred["label"], probs=pred["probs"], model_version=version)
    return out


def _merge_pairs(
    row: dict[str, Any], inputs: list[dict[str, Any]], preds: list[dict[str, Any]], version: str
) -> dict:
    out = dict(row)
    out["pairs"] = [
        {**pair, "source": x["source"], "target": x["target"], **pred, "model_version": version}
        for pair, x, pred in zip(row["pairs"], inputs, preds, strict=True)
    ]
    out["model_version"] = version
    return out


def predict_file(
    model: _Model,
    input_path: Path,
    output_path: Path,
    *,
    model_version: str | None = None,
    batch_size: int = 64,
    on_progress: Callable[[int], None] | None = None,
) -> PredictStats:
    """Label every valid row of ``input_path`` into ``output_path`` (JSON lines).

    ``on_progress`` receives the number of input bytes consumed so far (for a progress
    bar whose total is the file size). Memory stays at one batch whatever the file size.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if batch_size < 1:
        raise InputError("batch_size must be >= 1")
    check_output_path(output_path, inputs=(input_path,))
    stats = PredictStats()
    report = stats.report
    rows = iter_jsonl(input_path, report=report, validate=parse_row, on_bytes=on_progress)
    with atomic_output(output_path) as out:
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            plain = [r for r in batch if not r.get("pairs")]
            expanded = [_pair_inputs(r) if r.get("pairs") else [] for r in batch]
            flat = [x for group in expanded for x in group]
            preds = model.predict(plain + flat) if plain or flat else []
            plain_preds, pair_preds = iter(preds[: len(plain)]), iter(preds[len(plain) :])
            for row, group in zip(batch, expanded, strict=True):
                if row.get("pairs"):
                    merged = _merge_pairs(
                        row, group, [next(pair_preds) for _ in group], model_version or ""
                    )
                    stats.pairs += len(group)
                else:
                    merged = merge_output(row, next(plain_preds), model_version)
                out.write(json.dumps(merged, ensure_ascii=False) + "\n")
            stats.written += len(batch)
            batch.clear()

        for _, row in rows:
            if not looks_english(row["text"]):
                stats.not_english += 1
            batch.append(row)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        if stats.written == 0 and stats.skipped:
            raise InputError(f"no row could be labelled: {report.summary(input_path)}")
    if stats.not_english:
        log.warning("rows not in English", count=stats.not_english, input=str(input_path))
    log.info(
        "batch prediction done",
        input=str(input_path),
        output=str(output_path),
        written=stats.written,
        skipped=stats.skipped,
        model_version=model_version,
    )
    return stats
