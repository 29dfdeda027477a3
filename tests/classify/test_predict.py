"""Batch prediction: streams, keeps input fields, skips bad lines, writes atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from relwatch.classify.engine import RelationModel
from relwatch.classify.predict import predict_file
from relwatch.core.errors import InputError
from tests.classify.tiny_models import run_cli, tiny_package

GOOD = [
    {
        "id": 1,
        "text": "Seoul and Tokyo signed a trade agreement.",
        "source": "Seoul",
        "target": "Tokyo",
        "date": "2024-05-01",
    },
    {"id": 2, "text": "North Korea fired missiles.", "label": "conflict"},
    {"id": 3, "text": "The talks ended.", "source": None},
]


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    with path.open("wb") as f:
        for line in lines:
            f.write((line if isinstance(line, bytes) else line.encode()) + b"\n")
    return path


def mixed_input(path: Path) -> Path:
    return write_lines(
        path,
        [
            json.dumps(GOOD[0]),
            "{not json",  # line 2
            json.dumps(GOOD[1]),
            "",  # blank lines are ignored, not errors
            json.dumps([1, 2]),  # line 5: not an object
            json.dumps({"id": 9, "text": ""}),  # line 6: empty text
            b"\xff\xfe broken",  # line 7: not UTF-8
            json.dumps({"id": 8, "text": "x", "source": 3}),  # line 8: source not a string
            json.dumps(GOOD[2]),
        ],
    )


class RecordingModel:
    """Wraps the engine and records batch sizes (memory stays bounded by the batch)."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.engine = RelationModel.load(tiny_package())
        self.batches: list[int] = []
        self.fail_on_call = fail_on_call

    def predict(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.batches.append(len(rows))
        if self.fail_on_call is not None and len(self.batches) == self.fail_on_call:
            raise RuntimeError("simulated crash")
        return self.engine.predict(rows)


def test_output_keeps_fields_adds_prediction_and_skips_bad_lines(tmp_path: Path):
    model = RecordingModel()
    progress: list[int] = []
    stats = predict_file(
        model,
        mixed_input(tmp_path / "in.jsonl"),
        tmp_path / "out.jsonl",
        model_version="7",
        batch_size=2,
        on_progress=progress.append,
    )
    assert (stats.read, stats.written, stats.skipped) == (8, 3, 5)
    assert [line for line, _ in stats.errors] == [2, 5, 6, 7, 8]
    assert "invalid JSON" in stats.errors[0][1] and "UTF-8" in stats.errors[3][1]
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert rows[0]["date"] == "2024-05-01" and rows[0]["source"] == "Seoul"
    assert rows[1]["input_label"] == "conflict"  # an input "label" is kept, not overwritten
    for row in rows:
        assert row["model_version"] == "7"
        assert set(row["probs"]) == {"conflict", "neutral", "cooperation"}
        assert row["label"] == max(row["probs"], key=row["probs"].get)
    assert max(model.batches) <= 2
    assert progress[-1] == (tmp_path / "in.jsonl").stat().st_size


def test_crash_leaves_no_partial_output_and_keeps_the_old_file(tmp_path: Path):
    src = write_lines(tmp_path / "in.jsonl", [json.dumps(GOOD[i % 3]) for i in range(10)])
    out = tmp_path / "out.jsonl"
    out.write_text("previous complete result\n")
    with pytest.raises(RuntimeError, match="simulated crash"):
        predict_file(RecordingModel(fail_on_call=3), src, out, batch_size=2)
    assert out.read_text() == "previous complete result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_input_and_output_must_differ(tmp_path: Path):
    src = write_lines(tmp_path / "in.jsonl", [json.dumps(GOOD[0])])
    with pytest.raises(InputError, match="differ"):
        predict_file(RecordingModel(), src, src)
    with pytest.raises(InputError, match="not found"):
        predict_file(RecordingModel(), tmp_path / "missing.jsonl", tmp_path / "o.jsonl")


def test_rows_from_extract_get_one_prediction_per_pair_actor_first(tmp_path: Path):
    text = "Japan imposed tariffs on China while India watched."
    row = {
        "id": "s1",
        "text": text,
        "pairs": [
            {"a": "JPN", "b": "CHN", "a_span": [0, 5], "b_span": [25, 30], "direction": "a->b"},
            {"a": "CHN", "b": "IND", "a_span": [25, 30], "b_span": [37, 42], "direction": "b->a"},
        ],
    }
    src = write_lines(tmp_path / "in.jsonl", [json.dumps(row), json.dumps(GOOD[1])])
    model = RecordingModel()
    stats = predict_file(model, src, tmp_path / "out.jsonl", model_version="4")
    assert (stats.written, stats.pairs) == (2, 2)
    assert model.batches == [3]  # one bare sentence + two pairs in one call
    first, second = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(p["source"], p["target"]) for p in first["pairs"]] == [("JPN", "CHN"), ("IND", "CHN")]
    for pair in first["pairs"]:
        assert pair["model_version"] == "4" and pair["label"] in pair["probs"]
    assert "label" not in first and second["label"] in second["probs"]


