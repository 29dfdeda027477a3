"""SSRF guard of URL analysis: only public addresses, checked at connect time on every hop.

Every server here listens on 127.0.0.1. A test that proves a fetch works allow-lists it;
a test that proves refusal does not, and then checks the server never saw the request.
"""

from __future__ import annotations

import asyncio

import pytest

from relwatch.core.config import Settings
from relwatch.serve.urlfetch import (
    AddressPolicy,
    UrlRefused,
    fetch_article,
    guarded_transport,
)
from tests.collect.server import FixtureServer

ARTICLE = """<html lang="en"><head><title>Talks in Seoul</title></head><body><article>
<h1>Talks in Seoul</h1>
<p>South Korea and Japan agreed on Monday to resume regular security talks after a pause of
two years, officials in Seoul said.</p>
<p>China criticised the plan, while the United States welcomed the agreement between its two
allies and promised to join a trilateral meeting in Tokyo next month.</p>
</article></body></html>"""


@pytest.fixture
def server():
    with FixtureServer() as srv:
        yield srv


def settings(*allow: str, **extra: object) -> Settings:
    return Settings(serve_url_allowlist=list(allow), crawl_timeout_s=10, **extra)


def fetch(url: str, s: Settings, resolver=None):
    return asyncio.run(fetch_article(url, settings=s, resolver=resolver))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.0.10",
        "169.254.10.1",
        "fe80::1",
        "fc00::5",
        "224.0.0.1",
        "239.255.255.250",
        "ff02::1",
        "0.0.0.0",
        "::",
        "240.0.0.1",
        "100.64.0.1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "169.254.169.254",
        "fd00:ec2::254",
    ],
)
def test_non_public_addresses_are_refused(address: str):
    with pytest.raises(UrlRefused, match="refused"):
        AddressPolicy().check_address("example.org", address)


def test_public_addresses_pass_and_allow_lists_open_private_ones_but_never_metadata():
    policy = AddressPolicy()
    policy.check_address("example.org", "93.184.216.34")
    policy.check_address("example.org", "2606:4700:4700::1111")
    loopback = AddressPolicy.from_entries(["127.0.0.0/8", "Intranet.Example."])
    loopback.check_address("anything", "127.0.0.1")
    loopback.check_address("intranet.example", "10.0.0.7")  # host allow-listed by name
    with pytest.raises(UrlRefused):
        loopback.check_address("anything", "10.0.0.7")
    everything = AddressPolicy.from_entries(["0.0.0.0/0", "::/0", "metadata.internal"])
    for address in ("169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"):
        with pytest.raises(UrlRefused, match="metadata"):
            everything.check_address("metadata.internal", address)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.org/x", "only http and https"),
        ("gopher://example.org:70/", "only http and https"),
        ("//example.org/x", "only http and https"),
        ("http://user:secret@example.org/", "credentials"),
        ("http:///path-only", "no host"),
        ("http://example.org:99999/", "not a valid URL"),
        ("http://example.org/" + "a" * 3000, "longer than"),
    ],
)
def test_bad_urls_are_refused_before_anything_is_resolved(url: str, why: str):
    def resolver(host, port):
        raise AssertionError("must not resolve")

    with pytest.raises(UrlRefused, match=why):
        fetch(url, settings(), resolver)


def test_an_allow_listed_loopback_server_is_fetched_and_extracted(server: FixtureServer):
    server.route("/story", ARTICLE)
    article = fetch(server.url("/story"), settings("127.0.0.1"))
    assert article.title == "Talks in Seoul"
    assert "South Korea and Japan agreed" in article.text
    assert article.final_url == server.url("/story")
    assert server.paths() == ["/robots.txt", "/story"]  # robots.txt first, as the crawler


def test_the_same_server_is_refused_when_not_allow_listed(server: FixtureServer):
    server.route("/story", ARTICLE)
    with pytest.raises(UrlRefused, match=r"non-public address 127\.0\.0\.1"):
        fetch(server.url("/story"), settings())
    with pytest.raises(UrlRefused, match="non-public"):
        fetch(f"http://localhost:{server.port}/story", settings())
    assert server.arrivals == []  # not even robots.txt


def test_a_redirect_to_a_refused_host_is_stopped_at_that_hop(server: FixtureServer):
    """Allowed by name (localhost), redirected to a bare loopback address: refused there."""
    server.route("/story", ARTICLE)
    server.route(
        "/moved", status=302, headers={"Location": f"http://127.0.0.1:{server.port}/story"}
    )
    resolver_calls = []

    def resolver(host, port):
        resolver_calls.append(host)
        return ["127.0.0.1"] if host == "localhost" else []

    with pytest.raises(UrlRefused, match=r"127\.0\.0\.1"):
        fetch(f"http://localhost:{server.port}/moved", settings("localhost"), resolver)
    assert "/moved" in server.paths()
    assert "/story" not in server.paths()


def test_dns_rebinding_between_check_and_connect_cannot_reach_loopback(server: FixtureServer):
    """The early check sees a public address; the connection resolves again and is refused."""
    server.route("/story", ARTICLE)
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])

    def rebinding(host, port):
        return next(answers)

    with pytest.raises(UrlRefused, match=r"127\.0\.0\.1"):
        fetch(f"http://rebind.test:{server.port}/story", settings(), rebinding)
    assert server.arrivals == []


def test_the_guarded_backend_connects_to_the_address_it_checked(server: FixtureServer):
    import httpx

    server.route("/x", "<p>hi</p>")
    transport, backend = guarded_transport(
        AddressPolicy.from_entries(["checked.test"]), lambda host, port: ["127.0.0.1"]
    )

    async def go():
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get(f"http://checked.test:{server.port}/x")

    response = asyncio.run(go())
    assert response.status_code == 200
    assert backend.connected == [("checked.test", "127.0.0.1")]
    assert server.hits("/x")[0].headers["Host"] == f"checked.test:{server.port}"


def test_crawler_limits_apply_size_and_robots(server: FixtureServer):
    server.route("/big", "<html><body>" + "word " * 5000 + "</body></html>")
    with pytest.raises(UrlRefused, match="too_large"):
        fetch(server.url("/big"), settings("127.0.0.1", crawl_max_bytes=2000))
    server.route("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    server.route("/private/story", ARTICLE)
    with pytest.raises(UrlRefused, match="robots"):
        fetch(server.url("/private/story"), settings("127.0.0.1"))
    assert "/private/story" not in server.paths()
