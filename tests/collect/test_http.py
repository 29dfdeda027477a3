from __future__ import annotations

import asyncio
import socket
import time

import pytest

from relwatch.collect.http import FEED_TYPES, Fetcher

from .conftest import FAST_FETCH
from .server import FixtureServer, too_early


def fetch(url: str, **kwargs):
    options = {**FAST_FETCH, **kwargs.pop("fetcher", {})}

    async def go():
        async with Fetcher(**options) as f:
            return await f.fetch(url, **kwargs)

    return asyncio.run(go())


def test_plain_fetch_sends_user_agent_and_reads_robots_once(server: FixtureServer):
    server.route("/a", "<html><body>hello</body></html>")
    server.route("/b", "<html><body>there</body></html>")

    async def go():
        async with Fetcher(**FAST_FETCH) as f:
            return [await f.fetch(server.url(p)) for p in ("/a", "/b")]

    results = asyncio.run(go())
    assert all(r.ok and r.status == 200 for r in results)
    assert b"hello" in results[0].content
    assert server.paths().count("/robots.txt") == 1
    from relwatch.core.config import get_settings

    ua = server.hits("/a")[0].headers["User-Agent"]
    assert ua == get_settings().user_agent and "mailto:" in ua


def test_disallowed_path_is_never_requested(server: FixtureServer):
    server.route("/private/secret", "<html>secret</html>")
    result = fetch(server.url("/private/secret"))
    assert result.error == "robots" and "robots.txt" in (result.detail or "")
    assert "/private/secret" not in server.paths()


def test_redirect_into_disallowed_path_stops_before_it(server: FixtureServer):
    server.route("/go", status=302, headers={"Location": "/private/x"})
    result = fetch(server.url("/go"))
    assert result.error == "robots"
    assert "/private/x" not in server.paths()


def test_503_is_retried_until_it_succeeds(server: FixtureServer):
    server.route("/flaky", "<html>ok now</html>", fail_first=2)
    result = fetch(server.url("/flaky"))
    assert result.ok and result.attempts == 3
    assert [h.status for h in server.hits("/flaky")] == [503, 503, 200]


def test_persistent_5xx_gives_up_after_retries_with_backoff(server: FixtureServer):
    server.route("/down", "x", fail_first=100)
    result = fetch(server.url("/down"), fetcher={"retries": 2, "backoff_s": 0.1})
    assert result.error == "http_5xx" and result.retryable
    first, second, third = (h.at for h in server.hits("/down"))
    # Each retry leaves only after the previous 503 came back (logged before it was sent),
    # plus the backoff: 0.1 s, then 0.2 s. Load can only lengthen these gaps; a constant or
    # missing backoff makes the second one short.
    assert second - first >= 0.1 - 1e-3
    assert third - second >= 0.2 - 1e-3


def test_4xx_is_not_retried(server: FixtureServer):
    result = fetch(server.url("/missing"))
    assert result.error == "http_4xx" and not result.retryable
    assert len(server.hits("/missing")) == 1


def test_slow_page_times_out(server: FixtureServer):
    server.route("/slow", "<html>late</html>", delay_s=30.0)  # the test never waits for it
    result = fetch(server.url("/slow"), fetcher={"timeout": 0.3, "retries": 0})
    gave_up = time.monotonic()
    assert result.error == "timeout" and not result.ok
    assert gave_up < server.arrival("/slow") + 30.0, "waited for the answer instead"


@pytest.mark.parametrize("send_length", [True, False])
def test_body_over_the_limit_is_refused(server: FixtureServer, send_length: bool):
    server.route("/huge", b"<html>" + b"x" * 300_000 + b"</html>", send_length=send_length)
    result = fetch(server.url("/huge"), fetcher={"max_bytes": 100_000})
    assert result.error == "too_large" and result.content == b""
    assert ("Content-Length" in (result.detail or "")) == send_length


