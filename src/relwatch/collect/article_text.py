"""Article extraction with trafilatura: main text and metadata out of a news page.

Pages lie about dates less often than feeds omit them, so the page's date wins and the
feed's date is the fallback (and adds the time of day when both name the same day).
Language comes from the page (``<html lang>``) or else the source's registry language.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import trafilatura
from lxml import etree, html

from relwatch.collect.feeds import parse_date
from relwatch.core.errors import ArticleExtractionError

MIN_TEXT_CHARS = 80

_LANG = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_DATE_PARAMS = {
    "original_date": True,
    "extensive_search": False,  # no guessing from free text or URLs of other pages
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


@dataclass(frozen=True)
class ExtractedArticle:
    title: str | None
    text: str
    published_at: dt.datetime | None
    author: str | None
    language: str | None


def _page_language(content: str | bytes) -> str | None:
    """The ``lang`` attribute of the page's root element, normalised to a short code."""
    try:
        root = html.fromstring(content)
    except (etree.ParserError, ValueError):
        return None
    lang = (root.get("lang") or root.get("xml:lang") or "").strip()
    if not lang or not _LANG.match(lang):
        return None
    primary, _, region = lang.replace("_", "-").partition("-")
    return primary.lower() if not region or primary.lower() != "zh" else f"zh-{region}"


def _pick_date(page: dt.datetime | None, feed: dt.datetime | None) -> dt.datetime | None:
    if page is None:
        return feed
    if feed is not None and page.date() == feed.date() and page.time() == dt.time(0):
        return feed  # same day; the feed knows the hour
    return page


def extract_article(
    content: str | bytes,
    url: str | None = None,
    *,
    feed_date: dt.datetime | None = None,
    feed_title: str | None = None,
    default_language: str | None = None,
) -> ExtractedArticle:
    """Title, text, date, author and language of one article page.

    Raises ArticleExtractionError when the page holds fewer than MIN_TEXT_CHARS of main text.
    """
    doc = trafilatura.bare_extraction(
        content,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        date_extraction_params=_DATE_PARAMS,
    )
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if len(text) < MIN_TEXT_CHARS:
        raise ArticleExtractionError(f"no article text found ({len(text)} characters)")
    title = (getattr(doc, "title", None) or feed_title or "").strip() or None
    if title:
        first, _, rest = text.partition("\n")
        if first.strip() == title and len(rest.strip()) >= MIN_TEXT_CHARS:
            text = rest.strip()  # trafilatura keeps the <h1>; the title has its own column
    author = (getattr(doc, "author", None) or "").strip() or None
    published = _pick_date(parse_date(getattr(doc, "date", None)), feed_date)
    language = getattr(doc, "language", None) or _page_language(content) or default_language
    return ExtractedArticle(
        title=title,
        text=text,
        published_at=published,
        author=author[:500] if author else None,
        language=language[:10] if language else None,
    )
