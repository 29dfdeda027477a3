"""``relwatch.json``: the metadata every trained model dir and serving package carries.

One reader for the trainer, the exporter and the engine, so a missing or broken file
gives the same one-line message wherever it is read; each caller names the error type
its own users catch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

META_FILE = "relwatch.json"


def read_meta(model_dir: Path | str, error: type[ValueError] = ValueError) -> dict[str, Any]:
    """The parsed ``relwatch.json`` of ``model_dir``; ``error`` when absent or not an object."""
    path = Path(model_dir) / META_FILE
    if not path.is_file():
        raise error(f"{model_dir} is not a relwatch model: {META_FILE} is missing")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise error(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(meta, dict):
        raise error(f"{path}: expected a JSON object")
    return meta


def write_meta(model_dir: Path, meta: dict[str, Any]) -> None:
    """Write ``relwatch.json`` into ``model_dir``."""
    (Path(model_dir) / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
