from __future__ import annotations

import pytest

from relwatch.collect.article_text import extract_article
from relwatch.collect.dedup import (
    NEAR_DUP_BITS,
    NearDuplicateIndex,
    canonical_url,
    content_hash,
    hamming,
    simhash,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "https://News.Example.com/a/b?utm_source=rss&utm_medium=x",
            "https://news.example.com/a/b",
        ),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?id=7&fbclid=abc", "https://example.com/a?id=7"),
        ("https://example.com:443/a", "https://example.com/a"),
    ],
)
def test_canonical_url_merges_variants(a: str, b: str):
    assert canonical_url(a) == canonical_url(b)


def test_canonical_url_keeps_meaningful_differences():
    assert canonical_url("https://example.com/a?id=7") != canonical_url(
        "https://example.com/a?id=8"
    )
    assert canonical_url("https://example.com/a") != canonical_url("https://example.com/b")


def test_content_hash_ignores_spacing_and_case_only():
    assert content_hash("Seoul  and\nTokyo agree.") == content_hash("seoul and tokyo agree")
    assert content_hash("Seoul and Tokyo agree") != content_hash("Seoul and Tokyo disagree")
    assert len(content_hash("x")) == 64


def test_simhash_finds_the_syndicated_copy_but_not_other_stories(fixture_html):
    texts = {k: extract_article(v).text for k, v in fixture_html.items()}
    original, copy = simhash(texts["seoul_tokyo"]), simhash(texts["seoul_tokyo_syndicated"])
    assert texts["seoul_tokyo"] != texts["seoul_tokyo_syndicated"]
    assert hamming(original, copy) <= NEAR_DUP_BITS
    for other in ("us_china_trade", "india_russia_oil"):
        assert hamming(original, simhash(texts[other])) > 2 * NEAR_DUP_BITS


def test_simhash_is_signed_64_bit_and_deterministic():
    values = [simhash(f"text number {i} about trade talks and summits") for i in range(200)]
    assert all(-(2**63) <= v < 2**63 for v in values)
    assert any(v < 0 for v in values) and any(v > 0 for v in values)
    assert simhash("same words here") == simhash("Same   words here")
    assert simhash("") == 0


def test_near_duplicate_index_uses_bands_and_threshold():
    index = NearDuplicateIndex()
    base = simhash("the foreign ministers met in tokyo and discussed missile launches and trade")
    index.add(1, base)
    flipped = base ^ 0b1010101  # 4 bits apart
    assert index.find(flipped) == 1
    far = base ^ ((1 << 64) - 1)
    assert index.find(far) is None
    assert len(index) == 1
    with pytest.raises(ValueError):
        NearDuplicateIndex(max_distance=8)
