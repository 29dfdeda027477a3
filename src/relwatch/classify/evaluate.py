"""Evaluation: the figures a promotion decision and a model card rest on.

Besides accuracy and macro-F1 it reports *cooperation-vs-conflict accuracy* (on rows whose
gold label is polar, is the model's choice between the two polar classes right? — the
error analysts care most about) and the expected calibration error, per source set: sets
disagree about "neutral", and a pooled figure would hide that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from relwatch.core.models import LABELS

CONFLICT, NEUTRAL, COOPERATION = (LABELS.index(x) for x in ("conflict", "neutral", "cooperation"))


def confusion(y_true: Sequence[int], y_pred: Sequence[int], n: int = len(LABELS)) -> np.ndarray:
    """Rows are gold labels, columns predictions; every label has its row even when unseen."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels, y_pred {len(y_pred)}")
    if len(y_true) == 0:  # sklearn refuses empty input; an empty set is an all-zero matrix
        return np.zeros((n, n), dtype=int)
    from sklearn import metrics  # deferred: importing sklearn costs seconds; Report users skip it

    return metrics.confusion_matrix(
        np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int), labels=list(range(n))
    )


def per_class(matrix: np.ndarray) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per label; 0 where undefined (zero_division=0).

    sklearn scores label pairs, not matrices, so the matrix is expanded back into its
    (gold, predicted) pairs; that keeps this signature for callers that hold only a matrix.
    """
    n = matrix.shape[0]
    counts = np.asarray(matrix, dtype=int).ravel()
    if counts.sum() == 0:  # sklearn refuses empty input; every figure is undefined, hence 0
        precision = recall = f1 = support = np.zeros(n)
    else:
        from sklearn import metrics

        gold, pred = np.indices(matrix.shape).reshape(2, -1)
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            np.repeat(gold, counts),
            np.repeat(pred, counts),
            labels=list(range(n)),
            zero_division=0,
        )
    return {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(LABELS[:n])
    }


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Mean F1 over the labels present in gold or predictions (sklearn's default labels).

    A per-source set without, say, any cooperation row is not penalised for a class it
    could not contain; 0.0 for an empty set.
    """
    if len(y_true) == 0:
        return 0.0
    from sklearn import metrics

    return float(
        metrics.f1_score(
            np.asarray(y_true, dtype=int),
            np.asarray(y_pred, dtype=int),
            average="macro",
            zero_division=0,
        )
    )


def sign_errors(y_true: Sequence[int], probs: np.ndarray) -> np.ndarray:
    """Per gold-polar row (neutral rows left out), whether P(cooperation) vs P(conflict)
    puts it on the wrong side. Log-probabilities give the same answer."""
    y = np.asarray(y_true)
    p = np.asarray(probs)
    polar = (y == CONFLICT) | (y == COOPERATION)
    pick = np.where(p[polar, COOPERATION] >= p[polar, CONFLICT], COOPERATION, CONFLICT)
    return pick != y[polar]


def coop_conflict_accuracy(y_true: Sequence[int], probs: np.ndarray) -> float | None:
    """On gold-polar rows, how often P(cooperation) vs P(conflict) picks the right side.

    Neutral predictions do not count as errors here: this isolates the sign error
    (calling a clash a rapprochement), which is the costly one for an index.
    """
    wrong = sign_errors(y_true, probs)
    return None if len(wrong) == 0 else float(1.0 - wrong.mean())


def expected_calibration_error(y_true: Sequence[int], probs: np.ndarray, bins: int = 10) -> float:
    """ECE of the top-label confidence over equal-width bins (Guo et al., 2017)."""
    y = np.asarray(y_true)
    if len(y) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for low, high in pairwise(edges):
        in_bin = (confidence > low) & (confidence <= high)
        if low == 0.0:
            in_bin |= confidence == 0.0
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


@dataclass
class Report:
    """All figures for one evaluation set."""

    name: str
    n: int
    accuracy: float
    macro_f1: float
    coop_conflict_accuracy: float | None
    ece: float
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]
    by_source: dict[str, Report] = field(default_factory=dict)
    contrast: dict[str, float] = field(default_factory=dict)
    """Pair-level figures on sentences with several labelled pairs (:func:`contrast_metrics`)."""

    def metrics(self, prefix: str) -> dict[str, float]:
        """Flat metrics for MLflow, e.g. ``test_macro_f1``, ``test.conflibert_macro_f1``."""
        out = {
            f"{prefix}_accuracy": self.accuracy,
            f"{prefix}_macro_f1": self.macro_f1,
            f"{prefix}_ece": self.ece,
            f"{prefix}_n": float(self.n),
        }
        if self.coop_conflict_accuracy is not None:
            out[f"{prefix}_coop_conflict_accuracy"] = self.coop_conflict_accuracy
        for key, value in self.contrast.items():
            out[f"{prefix}_{key}"] = value
        for label, stats in self.per_class.items():
            for key in ("precision", "recall", "f1"):
                out[f"{prefix}_{label}_{key}"] = stats[key]
        for source, report in self.by_source.items():
            out.update(report.metrics(f"{prefix}.{source}"))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "coop_conflict_accuracy": self.coop_conflict_accuracy,
            "ece": self.ece,
            "per_class": self.per_class,
            "confusion": self.confusion,
            "by_source": {k: v.to_dict() for k, v in self.by_source.items()},
            "contrast": self.contrast,
        }


