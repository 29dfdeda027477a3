"""The entity-start head: it reads the states at the pair's markers, in torch and in ONNX."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.classify.tiny_models import tiny_pair_model_dir, tiny_pair_package

TEXTS = [
    "[A] Seoul [/A] and [B] Washington [/B] condemned Pyongyang's launch, Tokyo said.",
    "[A] Seoul [/A] and Washington condemned [B] Pyongyang [/B]'s launch, Tokyo said.",
    "Seoul and Washington condemned Pyongyang's launch, [B] Tokyo [/B] said.",  # one side
    "Seoul and Washington condemned Pyongyang's launch, Tokyo said.",  # bare
    "[B] Tokyo [/B] first, then [A] Seoul [/A].",
]


def _tokenize(texts: list[str], max_length: int = 64):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_pair_model_dir())
    return tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )


def test_marker_search_reads_the_first_opening_marker_or_the_absent_vector():
    import torch

    from relwatch.classify.pairmodel import PairClassifier

    pattern = torch.tensor([7, 8, 9])
    ids = torch.tensor(
        [
            [1, 7, 8, 9, 5, 7, 8, 9, 2],  # two openers: the first one counts
            [1, 5, 7, 8, 6, 9, 2, 0, 0],  # broken pattern: absent
            [1, 5, 5, 5, 5, 5, 7, 8, 9],  # at the very end
        ]
    )
    hidden = torch.arange(9, dtype=torch.float32).repeat(3, 1).unsqueeze(-1).repeat(1, 1, 4)
    absent = torch.full((4,), -1.0)
    got = PairClassifier._side(hidden, ids, pattern, absent)
    assert got[:, 0].tolist() == [2.0, -1.0, 7.0]  # mean of positions 1-3, absent, 6-8
    short = torch.tensor([[1, 2]])  # shorter than the marker: absent, no error
    assert PairClassifier._side(hidden[:1, :2], short, pattern, absent)[0, 0] == -1.0


def test_moving_a_marker_changes_the_reading_of_the_same_sentence():
    import torch

    from relwatch.classify.pairmodel import PairClassifier

    model = PairClassifier.load(tiny_pair_model_dir())
    with torch.no_grad():
        logits = model(**_tokenize(TEXTS)).numpy()
    assert not np.allclose(logits[0], logits[1], atol=1e-4)
    assert not np.allclose(logits[2], logits[3], atol=1e-4)


def test_saved_head_round_trips_and_a_missing_head_is_a_clear_error(tmp_path: Path):
    import shutil

    import torch

    from relwatch.classify.pairmodel import HEAD_WEIGHTS, PairClassifier
    from relwatch.core.errors import ModelLoadError

    model = PairClassifier.load(tiny_pair_model_dir())
    model.save(tmp_path / "again")
    again = PairClassifier.load(tmp_path / "again")
    batch = _tokenize(TEXTS)
    with torch.no_grad():
        assert torch.equal(model(**batch), again(**batch))
    shutil.copytree(tiny_pair_model_dir(), tmp_path / "broken")
    (tmp_path / "broken" / HEAD_WEIGHTS).unlink()
    with pytest.raises(ModelLoadError, match=HEAD_WEIGHTS):
        PairClassifier.load(tmp_path / "broken")


def test_onnx_graph_finds_the_markers_itself_marked_one_side_and_bare():
    import torch

    from relwatch.classify.engine import RelationModel
    from relwatch.classify.pairmodel import PairClassifier

    model = PairClassifier.load(tiny_pair_model_dir())
    engine = RelationModel.load(tiny_pair_package(), precision="fp32")
    long = " ".join(["filler words"] * 40) + " [A] Seoul [/A] and [B] Tokyo [/B]"  # truncated
    for batch in (TEXTS, TEXTS[3:4], [long, TEXTS[0]]):
        with torch.no_grad():
            expected = model(**_tokenize(batch)).numpy()
        np.testing.assert_allclose(engine.backend.logits(batch), expected, atol=1e-4)
    meta = json.loads((tiny_pair_package() / "relwatch.json").read_text())
    assert meta["pooling"] == "entity-start"
    int8 = RelationModel.load(tiny_pair_package(), precision="int8").predict_proba(TEXTS)
    assert int8.shape == (len(TEXTS), 3) and np.allclose(int8.sum(axis=1), 1.0)


def test_packages_without_a_pooling_field_still_load_as_sentence_heads():
    from relwatch.classify.meta import ModelMeta
    from relwatch.core.errors import ModelError

    old = {
        "kind": "transformer",
        "labels": ["conflict", "neutral", "cooperation"],
        "max_length": 64,
        "temperature": 1.0,
        "input_format": "markers-v1",
        "base_model": "x",
    }
    assert ModelMeta.from_dict(old).pooling == "cls"
    assert ModelMeta.from_dict({**old, "pooling": "entity-start"}).pooling == "entity-start"
    with pytest.raises(ModelError, match="pooling"):
        ModelMeta.from_dict({**old, "pooling": "max"})
