"""Crawl orchestration: feeds → pending URLs → fetched, extracted, deduplicated articles.

Incremental and resumable by construction: every discovered article URL is first written
to ``crawl_state`` as *pending* (in the same transaction that stores the feed's ETag),
and an article row is written in the same transaction that marks its URL *done*. A
second run therefore fetches only URLs it has never finished, and a run killed halfway
resumes with the pending ones without storing anything twice.

URL states: pending → done | duplicate | blocked (robots.txt) | failed (transient, retried
on the next runs up to ``MAX_ATTEMPTS``) | rejected (permanent: 4xx, too large, wrong
content type, no article text).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from relwatch.collect.article_text import ArticleExtractionError, extract_article
from relwatch.collect.dedup import NearDuplicateIndex, canonical_url, content_hash, simhash
from relwatch.collect.feeds import FeedError, FeedItem, discover
from relwatch.collect.http import FEED_TYPES, Fetcher, FetchResult
from relwatch.collect.sources import SourceSpec
from relwatch.core.config import Settings
from relwatch.core.logging import get_logger
from relwatch.core.models import Article, CrawlState, Source, utcnow

log = get_logger(__name__)

MAX_ATTEMPTS = 3
MAX_CHILD_SITEMAPS = 20
NEAR_INDEX_LIMIT = 200_000

SessionFactory = Callable[[], Session]


@dataclass
class SourceStats:
    """What one run did for one source; ``failed`` counts feed and article failures."""

    name: str
    country: str
    discovered: int = 0
    new: int = 0
    unchanged: int = 0
    duplicate: int = 0
    blocked: int = 0
    failed: int = 0
    feed: str = "not fetched"
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class CrawlReport:
    sources: list[SourceStats]
    started_at: dt.datetime
    finished_at: dt.datetime

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def total(self, attr: str) -> int:
        return sum(getattr(s, attr) for s in self.sources)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form, e.g. for a Job's result column."""
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "sources": [s.as_dict() for s in self.sources],
        }


@dataclass(frozen=True)
class CrawlEvent:
    """Progress callback payload.

    ``kind`` 'queued': discovery is over, ``total`` items will be fetched and ``outcome``
    is the feed status; ``kind`` 'item': one item finished with ``outcome`` new |
    unchanged | duplicate | blocked | failed | rejected.
    """

    source: str
    kind: str
    total: int = 0
    outcome: str = ""


EventHook = Callable[[CrawlEvent], None]


def crawl(
    session_factory: SessionFactory,
    sources: Sequence[SourceSpec],
    *,
    max_items: int | None = None,
    settings: Settings | None = None,
    on_event: EventHook | None = None,
    **fetcher_options: Any,
) -> CrawlReport:
    """Crawl ``sources`` once; blocking wrapper around :func:`crawl_async` (Celery-friendly)."""
    return asyncio.run(
        crawl_async(
            session_factory,
            sources,
            max_items=max_items,
            settings=settings,
            on_event=on_event,
            **fetcher_options,
        )
    )


async def crawl_async(
    session_factory: SessionFactory,
    sources: Sequence[SourceSpec],
    *,
    max_items: int | None = None,
    settings: Settings | None = None,
    on_event: EventHook | None = None,
    **fetcher_options: Any,
) -> CrawlReport:
    """Discover new items of every source, then fetch, extract, dedup and store them.

    ``max_items`` caps the articles fetched per source in this run (the rest stay pending
    for the next). ``fetcher_options`` go to :class:`Fetcher` (timeouts, retries, …).
    """
    started = utcnow()
    async with Fetcher(settings, **fetcher_options) as fetcher:
        crawler = _Crawler(session_factory, fetcher, max_items, on_event)
        for spec in sources:
            fetcher.set_rate(spec.url, spec.rate_limit_per_sec)
        stats = await asyncio.gather(*(crawler.run_source(spec) for spec in sources))
    return CrawlReport(list(stats), started, utcnow())


