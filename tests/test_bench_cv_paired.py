"""bench/cv_paired.py compares two recipes fold by fold and row by row; bench/cv_errors.py
asks whether one recipe's sign errors lean one way and whether they stay with the row."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def paired():
    spec = importlib.util.spec_from_file_location(
        "bench_cv_paired", ROOT / "bench" / "cv_paired.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _logp(picks: list[int]) -> list[list[float]]:
    """Log-probabilities that put most mass on each row's pick."""
    rows = []
    for pick in picks:
        p = np.full(3, 0.1)
        p[pick] = 0.8
        rows.append(np.log(p).tolist())
    return rows


def _fold(f1: float, picks: list[int], gold: list[int]) -> dict:
    return {
        "figures": {"conflibert": {"f1.marked": f1, "cvc": None}},
        "logp": [_logp(picks)],
        "gold": [gold],
    }


GOLD = [0, 0, 2, 2, 1]


def _state(tmp_path: Path, name: str, folds: dict[tuple[int, int], dict]) -> Path:
    path = tmp_path / f"{name}.folds.json"
    state = {f"{name}/{r}/{f}": fold for (r, f), fold in folds.items()}
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


def test_fold_differences_are_paired_and_skip_missing_figures(paired, tmp_path: Path) -> None:
    base = paired.load_folds(
        _state(
            tmp_path,
            "a",
            {(0, 0): _fold(0.80, GOLD, GOLD), (0, 1): _fold(0.90, GOLD, GOLD)},
        ),
        None,
    )
    cand = paired.load_folds(
        _state(
            tmp_path,
            "b",
            {
                (0, 0): _fold(0.85, GOLD, GOLD),
                (0, 1): _fold(0.88, GOLD, GOLD),
                (1, 0): _fold(0.99, GOLD, GOLD),  # not in the base: not compared
            },
        ),
        None,
    )
    d = paired.figure_differences(base, cand)["conflibert"]
    assert set(d) == {"f1.marked"}  # a figure that is None on a fold is not a difference
    assert d["f1.marked"]["folds"] == 2
    assert d["f1.marked"]["mean"] == pytest.approx(0.015)
    assert (d["f1.marked"]["wins"], d["f1.marked"]["losses"]) == (1, 1)
    assert d["f1.marked"]["se"] == pytest.approx(np.std([0.05, -0.02], ddof=1) / math.sqrt(2))


def test_sign_errors_count_only_rows_one_recipe_gets_wrong(paired, tmp_path: Path) -> None:
    # base: the first conflict row on the cooperation side; candidate: the last
    # cooperation row on the conflict side and the neutral row called conflict (not a
    # sign error: gold neutral rows are left out)
    base = paired.load_folds(
        _state(tmp_path, "a", {(0, 0): _fold(0.8, [2, 0, 2, 2, 1], GOLD)}), None
    )
    cand = paired.load_folds(
        _state(tmp_path, "b", {(0, 0): _fold(0.8, [0, 0, 2, 0, 0], GOLD)}), None
    )
    row = paired.paired_sign_errors(base, cand)[0]
    assert row["rows"] == 4
    assert (row["base"], row["candidate"]) == (1, 1)
    assert (row["only_base"], row["only_candidate"]) == (1, 1)
    assert row["p"] == 1.0


def test_mcnemar_is_exact_and_symmetric(paired) -> None:
    assert paired.mcnemar_p(0, 0) == 1.0
    assert paired.mcnemar_p(0, 6) == pytest.approx(2 / 64)
    assert paired.mcnemar_p(6, 0) == paired.mcnemar_p(0, 6)
    assert paired.mcnemar_p(3, 5) == pytest.approx(2 * (1 + 8 + 28 + 56) / 256)


def test_folds_that_held_out_other_rows_are_refused(paired, tmp_path: Path) -> None:
    base = paired.load_folds(_state(tmp_path, "a", {(0, 0): _fold(0.8, GOLD, GOLD)}), None)
    other = [2, 0, 0, 2, 1]
    cand = paired.load_folds(_state(tmp_path, "b", {(0, 0): _fold(0.8, other, other)}), None)
    with pytest.raises(SystemExit, match="held out other rows"):
        paired.paired_sign_errors(base, cand)


