from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import func, select

from relwatch.collect.crawler import CrawlEvent, crawl, crawl_async
from relwatch.collect.sources import Selectors, SourceSpec
from relwatch.core.models import Article, CrawlState, Source

from .conftest import FAST_FETCH
from .server import FixtureServer, generated_article, rss, sitemap, sitemap_index, too_early

DATE = "Tue, 04 Mar 2025 06:00:00 GMT"


def spec(
    server: FixtureServer,
    path: str,
    *,
    name: str = "Fixture Daily",
    kind: str = "rss",
    rate: float = 200.0,
    **kw,
) -> SourceSpec:
    return SourceSpec(
        name=name,
        country="KOR",
        kind=kind,
        url=server.url(path),
        language="en",
        rate_limit_per_sec=rate,
        **kw,
    )


def articles(sessions) -> list[Article]:
    with sessions() as s:
        return list(s.scalars(select(Article).order_by(Article.id)))


def states(sessions) -> dict[str, str]:
    with sessions() as s:
        return {
            url: status
            for url, status in s.execute(
                select(CrawlState.url, CrawlState.status).where(CrawlState.kind == "article")
            )
        }


@pytest.fixture
def hostile_site(server: FixtureServer, fixture_html):
    """A feed that mixes good articles with every kind of trouble."""
    server.route("/news/seoul-tokyo", fixture_html["seoul_tokyo"])
    server.route("/news/us-china", fixture_html["us_china_trade"])
    server.route("/news/india-russia", fixture_html["india_russia_oil"])
    server.route("/wire/seoul-tokyo-copy", fixture_html["seoul_tokyo_syndicated"])
    server.route("/news/flaky", generated_article(1), fail_first=1)
    server.route("/private/leak", generated_article(2))
    server.route("/news/huge", b"<html><body>" + b"<p>word </p>" * 20_000 + b"</body></html>")
    server.route("/news/slow", generated_article(3), delay_s=2.5)
    server.route("/news/loop", status=302, headers={"Location": "/news/loop2"})
    server.route("/news/loop2", status=302, headers={"Location": "/news/loop"})
    server.route("/news/report.pdf", b"%PDF-1.4", content_type="application/pdf")
    server.route("/news/stub", "<html><body><p>Coming soon.</p></body></html>")
    links = [
        "/news/seoul-tokyo",
        "/news/seoul-tokyo?utm_source=rss&utm_medium=feed",
        "/news/us-china",
        "/news/india-russia",
        "/wire/seoul-tokyo-copy",
        "/news/flaky",
        "/private/leak",
        "/news/huge",
        "/news/slow",
        "/news/loop",
        "/news/report.pdf",
        "/news/stub",
    ]
    server.route(
        "/feed.xml",
        rss([(server.url(p), f"T {p}", DATE) for p in links]),
        content_type="application/rss+xml",
        etag='"feed-v1"',
    )
    return server


def run(sessions, sources, **kw):
    options = {**FAST_FETCH, "max_bytes": 100_000, **kw}
    return crawl(sessions, sources, **options)


def test_crawl_stores_good_articles_and_survives_every_hostile_page(hostile_site, sessions):
    server = hostile_site
    report = run(sessions, [spec(server, "/feed.xml")])
    stats = report.sources[0]
    assert stats.feed == "ok"
    assert stats.discovered == 11  # the utm_ copy collapsed into its canonical URL
    assert (stats.new, stats.duplicate, stats.blocked) == (4, 1, 1)
    assert stats.failed == 5  # huge, slow, loop, pdf, stub
    stored = articles(sessions)
    assert sorted(a.title for a in stored) == sorted(
        [
            "Seoul and Tokyo agree to resume security talks",
            "Washington and Beijing trade barbs over chip export controls",
            "India and Russia sign long-term oil supply deal",
            "Story number 1 on regional affairs",
        ]
    )
    for a in stored:
        assert a.country == "KOR" and a.source_id is not None and a.fetched_at is not None
        assert len(a.content_hash) == 64 and a.simhash is not None
        assert a.canonical_url.startswith(server.base) and "utm_" not in a.canonical_url
    by_title = {a.title: a for a in stored}
    # page date wins; an undated page gets the feed's date
    assert by_title["Washington and Beijing trade barbs over chip export controls"].published_at
    st = states(sessions)
    # fetched concurrently: whichever copy is stored first wins, the other is the duplicate
    pair = {st[server.url("/wire/seoul-tokyo-copy")], st[server.url("/news/seoul-tokyo")]}
    assert pair == {"done", "duplicate"}
    assert st[server.url("/private/leak")] == "blocked"
    assert st[server.url("/news/slow")] == "failed"  # transient: retried next run
    assert st[server.url("/news/huge")] == "rejected"
    assert st[server.url("/news/stub")] == "rejected"
    assert "/private/leak" not in server.paths()
    assert len(server.hits("/news/flaky")) == 2
    with sessions() as s:
        assert s.scalar(select(Source.name)) == "Fixture Daily"


