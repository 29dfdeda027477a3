"""TextRank sentence importance (Mihalcea & Tarau 2004), in numpy.

Why: downstream keeps the key sentences of long articles (top-k or above a threshold) for
evidence and for cheaper classification. Similarity is the normalised word overlap of the
original paper; scores come from PageRank by power iteration.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _bags(sentences: Sequence[str]) -> list[set[str]]:
    stops = _stop_words()
    return [{w for w in _WORD.findall(s.lower()) if w not in stops} for s in sentences]


def similarity_matrix(sentences: Sequence[str]) -> np.ndarray:
    """overlap(i, j) / (log|Si| + log|Sj|), zero on the diagonal."""
    bags = _bags(sentences)
    vocab = {w: k for k, w in enumerate(sorted(set().union(*bags)))} if bags else {}
    n = len(bags)
    if not vocab:
        return np.zeros((n, n))
    m = np.zeros((n, len(vocab)), dtype=np.float32)
    for i, bag in enumerate(bags):
        m[i, [vocab[w] for w in bag]] = 1.0
    overlap = m @ m.T
    logs = np.array([math.log(len(b)) if len(b) > 1 else 0.0 for b in bags])
    denom = logs[:, None] + logs[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(denom > 0, overlap / denom, 0.0)
    np.fill_diagonal(sim, 0.0)
    return sim


def textrank(
    sentences: Sequence[str], damping: float = 0.85, max_iter: int = 100, tol: float = 1e-6
) -> np.ndarray:
    """Importance of each sentence, scaled so the most central one scores 1.0.

    Why max-scaled: a threshold then means the same thing in a 3- and a 60-sentence article.
    Sentences sharing no words with any other get the floor (1 - damping) / n before scaling.
    """
    n = len(sentences)
    if n == 0:
        return np.zeros(0)
    if n == 1:
        return np.ones(1)
    sim = similarity_matrix(sentences)
    out_weight = sim.sum(axis=1)
    # Row-normalised transition matrix; dangling rows spread uniformly.
    trans = np.where(
        out_weight[:, None] > 0, sim / np.where(out_weight > 0, out_weight, 1)[:, None], 1.0 / n
    )
    scores = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        new = (1 - damping) / n + damping * (trans.T @ scores)
        if np.abs(new - scores).sum() < tol:
            scores = new
            break
        scores = new
    return scores / scores.max()