def test_binary_or_unusable_input_is_an_error_not_an_empty_success(tmp_path: Path):
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InputError, match="binary"):
        predict_file(RecordingModel(), binary, tmp_path / "o.jsonl")
    garbage = write_lines(tmp_path / "bad.jsonl", ["{no", "[1]"])
    with pytest.raises(InputError, match="no row could be labelled"):
        predict_file(RecordingModel(), garbage, tmp_path / "o.jsonl")
    assert not (tmp_path / "o.jsonl").exists()


def test_output_must_be_a_writable_file_in_an_existing_folder(tmp_path: Path):
    src = write_lines(tmp_path / "in.jsonl", [json.dumps(GOOD[0])])
    with pytest.raises(InputError, match="is a folder"):
        predict_file(RecordingModel(), src, tmp_path)
    with pytest.raises(InputError, match="output folder does not exist"):
        predict_file(RecordingModel(), src, tmp_path / "no" / "dir" / "o.jsonl")
    assert not (tmp_path / "no").exists()


def test_output_file_is_created_readable_by_others(tmp_path: Path):
    src = write_lines(tmp_path / "in.jsonl", [json.dumps(GOOD[0])])
    previous = os.umask(0o022)  # the usual umask; a temporary file alone would be 0600
    try:
        predict_file(RecordingModel(), src, tmp_path / "o.jsonl")
    finally:
        os.umask(previous)
    assert (tmp_path / "o.jsonl").stat().st_mode & 0o777 == 0o644


def test_cli_predict_with_a_local_package(tmp_path: Path, capsys):
    src = mixed_input(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = run_cli(
        capsys, "predict", "--model", str(tiny_package()), "--input", str(src), "--output", str(out)
    )
    assert code == 0, stderr
    assert "wrote 3 rows" in stdout and "5 malformed lines skipped" in stdout
    assert "line 2:" in stderr and "line 8:" in stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows[0]["model_version"].startswith("local:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "/no/such/model"], "does not exist"),
        (["--model", "models:relwatch"], "bad model URI"),
        (["--model", "PKG", "--input", "/no/such/in.jsonl"], "input file"),
        (["--model", "PKG", "--precision", "int4"], "precision"),
    ],
)
def test_cli_predict_bad_input_is_one_line_exit_2(tmp_path: Path, capsys, args, message):
    src = write_lines(tmp_path / "in.jsonl", [json.dumps(GOOD[0])])
    argv = ["predict", "--input", str(src), "--output", str(tmp_path / "out.jsonl")]
    argv += [str(tiny_package()) if a == "PKG" else a for a in args]
    code, _, stderr = run_cli(capsys, *argv)
    assert code == 2
    assert message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out.jsonl").exists()