class _Crawler:
    def __init__(
        self,
        session_factory: SessionFactory,
        fetcher: Fetcher,
        max_items: int | None,
        on_event: EventHook | None,
    ) -> None:
        self.session_factory = session_factory
        self.fetcher = fetcher
        self.max_items = max_items
        self.on_event = on_event or (lambda _e: None)
        self.near = NearDuplicateIndex()
        with session_factory() as session:
            rows = session.execute(
                select(Article.id, Article.simhash)
                .where(Article.simhash.is_not(None))
                .order_by(Article.id.desc())
                .limit(NEAR_INDEX_LIMIT)
            )
            for article_id, value in rows:
                self.near.add(article_id, value)

    # -- per source ---------------------------------------------------------------------

    async def run_source(self, spec: SourceSpec) -> SourceStats:
        stats = SourceStats(spec.name, spec.country)
        source_id = self._upsert_source(spec)
        try:
            meta = await self._discover(spec, source_id, stats)
            todo = self._pending(source_id)
            self.on_event(CrawlEvent(spec.name, "queued", total=len(todo), outcome=stats.feed))
            for _, url in todo:
                self.fetcher.set_rate(url, spec.rate_limit_per_sec)
            await asyncio.gather(
                *(
                    self._fetch_item(spec, source_id, row_id, url, meta.get(url), stats)
                    for row_id, url in todo
                )
            )
        except Exception as exc:  # one broken source must not stop the others
            log.exception("source failed", source=spec.name)
            stats.failed += 1
            stats.errors.append(f"{type(exc).__name__}: {exc}")
        log.info(
            "source crawled",
            source=spec.name,
            new=stats.new,
            unchanged=stats.unchanged,
            duplicate=stats.duplicate,
            failed=stats.failed,
            blocked=stats.blocked,
        )
        return stats

    def _upsert_source(self, spec: SourceSpec) -> int:
        values = {
            "country": spec.country,
            "kind": spec.kind,
            "url": spec.url,
            "language": spec.language,
            "rate_limit_per_sec": spec.rate_limit_per_sec,
            "schedule": spec.schedule,
            "enabled": spec.enabled,
            "selectors": spec.selectors.model_dump(exclude_none=True) if spec.selectors else None,
        }
        with self.session_factory() as session, session.begin():
            row = session.scalar(select(Source).where(Source.name == spec.name))
            if row is None:
                row = Source(name=spec.name, **values)
                session.add(row)
            else:
                for key, value in values.items():
                    setattr(row, key, value)
            session.flush()
            return row.id

    def _pending(self, source_id: int) -> list[tuple[int, str]]:
        with self.session_factory() as session:
            query = (
                select(CrawlState.id, CrawlState.url)
                .where(
                    CrawlState.source_id == source_id,
                    CrawlState.kind == "article",
                    or_(
                        CrawlState.status == "pending",
                        (CrawlState.status == "failed") & (CrawlState.attempts < MAX_ATTEMPTS),
                    ),
                )
                .order_by(CrawlState.discovered_at, CrawlState.id)
            )
            if self.max_items is not None:
                query = query.limit(self.max_items)
            return [(row_id, url) for row_id, url in session.execute(query)]

    # -- discovery ----------------------------------------------------------------------

    async def _discover(
        self, spec: SourceSpec, source_id: int, stats: SourceStats
    ) -> dict[str, FeedItem]:
        """Fetch the source's feed (and child sitemaps); queue unseen item URLs as pending."""
        with self.session_factory() as session:
            has_pending = (
                session.scalar(
                    select(CrawlState.id)
                    .where(CrawlState.source_id == source_id, CrawlState.status == "pending")
                    .limit(1)
                )
                is not None
            )
        items: dict[str, FeedItem] = {}
        validators: list[tuple[str, FetchResult]] = []
        queue, seen = [spec.url], {spec.url}
        statuses: list[str] = []
        while queue:
            url = queue.pop(0)
            state = self._feed_state(url)
            # With pending items left by an interrupted run, re-read the feed in full so
            # their feed dates and titles are known again.
            use_validators = state is not None and not has_pending
            result = await self.fetcher.fetch(
                url,
                etag=state.etag if use_validators else None,
                last_modified=state.last_modified if use_validators else None,
                accept=FEED_TYPES,
            )
            if result.not_modified:
                statuses.append("not modified")
                continue
            if not result.ok:
                self._feed_failed(url, source_id, result.describe())
                stats.failed += 1
                stats.errors.append(f"{url}: {result.describe()}")
                statuses.append(result.error or "failed")
                continue
            try:
                found = discover(spec.kind, result.content, result.final_url, spec.selectors)
            except FeedError as exc:
                self._feed_failed(url, source_id, f"parse: {exc}")
                stats.failed += 1
                stats.errors.append(f"{url}: {exc}")
                statuses.append("malformed")
                continue
            for child in found.sitemaps:
                if child not in seen and len(seen) <= MAX_CHILD_SITEMAPS:
                    seen.add(child)
                    queue.append(child)
            for item in found.items:
                items.setdefault(canonical_url(item.url), item)
            validators.append((url, result))
            statuses.append("ok")
        stats.feed = ", ".join(sorted(set(statuses))) or "empty"
        self._queue_items(spec, source_id, items, validators, stats)
        return items

    def _feed_state(self, url: str) -> CrawlState | None:
        with self.session_factory() as session:
            return session.scalar(select(CrawlState).where(CrawlState.url == url))

    def _feed_failed(self, url: str, source_id: int, error: str) -> None:
        with self.session_factory() as session, session.begin():
            state = session.scalar(select(CrawlState).where(CrawlState.url == url))
            if state is None:
                state = CrawlState(url=url, source_id=source_id, kind="feed", attempts=0)
                session.add(state)
            state.status, state.error = "failed", error[:2000]
            state.attempts = (state.attempts or 0) + 1
            state.fetched_at = utcnow()

    def _queue_items(
        self,
        spec: SourceSpec,
        source_id: int,
        items: dict[str, FeedItem],
        validators: list[tuple[str, FetchResult]],
        stats: SourceStats,
    ) -> None:
        """Insert unseen URLs as pending and store the feeds' validators, in one transaction."""
        urls = list(items)
        with self.session_factory() as session, session.begin():
            known: set[str] = set()
            for i in range(0, len(urls), 500):
                chunk = urls[i : i + 500]
                known.update(
                    session.scalars(select(CrawlState.url).where(CrawlState.url.in_(chunk)))
                )
            for url in urls:
                if url in known:
                    stats.unchanged += 1
                    continue
                try:
                    with session.begin_nested():
                        session.add(
                            CrawlState(
                                url=url,
                                source_id=source_id,
                                kind="article",
                                status="pending",
                                attempts=0,
                            )
                        )
                    stats.discovered += 1
                except IntegrityError:  # another worker queued it meanwhile
                    stats.unchanged += 1
            now = utcnow()
            for feed_url, result in validators:
                state = session.scalar(select(CrawlState).where(CrawlState.url == feed_url))
                if state is None:
                    state = CrawlState(url=feed_url, source_id=source_id, kind="feed", attempts=0)
                    session.add(state)
                state.status, state.error = "done", None
                state.etag, state.last_modified = result.etag, result.last_modified
                state.http_status, state.fetched_at = result.status, now
                state.attempts = (state.attempts or 0) + 1

    # -- articles -----------------------------------------------------------------------

    async def _fetch_item(
        self,
        spec: SourceSpec,
        source_id: int,
        row_id: int,
        url: str,
        item: FeedItem | None,
        stats: SourceStats,
    ) -> None:
        outcome = "failed"
        try:
            outcome = await self._fetch_item_inner(spec, source_id, row_id, url, item)
        except Exception as exc:
            log.exception("article failed", url=url)
            self._finish(row_id, "failed", f"{type(exc).__name__}: {exc}", None)
            outcome = "failed"
        if outcome == "failed" or outcome == "rejected":
            stats.failed += 1
        else:
            setattr(stats, outcome, getattr(stats, outcome) + 1)
        self.on_event(CrawlEvent(spec.name, "item", outcome=outcome))

    async def _fetch_item_inner(
        self, spec: SourceSpec, source_id: int, row_id: int, url: str, item: FeedItem | None
    ) -> str:
        with self.session_factory() as session:
            state = session.get(CrawlState, row_id)
            etag = state.etag if state else None
            last_modified = state.last_modified if state else None
        result = await self.fetcher.fetch(url, etag=etag, last_modified=last_modified)
        if result.not_modified:
            self._finish(row_id, "done", None, result)
            return "unchanged"
        if not result.ok:
            status = (
                "blocked"
                if result.error == "robots"
                else "failed"
                if result.retryable
                else "rejected"
            )
            self._finish(row_id, status, result.describe(), result)
            return status
        try:
            extracted = await asyncio.to_thread(
                extract_article,
                result.content,
                result.final_url,
                feed_date=item.published_at if item else None,
                feed_title=item.title if item else None,
                default_language=spec.language,
            )
        except ArticleExtractionError as exc:
            self._finish(row_id, "rejected", f"extract: {exc}", result)
            return "rejected"
        return self._store(spec, source_id, row_id, url, result, extracted)

    def _store(
        self,
        spec: SourceSpec,
        source_id: int,
        row_id: int,
        url: str,
        result: FetchResult,
        extracted: Any,
    ) -> str:
        canonical = canonical_url(result.final_url)
        digest = content_hash(extracted.text)
        signature = simhash(extracted.text)
        with self.session_factory() as session, session.begin():
            state = session.get(CrawlState, row_id)
            dup = session.scalar(
                select(Article.id)
                .where(
                    or_(Article.canonical_url.in_({canonical, url}), Article.content_hash == digest)
                )
                .limit(1)
            )
            if dup is None:
                dup = self.near.find(signature)
            if state is not None:
                state.attempts = (state.attempts or 0) + 1
                state.http_status = result.status
                state.etag, state.last_modified = result.etag, result.last_modified
                state.content_hash, state.fetched_at = digest, utcnow()
            if dup is not None:
                if state is not None:
                    state.status, state.error = "duplicate", f"duplicate of article {dup}"
                return "duplicate"
            article = Article(
                source_id=source_id,
                url=result.final_url,
                canonical_url=canonical,
                title=extracted.title,
                text=extracted.text,
                author=extracted.author,
                language=extracted.language,
                country=spec.country,
                published_at=extracted.published_at,
                fetched_at=utcnow(),
                content_hash=digest,
                simhash=signature,
            )
            session.add(article)
            session.flush()
            if state is not None:
                state.status, state.error = "done", None
            article_id = article.id
        self.near.add(article_id, signature)  # only once the row is committed
        return "new"

    def _finish(
        self, row_id: int, status: str, error: str | None, result: FetchResult | None
    ) -> None:
        with self.session_factory() as session, session.begin():
            state = session.get(CrawlState, row_id)
            if state is None:
                return
            state.status, state.error = status, error[:2000] if error else None
            state.attempts = (state.attempts or 0) + 1
            state.fetched_at = utcnow()
            if result is not None:
                state.http_status = result.status
                if result.ok:
                    state.etag, state.last_modified = result.etag, result.last_modified
