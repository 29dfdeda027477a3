from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from relwatch.classify import train as tr
from relwatch.classify.data import Example
from relwatch.core.models import LABELS

ACTORS = ["Seoul", "Tokyo", "Beijing", "Moscow", "Delhi", "Washington", "Pyongyang"]
VERBS = {
    "cooperation": ["signed a trade pact with", "pledged aid to", "praised", "agreed to help"],
    "conflict": ["attacked", "sanctioned", "condemned", "fired missiles at"],
    "neutral": ["met", "spoke by phone with", "will visit", "hosted officials from"],
}


def synthetic(n: int, seed: int = 0, dataset: str = "synthetic") -> list[Example]:
    """Sentences written for the tests: the verb decides the label."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = LABELS[i % 3]
        a, b = rng.sample(ACTORS, 2)
        text = f"{a} {rng.choice(VERBS[label])} {b} on day {i}."
        out.append(Example(text, label, dataset, source=a, target=b))
    return out


def test_fit_temperature_recovers_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 3)) * 2
    probs = tr.softmax(true_logits)
    labels = np.array([rng.choice(3, p=p) for p in probs])
    t = tr.fit_temperature(true_logits * 3, labels)  # logits 3x too sharp
    assert t == pytest.approx(3.0, rel=0.1)
    assert tr.fit_temperature(np.zeros((0, 3)), np.zeros(0, dtype=int)) == 1.0


def test_class_weights_are_inverse_frequency_with_mean_one():
    labels = np.array([0, 0, 0, 1, 2, 2])
    w = tr.class_weight_vector(labels, np.ones(6))
    assert w.mean() == pytest.approx(1.0)
    assert w[1] / w[0] == pytest.approx(3.0)
    assert w[2] / w[0] == pytest.approx(1.5)


def test_training_mix_drops_foreign_neutral_caps_and_weights():
    rows = synthetic(30, dataset="directed_sentiment") + synthetic(9, dataset="conflibert")
    args = tr.TrainingArguments(
        dataset_caps={"directed_sentiment": 5},
        dataset_weights={"directed_sentiment": 0.5},
        drop_neutral=("directed_sentiment",),
    )
    mix, weights = tr.prepare_training_mix(rows, args)
    ds = [e for e in mix if e.dataset == "directed_sentiment"]
    assert len(ds) == 5 and all(e.label != "neutral" for e in ds)
    assert sum(e.dataset == "conflibert" for e in mix) == 9
    assert sorted(set(weights.tolist())) == [0.5, 1.0]
    again, _ = tr.prepare_training_mix(list(reversed(rows)), args)
    assert sorted(e.text for e in again) == sorted(e.text for e in mix)


def test_length_buckets_cover_every_row_once():
    lengths = [random.Random(1).randint(5, 90) for _ in range(1000)]
    batches = tr._batches(lengths, 32, random.Random(0))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000))
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 10  # similar lengths share a batch: little padding


def test_tfidf_trains_calibrates_and_writes_contract_dir(tmp_path: Path):
    args = tr.TrainingArguments(model="tfidf", tfidf_max_features=2000)
    model = tr.train_model(synthetic(240), synthetic(60, seed=1), args, tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "relwatch.json").read_text())
    assert manifest["kind"] == "tfidf" and manifest["labels"] == list(LABELS)
    assert (tmp_path / "m" / "model.joblib").is_file()
    assert manifest["temperature"] == pytest.approx(model.temperature)
    score = tr.load_scorer(tmp_path / "m")
    test = synthetic(60, seed=2)
    probs = score([e.model_input() for e in test])
    assert probs.shape == (60, 3)
    assert np.allclose(probs.sum(axis=1), 1.0)
    accuracy = (probs.argmax(1) == [e.label_id for e in test]).mean()
    assert accuracy > 0.9


def test_tfidf_is_reproducible(tmp_path: Path):
    args = tr.TrainingArguments(model="tfidf", tfidf_max_features=2000)
    rows, val = synthetic(120), synthetic(30, seed=1)
    tr.train_model(rows, val, args, tmp_path / "a")
    tr.train_model(rows, val, args, tmp_path / "b")
    texts = [e.model_input() for e in synthetic(20, seed=5)]
    assert np.allclose(tr.load_scorer(tmp_path / "a")(texts), tr.load_scorer(tmp_path / "b")(texts))


def test_transformer_trainer_writes_contract_dir_and_stops_early(tmp_path: Path):
    from tests.classify.tiny_models import tiny_model_dir

    args = tr.TrainingArguments(
        base_model=str(tiny_model_dir()),
        num_epochs=6,
        batch_size=16,
        early_stopping_patience=1,
        evals_per_epoch=1,
        max_length=32,
        learning_rate=1e-6,
        warmup_ratio=0.0,
    )
    model = tr.train_model(synthetic(48), synthetic(24, seed=1), args, tmp_path / "t")
    out = tmp_path / "t"
    manifest = json.loads((out / "relwatch.json").read_text())
    assert manifest["kind"] == "transformer"
    assert manifest["input_format"] == "markers-v1" and manifest["max_length"] == 32
    assert manifest["temperature"] == pytest.approx(model.temperature)
    assert (out / "tokenizer.json").is_file() and (out / "config.json").is_file()
    # a learning rate too small to improve validation twice in a row triggers early stopping
    assert len(model.history) < 6
    probs = tr.load_scorer(out)(["[A] Seoul [/A] praised [B] Tokyo [/B]."])
    assert probs.shape == (1, 3) and probs.sum() == pytest.approx(1.0, abs=1e-5)


def test_max_steps_stops_training_and_evaluates_the_last_step(tmp_path: Path):
    from tests.classify.tiny_models import tiny_model_dir

    args = tr.TrainingArguments(
        base_model=str(tiny_model_dir()),
        num_epochs=5,
        batch_size=8,
        max_steps=4,
        max_length=32,
        time_budget_s=None,
        early_stopping_patience=10,
    )
    model = tr.train_model(synthetic(48), synthetic(16, seed=1), args, tmp_path / "s")
    # 48 rows / 8 = 6 steps per epoch: the stop comes mid-epoch, with a check on step 4
    assert model.info["steps"] == 4
    assert [point["step"] for point in model.history] == [4]


def test_quick_preset_is_step_bounded_not_time_bounded():
    quick = tr.TrainingArguments.quick()
    assert quick.max_steps == tr.QUICK_STEPS and quick.profile == "quick"
    # the safety stop must sit far beyond what the fixed steps need on an idle machine
    assert quick.time_budget_s is None or quick.time_budget_s >= 300


def test_unknown_argument_is_rejected():
    with pytest.raises(ValueError, match="unknown training argument"):
        tr.args_from_dict({"epochs": 3})


def test_threads_follow_the_request_or_the_cores_never_the_load(monkeypatch: pytest.MonkeyPatch):
    assert tr.resolve_threads(3) == 3
    monkeypatch.setattr(tr.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(tr.os, "getloadavg", lambda: (5.0, 5.0, 5.0))
    busy = tr.resolve_threads(None)
    monkeypatch.setattr(tr.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert busy == tr.resolve_threads(None) == 2
    monkeypatch.setattr(tr.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert tr.resolve_threads(None) == 4


def test_selection_score_gives_each_source_an_equal_say():
    rows = [Example(f"a{i}", "conflict", "big") for i in range(90)] + [
        Example(f"b{i}", "cooperation", "small") for i in range(60)
    ]
    score = tr.per_source_selector(rows)
    probs = np.zeros((150, 3))
    probs[:90, 0] = 1.0  # big set all right
    probs[90:, 0] = 1.0  # small set all wrong
    # pooled macro-F1 would be dominated by the 90 right rows; per-source mean is (1 + 0) / 2
    assert score(probs) == pytest.approx(0.5)


def test_calibration_weights_give_each_source_an_equal_say():
    rows = [Example(f"a{i}", "conflict", "big") for i in range(300)] + [
        Example(f"b{i}", "conflict", "small") for i in range(100)
    ]
    w = tr.source_balance(rows)
    assert w[:300].sum() == pytest.approx(w[300:].sum())
    # big set: confidently right; small set: confidently wrong -> weighted T is larger
    logits = np.zeros((400, 3))
    logits[:300, 0] = 4.0
    logits[300:, 2] = 4.0
    labels = np.zeros(400, dtype=int)
    assert tr.fit_temperature(logits, labels, w) > tr.fit_temperature(logits, labels)


def test_temperature_is_fitted_on_the_calibration_sets_only():
    rows = [Example(f"n{i}", "conflict", "conflibert") for i in range(10)] + [
        Example(f"u{i}", "conflict", "keep_it_local") for i in range(30)
    ]
    args = tr.TrainingArguments()
    w = tr.calibration_weights(rows, args)
    assert w[:10].sum() == pytest.approx(1.0) and w[10:].sum() == 0.0
    others = tr.calibration_weights(rows[10:], args)  # no calibration set: all sets count
    assert others.sum() == pytest.approx(1.0) and (others > 0).all()


def test_layer_wise_decay_scales_lower_layers_and_leaves_the_head():
    import torch

    from relwatch.classify.train import TrainingArguments, _param_groups, lr_scale

    assert lr_scale("encoder.encoder.layer.5.output.dense.weight", 6, 0.8) == 1.0
    assert lr_scale("encoder.encoder.layer.0.output.dense.weight", 6, 0.8) == pytest.approx(0.8**5)
    assert lr_scale("encoder.embeddings.word_embeddings.weight", 6, 0.8) == pytest.approx(0.8**6)
    assert lr_scale("encoder.encoder.layer.0.output.dense.weight", 6, 1.0) == 1.0

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = torch.nn.Linear(2, 2)
            self.layer = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(2)])
            self.head = torch.nn.Linear(2, 3)

        def head_parameters(self) -> list[torch.nn.Parameter]:
            return list(self.head.parameters())

    model = Tiny()
    args = TrainingArguments(learning_rate=1.0, head_lr_scale=5.0, layer_lr_decay=0.5)
    lr_of = {
        id(p): (g["lr"], g["weight_decay"]) for g in _param_groups(model, args) for p in g["params"]
    }
    assert len(lr_of) == len(list(model.parameters()))  # every parameter in exactly one group
    assert lr_of[id(model.layer[1].weight)] == (1.0, args.weight_decay)
    assert lr_of[id(model.layer[0].weight)] == (0.5, args.weight_decay)
    assert lr_of[id(model.layer[0].bias)] == (0.5, 0.0)
    assert lr_of[id(model.embeddings.weight)] == (0.25, args.weight_decay)
    assert lr_of[id(model.head.weight)] == (5.0, args.weight_decay)


def test_balanced_draw_gives_classes_equal_shares_and_follows_row_weights():
    labels = np.array([0] * 90 + [1] * 9 + [2] * 1)
    weights = np.ones(100)
    weights[:45] = 3.0  # within class 0, the first half weighs three times the second
    rng = random.Random(1)
    drawn = [i for _ in range(40) for i in tr.balanced_draw(labels, weights, rng)]
    counts = np.bincount(labels[drawn], minlength=3) / len(drawn)
    assert np.allclose(counts, 1 / 3, atol=0.03)
    first, second = sum(i < 45 for i in drawn), sum(45 <= i < 90 for i in drawn)
    assert 2.5 < first / second < 3.5
    batches = tr._batches([5] * 100, 8, random.Random(2), drawn[:100])
    assert sorted(i for b in batches for i in b) == sorted(drawn[:100])


def short_run(**overrides: object) -> tr.TrainingArguments:
    """A few steps of the tiny model: enough to run a training option end to end."""
    from tests.classify.tiny_models import tiny_model_dir

    base = {"base_model": str(tiny_model_dir()), "num_epochs": 1, "batch_size": 8}
    return tr.TrainingArguments(**{**base, "max_length": 32, **overrides})


def test_transformer_trains_with_class_balanced_sampling(tmp_path: Path):
    args = short_run(max_steps=3, class_balanced_sampling=True)
    model = tr.train_model(synthetic(48), synthetic(16, seed=1), args, tmp_path / "b")
    assert model.history and model.history[-1]["step"] == 3
    probs = tr.load_scorer(tmp_path / "b")(["[A] Seoul [/A] praised [B] Tokyo [/B]."])
    assert probs.shape == (1, 3)


def test_distillation_trains_teachers_then_a_student_that_follows_them(tmp_path: Path, monkeypatch):
    taught: list[np.ndarray] = []
    real = tr.train_transformer

    def spy(*args, **kwargs):
        teacher = kwargs.get("teacher")
        if teacher is not None:
            taught.append(teacher(["[A] Seoul [/A] praised [B] Tokyo [/B]."]))
        return real(*args, **kwargs)

    monkeypatch.setattr(tr, "train_transformer", spy)
    args = short_run(max_steps=2, distill_seeds=(1, 2), temperature=1.5, student_temperature=2.5)
    model = tr.train_model(synthetic(32), synthetic(16, seed=1), args, tmp_path / "s")
    assert len(taught) == 1 and taught[0].shape == (1, 3)  # two teachers, one student
    assert taught[0].sum() == pytest.approx(1.0, abs=1e-5)
    assert model.history and (tmp_path / "s" / "relwatch.json").is_file()
    assert model.temperature == pytest.approx(2.5)  # the student's own calibration


def test_the_thorough_preset_is_the_default_recipe_distilled_from_three_seeds():
    """``relwatch train --thorough`` and a thorough train job get the same arguments: the
    default recipe plus the distillation seeds, the loss weights and the temperatures
    distilled-3 was cross-validated with, with the caller's overrides kept."""
    from relwatch.classify.train import PAIR_AWARE_WEIGHTS, THOROUGH_SEEDS, TrainingArguments
    from relwatch.flows.jobs import training_arguments
    from relwatch.flows.params import parse_params

    args = training_arguments(parse_params("train", {"thorough": True, "epochs": 3}))
    assert args.distill_seeds == THOROUGH_SEEDS and len(set(THOROUGH_SEEDS)) == 3
    assert args.profile == "thorough" and args.num_epochs == 3
    plain = TrainingArguments()
    differs = {k for k, v in args.to_params().items() if plain.to_params()[k] != v}
    assert differs == {
        "distill_seeds", "temperature", "student_temperature", "time_budget_s", "profile",
        "num_epochs", "dataset_weights",
    }  # fmt: skip
    assert args.dataset_weights == PAIR_AWARE_WEIGHTS  # the weights distilled-3 was measured with
    custom = training_arguments(parse_params("train", {"thorough": True, "datasets": ["x"]}))
    assert custom.temperature is None and custom.student_temperature is None  # both fitted


def test_a_temperature_fitted_on_calibrated_scores_is_turned_into_the_recipes_own():
    """Out-of-fold log-probabilities of models that already score at 1.5: the temperature for
    the raw logits is the fit on them times 1.5, the same as a fit on the raw logits."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 4, size=(3000, 3))
    z = logits / 3.0
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(3, p=row) for row in p])
    scored = logits / 1.5
    log_probs = scored - np.log(np.exp(scored).sum(axis=1, keepdims=True))
    direct = tr.fit_temperature(logits, labels)
    assert direct == pytest.approx(3.0, rel=0.1)
    assert tr.recipe_temperature(log_probs, labels, 1.5) == pytest.approx(direct, rel=0.02)
    assert tr.fit_temperature(log_probs, labels) == pytest.approx(direct / 1.5, rel=0.02)


def test_scoring_temperature_is_the_students_for_a_distilled_recipe():
    assert tr.TrainingArguments().scoring_temperature() == tr.TrainingArguments().temperature
    thorough = tr.TrainingArguments.thorough()
    assert thorough.scoring_temperature() == tr.THOROUGH_TEMPERATURE
    assert tr.TrainingArguments(temperature=None).scoring_temperature() == 1.0
