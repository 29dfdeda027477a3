"""bench/cv.py files measured rows so that every row is judged on folds of its own size."""

import argparse
import importlib.util
import json
from pathlib import Path

import pytest

from relwatch.classify.card import render_card
from relwatch.classify.train import TrainingArguments

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    spec = importlib.util.spec_from_file_location("bench_cv", ROOT / "bench" / "cv.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ESTIMATE", tmp_path / "cv_estimate.json")
    monkeypatch.setattr(module, "ROOT", tmp_path)
    return module


def _result(news: float, design: str) -> dict:
    return {
        "design": design,
        "summary": {"conflibert": {"f1.marked": [news, 0.01], "cvc": [news, 0.01]}},
        "oof_temperature": 2.0,
        "fold_seconds": [1.0],
    }


def _write(cv, results: dict, *, chosen: str, estimate: bool) -> dict:
    opts = argparse.Namespace(chosen=chosen, estimate=estimate, folds=5, repeats=2)
    cv.write_estimate(results, opts, TrainingArguments(), {"conflibert": 10})
    return json.loads(cv.ESTIMATE.read_text("utf-8"))


def test_a_newly_chosen_recipe_keeps_the_old_estimate_as_a_row_and_the_old_reference(cv):
    _write(
        cv,
        {"pair-aware-8ep": _result(0.89, "3x2"), "pair-aware": _result(0.87, "3x2")},
        chosen="pair-aware-8ep",
        estimate=False,
    )
    first = _write(
        cv, {"pair-aware-8ep": _result(0.91, "5x2")}, chosen="pair-aware-8ep", estimate=True
    )
    assert first["estimate"]["candidate"] == "pair-aware-8ep"
    assert first["candidates"]["pair-aware-8ep"]["folds"] == "3x2"  # the comparison row stays

    rejected = _write(
        cv, {"undoings-8ep": _result(0.90, "5x2")}, chosen="pair-aware-8ep", estimate=False
    )
    assert rejected["candidates"]["undoings-8ep"]["folds"] == "5x2"
    assert rejected["estimate"]["candidate"] == "pair-aware-8ep" and "compared_with" not in rejected

    chosen = _write(
        cv, {"undoings-8ep": _result(0.93, "5x2")}, chosen="undoings-8ep", estimate=True
    )
    assert chosen["chosen"] == "undoings-8ep" and chosen["estimate"]["candidate"] == "undoings-8ep"
    assert (
        chosen["candidates"]["pair-aware-8ep@5x2"]["summary"]["conflibert"]["f1.marked"][0] == 0.91
    )
    assert chosen["compared_with"] == {"3": "pair-aware-8ep"}
    assert chosen["recipe"]["datasets"].endswith("undoings")
    card = render_card(
        name="m", kind="transformer", params={}, data={}, reports=[], gate=None,
        temperature=1.0, train_seconds=1.0, cv=chosen,
    )  # fmt: skip
    assert chosen["candidates"]["undoings-8ep"]["summary"] == chosen["estimate"]["summary"]
    assert (
        "- pair-aware-8ep@5x2: pair-aware, 8 epochs — worse on conflibert F1 marked 0.910 vs 0.930"
        in card
        and "(against the chosen, both on 5-fold splits)" in card
    )
    assert "- pair-aware: " in card and "(against pair-aware-8ep, both on 3-fold splits)" in card


def test_a_run_keeps_each_news_rows_pool_index_so_rows_are_followed_across_repeats(
    cv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """No model is trained: the scorer reads each row's label from its text, so the stored
    figures are a perfect model's and the stored rows must match the stored gold labels."""
    import numpy as np

    from relwatch.classify.data import Example

    labels = ("conflict", "neutral", "cooperation")
    pool = {
        source: [
            Example(text=f"{source} sentence {i} {labels[i % 3]}", label=labels[i % 3],
                    dataset=source)
            for i in range(12)
        ]
        for source in cv.POOL
    }  # fmt: skip

    def score(texts):
        return np.array([[0.9 if t.endswith(lab) else 0.05 for lab in labels] for t in texts])

    monkeypatch.setattr(cv, "train_model", lambda *a, **k: None)
    monkeypatch.setattr(cv, "load_scorer", lambda *a, **k: score)
    state = tmp_path / "run.folds.json"
    args = TrainingArguments(datasets=cv.POOL, temperature=1.0)
    result = cv.run_candidate("fake", args, pool, k=2, repeats=2, state=state)
    assert result["summary"]["conflibert"]["cvc"][0] == 1.0
    folds = json.loads(state.read_text("utf-8"))  # plain ints: it is JSON
    assert sorted(folds) == [f"fake/{r}/{f}" for r in (0, 1) for f in (0, 1)]
    for repeat in (0, 1):
        seen = []
        for fold in (0, 1):
            entry = folds[f"fake/{repeat}/{fold}"]
            assert len(entry["rows"]) == len(cv.NEWS)
            for s, source in enumerate(cv.NEWS):
                rows = entry["rows"][s]
                assert [pool[source][i].label_id for i in rows] == entry["gold"][s]
            seen += entry["rows"][0]
        assert sorted(seen) == list(range(12))  # every news row held out once a repeat
