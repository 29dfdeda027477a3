"""Serving engine: calibrated probabilities from ONNX or TF-IDF, and no torch at run time."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from relwatch.classify.engine import ModelLoadError, RelationModel, softmax
from relwatch.classify.markers import format_input
from relwatch.core.models import LABELS
from tests.classify.tiny_models import SENTENCES, tfidf_model_dir, tiny_package

TEXTS = [t for t, _ in SENTENCES]


def test_engine_never_imports_torch():
    package = tiny_package()
    code = (
        "import sys\n"
        "from relwatch.classify.engine import RelationModel\n"
        f"m = RelationModel.load({str(package)!r})\n"
        "out = m.predict([{'text': 'Seoul and Tokyo met.', 'source': 'Seoul'}])\n"
        "assert out[0]['label'] in ('conflict', 'neutral', 'cooperation'), out\n"
        "heavy = [name for name in ('torch', 'transformers') if name in sys.modules]\n"
        "assert not heavy, heavy\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_probabilities_are_calibrated_distributions(precision):
    model = RelationModel.load(tiny_package(), precision=precision)
    probs = model.predict_proba(TEXTS)
    assert probs.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert len({LABELS[i] for i in probs.argmax(axis=1)}) > 1  # inputs matter
    # temperature 1.5 from relwatch.json is applied to the raw logits
    one = model.predict_proba(TEXTS[:1])
    logits = model.backend.logits(TEXTS[:1])
    np.testing.assert_allclose(one, softmax(logits, 1.5), atol=1e-6)
    assert not np.allclose(one, softmax(logits, 1.0), atol=1e-3)


def test_batching_and_length_sorting_keep_the_callers_order():
    model = RelationModel.load(tiny_package(), precision="fp32", batch_size=3)
    together = model.predict_proba(TEXTS)
    alone = np.vstack([model.predict_proba([t]) for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert model.predict_proba([]).shape == (0, 3)


def test_predict_marks_the_pair_and_returns_named_probs():
    model = RelationModel.load(tiny_package())
    rows = [
        {"text": "Japan and China signed a pact.", "source": "Japan", "target": "China"},
        {"text": "The talks ended."},
    ]
    out = model.predict(rows)
    marked = model.predict_proba([format_input(rows[0]["text"], "Japan", "China"), rows[1]["text"]])
    for pred, probs in zip(out, marked, strict=True):
        assert list(pred["probs"]) == list(LABELS)
        assert pred["label"] == LABELS[int(probs.argmax())]
        assert pred["probs"]["conflict"] == pytest.approx(probs[0], abs=1e-6)


def test_tfidf_model_predicts_in_label_order():
    model = RelationModel.load(tfidf_model_dir())
    assert model.kind == "tfidf" and model.precision is None
    probs = model.predict_proba(["North Korea fired missiles toward Japan."])
    assert probs.shape == (1, 3)
    np.testing.assert_allclose(probs.sum(), 1.0)
    assert LABELS[int(probs.argmax())] == "conflict"


def test_load_errors_are_one_line_messages(tmp_path: Path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        RelationModel.load(tmp_path / "nope")
    with pytest.raises(ModelLoadError, match=r"relwatch\.json is missing"):
        RelationModel.load(tmp_path)
    broken = tmp_path / "pkg"
    shutil.copytree(tiny_package(), broken)
    with pytest.raises(ModelLoadError, match="precision"):
        RelationModel.load(broken, precision="int4")  # type: ignore[arg-type]
    (broken / "model.int8.onnx").unlink()
    with pytest.raises(ModelLoadError, match=r"model\.int8\.onnx is missing"):
        RelationModel.load(broken)
    meta = json.loads((broken / "relwatch.json").read_text())
    (broken / "relwatch.json").write_text(json.dumps({**meta, "kind": "svm"}))
    with pytest.raises(ModelLoadError, match="'kind' must be 'transformer' or 'tfidf'"):
        RelationModel.load(broken, precision="fp32")
    (broken / "relwatch.json").write_text(
        json.dumps({k: v for k, v in meta.items() if k != "max_length"})
    )
    with pytest.raises(ModelLoadError, match=r"missing field\(s\) max_length"):
        RelationModel.load(broken, precision="fp32")


def test_serving_threads_sleep_between_batches_unless_told_to_spin():
    """A served model shares the cores with extraction and the HTTP server: its idle
    onnxruntime threads must not spin-wait (``serve_thread_spinning`` turns it back on)."""

    def spinning(model: RelationModel) -> str:
        options = model.backend.session.get_session_options()
        try:
            return options.get_session_config_entry("session.intra_op.allow_spinning")
        except RuntimeError:  # never set: onnxruntime's default, spinning
            return "default"

    assert spinning(RelationModel.load(tiny_package(), spin=False)) == "0"
    assert spinning(RelationModel.load(tiny_package())) == "default"