def test_a_file_of_several_recipes_needs_a_name(paired, tmp_path: Path) -> None:
    path = tmp_path / "both.folds.json"
    fold = _fold(0.8, GOLD, GOLD)
    path.write_text(json.dumps({"a/0/0": fold, "b/0/0": fold}), encoding="utf-8")
    with pytest.raises(SystemExit, match="name one"):
        paired.load_folds(path, None)
    with pytest.raises(SystemExit, match="no folds of 'c'"):
        paired.load_folds(path, "c")
    assert set(paired.load_folds(path, "b")) == {(0, 0)}


@pytest.fixture(scope="module")
def errors():
    sys.path.insert(0, str(ROOT / "bench"))  # cv_errors imports cv_paired
    path = ROOT / "bench" / "cv_errors.py"
    spec = importlib.util.spec_from_file_location("bench_cv_errors", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.path.remove(str(ROOT / "bench"))


def _leaning_fold(rng: np.random.Generator, lean: float) -> dict:
    """40 polar rows; every conflict row's cooperation logit is ``lean`` above its conflict
    logit, cooperation rows are clearly right."""
    gold = [0] * 20 + [2] * 20
    logits = []
    for label in gold:
        z = rng.normal(0.0, 0.1, 3)
        if label == 0:
            z += [1.0, -1.0, 1.0 + lean]
        else:
            z += [-2.0, -1.0, 3.0]
        logits.append(z.tolist())
    return {"figures": {}, "logp": [logits], "gold": [gold], "scored_at": 1.0}


def test_a_bias_fitted_on_the_other_folds_moves_rows_that_lean_one_way(errors) -> None:
    rng = np.random.default_rng(0)
    folds = {(0, i): _leaning_fold(rng, 0.5) for i in range(3)}
    folds[(1, 0)] = _leaning_fold(rng, 0.5)  # alone in its repeat: nothing to fit on
    rows = errors.nested(folds, sources=1)
    assert [(r["repeat"], r["fold"]) for r in rows] == [(0, 0), (0, 1), (0, 2)]
    for r in rows:
        assert r["cvc"] == 0.5 and r["conflict_as_cooperation"] == 20
        assert r["cooperation_as_conflict"] == 0
        assert r["bias_cooperation"] < -0.5 and r["cvc_biased"] > 0.9


def test_the_bias_is_fitted_on_the_other_folds_only(errors) -> None:
    rng = np.random.default_rng(1)
    folds = {(0, 0): _leaning_fold(rng, -3.0), (0, 1): _leaning_fold(rng, 0.5)}
    folds[(0, 2)] = _leaning_fold(rng, 0.5)
    others = [folds[(0, 1)], folds[(0, 2)]]
    z = np.concatenate([errors.raw_logits(f, 0) for f in others])
    y = np.concatenate([f["gold"][0] for f in others])
    t, bias = errors.fit_bias(z, y)
    first = errors.nested(folds, sources=1)[0]
    assert (first["repeat"], first["fold"]) == (0, 0)
    assert first["temperature"] == pytest.approx(t)
    assert first["bias_cooperation"] == pytest.approx(bias[2])
    assert first["cvc"] == 1.0  # the scored fold leans the other way: right before the bias


def test_rows_every_repeat_gets_wrong_are_told_from_the_folds_ones(errors) -> None:
    def fold(rows: list[int], picks: list[int], gold: list[int]) -> dict:
        return {**_fold(0.8, picks, gold), "rows": [rows]}

    # pool rows 0-3 (gold conflict, conflict, cooperation, neutral), folded differently in
    # the two repeats; row 0 is wrong in both, row 2 only in the first, neutral row 3 is
    # never a sign error
    folds = {
        (0, 0): fold([0, 1], [2, 0], [0, 0]),
        (0, 1): fold([2, 3], [0, 0], [2, 1]),
        (1, 0): fold([0, 2], [2, 2], [0, 2]),
        (1, 1): fold([1, 3], [0, 2], [0, 1]),
        (2, 0): {**_fold(0.8, [0], [0])},  # written before rows were stored: skipped
    }
    stay = errors.persistent(folds)
    assert stay["repeats"] == 2
    assert stay["errors"] == [2, 1]
    assert stay["always"] == [0] and stay["sometimes"] == [2]
