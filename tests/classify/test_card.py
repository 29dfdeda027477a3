from __future__ import annotations

import numpy as np
import pytest

from relwatch.classify.card import render_card
from relwatch.classify.evaluate import evaluate


def test_card_lists_data_hashes_gate_and_per_source_figures():
    probs = np.eye(3)[[0, 1, 2, 2]]
    test = evaluate("test", [0, 1, 2, 0], probs, ["conflibert", "conflibert", "kil", "kil"])
    card = render_card(
        name="relwatch-relation",
        kind="transformer",
        params={"base_model": "m", "seed": 42},
        data={
            "conflibert": {
                "rows": 4,
                "train": 2,
                "validation": 1,
                "test": 1,
                "hash": "ab" * 32,
                "trained_on": True,
            }
        },
        reports=[test],
        gate=test,
        temperature=1.25,
        train_seconds=61.0,
        run_id="r1",
        version="3",
    )
    assert "| conflibert | yes | 4 | 2 | 1 | 1 | `abababababababab` |" in card
    assert "**0.778**" in card  # gate macro-F1 (2/3 + 1 + 2/3) / 3, in bold
    assert "| test | kil | 2 | 0.500 |" in card
    assert "temperature (calibration): 1.250" in card and "version: `3`" in card
    assert "Parolin" in card  # the set is cited


def test_the_stored_cross_validation_describes_the_default_recipe():
    """The packaged estimate is for TrainingArguments(): same recipe, same temperature."""
    from relwatch.classify.card import load_cv_estimate, recipe_params
    from relwatch.classify.train import TrainingArguments

    estimate = load_cv_estimate()
    assert estimate is not None and estimate["chosen"] in estimate["candidates"]
    defaults = TrainingArguments()
    assert recipe_params(defaults.to_params()) == estimate["recipe"]
    assert defaults.temperature == pytest.approx(estimate["temperature"], abs=1e-3)
    chosen = estimate["candidates"][estimate["chosen"]]["summary"]
    assert {"conflibert", "pair_contrast", "market_news"} <= set(chosen)


def test_card_states_the_cross_validated_figures_and_what_was_rejected():
    from relwatch.classify.card import load_cv_estimate, render_card
    from relwatch.classify.train import TrainingArguments

    estimate = load_cv_estimate()
    params = TrainingArguments().to_params()
    card = render_card(
        name="m", kind="transformer", params=params, data={}, reports=[], gate=None,
        temperature=1.0, train_seconds=1.0, cv=estimate,
    )  # fmt: skip
    assert "## Cross-validated estimate" in card and "(chosen)" in card
    assert "Not chosen:" in card and "sentence-head" in card
    assert "differs from the cross-validated one" not in card
    other = render_card(
        name="m", kind="transformer", params={**params, "num_epochs": 2}, data={}, reports=[],
        gate=None, temperature=1.0, train_seconds=1.0, cv=estimate,
    )  # fmt: skip
    assert "differs from the cross-validated one in num_epochs" in other


def test_a_thorough_run_card_names_its_candidate_and_its_temperature_is_the_measured_one():
    """--thorough is the distilled-3 candidate: its card points at that row, and the preset's
    fixed temperature is the one fitted on that candidate's out-of-fold logits."""
    from relwatch.classify.card import load_cv_estimate
    from relwatch.classify.train import THOROUGH_TEACHER_TEMPERATURE, TrainingArguments

    estimate = load_cv_estimate()
    thorough = TrainingArguments.thorough()
    measured = estimate["candidates"]["distilled-3"]
    assert thorough.student_temperature == pytest.approx(measured["oof_temperature"], abs=5e-3)
    assert thorough.temperature == THOROUGH_TEACHER_TEMPERATURE  # teachers as measured
    card = render_card(
        name="m", kind="transformer", params=thorough.to_params(), data={}, reports=[],
        gate=None, temperature=1.0, train_seconds=1.0, cv=estimate,
    )  # fmt: skip
    assert "is the cross-validated candidate **distilled-3**" in card
    assert "differs from the cross-validated one" not in card
    seeds = TrainingArguments.thorough(distill_seeds=(1, 2)).to_params()
    other = render_card(
        name="m", kind="transformer", params=seeds, data={}, reports=[], gate=None,
        temperature=1.0, train_seconds=1.0, cv=estimate,
    )  # fmt: skip
    line = next(x for x in other.splitlines() if "differs from the cross-validated one" in x)
    assert "distill_seeds" in line.split(":")[0]
    assert "cross-validated candidate" not in other


