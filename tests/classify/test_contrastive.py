from __future__ import annotations

import random
from pathlib import Path

import pytest

from relwatch.classify import contrastive as cs
from relwatch.classify import train as tr
from relwatch.classify.data import Example
from tests.classify.test_train import short_run, synthetic


def test_pairs_give_every_row_a_positive_and_a_negative_per_iteration():
    labels = [0, 0, 1, 1, 2, 2, 2]
    groups = [f"s{i}" for i in range(len(labels))]
    pairs = cs.sample_pairs(labels, groups, iterations=3, rng=random.Random(0))
    assert len(pairs) == 2 * 3 * len(labels)
    for i, j, target in pairs:
        assert i != j
        assert (labels[i] == labels[j]) == (target == 1.0)
    anchors = [i for i, _, t in pairs if t == 1.0]
    assert sorted(set(anchors)) == list(range(len(labels)))
    assert all(anchors.count(i) == 3 for i in range(len(labels)))


def test_half_the_negatives_come_from_the_anchors_own_sentence():
    """One sentence with a conflict pair and a cooperation pair: the other pair of the same
    sentence is the hard negative about half the time."""
    labels = [0, 2] + [0, 1, 2] * 20
    groups = ["both", "both"] + [f"other{i}" for i in range(60)]
    pairs = cs.sample_pairs(labels, groups, iterations=200, rng=random.Random(1))
    negatives = [j for i, j, t in pairs if i == 0 and t == 0.0]
    assert len(negatives) == 200
    own = sum(j == 1 for j in negatives)
    assert 70 <= own <= 130  # 0.5 share plus a small chance from the random draw
    lone = [j for i, j, t in pairs if i == 2 and t == 0.0]  # no other pair in its sentence
    assert sum(j == 1 for j in lone) <= 15


def test_a_lone_label_gets_no_positive():
    pairs = cs.sample_pairs([0, 1, 1], ["a", "b", "c"], iterations=1, rng=random.Random(0))
    assert not [p for p in pairs if p[0] == 0 and p[2] == 1.0]
    assert len(pairs) == 5


def _pair_loss(model, tokenizer, rows: list[Example]) -> float:
    """Cosine loss of the contrastive objective on a fixed draw of pairs, in eval mode."""
    import torch

    labels = [e.label_id for e in rows]
    pairs = cs.sample_pairs(labels, [e.text for e in rows], 2, random.Random(99))
    batch = tokenizer([e.model_input() for e in rows], padding=True, return_tensors="pt")
    with torch.no_grad():
        vectors = cs.embed(model.eval(), dict(batch))
    left = vectors[[i for i, _, _ in pairs]]
    right = vectors[[j for _, j, _ in pairs]]
    target = torch.tensor([t for _, _, t in pairs])
    cosine = torch.nn.functional.cosine_similarity(left, right, dim=-1)
    return float(torch.nn.functional.mse_loss(cosine, target))


def test_tuning_the_body_pulls_same_label_rows_together_and_leaves_the_head():
    import torch
    from transformers import AutoTokenizer

    from relwatch.classify.pairmodel import new_pair_model
    from tests.classify.tiny_models import tiny_model_dir

    torch.manual_seed(0)
    rows = synthetic(48)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir())
    model = new_pair_model(str(tiny_model_dir()), tokenizer, 3, 0.0)
    head = [p.detach().clone() for p in model.head.parameters()]
    before = _pair_loss(model, tokenizer, rows)
    info = cs.tune_body(
        model,
        tokenizer,
        rows,
        iterations=8,
        learning_rate=2e-3,
        batch_size=16,
        max_length=32,
        seed=0,
    )
    assert info["contrastive_pairs"] == 2 * 8 * len(rows)
    assert info["contrastive_last_loss"] < info["contrastive_first_loss"]
    assert _pair_loss(model, tokenizer, rows) < 0.8 * before
    assert all(torch.equal(a, b) for a, b in zip(head, model.head.parameters(), strict=True))


@pytest.mark.parametrize("pooling", ["entity-start", "cls"])
def test_training_with_a_contrastive_stage_runs_end_to_end(tmp_path: Path, pooling: str):
    args = short_run(max_steps=2, contrastive_iterations=1, pooling=pooling)
    model = tr.train_model(synthetic(24), synthetic(9, seed=1), args, tmp_path / "m")
    assert model.info["contrastive_pairs"] == 2 * 24
    probs = tr.load_scorer(tmp_path / "m")(["[A] Seoul [/A] praised [B] Tokyo [/B]."])
    assert probs.shape == (1, 3)