def test_non_html_body_is_refused_by_content_type(server: FixtureServer):
    server.route("/doc.pdf", b"%PDF-1.4 binary", content_type="application/pdf")
    result = fetch(server.url("/doc.pdf"))
    assert result.error == "content_type" and "application/pdf" in (result.detail or "")
    feed = fetch(server.url("/doc.pdf"), accept=FEED_TYPES)
    assert feed.error == "content_type"


def test_redirect_loop_ends_cleanly(server: FixtureServer):
    server.route("/loop/a", status=302, headers={"Location": "/loop/b"})
    server.route("/loop/b", status=301, headers={"Location": "/loop/a"})
    result = fetch(server.url("/loop/a"))
    assert result.error == "redirect" and "loop" in (result.detail or "")
    assert len(server.hits("/loop/a")) == 1 and len(server.hits("/loop/b")) == 1


def test_redirect_chain_longer_than_limit_fails_and_short_one_follows(server: FixtureServer):
    for i in range(4):
        server.route(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    server.route("/r4", "<html>end</html>")
    long = fetch(server.url("/r0"), fetcher={"max_redirects": 2})
    assert long.error == "redirect" and "more than 2 redirects" in (long.detail or "")
    ok = fetch(server.url("/r0"), fetcher={"max_redirects": 5})
    assert ok.ok and ok.final_url == server.url("/r4") and len(ok.redirects) == 4


def test_conditional_get_with_etag_and_last_modified(server: FixtureServer):
    server.route("/e", "<html>e</html>", etag='"v1"')
    server.route("/m", "<html>m</html>", last_modified="Tue, 04 Mar 2025 08:00:00 GMT")
    first_e, first_m = fetch(server.url("/e")), fetch(server.url("/m"))
    assert first_e.etag == '"v1"' and first_m.last_modified
    again_e = fetch(server.url("/e"), etag=first_e.etag)
    again_m = fetch(server.url("/m"), last_modified=first_m.last_modified)
    assert again_e.not_modified and again_e.ok and again_e.status == 304
    assert again_m.not_modified
    assert server.hits("/e")[-1].headers["If-None-Match"] == '"v1"'
    assert server.hits("/m")[-1].headers["If-Modified-Since"] == first_m.last_modified


def test_per_host_rate_limit_spaces_requests(server: FixtureServer):
    for i in range(6):
        server.route(f"/p{i}", f"<html>{i}</html>")

    async def go():
        async with Fetcher(**{**FAST_FETCH, "default_rate": 5.0, "per_host_concurrency": 4}) as f:
            return await asyncio.gather(*(f.fetch(server.url(f"/p{i}")) for i in range(6)))

    results = asyncio.run(go())
    assert all(r.ok for r in results)
    pages = [h.at for h in server.log if h.path.startswith("/p")]
    assert len(pages) == 6 and server.paths().count("/robots.txt") == 1
    # all six wait for robots.txt, then get slots 0.2 s apart (5 per second)
    assert not too_early(server.arrival("/robots.txt"), pages, 0.2)


def test_crawl_delay_from_robots_slows_the_host(server: FixtureServer):
    server.route("/robots.txt", "User-agent: *\nCrawl-delay: 0.3\n", content_type="text/plain")
    for i in range(3):
        server.route(f"/c{i}", "<html>c</html>")

    async def go():
        async with Fetcher(**FAST_FETCH) as f:
            return [await f.fetch(server.url(f"/c{i}")) for i in range(3)]

    assert all(r.ok for r in asyncio.run(go()))
    pages = [h.at for h in server.log if h.path.startswith("/c")]
    assert len(pages) == 3
    # the default rate here is 200/s; only the robots.txt Crawl-delay spaces them 0.3 s apart
    assert not too_early(server.arrival("/robots.txt"), pages, 0.3)


def test_unreachable_host_is_reported_not_raised():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = fetch(f"http://127.0.0.1:{port}/feed.xml", fetcher={"retries": 1})
    assert result.error == "unreachable" and not result.ok
    assert "robots.txt unavailable" in (result.detail or "")
