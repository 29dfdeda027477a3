"""Synthetic prediction frames with known truth, for the index tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

DAY0 = dt.date(2024, 1, 1)


def probs_for(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probabilities whose P(coop) − P(conflict) equals ``s`` (clipped to [−0.9, 0.9])."""
    s = np.clip(np.asarray(s, dtype=float), -0.9, 0.9)
    neutral = np.full_like(s, 0.1)
    coop = (0.9 + s) / 2
    return 0.9 - coop, neutral, coop


class Builder:
    """Accumulates unit rows (one prediction each) with fresh ids."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.next_article = 1
        self.next_sentence = 1

    def article(
        self,
        day: dt.date,
        tones: list[float] | np.ndarray,
        *,
        a: str = "KOR",
        b: str = "JPN",
        direction: str | None = None,
        publisher: str = "KOR",
        publisher_id: int = 1,
        scores: list[float] | None = None,
    ) -> int:
        art = self.next_article
        self.next_article += 1
        conflict, neutral, coop = probs_for(np.asarray(tones))
        for i in range(len(tones)):
            sid = self.next_sentence
            self.next_sentence += 1
            self.rows.append(
                {
                    "prediction_id": sid,
                    "sentence_id": sid,
                    "article_id": art,
                    "publisher_id": publisher_id,
                    "publisher": publisher,
                    "day": pd.Timestamp(day),
                    "a": a,
                    "b": b,
                    "direction": direction,
                    "p_conflict": conflict[i],
                    "p_neutral": neutral[i],
                    "p_cooperation": coop[i],
                    "score": 1.0 if scores is None else scores[i],
                }
            )
        return art

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def random_effects_days(
    rng: np.random.Generator,
    *,
    n_days: int,
    level: float = 0.1,
    tau: float = 0.12,
    tau_u: float = 0.15,
    sigma_e: float = 0.2,
    articles: tuple[int, int] = (1, 12),
    sentences: tuple[int, int] = (1, 8),
    builder: Builder | None = None,
    **kw,
) -> tuple[Builder, dict[dt.date, float]]:
    """Days whose true tone varies around ``level``; articles add a shared random effect.

    Returns the builder and each day's true mean (the expectation of s that day).
    """
    builder = builder or Builder()
    truth: dict[dt.date, float] = {}
    for d in range(n_days):
        day = DAY0 + dt.timedelta(days=d)
        mu = level + rng.normal(0, tau)
        truth[day] = mu
        for _ in range(rng.integers(articles[0], articles[1] + 1)):
            u = rng.normal(0, tau_u)
            n = int(rng.integers(sentences[0], sentences[1] + 1))
            builder.article(day, mu + u + rng.normal(0, sigma_e, n), **kw)
    return builder, truth