def contrast_metrics(
    groups: Sequence[str], y_true: Sequence[int], probs: np.ndarray
) -> dict[str, float]:
    """How a model tells apart the pairs of one sentence (``groups``: a sentence key per row).

    - ``contrast_sentences``: sentences with two or more labelled pairs;
    - ``contrast_spread``: mean over them of the widest gap, over labels, between two of
      their pairs' probabilities (0 for a model that ignores which pair is marked);
    - ``mixed_sentences`` / ``mixed_all_right``: sentences holding both a cooperating and a
      conflicting pair, and the share of them where *every* polar pair is on the right
      side (P(cooperation) vs P(conflict), as in coop-vs-conflict accuracy).
    - ``differing_sentences`` / ``contrast_accuracy``: sentences whose pairs do not all
      share one label, and the share of them where *every* pair gets its own right label
      (pair-contrast accuracy: 0 for a model that ignores which pair is marked).

    Empty when no sentence has two pairs.
    """
    y = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=float)
    keys = np.asarray(groups)
    spreads, mixed_right, differing_right = [], [], []
    for key in dict.fromkeys(keys.tolist()):
        rows = np.flatnonzero(keys == key)
        if len(rows) < 2:
            continue
        p = probs[rows]
        spreads.append(float((p.max(axis=0) - p.min(axis=0)).max()))
        gold = y[rows]
        if len(set(gold.tolist())) > 1:
            differing_right.append(bool((p.argmax(axis=1) == gold).all()))
        if (gold == CONFLICT).any() and (gold == COOPERATION).any():
            polar = (gold == CONFLICT) | (gold == COOPERATION)
            side = np.where(p[:, COOPERATION] >= p[:, CONFLICT], COOPERATION, CONFLICT)
            mixed_right.append(bool((side[polar] == gold[polar]).all()))
    if not spreads:
        return {}
    out = {"contrast_sentences": float(len(spreads)), "contrast_spread": float(np.mean(spreads))}
    if differing_right:
        out["differing_sentences"] = float(len(differing_right))
        out["contrast_accuracy"] = float(np.mean(differing_right))
    if mixed_right:
        out["mixed_sentences"] = float(len(mixed_right))
        out["mixed_all_right"] = float(np.mean(mixed_right))
    return out


def evaluate(
    name: str,
    y_true: Sequence[int],
    probs: np.ndarray,
    sources: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
) -> Report:
    """Every figure for one set, plus a per-source breakdown when sources are given and the
    pair-level figures when ``groups`` (one sentence key per row) are given."""
    y = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=float)
    if probs.shape != (len(y), len(LABELS)):
        raise ValueError(f"probs must be ({len(y)}, {len(LABELS)}), got {probs.shape}")
    pred = probs.argmax(axis=1) if len(y) else np.zeros(0, dtype=int)
    matrix = confusion(y, pred)
    report = Report(
        name=name,
        n=len(y),
        accuracy=float((pred == y).mean()) if len(y) else 0.0,
        macro_f1=macro_f1(y, pred),
        coop_conflict_accuracy=coop_conflict_accuracy(y, probs),
        ece=expected_calibration_error(y, probs),
        per_class=per_class(matrix),
        confusion=matrix.tolist(),
    )
    if groups is not None and len(y):
        report.contrast = contrast_metrics(groups, y, probs)
    if sources is not None:
        src = np.asarray(sources)
        keys = None if groups is None else np.asarray(groups)
        for source in sorted(set(src.tolist())):
            mask = src == source
            report.by_source[source] = evaluate(
                source, y[mask], probs[mask], groups=None if keys is None else keys[mask]
            )
    return report


def plot_confusion(report: Report, path: Path) -> Path:
    """Confusion matrix PNG (counts and row-normalised shading); headless via Agg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(report.confusion, dtype=float)
    rows = matrix.sum(axis=1, keepdims=True)
    shade = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    fig, ax = plt.subplots(figsize=(4.6, 4.0), dpi=120)
    ax.imshow(shade, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(LABELS)), LABELS, rotation=20)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"{report.name}: macro-F1 {report.macro_f1:.3f} (n={report.n})", fontsize=9)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(
                j,
                i,
                int(matrix[i, j]),
                ha="center",
                va="center",
                color="white" if shade[i, j] > 0.5 else "black",
            )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def format_table(reports: Sequence[Report]) -> list[list[str]]:
    """Rows (set, source, n, acc, macro-F1, coop-vs-conflict, ECE) for a console table."""
    rows = []
    for report in reports:
        for source, item in [("(all)", report), *report.by_source.items()]:
            cc = item.coop_conflict_accuracy
            rows.append(
                [
                    report.name,
                    source,
                    str(item.n),
                    f"{item.accuracy:.3f}",
                    f"{item.macro_f1:.3f}",
                    "-" if cc is None else f"{cc:.3f}",
                    f"{item.ece:.3f}",
                ]
            )
    return rows
