"""Fixtures of the index tests: synthetic predictions written through the real schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import pytest

from relwatch.core import db
from relwatch.core.models import Article, Pair, Prediction, Sentence, Source

MODEL = ("relwatch-relation", "1")
NAMES = {"KOR": "South Korea", "JPN": "Japan", "USA": "the United States", "CHN": "China"}


def insert_units(
    url: str,
    frame: pd.DataFrame,
    *,
    model: tuple[str, str] = MODEL,
    place_only: bool = False,
    created_at: dt.datetime | None = None,
) -> dict[int, int]:
    """Write a synthetic unit frame (see ``synth.Builder``) as sources, articles, sentences,
    pairs and predictions; returns {synthetic prediction id: database prediction id}."""
    ids: dict[int, int] = {}
    with db.session_scope(url) as s:
        sources: dict[int, Source] = {
            src.id: src for src in s.query(Source).all()
        }  # reuse publishers across calls
        for pub_id, pub in frame.groupby("publisher_id")["publisher"].first().items():
            if int(pub_id) not in sources:
                sources[int(pub_id)] = Source(
                    id=int(pub_id), name=f"pub{pub_id}", country=pub or "GBR", kind="rss", url="u"
                )
                s.add(sources[int(pub_id)])
        s.flush()
        offset = (s.query(Article).count() or 0) * 1000 + 1
        made: list[tuple[int, Prediction]] = []
        for art_id, rows in frame.groupby("article_id", sort=True):
            first = rows.iloc[0]
            day = pd.Timestamp(first["day"]).to_pydatetime()
            art = Article(
                source_id=int(first["publisher_id"]),
                external_id=f"syn:{offset}:{art_id}",
                title=f"Story {art_id}",
                url=f"https://news.example/{offset}/{art_id}",
                text="...",
                published_at=day.replace(hour=9, tzinfo=dt.UTC),
                content_hash=f"{offset}-{art_id}",
            )
            for i, row in enumerate(rows.itertuples(index=False)):
                na, nb = NAMES.get(row.a, row.a), NAMES.get(row.b, row.b)
                text = f"{na} and {nb} talked ({row.sentence_id})."
                sent = Sentence(index=i, text=text, start=0, end=len(text), score=row.score)
                art.sentences.append(sent)
                pair = Pair(
                    a=row.a,
                    b=row.b,
                    a_start=0,
                    a_end=len(na),
                    b_start=len(na) + 5,
                    b_end=len(na) + 5 + len(nb),
                    place_only=place_only,
                    direction=row.direction,
                )
                sent.pairs.append(pair)
                pred = Prediction(
                    model_name=model[0],
                    model_version=model[1],
                    label=["conflict", "neutral", "cooperation"][
                        int(pd.Series([row.p_conflict, row.p_neutral, row.p_cooperation]).argmax())
                    ],
                    p_conflict=float(row.p_conflict),
                    p_neutral=float(row.p_neutral),
                    p_cooperation=float(row.p_cooperation),
                    direction=row.direction,
                )
                if created_at is not None:
                    pred.created_at = created_at
                pair.predictions.append(pred)
                made.append((int(row.prediction_id), pred))
            s.add(art)
        s.flush()
        ids = {syn: pred.id for syn, pred in made}
    return ids


@pytest.fixture
def insert() -> Callable[..., dict[int, int]]:
    return insert_units


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def both_db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database on each backend; only the PostgreSQL case carries the mark."""
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "pg_url")
