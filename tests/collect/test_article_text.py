from __future__ import annotations

import datetime as dt

import pytest

from relwatch.collect.article_text import ArticleExtractionError, extract_article

FEED_DATE = dt.datetime(2025, 2, 11, 7, 30, tzinfo=dt.UTC)


def test_title_text_date_author_language(fixture_html):
    art = extract_article(fixture_html["seoul_tokyo"], "http://127.0.0.1/a", feed_date=FEED_DATE)
    assert art.title == "Seoul and Tokyo agree to resume security talks"
    assert art.text.startswith("South Korea and Japan agreed on Tuesday")
    assert "Most read" not in art.text and "All rights reserved" not in art.text
    assert art.author == "Min-ji Park"
    assert art.language == "en"
    # the page's own timestamp (08:00 KST) wins over the feed's date
    assert art.published_at == dt.datetime(2025, 3, 3, 23, 0, tzinfo=dt.UTC)


def test_feed_date_is_the_fallback_and_adds_the_hour(fixture_html):
    undated = extract_article(fixture_html["us_china_trade"], feed_date=FEED_DATE)
    assert undated.published_at == FEED_DATE
    same_day = extract_article(fixture_html["india_russia_oil"], feed_date=FEED_DATE)
    assert same_day.published_at == FEED_DATE
    nothing = extract_article(fixture_html["us_china_trade"])
    assert nothing.published_at is None


def test_language_falls_back_to_page_then_source(fixture_html):
    korean = fixture_html["seoul_tokyo"].replace('lang="en"', 'lang="ko-KR"')
    assert extract_article(korean).language == "ko"
    no_lang = fixture_html["seoul_tokyo"].replace(' lang="en"', "")
    assert extract_article(no_lang, default_language="ja").language == "ja"


def test_feed_title_used_when_page_has_none():
    html = (
        "<html><body><div>" + "<p>Plain paragraph of news text without any title at all. </p>" * 4
    )
    art = extract_article(html + "</div></body></html>", feed_title="From the feed")
    assert art.title == "From the feed"


@pytest.mark.parametrize(
    "page",
    [
        "<html><body><nav>Home</nav><p>Short.</p></body></html>",
        "",
        "not html at all",
    ],
)
def test_pages_without_article_text_raise(page: str):
    with pytest.raises(ArticleExtractionError, match="no article text"):
        extract_article(page)