def test_second_run_uses_304_and_fetches_only_new_items(hostile_site, sessions):
    server = hostile_site
    source = spec(server, "/feed.xml")
    run(sessions, [source], retries=1)
    first = len(server.log)
    report = run(sessions, [source], retries=1)
    second = server.log[first:]
    feed_hits = [h for h in second if h.path == "/feed.xml"]
    assert feed_hits[0].headers.get("If-None-Match") == '"feed-v1"' and feed_hits[0].status == 304
    assert report.sources[0].feed == "not modified" and report.sources[0].new == 0
    refetched = {h.path for h in second} - {"/feed.xml", "/robots.txt"}
    assert refetched == {"/news/slow"}, "only the transient failure is tried again"

    server.route("/news/fresh", generated_article(50))
    server.route(
        "/feed.xml",
        rss(
            [
                (server.url("/news/fresh"), "Fresh", DATE),
                (server.url("/news/us-china"), "old", DATE),
            ]
        ),
        content_type="application/rss+xml",
        etag='"feed-v2"',
    )
    mark = len(server.log)
    report = run(sessions, [source], retries=1)
    third = {h.path for h in server.log[mark:]} - {"/feed.xml", "/robots.txt", "/news/slow"}
    assert third == {"/news/fresh"}
    assert (report.sources[0].new, report.sources[0].unchanged) == (1, 1)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 5


def make_site(server: FixtureServer, n: int, path: str = "/feed.xml") -> list[str]:
    links = [f"/story/{i}" for i in range(n)]
    for i, link in enumerate(links):
        server.route(link, generated_article(i))
    server.route(
        path,
        rss([(server.url(p), f"S{i}", DATE) for i, p in enumerate(links)]),
        content_type="application/rss+xml",
    )
    return links


def test_max_items_leaves_the_rest_pending_for_the_next_run(server, sessions):
    links = make_site(server, 12)
    source = spec(server, "/feed.xml")
    first = run(sessions, [source], max_items=5)
    assert first.sources[0].discovered == 12 and first.sources[0].new == 5
    assert list(states(sessions).values()).count("pending") == 7
    second = run(sessions, [source])
    assert second.sources[0].new == 7 and second.sources[0].discovered == 0
    assert len(articles(sessions)) == 12
    for link in links:
        assert len(server.hits(link)) == 1


def test_interrupted_run_resumes_without_duplicates(server, sessions):
    links = make_site(server, 16)
    source = spec(server, "/feed.xml", rate=40.0)

    async def interrupted():
        done = asyncio.Event()
        count = 0

        def hook(event: CrawlEvent) -> None:
            nonlocal count
            if event.kind == "item":
                count += 1
                if count == 5:
                    done.set()

        task = asyncio.create_task(crawl_async(sessions, [source], on_event=hook, **FAST_FETCH))
        await done.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    partial = len(articles(sessions))
    assert 5 <= partial < 16
    assert "pending" in states(sessions).values()
    resumed = run(sessions, [source])
    assert resumed.sources[0].new == 16 - partial
    stored = articles(sessions)
    assert len(stored) == 16
    assert len({a.canonical_url for a in stored}) == 16
    assert set(states(sessions).values()) == {"done"}
    for link in links:
        assert 1 <= len(server.hits(link)) <= 2  # at most the in-flight ones twice


