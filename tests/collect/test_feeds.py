from __future__ import annotations

import datetime as dt
import gzip

import pytest
from lxml import html

from relwatch.collect.feeds import (
    FeedError,
    css_to_xpath,
    discover,
    parse_date,
    parse_feed,
    parse_listing,
    parse_sitemap,
)
from relwatch.collect.sources import Selectors

from .conftest import FIXTURES
from .server import rss, sitemap, sitemap_index

BASE = "http://127.0.0.1:8/"


def test_rss_items_with_dates_titles_and_relative_links():
    xml = rss(
        [
            ("/news/1", "One", "Tue, 04 Mar 2025 08:00:00 GMT"),
            ("http://127.0.0.1:8/news/2", "Two", None),
            ("mailto:desk@example.org", "Not a page", None),
        ]
    )
    found = parse_feed(xml.encode(), BASE + "feed.xml")
    assert [i.url for i in found.items] == [BASE + "news/1", BASE + "news/2"]
    assert found.items[0].title == "One"
    assert found.items[0].published_at == dt.datetime(2025, 3, 4, 8, tzinfo=dt.UTC)
    assert found.items[1].published_at is None


def test_atom_feed():
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id><updated>2025-03-04T00:00:00Z</updated>
<entry><title>A</title><id>urn:a</id><link rel="alternate" href="http://127.0.0.1:8/a"/>
<published>2025-03-04T09:30:00+09:00</published><updated>2025-03-04T09:30:00+09:00</updated></entry>
</feed>"""
    found = discover("atom", atom.encode(), BASE)
    assert found.items[0].url == BASE + "a"
    assert found.items[0].published_at == dt.datetime(2025, 3, 4, 0, 30, tzinfo=dt.UTC)


def test_malformed_feed_and_non_feed_raise_feed_error():
    with pytest.raises(FeedError, match="malformed feed"):
        parse_feed((FIXTURES / "malformed_feed.xml").read_bytes(), BASE)
    with pytest.raises(FeedError):
        parse_feed(b"%PDF-1.4 \x00\x01 binary", BASE)


def test_news_sitemap_gives_urls_titles_and_publication_dates():
    xml = sitemap([BASE + "a", BASE + "b"], news_dates=["2025-03-04T08:00:00+09:00", "2025-03-05"])
    found = parse_sitemap(xml.encode(), BASE)
    assert [i.url for i in found.items] == [BASE + "a", BASE + "b"]
    assert found.items[0].title == "Title 0"
    assert found.items[0].published_at == dt.datetime(2025, 3, 3, 23, tzinfo=dt.UTC)
    assert found.items[1].published_at == dt.datetime(2025, 3, 5, tzinfo=dt.UTC)


def test_sitemap_index_lists_children_and_gzip_is_read():
    found = parse_sitemap(
        gzip.compress(sitemap_index([BASE + "s1.xml", BASE + "s2.xml"]).encode()), BASE
    )
    assert found.sitemaps == [BASE + "s1.xml", BASE + "s2.xml"] and not found.items


def test_malformed_or_foreign_xml_is_a_feed_error():
    with pytest.raises(FeedError, match="malformed XML"):
        parse_sitemap((FIXTURES / "malformed_sitemap.xml").read_bytes(), BASE)
    with pytest.raises(FeedError, match="not a sitemap"):
        parse_sitemap(b"<html><body/></html>", BASE)
    with pytest.raises(FeedError, match="broken gzip"):
        parse_sitemap(b"\x1f\x8bnot really gzip", BASE)


def test_xml_entities_are_not_expanded():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&e;</loc></url></urlset>"""
    found = parse_sitemap(bomb, BASE)
    assert all("root:" not in i.url for i in found.items)


LISTING = b"""<html><body>
<div class="list"><ul>
 <li class="item"><a href="/press/1">Statement on talks</a><span class="d">2025-03-04</span></li>
 <li class="item"><a href="/press/2">Joint declaration</a><span class="d">2025-03-05</span></li>
 <li class="item"><a href="/press/1">Statement on talks</a></li>
</ul></div>
<div id="nav"><a href="/about">About</a></div>
</body></html>"""


def test_listing_with_css_selectors():
    sel = Selectors(links="div.list li.item > a")
    found = parse_listing(LISTING, BASE + "press/", sel)
    assert [i.url for i in found.items] == [BASE + "press/1", BASE + "press/2"]
    assert found.items[1].title == "Joint declaration"


def test_listing_with_xpath_and_relative_date_selector():
    sel = Selectors(links="//li[@class='item']", date="./span[@class='d']")
    found = parse_listing(LISTING, BASE, sel)
    assert [i.published_at.day for i in found.items if i.published_at] == [4, 5]


def test_css_selectors_beyond_the_old_subset_select_the_right_nodes():
    doc = html.fromstring(LISTING)
    assert doc.xpath(css_to_xpath("#nav a[href]"))[0].get("href") == "/about"
    second = doc.xpath(css_to_xpath("li.item:nth-child(2) > a"))
    assert [a.get("href") for a in second] == ["/press/2"]
    press = doc.xpath(css_to_xpath("li:not(.other) a[href^='/press/']"))
    assert [a.get("href") for a in press] == ["/press/1", "/press/2", "/press/1"]
    assert css_to_xpath("  DIV.list  ") == css_to_xpath("div.list")  # HTML: case-insensitive tags
    sel = Selectors(links="ul > li.item:first-child a, #nav a")
    found = parse_listing(LISTING, BASE, sel)
    assert [i.url for i in found.items] == [BASE + "press/1", BASE + "about"]


@pytest.mark.parametrize("selector", ["a[", "div.list ,", "a::text", "li >> a", "a:no-such-pseudo"])
def test_invalid_css_selector_is_a_feed_error_with_the_selector_in_it(selector: str):
    with pytest.raises(FeedError, match="bad CSS selector") as info:
        parse_listing(LISTING, BASE, Selectors(links=selector))
    assert repr(selector) in str(info.value) and "XPath" in str(info.value)


def test_bad_xpath_is_a_feed_error():
    with pytest.raises(FeedError, match="bad selector"):
        parse_listing(LISTING, BASE, Selectors(links="//a[("))


def test_parse_date_formats():
    assert parse_date("Tue, 04 Mar 2025 08:00:00 +0900") == dt.datetime(
        2025, 3, 3, 23, tzinfo=dt.UTC
    )
    assert parse_date("2025-03-04") == dt.datetime(2025, 3, 4, tzinfo=dt.UTC)
    assert parse_date("yesterday") is None and parse_date(None) is None
