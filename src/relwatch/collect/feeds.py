"""Turn a source's index document (RSS/Atom, sitemap, listing page) into article links.

Every parser returns ``Discovery`` (item links plus, for sitemap indexes, child
sitemaps) or raises ``FeedError`` with one line saying what is wrong, so one broken feed
becomes a recorded failure of that source and never stops the crawl.
"""

from __future__ import annotations

import datetime as dt
import gzip
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import urljoin

import feedparser
from cssselect import HTMLTranslator, SelectorError
from lxml import etree, html

from relwatch.collect.sources import Selectors
from relwatch.core.errors import FeedError  # one error tree: the faces map it to exit 2 / 4xx

__all__ = [
    "Discovery",
    "FeedError",
    "FeedItem",
    "css_to_xpath",
    "discover",
    "parse_date",
    "parse_feed",
    "parse_listing",
    "parse_sitemap",
]


@dataclass(frozen=True)
class FeedItem:
    """One article link as announced by a feed, with what the feed says about it."""

    url: str
    title: str | None = None
    published_at: dt.datetime | None = None


@dataclass
class Discovery:
    items: list[FeedItem] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # children of a sitemap index


def parse_date(value: str | None) -> dt.datetime | None:
    """ISO 8601 or RFC 822 date → aware UTC datetime; None when unparseable."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _http_only(url: str | None, base: str) -> str | None:
    if not url:
        return None
    absolute = urljoin(base, url.strip())
    return absolute if absolute.startswith(("http://", "https://")) else None


def parse_feed(content: bytes, base_url: str) -> Discovery:
    """RSS 0.9x/1.0/2.0 or Atom. Feeds with recoverable errors still yield their entries."""
    parsed = feedparser.parse(content, response_headers={"content-location": base_url})
    if not parsed.entries and not parsed.get("version") and not parsed.get("bozo"):
        raise FeedError("not an RSS or Atom feed")
    items: list[FeedItem] = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            for alt in entry.get("links", []):
                if alt.get("rel", "alternate") == "alternate" and alt.get("href"):
                    link = alt["href"]
                    break
        url = _http_only(link, base_url)
        if not url:
            continue
        published = None
        for key in ("published_parsed", "updated_parsed"):
            struct = entry.get(key)
            if struct:
                published = dt.datetime(*struct[:6], tzinfo=dt.UTC)
                break
        items.append(FeedItem(url, (entry.get("title") or "").strip() or None, published))
    if not items and parsed.get("bozo"):
        # A broken feed that still yields linked entries is used; one that yields none fails.
        reason = parsed.get("bozo_exception")
        raise FeedError(
            f"malformed feed: {str(reason).splitlines()[0] if reason else 'unparseable'}"
        )
    return Discovery(items=items)


def _xml_root(content: bytes) -> etree._Element:
    if content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError) as exc:
            raise FeedError(f"broken gzip sitemap: {exc}") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"malformed XML: {exc}") from None


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def parse_sitemap(content: bytes, base_url: str) -> Discovery:
    """A sitemap (urlset, incl. Google News tags) or a sitemap index."""
    root = _xml_root(content)
    kind = _local(root.tag)
    found = Discovery()
    if kind == "sitemapindex":
        for node in root:
            if _local(node.tag) != "sitemap":
                continue
            loc = next((c.text for c in node if _local(c.tag) == "loc"), None)
            url = _http_only(loc, base_url)
            if url:
                found.sitemaps.append(url)
        return found
    if kind != "urlset":
        raise FeedError(f"not a sitemap: root element <{kind}>")
    for node in root:
        if _local(node.tag) != "url":
            continue
        loc = lastmod = title = news_date = None
        for child in node.iter():
            name = _local(child.tag)
            if name == "loc" and loc is None:
                loc = child.text
            elif name == "lastmod":
                lastmod = child.text
            elif name == "publication_date":
                news_date = child.text
            elif name == "title" and child.text:
                title = child.text.strip()
        url = _http_only(loc, base_url)
        if url:
            found.items.append(FeedItem(url, title, parse_date(news_date or lastmod)))
    return found


_CSS = HTMLTranslator()  # HTML rules: lxml.html lower-cases tag names, so "DIV" matches too


@lru_cache(maxsize=256)
def css_to_xpath(selector: str) -> str:
    """A CSS selector (Selectors Level 3, via cssselect) as XPath; ``FeedError`` when invalid.

    Cached: a source's selectors are applied to every item of every listing page.
    """
    try:
        return _CSS.css_to_xpath(selector.strip())
    except SelectorError as exc:
        raise FeedError(
            f"bad CSS selector {selector!r}: {exc}; use XPath (starting with /) for what CSS "
            "cannot say"
        ) from None


def _select(node: html.HtmlElement, selector: str) -> list:
    xpath = selector if selector.lstrip().startswith(("/", "./", "(")) else css_to_xpath(selector)
    try:
        return node.xpath(xpath)
    except etree.XPathError as exc:
        raise FeedError(f"bad selector {selector!r}: {exc}") from None


def parse_listing(content: bytes, base_url: str, selectors: Selectors) -> Discovery:
    """Article links on an HTML listing page, picked by the source's selectors."""
    if not content.strip():
        raise FeedError("empty listing page")
    try:
        doc = html.fromstring(content, base_url=base_url)
    except (etree.ParserError, ValueError) as exc:
        raise FeedError(f"unparseable listing page: {exc}") from None
    found = Discovery()
    seen: set[str] = set()
    for node in _select(doc, selectors.links):
        href = node if isinstance(node, str) else node.get("href")
        if href is None and not isinstance(node, str):
            inner = node.xpath(".//a[@href]")
            href = inner[0].get("href") if inner else None
        url = _http_only(str(href) if href is not None else None, base_url)
        if not url or url in seen:
            continue
        seen.add(url)
        title = date = None
        if not isinstance(node, str):
            title = node.text_content().strip() or None
            if selectors.title:
                hits = _select(node, selectors.title)
                title = _text(hits[0]) if hits else title
            if selectors.date:
                hits = _select(node, selectors.date)
                date = parse_date(_text(hits[0])) if hits else None
        found.items.append(FeedItem(url, title, date))
    return found


def _text(node: object) -> str:
    return node.strip() if isinstance(node, str) else node.text_content().strip()  # type: ignore[attr-defined]


def discover(
    kind: str, content: bytes, base_url: str, selectors: Selectors | None = None
) -> Discovery:
    """Parse a source's index document according to its registry ``kind``."""
    if kind in ("rss", "atom"):
        return parse_feed(content, base_url)
    if kind == "sitemap":
        return parse_sitemap(content, base_url)
    if kind == "listing":
        if selectors is None:
            raise FeedError("listing source without selectors")
        return parse_listing(content, base_url, selectors)
    raise FeedError(f"unknown source kind {kind!r}")