def test_rate_limit_per_source_host(server, sessions):
    make_site(server, 6)
    report = run(sessions, [spec(server, "/feed.xml", rate=8.0)], per_host_concurrency=3)
    assert report.sources[0].new == 6
    assert server.paths().count("/robots.txt") == 1
    after_robots = [h.at for h in server.log if h.path != "/robots.txt"]
    assert len(after_robots) == 7  # feed + 6 stories
    # The feed waits for robots.txt and the stories for the feed, all on one host at 8/s:
    # the k-th of them cannot arrive before robots.txt's arrival + k/8 s, however busy the
    # machine (the source's rate, not the fetcher's default 200/s, applies).
    assert not too_early(server.arrival("/robots.txt"), after_robots, 1 / 8.0)


def test_sitemap_index_source_and_listing_source(server, sessions, fixture_html):
    server.route("/a/undated", fixture_html["us_china_trade"])
    server.route("/a/other", fixture_html["india_russia_oil"])
    server.route(
        "/sitemap-news.xml",
        sitemap([server.url("/a/undated")], news_dates=["2025-01-20T10:15:00Z"]),
    )
    server.route(
        "/sitemap-index.xml",
        sitemap_index([server.url("/sitemap-news.xml")]),
        content_type="application/xml",
    )
    server.route("/press/", '<ul class="rel"><li><a href="/a/other">Deal</a></li></ul>')
    report = run(
        sessions,
        [
            spec(server, "/sitemap-index.xml", name="Map", kind="sitemap"),
            spec(
                server,
                "/press/",
                name="Ministry",
                kind="listing",
                selectors=Selectors(links="ul.rel a"),
                category="government",
            ),
        ],
    )
    assert [s.new for s in report.sources] == [1, 1]
    stored = {a.title: a for a in articles(sessions)}
    undated = stored["Washington and Beijing trade barbs over chip export controls"]
    assert undated.published_at.replace(tzinfo=None).isoformat() == "2025-01-20T10:15:00"


def test_malformed_feed_is_a_recorded_failure_and_other_sources_go_on(server, sessions):
    from .conftest import FIXTURES

    server.route(
        "/bad.xml", (FIXTURES / "malformed_feed.xml").read_bytes(), content_type="application/xml"
    )
    server.route(
        "/bad-sitemap.xml",
        (FIXTURES / "malformed_sitemap.xml").read_bytes(),
        content_type="application/xml",
    )
    make_site(server, 2, path="/good.xml")
    report = run(
        sessions,
        [
            spec(server, "/bad.xml", name="Broken"),
            spec(server, "/bad-sitemap.xml", name="Broken map", kind="sitemap"),
            spec(server, "/good.xml", name="Good"),
            spec(server, "/nothing-here.xml", name="Gone"),
        ],
    )
    broken, broken_map, good, gone = report.sources
    assert (
        broken.failed == 1 and broken.feed == "malformed" and "malformed feed" in broken.errors[0]
    )
    assert broken_map.failed == 1 and "malformed XML" in broken_map.errors[0]
    assert good.new == 2
    assert gone.failed == 1 and gone.feed == "http_4xx"
    with sessions() as s:
        failed = s.scalar(select(CrawlState).where(CrawlState.url == server.url("/bad.xml")))
        assert failed.status == "failed" and failed.kind == "feed"


@pytest.mark.postgres
def test_crawl_on_postgresql(server, pg_url):
    from sqlalchemy.orm import sessionmaker

    from relwatch.core.db import make_engine

    engine = make_engine(pg_url)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    try:
        make_site(server, 4)
        source = spec(server, "/feed.xml")
        assert run(sessions, [source]).sources[0].new == 4
        again = run(sessions, [source])
        assert again.sources[0].new == 0 and again.sources[0].unchanged == 4
        stored = articles(sessions)
        assert len(stored) == 4 and all(a.simhash is not None for a in stored)
    finally:
        engine.dispose()