def test_train_help_names_every_set_and_the_real_defaults():
    import re

    from relwatch.classify.data import LOADERS
    from relwatch.classify.train import DEFAULT_DATASETS, QUICK_DATASETS, TrainingArguments
    from relwatch.cli.train import DATASET_HELP

    listed = re.search(r"set \(([^)]*)\)", DATASET_HELP)
    assert listed and set(listed.group(1).split(", ")) == set(LOADERS)
    assert f"default: {', '.join(DEFAULT_DATASETS)} (" in DATASET_HELP
    assert f"(--quick: {', '.join(QUICK_DATASETS)})" in DATASET_HELP
    assert TrainingArguments.quick().datasets == QUICK_DATASETS


def _card_and_table_rows(cv: dict) -> tuple[str, list[str]]:
    """A card rendered from ``cv`` alone, and the lines of its cross-validation table."""
    from relwatch.classify.card import render_card

    card = render_card(
        name="m", kind="transformer", params={}, data={}, reports=[], gate=None,
        temperature=1.0, train_seconds=1.0, cv=cv,
    )  # fmt: skip
    lines = card.splitlines()
    return card, lines[lines.index(next(x for x in lines if x.startswith("| candidate |"))) + 2 :]


def test_the_served_recipes_estimate_heads_the_table():
    """An estimate on more folds than the comparison is the chosen recipe's first row."""

    def summary(news: float) -> dict:
        return {"conflibert": {"f1.marked": [news, 0.01]}}

    cv = {
        "protocol": "p.",
        "pool": {"conflibert": 10},
        "chosen": "a",
        "recipe": {},
        "temperature": 2.0,
        "candidates": {
            "a": {"summary": summary(0.89), "folds": "3x2", "description": "A"},
            "b": {"summary": summary(0.85), "folds": "3x2", "description": "B"},
        },
        "estimate": {"candidate": "a", "summary": summary(0.91), "folds": "5x2"},
    }
    card, rows = _card_and_table_rows(cv)
    assert rows[0].startswith("| **a** (chosen): estimate | 5 × 2 | 0.910 ± 0.010")
    assert rows[1].startswith("| **a** (chosen) | 3 × 2 | 0.890")
    assert "trains on 80% of the pool" in card and "Temperature fitted on" in card
    assert "- b: B — worse on conflibert F1 marked 0.850 vs 0.890 (against the chosen, both" in card


def test_candidates_are_judged_against_a_reference_measured_on_the_same_folds():
    """A chosen recipe measured only on 5 x 2 is compared with 5 x 2 rows; 3 x 2 rows are
    compared with the recipe the file names for that design, never across fold sizes."""

    def row(news: float, folds: str, description: str) -> dict:
        summary = {"conflibert": {"f1.marked": [news, 0.01]}}
        return {"summary": summary, "folds": folds, "description": description}

    new = row(0.93, "5x2", "N")
    cv = {
        "protocol": "p.",
        "pool": {"conflibert": 10},
        "chosen": "new",
        "recipe": {},
        "temperature": 2.0,
        "candidates": {
            "new": new,
            "old@5x2": row(0.91, "5x2", "O5"),
            "old": row(0.89, "3x2", "O3"),
            "b": row(0.85, "3x2", "B"),
            "c": row(0.80, "4x1", "C"),
            "d": row(0.85, "3x1", "D"),  # the first repeat of the 3-fold splits
        },
        "estimate": {"candidate": "new", **new},
        "compared_with": {"3": "old"},
    }
    card, rows = _card_and_table_rows(cv)
    assert rows[0].startswith("| **new** (chosen): estimate | 5 × 2 | 0.930")
    assert rows[1].startswith("| old@5x2 | 5 × 2 | 0.910")  # the estimate is not repeated
    assert (
        "- old@5x2: O5 — worse on conflibert F1 marked 0.910 vs 0.930 (against the chosen" in card
    )
    assert (
        "- b: B — worse on conflibert F1 marked 0.850 vs 0.890 (against old, both on 3-fold" in card
    )
    assert "- old: O3 — the reference of the 3-fold rows." in card
    assert "- c: C — measured on 4-fold splits, where no reference recipe was." in card
    assert (
        "- d: D — worse on conflibert F1 marked 0.850 vs 0.890 (against old, both on 3-fold" in card
    )
