"""Export: ONNX fp32 reproduces torch, int8 is smaller and close, failures leave nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from relwatch.classify.export import (
    ONNX_FP32_FILE,
    ONNX_INT8_FILE,
    QUANT_RECIPES,
    ExportError,
    compare_precisions,
    export_onnx,
)
from tests.classify.tiny_models import (
    SENTENCES,
    tfidf_model_dir,
    tiny_model_dir,
    tiny_package,
    write_meta,
)

TEXTS = [t for t, _ in SENTENCES]


def test_package_has_onnx_files_tokenizer_and_sizes():
    package = tiny_package()
    meta = json.loads((package / "relwatch.json").read_text())
    for name in (ONNX_FP32_FILE, ONNX_INT8_FILE, "tokenizer.json"):
        assert (package / name).stat().st_size == meta["files"][name]
    assert meta["files"][ONNX_INT8_FILE] < meta["files"][ONNX_FP32_FILE] / 2
    assert meta["kind"] == "transformer" and meta["temperature"] == 1.5
    assert meta["quantization"]["recipe"] in QUANT_RECIPES
    assert not list(package.parent.glob(".tiny-package.*"))  # no temp dir left behind


def test_onnx_fp32_reproduces_torch_logits_for_any_batch_shape():
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from relwatch.classify.engine import RelationModel

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir()).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir())
    engine = RelationModel.load(tiny_package(), precision="fp32")
    long = " ".join(TEXTS)  # longer than max_length: truncation must match too
    for batch in (TEXTS, TEXTS[:1], [long, "Japan."]):
        enc = tokenizer(batch, padding=True, truncation=True, max_length=64, return_tensors="pt")
        with torch.no_grad():
            expected = model(**enc).logits.numpy()
        np.testing.assert_allclose(engine.backend.logits(batch), expected, atol=1e-4)


def test_check_texts_pick_a_recipe_and_record_agreement(tmp_path: Path):
    result = export_onnx(tiny_model_dir(), tmp_path / "pkg", check_texts=TEXTS)
    quant = result.quantization
    assert quant["check_texts"] == len(TEXTS)
    assert quant["recipe"] in QUANT_RECIPES
    # The chosen recipe meets the target, or no recipe did and it is the closest one.
    assert quant["check_agreement"] == quant["tried"][quant["recipe"]]
    assert quant["meets_target"] == (quant["check_agreement"] >= 0.99)
    if not quant["meets_target"]:
        assert list(quant["tried"]) == list(QUANT_RECIPES)
        assert quant["check_agreement"] == max(quant["tried"].values())
    assert result.metrics()["int8_check_agreement"] == quant["check_agreement"]


def test_when_no_recipe_meets_the_target_the_closest_one_ships(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import relwatch.classify.export as export

    agreement = {"full": 0.95, "keep-ffn-out": 0.985, "keep-ffn": 0.97, "attention-only": 0.96}
    built: list[str] = []
    real_quantize = export._quantize

    def quantize(fp32: Path, int8: Path, recipe: str) -> None:
        built.append(recipe)
        real_quantize(fp32, int8, recipe)

    def labels(package: Path, texts: list[str], precision: str) -> np.ndarray:
        if precision == "fp32":
            return np.zeros(1000, dtype=int)
        share = agreement[built[-1]]
        return (np.arange(1000) >= round(share * 1000)).astype(int)

    monkeypatch.setattr(export, "_quantize", quantize)
    monkeypatch.setattr(export, "_labels", labels)
    result = export_onnx(tiny_model_dir(), tmp_path / "pkg", check_texts=TEXTS)
    quant = result.quantization
    assert quant["recipe"] == "keep-ffn-out" and quant["meets_target"] is False
    assert quant["check_agreement"] == pytest.approx(0.985)
    # the shipped file is the closest recipe's, rebuilt after the last try
    assert built == [*QUANT_RECIPES, "keep-ffn-out"]


def test_explicit_recipe_keeps_feed_forward_in_fp32(tmp_path: Path):
    full = export_onnx(tiny_model_dir(), tmp_path / "full", recipe="full")
    careful = export_onnx(tiny_model_dir(), tmp_path / "careful", recipe="keep-ffn")
    assert careful.quantization["recipe"] == "keep-ffn"
    assert careful.int8_bytes > full.int8_bytes
    with pytest.raises(ExportError, match="unknown quantization recipe"):
        export_onnx(tiny_model_dir(), tmp_path / "bad", recipe="int4")
    assert not (tmp_path / "bad").exists()


def test_compare_precisions_reports_agreement_and_f1():
    report = compare_precisions(tiny_package(), TEXTS, [label for _, label in SENTENCES])
    assert 0.0 <= report["int8_agreement"] <= 1.0
    assert report["int8_macro_f1_drop"] == pytest.approx(
        report["fp32_macro_f1"] - report["int8_macro_f1"]
    )
    assert report["int8_max_prob_diff"] < 0.5


def test_tfidf_model_is_copied_as_is(tmp_path: Path):
    result = export_onnx(tfidf_model_dir(), tmp_path / "pkg")
    assert result.kind == "tfidf" and result.fp32_bytes is None
    assert (tmp_path / "pkg" / "model.joblib").is_file()


def test_missing_metadata_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ExportError, match=r"relwatch\.json is missing"):
        export_onnx(tmp_path, tmp_path / "out")


def test_label_count_mismatch_fails_and_replaces_nothing(tmp_path: Path):
    import shutil

    broken = tmp_path / "model"
    shutil.copytree(tiny_model_dir(), broken)
    write_meta(broken, labels=["conflict", "cooperation"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("old package")
    with pytest.raises(ExportError, match="outputs"):
        export_onnx(broken, out)
    assert (out / "keep.txt").read_text() == "old package"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "out"]


def test_cli_export_writes_a_package_or_fails_with_exit_2(tmp_path: Path, capsys):
    from tests.classify.tiny_models import run_cli

    code, out, err = run_cli(
        capsys, "models", "export", str(tfidf_model_dir()), str(tmp_path / "pkg")
    )
    assert code == 0, err
    assert (tmp_path / "pkg" / "relwatch.json").is_file() and "serving package" in out
    code, _, err = run_cli(
        capsys, "models", "export", str(tmp_path / "nope"), str(tmp_path / "pkg2")
    )
    assert code == 2 and "does not exist" in err and not (tmp_path / "pkg2").exists()
