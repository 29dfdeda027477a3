"""Classify the stored country pairs: every pair without a prediction from a model version.

The query walks pairs by id (keyset pages), so a run can stop anywhere and resume where it
stopped; each chunk of predictions is committed in its own transaction, so an interrupted
run loses at most one chunk. A pair already predicted by this model version is never
predicted again (a re-run adds nothing), while another version adds its own rows. Where
extraction found who acts (``pairs.direction``), the acting country is marked as A.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Select, and_, exists, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from relwatch.classify.markers import format_input
from relwatch.core.errors import InputError
from relwatch.core.models import LABELS, Article, Pair, Prediction, Sentence

__all__ = [
    "StoredPredictStats",
    "model_inputs",
    "page",
    "pending_pairs",
    "predict_stored_pairs",
]

DEFAULT_CHUNK = 2000


class _Scorer(Protocol):
    def predict_proba(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class StoredPredictStats:
    """What a run did; ``pending`` is what was left to do when it started."""

    pending: int = 0
    predicted: int = 0
    chunks: int = 0
    seconds: float = 0.0
    model_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.predicted / self.seconds if self.seconds else 0.0


def _filters(
    model_name: str, model_version: str, start: dt.date | None, end: dt.date | None
) -> list[Any]:
    done = exists().where(
        and_(
            Prediction.pair_id == Pair.id,
            Prediction.model_name == model_name,
            Prediction.model_version == model_version,
        )
    )
    conditions: list[Any] = [~done]
    if start is not None:
        conditions.append(Article.published_at >= dt.datetime.combine(start, dt.time(), dt.UTC))
    if end is not None:
        stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
        conditions.append(Article.published_at < stop)
    return conditions


def _base(query: Select[Any]) -> Select[Any]:
    return query.join(Sentence, Sentence.id == Pair.sentence_id).join(
        Article, Article.id == Sentence.article_id
    )


def pending_pairs(
    session: Session,
    *,
    model_name: str,
    model_version: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> int:
    """How many stored pairs this model version has not classified yet."""
    query = _base(select(func.count(Pair.id))).where(
        *_filters(model_name, model_version, start, end)
    )
    return int(session.scalar(query) or 0)


def _model_input(text: str, a: str, b: str, spans: tuple[int, ...], direction: str | None) -> str:
    a_span, b_span = (spans[0], spans[1]), (spans[2], spans[3])
    if direction == "b->a":
        a, b, a_span, b_span = b, a, b_span, a_span
    return format_input(text, a, b, a_span, b_span)


def page(
    session: Session, conditions: list[Any], *, after_id: int = 0, limit: int = DEFAULT_CHUNK
) -> list[Any]:
    """The next ``limit`` pairs after ``after_id`` that meet ``conditions``, with their text."""
    return list(
        session.execute(
            _base(
                select(
                    Pair.id,
                    Pair.sentence_id,
                    Pair.a,
                    Pair.b,
                    Pair.a_start,
                    Pair.a_end,
                    Pair.b_start,
                    Pair.b_end,
                    Pair.direction,
                    Sentence.text,
                )
            )
            .where(Pair.id > after_id, *conditions)
            .order_by(Pair.id)
            .limit(limit)
        ).all()
    )


def model_inputs(rows: list[Any]) -> list[str]:
    """The marked sentences the model reads for ``page`` rows, actor as A."""
    return [
        _model_input(r.text, r.a, r.b, (r.a_start, r.a_end, r.b_start, r.b_end), r.direction)
        for r in rows
    ]


def predict_stored_pairs(
    sessions: sessionmaker[Session],
    model: _Scorer,
    *,
    model_name: str,
    model_version: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    limit: int | None = None,
    on_progress: Callable[[StoredPredictStats], None] | None = None,
) -> StoredPredictStats:
    """Classify every pending pair (at most ``limit``) and store the predictions."""
    if chunk_size < 1:
        raise InputError("chunk size must be at least 1")
    if start is not None and end is not None and end < start:
        raise InputError(f"--to {end} is before --from {start}")
    started = time.perf_counter()
    stats = StoredPredictStats()
    with sessions() as session:
        stats.pending = pending_pairs(
            session, model_name=model_name, model_version=model_version, start=start, end=end
        )
    todo = min(stats.pending, limit) if limit is not None else stats.pending
    conditions = _filters(model_name, model_version, start, end)
    last_id = 0
    while stats.predicted < todo:
        want = min(chunk_size, todo - stats.predicted)
        with sessions() as session, session.begin():
            rows = page(session, conditions, after_id=last_id, limit=want)
            if not rows:
                break
            texts = model_inputs(rows)
            t = time.perf_counter()
            probs = model.predict_proba(texts)
            stats.model_seconds += time.perf_counter() - t
            session.execute(
                insert(Prediction),
                [
                    {
                        "pair_id": r.id,
                        "sentence_id": r.sentence_id,
                        "model_name": model_name,
                        "model_version": model_version,
                        "label": LABELS[int(p.argmax())],
                        "p_conflict": float(p[0]),
                        "p_neutral": float(p[1]),
                        "p_cooperation": float(p[2]),
                        "direction": r.direction or "mutual",
                    }
                    for r, p in zip(rows, probs, strict=True)
                ],
            )
            last_id = rows[-1].id
        stats.predicted += len(rows)
        stats.chunks += 1
        stats.seconds = time.perf_counter() - started
        if on_progress:
            on_progress(stats)
    stats.seconds = time.perf_counter() - started
    return stats
