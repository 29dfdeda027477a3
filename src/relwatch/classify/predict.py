"""Batch prediction over JSON-lines files: stream in, label in batches, write atomically.

Files of millions of sentences must not be read into memory, and a crash half-way must
not leave a truncated output that looks complete. So rows are read one line at a time,
labelled ``batch_size`` at a time, written to a temporary file next to the output and
renamed over it only at the end. A malformed line is reported with its line number and
skipped: one bad row never costs the run.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from relwatch.core.logging import get_logger

log = get_logger(__name__)

ADDED_FIELDS = ("label", "probs", "model_version")
MAX_REPORTED_ERRORS = 1000


class _Model(Protocol):
    def predict(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]: ...


@dataclass
class PredictStats:
    """What a batch run did: rows read, written, skipped (with line numbers and reasons)."""

    read: int = 0  # non-blank lines
    written: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # first 1000 only

    def skip(self, line_no: int, reason: str) -> None:
        self.skipped += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line_no, reason))


def parse_row(line: str) -> dict[str, Any]:
    """One input row; ``ValueError`` with a short reason when it cannot be labelled."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    for key in ("source", "target"):
        if row.get(key) is not None and not isinstance(row[key], str):
            raise ValueError(f"'{key}' must be a string or null")
    return row


def merge_output(row: dict[str, Any], pred: dict[str, Any], version: str | None) -> dict:
    """Every input field, plus ours; an input field we would overwrite moves to ``input_*``."""
    out = dict(row)
    for key in ADDED_FIELDS:
        if key in out:
            out[f"input_{key}"] = out.pop(key)
    out.update(label=pred["label"], probs=pred["probs"], model_version=version)
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
        raise ValueError("batch_size must be >= 1")
    if not input_path.is_file():
        raise FileNotFoundError(f"input file {input_path} does not exist")
    if input_path.resolve() == output_path.resolve():
        raise ValueError("output must differ from input (the input is read while writing)")
    if output_path.is_dir():
        raise ValueError(f"output {output_path} is a folder; give a file name")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    stats = PredictStats()
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{output_path.name}.", suffix=".tmp", dir=output_path.parent
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out, input_path.open("rb") as src:
            batch: list[dict[str, Any]] = []
            consumed = 0

            def flush() -> None:
                preds = model.predict(batch)
                for row, pred in zip(batch, preds, strict=True):
                    out.write(
                        json.dumps(merge_output(row, pred, model_version), ensure_ascii=False)
                        + "\n"
                    )
                stats.written += len(batch)
                batch.clear()

            for line_no, raw in enumerate(src, start=1):
                consumed += len(raw)
                if not raw.strip():
                    continue
                stats.read += 1
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    stats.skip(line_no, f"not UTF-8 (byte {exc.start})")
                    continue
                try:
                    batch.append(parse_row(line))
                except ValueError as exc:
                    stats.skip(line_no, str(exc))
                    log.debug("skipped malformed line", line=line_no, reason=str(exc))
                    continue
                if len(batch) >= batch_size:
                    flush()
                    if on_progress:
                        on_progress(consumed)
            if batch:
                flush()
            if on_progress:
                on_progress(consumed)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, output_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info(
        "batch prediction done",
        input=str(input_path),
        output=str(output_path),
        written=stats.written,
        skipped=stats.skipped,
        model_version=model_version,
    )
    return stats
