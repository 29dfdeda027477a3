"""JSON lines in and out: the one reader and the one atomic writer every face uses.

Rules: an input is checked before any work starts (exists, is a file, is text, not
binary); each bad line is reported with its number and reason; a line longer than the
row limit is refused without being parsed; output goes to a temporary file beside the
target and is renamed over it only when complete, with the permissions of an ordinary
new file (0644 under the usual umask), so no reader ever sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from relwatch.core.errors import InputError

__all__ = [
    "MAX_ROW_BYTES",
    "JsonlReport",
    "atomic_output",
    "check_input_file",
    "check_output_path",
    "iter_jsonl",
]

#: Largest accepted input line; a longer one is refused unparsed (a single 20 MB line
#: would otherwise be read whole into memory and into the model's tokenizer).
MAX_ROW_BYTES = 1_000_000
MAX_REPORTED = 1000
_SNIFF_BYTES = 8192


@dataclass
class JsonlReport:
    """Lines read, kept and skipped (the first ``MAX_REPORTED`` with line number and reason)."""

    read: int = 0
    kept: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def skip(self, line_no: int, reason: str) -> None:
        self.skipped += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append((line_no, reason))

    def summary(self, path: Path, shown: int = 10) -> str:
        """One line naming the first bad lines, for an error or a warning."""
        parts = "; ".join(f"line {n}: {why}" for n, why in self.errors[:shown])
        more = f" (and {self.skipped - shown} more)" if self.skipped > shown else ""
        return f"{self.skipped} malformed line(s) in {path}: {parts}{more}"


def check_input_file(path: Path) -> Path:
    """``path`` as a readable, non-binary file, or an :class:`InputError` saying why not."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"input file not found: {path}")
    if path.is_dir():
        raise InputError(f"input {path} is a folder; give a file")
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if b"\x00" in head:
        raise InputError(f"{path} is a binary file, not JSON lines text")
    return path


def check_output_path(path: Path, *, inputs: tuple[Path, ...] = ()) -> Path:
    """Refuse, before any work, an output that could not be written or would clobber input.

    The parent folder must already exist (a typo must not create folders) and be writable;
    the path must not be a folder, nor one of ``inputs``.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"output {path} is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"output folder is not writable: {parent}")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"output file is read-only: {path}")
    try:  # permissions are not the whole story (read-only mounts, root, /proc)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise InputError(f"cannot write in {parent}: {exc.strerror}") from None
    for item in inputs:
        if Path(item).exists() and path.exists() and Path(item).resolve() == path.resolve():
            raise InputError("output must differ from input (the input is read while writing)")
    return path


def iter_jsonl(
    path: Path,
    *,
    report: JsonlReport | None = None,
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    max_row_bytes: int = MAX_ROW_BYTES,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each valid line; bad lines go to ``report``.

    ``validate`` may return a cleaned row or raise ``ValueError`` with a short reason.
    ``on_bytes`` receives the bytes consumed so far (for a progress bar).
    """
    path = check_input_file(path)
    report = report if report is not None else JsonlReport()
    consumed = 0
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            consumed += len(raw)
            if on_bytes is not None:
                on_bytes(consumed)
            if not raw.strip():
                continue
            report.read += 1
            if len(raw) > max_row_bytes:
                report.skip(
                    line_no, f"line is {len(raw):,} bytes, over the {max_row_bytes:,} limit"
                )
                continue
            try:
                row = _parse(raw)
                if validate is not None:
                    row = validate(row)
            except ValueError as exc:
                report.skip(line_no, str(exc))
                continue
            report.kept += 1
            yield line_no, row


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    return row


@contextmanager
def atomic_output(path: Path, *, mode: str = "w") -> Iterator[IO[Any]]:
    """A handle on a temporary file beside ``path``, renamed over it when the block ends.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = check_output_path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write in {path.parent}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
