from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relwatch.classify.train import QUICK_STEPS, TrainingArguments
from relwatch.flows.retrain import retrain
from tests.classify.test_train import synthetic


def _write_jsonl(path: Path, rows: list) -> Path:
    path.write_text(
        "".join(
            json.dumps({"text": e.text, "label": e.label, "source": e.source, "target": e.target})
            + "\n"
            for e in rows
        )
    )
    return path


def _client():
    import mlflow

    from relwatch.core.config import get_settings

    uri = get_settings().mlflow_tracking_uri
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri), uri


def test_tfidf_run_is_logged_with_data_hash_metrics_artifacts_and_registered(tmp_path: Path):
    from relwatch.core.config import get_settings

    train_file = _write_jsonl(tmp_path / "mine.jsonl", synthetic(300))
    gold = _write_jsonl(tmp_path / "gold.jsonl", synthetic(30, seed=9))
    args = TrainingArguments(
        model="tfidf", datasets=(), gate_datasets=(), report_datasets=(), tfidf_max_features=2000
    )
    result = retrain(
        args,
        settings=get_settings(),
        extra_train=[train_file],
        eval_sets=[gold],
        out_dir=tmp_path / "run",
    )
    client, uri = _client()
    assert uri.startswith("sqlite:///") and str(tmp_path) in uri  # never the repo's store
    run = client.get_run(result.run_id)
    metrics = run.data.metrics
    assert metrics["gate_macro_f1"] == pytest.approx(result.gate.macro_f1)
    assert metrics["gate_macro_f1"] > 0.9
    assert "test.mine_macro_f1" in metrics and "eval_gold_ece" in metrics
    assert run.data.params["model"] == "tfidf"
    inputs = run.inputs.dataset_inputs
    assert [i.dataset.name for i in inputs] == ["mine"]
    assert inputs[0].dataset.digest == result.data["mine"]["hash"][:32]
    artifacts = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"model_card.md", "figures", "metrics.json"} <= artifacts
    figures = {a.path for a in client.list_artifacts(result.run_id, "figures")}
    assert "figures/confusion_test.png" in figures
    card = result.card_path.read_text()
    assert "Held-out figures, per source" in card and result.data["mine"]["hash"][:16] in card
    name = get_settings().registered_model
    assert str(client.get_model_version_by_alias(name, "challenger").version) == result.version


def test_a_refit_run_without_validation_rows_is_logged_and_registered(tmp_path: Path):
    """The default recipe refits on every non-gate row: no validation score to log per step,
    only the training loss per step."""
    from relwatch.core.config import get_settings
    from tests.classify.tiny_models import tiny_model_dir

    train_file = _write_jsonl(tmp_path / "mine.jsonl", synthetic(64))
    args = TrainingArguments(
        base_model=str(tiny_model_dir()),
        datasets=(),
        gate_datasets=(),
        report_datasets=(),
        refit=True,
        temperature=1.5,
        num_epochs=2,
        batch_size=16,
        max_length=32,
    )
    settings = get_settings()
    result = retrain(args, settings=settings, extra_train=[train_file], out_dir=tmp_path / "r")
    assert not any("val_score" in point for point in result.trained.history)
    client, _ = _client()
    curve = client.get_metric_history(result.run_id, "train_loss")
    assert [m.step for m in curve] == [point["step"] for point in result.trained.history]
    assert client.get_metric_history(result.run_id, "val_select_score") == []
    name = settings.registered_model
    assert str(client.get_model_version_by_alias(name, "challenger").version) == result.version


@pytest.mark.slow
@pytest.mark.timeout(2400)  # above the subprocess's own safety limit, so that one reports
def test_quick_cli_trains_exports_and_registers_end_to_end(tmp_path: Path, data_dir: Path):
    """The quick preset is a fixed number of steps: checked by counting them, not by timing
    the run, so a busy machine makes it slower but never makes it fail."""
    env = {
        **os.environ,
        "RELWATCH_HOME": str(tmp_path / "home"),
        "COLUMNS": "160",
        "RELWATCH_DATA_DIR": str(data_dir),
    }
    env.pop("RELWATCH_MLFLOW_TRACKING_URI", None)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from relwatch.cli import main; main()",
            "train",
            "--quick",
            "--output",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,  # a safety net against a hang only; 2 idle cores need about 2 minutes
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "registered version 1 as challenger" in out.stdout
    assert "conflibert" in out.stdout and "keep_it_local" in out.stdout
    package = tmp_path / "run" / "package"
    assert (package / "model.int8.onnx").is_file() and (package / "tokenizer.json").is_file()
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    # the whole news gate and the held-out pair-contrast and market-news sentences, never
    # capped; UN documents reported beside it, outside the gate
    gate = metrics["gate"]
    assert gate["by_source"]["conflibert"]["n"] >= 300 and gate["n"] >= 700
    assert set(gate["by_source"]) == {"conflibert", "seed_sample", "pair_contrast", "market_news"}
    assert gate["by_source"]["pair_contrast"]["contrast"]["mixed_sentences"] >= 15
    assert {"keep_it_local", "directed_sentiment"} <= set(metrics["test"]["by_source"])
    # the sentence-level gate rows again with one side marked and bare
    assert metrics["gate:bare"]["by_source"]["conflibert"]["n"] >= 300
    assert "gate:one-side" in metrics
    # fixed steps, not a time budget: every step ran (the last validation is at the last
    # step), and the news model is usable even on a busy machine
    assert metrics["history"][-1]["step"] == QUICK_STEPS
    assert metrics["test"]["by_source"]["conflibert"]["macro_f1"] > 0.7


def test_cli_rejects_bad_input_with_exit_2(tmp_path: Path):
    env = {**os.environ, "RELWATCH_HOME": str(tmp_path / "home"), "COLUMNS": "300"}
    for args, message in [
        (["train", "--model", "svm"], "model: Input should be 'transformer' or 'tfidf'"),
        (["train", "-d", str(tmp_path / "nope.jsonl")], "not a shared set name"),
        (["train", "--eval-set", str(tmp_path / "nope.jsonl")], "--eval-set"),
    ]:
        out = subprocess.run(
            [sys.executable, "-c", "from relwatch.cli import main; main()", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert out.returncode == 2, out.stderr
        assert message in out.stderr and "Traceback" not in out.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": "war"}\n')
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from relwatch.cli import main; main()",
            "train",
            "--model",
            "tfidf",
            "-d",
            str(bad),
            "--no-track",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 2 and "bad.jsonl:1: label 'war'" in out.stderr


def test_unknown_base_model_is_a_one_line_error(tmp_path: Path):
    env = {
        **os.environ,
        "RELWATCH_HOME": str(tmp_path / "home"),
        "COLUMNS": "300",
        "HF_HUB_OFFLINE": "1",
    }
    train_file = _write_jsonl(tmp_path / "mine.jsonl", synthetic(30))
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from relwatch.cli import main; main()",
            "train",
            "--no-track",
            "-d",
            str(train_file),
            "--base-model",
            str(tmp_path / "no-such-model"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr[-2000:]
    assert "cannot be loaded" in out.stderr and "Traceback" not in out.stderr
