from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from relwatch.classify import evaluate as ev

# label ids: 0 conflict, 1 neutral, 2 cooperation


def test_confusion_and_per_class_by_hand():
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 2, 1, 2, 2, 0]
    m = ev.confusion(y_true, y_pred)
    assert m.tolist() == [[1, 0, 1], [0, 1, 0], [1, 0, 2]]
    stats = ev.per_class(m)
    assert stats["conflict"]["precision"] == pytest.approx(0.5)
    assert stats["conflict"]["recall"] == pytest.approx(0.5)
    assert stats["cooperation"]["precision"] == pytest.approx(2 / 3)
    assert stats["cooperation"]["recall"] == pytest.approx(2 / 3)
    assert stats["neutral"]["f1"] == pytest.approx(1.0)
    assert ev.macro_f1(y_true, y_pred) == pytest.approx((0.5 + 1.0 + 2 / 3) / 3)


def test_macro_f1_matches_sklearn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    p = np.where(rng.random(200) < 0.7, y, rng.integers(0, 3, 200))
    assert ev.macro_f1(y, p) == pytest.approx(f1_score(y, p, average="macro"))


def test_empty_sets_absent_labels_and_length_mismatch():
    empty = ev.confusion([], [])
    assert empty.shape == (3, 3) and empty.sum() == 0
    assert all(
        s == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        for s in ev.per_class(empty).values()
    )
    assert ev.macro_f1([], []) == 0.0
    # a label in neither gold nor predictions keeps its zero row and stays out of macro-F1
    m = ev.confusion([0, 1], [0, 1])
    assert m[2].tolist() == [0, 0, 0] and ev.per_class(m)["cooperation"]["f1"] == 0.0
    assert ev.macro_f1([0, 1], [0, 1]) == pytest.approx(1.0)
    # a label only predicted counts, with F1 0 (zero_division=0)
    assert ev.macro_f1([0, 0], [0, 2]) == pytest.approx((2 / 3 + 0.0) / 2)
    with pytest.raises(ValueError):
        ev.confusion([0], [0, 1])


def test_ece_by_hand():
    probs = np.array(
        [
            [0.9, 0.05, 0.05],  # conf 0.9, correct
            [0.9, 0.05, 0.05],  # conf 0.9, wrong
            [0.1, 0.3, 0.6],  # conf 0.6, correct
            [0.2, 0.2, 0.6],  # conf 0.6, correct
        ]
    )
    y = [0, 2, 2, 2]
    # bin (0.8, 0.9]: acc 0.5 vs conf 0.9 -> 0.4 * 2/4; bin (0.5, 0.6]: acc 1 vs 0.6 -> 0.4 * 2/4
    assert ev.expected_calibration_error(y, probs) == pytest.approx(0.4)
    perfect = np.eye(3)[[0, 1, 2]]
    assert ev.expected_calibration_error([0, 1, 2], perfect) == pytest.approx(0.0)


def test_coop_conflict_accuracy_ignores_neutral_gold_and_neutral_argmax():
    probs = np.array(
        [
            [0.2, 0.6, 0.2],  # gold conflict; neutral argmax, conflict >= coop? tie -> coop: wrong
            [0.3, 0.6, 0.1],  # gold conflict; conflict > coop: right
            [0.1, 0.1, 0.8],  # gold cooperation: right
            [0.8, 0.1, 0.1],  # gold neutral: ignored
        ]
    )
    assert ev.coop_conflict_accuracy([0, 0, 2, 1], probs) == pytest.approx(2 / 3)
    assert ev.coop_conflict_accuracy([1], probs[:1]) is None


def test_report_breaks_down_by_source_and_flattens_for_mlflow(tmp_path: Path):
    probs = np.eye(3)[[0, 1, 2, 0]]
    report = ev.evaluate("test", [0, 1, 2, 2], probs, ["a", "a", "b", "b"])
    assert report.accuracy == pytest.approx(0.75)
    assert report.by_source["a"].macro_f1 == pytest.approx(1.0)
    assert report.by_source["b"].accuracy == pytest.approx(0.5)
    metrics = report.metrics("test")
    assert metrics["test.a_accuracy"] == pytest.approx(1.0)
    assert metrics["test_coop_conflict_accuracy"] == pytest.approx(2 / 3)
    png = ev.plot_confusion(report, tmp_path / "cm.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = ev.format_table([report])
    assert [r[1] for r in rows] == ["(all)", "a", "b"]


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="probs must be"):
        ev.evaluate("x", [0, 1], np.zeros((3, 3)))


def test_contrast_metrics_see_whether_the_pairs_of_one_sentence_differ():
    from relwatch.classify.evaluate import contrast_metrics

    # sentence s1: a cooperating and a conflicting pair; s2: two neutral pairs; s3: one pair
    groups = ["s1", "s1", "s2", "s2", "s3"]
    gold = [2, 0, 1, 1, 0]
    blind = np.tile([0.4, 0.2, 0.4], (5, 1))  # ignores the pair: every row the same
    metrics = contrast_metrics(groups, gold, blind)
    assert metrics["contrast_sentences"] == 2 and metrics["contrast_spread"] == 0.0
    assert metrics["mixed_sentences"] == 1 and metrics["mixed_all_right"] == 0.0
    assert metrics["differing_sentences"] == 1 and metrics["contrast_accuracy"] == 0.0
    aware = np.array(
        [[0.1, 0.1, 0.8], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.9, 0.05, 0.05]]
    )
    metrics = contrast_metrics(groups, gold, aware)
    assert metrics["mixed_all_right"] == 1.0
    assert metrics["contrast_accuracy"] == 1.0
    aware[1] = [0.3, 0.2, 0.5]  # the conflicting pair read as cooperation: s1 is wrong
    assert contrast_metrics(groups, gold, aware)["contrast_accuracy"] == 0.0
    assert metrics["contrast_spread"] == pytest.approx((0.7 + 0.1) / 2)
    assert contrast_metrics(["a", "b"], [0, 1], aware[:2]) == {}
