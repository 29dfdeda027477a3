"""Storage on both backends: migrations, relations, cascades, uniqueness."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from relwatch.core import db
from relwatch.core.models import (
    Article,
    Base,
    CrawlState,
    Job,
    Label,
    Mention,
    Pair,
    Prediction,
    Sentence,
    Source,
)


def _article(**kw) -> Article:
    base = dict(
        external_id="t:1",
        title="Seoul and Tokyo talk",
        text="South Korea and Japan agreed to resume talks.",
        published_at=dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC),
        content_hash="a" * 64,
    )
    base.update(kw)
    return Article(**base)


def test_migrations_create_every_model_table(any_db_url: str):
    tables = set(inspect(db.get_engine(any_db_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert db.current_revision(any_db_url) is not None


def test_upgrade_is_idempotent(any_db_url: str):
    before = db.current_revision(any_db_url)
    db.upgrade(any_db_url)
    assert db.current_revision(any_db_url) == before


def test_full_chain_roundtrip_and_cascade(any_db_url: str):
    with db.session_scope(any_db_url) as s:
        src = Source(name="Yonhap", country="KOR", kind="rss", url="https://example.org/rss")
        art = _article(source=src)
        sent = Sentence(index=0, text=art.text, start=0, end=len(art.text), score=0.7)
        art.sentences.append(sent)
        sent.mentions += [
            Mention(start=0, end=11, text="South Korea", iso3="KOR", kind="name"),
            Mention(start=16, end=21, text="Japan", iso3="JPN", kind="name"),
        ]
        pair = Pair(a="KOR", b="JPN", a_start=0, a_end=11, b_start=16, b_end=21)
        sent.pairs.append(pair)
        pair.predictions.append(
            Prediction(
                model_name="relwatch-relation",
                model_version="3",
                label="cooperation",
                p_conflict=0.05,
                p_neutral=0.15,
                p_cooperation=0.8,
            )
        )
        s.add(art)
    with db.session_scope(any_db_url) as s:
        art = s.scalars(select(Article)).one()
        assert art.source.name == "Yonhap"
        assert [m.iso3 for m in art.sentences[0].mentions] == ["KOR", "JPN"]
        pred = art.sentences[0].pairs[0].predictions[0]
        assert (pred.label, pred.model_version) == ("cooperation", "3")
        assert art.published_at.replace(tzinfo=dt.UTC).year == 2024
        s.delete(art)
    with db.session_scope(any_db_url) as s:
        for model in (Sentence, Mention, Pair, Prediction):
            assert s.scalar(select(func.count()).select_from(model)) == 0


def test_duplicate_canonical_url_is_rejected(any_db_url: str):
    with db.session_scope(any_db_url) as s:
        s.add(_article(external_id=None, canonical_url="https://x.org/a"))
    with pytest.raises(IntegrityError), db.session_scope(any_db_url) as s:
        s.add(_article(external_id=None, canonical_url="https://x.org/a", content_hash="b" * 64))


def test_failed_transaction_leaves_nothing_half_written(any_db_url: str):
    with pytest.raises(IntegrityError), db.session_scope(any_db_url) as s:
        s.add(Source(name="A", country="USA", kind="rss", url="u"))
        s.add(Label(text="x", label="neutral", origin="test"))
        s.flush()
        s.add(Source(name="A", country="USA", kind="rss", url="u2"))
    with db.session_scope(any_db_url) as s:
        assert s.scalar(select(func.count()).select_from(Source)) == 0
        assert s.scalar(select(func.count()).select_from(Label)) == 0


def test_jobs_and_crawl_state_defaults(any_db_url: str):
    with db.session_scope(any_db_url) as s:
        job = Job(kind="crawl", params={"sources": ["Yonhap"]})
        s.add(job)
        s.add(CrawlState(url="https://example.org/rss", kind="feed", etag='"abc"'))
        s.flush()
        job_id = job.id
    with db.session_scope(any_db_url) as s:
        job = s.get(Job, job_id)
        assert job.status == "queued" and job.params == {"sources": ["Yonhap"]}
        state = s.scalars(select(CrawlState)).one()
        assert state.status == "pending" and state.attempts == 0


def test_migrations_match_models(db_url: str):
    """A model change without a migration fails here, not in production."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with db.get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
