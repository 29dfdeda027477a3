"""Relational schema shared by every stage.

One table per thing an analyst or engineer asks about: where news comes from (sources,
crawl state), what was read (articles, sentences, mentions, pairs), what the model said
(predictions, tagged with model name and version), what was published (index points),
what ran (jobs) and what people labelled (labels). Types are portable so the same
models and migrations run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LABELS = ("conflict", "neutral", "cooperation")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Source(Base):
    """A news or government outlet from the source registry."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(3), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(10), default="en")
    rate_limit_per_sec: Mapped[float] = mapped_column(Float, default=1.0)
    schedule: Mapped[str | None] = mapped_column(String(100))
    selectors: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    articles: Mapped[list[Article]] = relationship(back_populates="source")


class CrawlState(Base):
    """What the crawler knows about one URL, for conditional GET and resumable runs."""

    __tablename__ = "crawl_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default="article")  # feed | article | robots
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|done|failed
    http_status: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    discovered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Article(Base):
    """One news story, crawled or imported from a corpus."""

    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_published", "published_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    url: Mapped[str | None] = mapped_column(String(2000))
    canonical_url: Mapped[str | None] = mapped_column(String(2000), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(10))
    country: Mapped[str | None] = mapped_column(String(3))
    # Places the publisher tagged the story with (e.g. Reuters <PLACES>), as given.
    places: Mapped[list[Any] | None] = mapped_column(JSON)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    extracted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    source: Mapped[Source | None] = relationship(back_populates="articles")
    sentences: Mapped[list[Sentence]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Sentence.index"
    )


class Sentence(Base):
    """A sentence of an article, with its TextRank importance."""

    __tablename__ = "sentences"
    __table_args__ = (UniqueConstraint("article_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)

    article: Mapped[Article] = relationship(back_populates="sentences")
    mentions: Mapped[list[Mention]] = relationship(
        back_populates="sentence", cascade="all, delete-orphan"
    )
    pairs: Mapped[list[Pair]] = relationship(
        back_populates="sentence", cascade="all, delete-orphan"
    )


class Mention(Base):
    """A country mention in a sentence; offsets are into the sentence text."""

    __tablename__ = "mentions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sentence_id: Mapped[int] = mapped_column(
        ForeignKey("sentences.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(300))
    iso3: Mapped[str] = mapped_column(String(3), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # name|demonym|capital|leader|institution
    role: Mapped[str | None] = mapped_column(String(10))  # actor | place | attribute

    sentence: Mapped[Sentence] = relationship(back_populates="mentions")


class Pair(Base):
    """An unordered country pair in a sentence; ``a`` is the one named first."""

    __tablename__ = "pairs"
    __table_args__ = (UniqueConstraint("sentence_id", "a", "b"), Index("ix_pairs_ab", "a", "b"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"))
    a: Mapped[str] = mapped_column(String(3))
    b: Mapped[str] = mapped_column(String(3))
    a_start: Mapped[int] = mapped_column(Integer)
    a_end: Mapped[int] = mapped_column(Integer)
    b_start: Mapped[int] = mapped_column(Integer)
    b_end: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str | None] = mapped_column(String(10))  # a->b | b->a | mutual
    # True when one side is only the venue ("talks in Tokyo"): kept, but not indexed.
    place_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    sentence: Mapped[Sentence] = relationship(back_populates="pairs")
    predictions: Mapped[list[Prediction]] = relationship(
        back_populates="pair", cascade="all, delete-orphan"
    )


class Prediction(Base):
    """What one model version said about one pair (or a bare sentence)."""

    __tablename__ = "predictions"
    __table_args__ = (UniqueConstraint("pair_id", "model_name", "model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int | None] = mapped_column(
        ForeignKey("pairs.id", ondelete="CASCADE"), index=True
    )
    sentence_id: Mapped[int | None] = mapped_column(
        ForeignKey("sentences.id", ondelete="CASCADE"), index=True
    )
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(20))
    p_conflict: Mapped[float] = mapped_column(Float)
    p_neutral: Mapped[float] = mapped_column(Float)
    p_cooperation: Mapped[float] = mapped_column(Float)
    direction: Mapped[str | None] = mapped_column(String(10))  # a->b | b->a | mutual
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    pair: Mapped[Pair | None] = relationship(back_populates="predictions")


class IndexPoint(Base):
    """One period of the pair index: tone, interval, volume and attention for one view.

    ``grain`` is day, week or month and ``period`` its first day (the day, the Monday, the
    1st). ``directed`` rows read ``source`` → ``target``; undirected rows hold the pair as
    (min code, max code). ``seen_from`` is '' for all publishers, else a publisher country.
    ``params`` records how the figure was computed (weighting, prior strength, ...).
    """

    __tablename__ = "index_points"
    __table_args__ = (
        UniqueConstraint(
            "grain",
            "period",
            "source",
            "target",
            "directed",
            "seen_from",
            "model_name",
            "model_version",
            name="uq_index_points_key",
        ),
        Index("ix_index_points_series", "source", "target", "grain", "period"),
        Index("ix_index_points_period", "grain", "period"),
        Index("ix_index_points_model", "model_name", "model_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grain: Mapped[str] = mapped_column(String(5))  # day | week | month
    period: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(3))
    target: Mapped[str] = mapped_column(String(3))
    directed: Mapped[bool] = mapped_column(Boolean)
    seen_from: Mapped[str] = mapped_column(String(3), default="", server_default="")
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(50))
    tone: Mapped[float] = mapped_column(Float)
    tone_raw: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    volume: Mapped[int] = mapped_column(Integer)  # sentences
    articles: Mapped[int] = mapped_column(Integer)
    sources: Mapped[int] = mapped_column(Integer)  # distinct publishers
    attention: Mapped[float] = mapped_column(Float)
    n_conflict: Mapped[int] = mapped_column(Integer, default=0)
    n_neutral: Mapped[int] = mapped_column(Integer, default=0)
    n_cooperation: Mapped[int] = mapped_column(Integer, default=0)
    tone_smooth7: Mapped[float | None] = mapped_column(Float)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IndexAlert(Base):
    """A change in a pair's daily tone, with the predictions that drove it."""

    __tablename__ = "index_alerts"
    __table_args__ = (
        UniqueConstraint(
            "source",
            "target",
            "directed",
            "seen_from",
            "day",
            "model_name",
            "model_version",
            name="uq_index_alerts_key",
        ),
        Index("ix_index_alerts_day", "day"),
        Index("ix_index_alerts_pair", "source", "target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(3))
    target: Mapped[str] = mapped_column(String(3))
    directed: Mapped[bool] = mapped_column(Boolean)
    seen_from: Mapped[str] = mapped_column(String(3), default="", server_default="")
    day: Mapped[dt.date] = mapped_column(Date)
    direction: Mapped[str] = mapped_column(String(20))  # to_conflict | to_cooperation
    size: Mapped[float] = mapped_column(Float)  # tone change, value - baseline
    statistic: Mapped[float] = mapped_column(Float)
    baseline: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    volume: Mapped[int] = mapped_column(Integer)
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(50))
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)  # prediction ids
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """A unit of background work (crawl, extract, train, bulk predict) and its outcome."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(String(50), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    celery_task_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Label(Base):
    """A human or dataset label for (text, source country, target country)."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200))
    target: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str | None] = mapped_column(String(10))
    origin: Mapped[str] = mapped_column(String(100))  # dataset name or "annotator"
    annotator: Mapped[str | None] = mapped_column(String(200))
    sentence_id: Mapped[int | None] = mapped_column(ForeignKey("sentences.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
