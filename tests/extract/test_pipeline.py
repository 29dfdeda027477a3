from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select

from relwatch.core.db import session_scope
from relwatch.core.errors import InputError
from relwatch.core.models import Article, Mention, Pair, Sentence
from relwatch.extract.pipeline import Extractor, extract_batch, extract_pending

ARTICLE = (
    "SEOUL (Reuters) - North Korea fired a ballistic missile on Monday, South Korea's "
    "military said, and Japan protested to Pyongyang.\n"
    "    U.S. officials said Washington was consulting Seoul and Tokyo. "
    "The weather was calm."
)


def test_article_units_have_offsets_scores_mentions_and_pairs(extractor):
    [units] = extractor.articles([ARTICLE], [dt.date(2019, 5, 6)])
    assert [u.index for u in units] == [0, 1, 2]
    for u in units:
        assert ARTICLE[u.start : u.end] == u.text
        assert 0 < u.score <= 1.0
        for m in u.mentions:
            assert u.text[m.start : m.end] == m.text
    first = units[0]
    assert first.countries == ["JPN", "KOR", "PRK"]  # dateline SEOUL is not a mention
    assert [(p.a, p.b) for p in first.pairs] == [("PRK", "KOR"), ("PRK", "JPN"), ("KOR", "JPN")]
    assert units[1].countries == ["JPN", "KOR", "USA"]
    assert units[2].countries == [] and units[2].pairs == []
    south = first.text.index("South Korea")
    assert first.annotations()["pairs"][0] == {
        "a": "PRK",
        "b": "KOR",
        "a_span": [18, 29],
        "b_span": [south, south + 11],
        "direction": "a->b",
        "place_only": False,
    }
    # "... and Japan protested to Pyongyang": Japan acts on North Korea
    assert [(p.a, p.b, p.direction) for p in first.pairs][1] == ("PRK", "JPN", "b->a")


def test_sentence_unit_keeps_text_whole(extractor):
    [u] = extractor.sentences(["Xi Jinping met Moon Jae-in. Then Abe came."], [dt.date(2019, 1, 1)])
    assert (u.start, u.end, u.score) == (0, 42, None)
    assert u.countries == ["CHN", "JPN", "KOR"]


def add_articles(url: str, items: list[tuple[str, dt.datetime | None]]) -> list[int]:
    with session_scope(url) as s:
        rows = [
            Article(
                external_id=f"t{i}",
                text=text,
                published_at=when,
                content_hash=hashlib.sha256(f"{i}{text}".encode()).hexdigest(),
            )
            for i, (text, when) in enumerate(items)
        ]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def count(url: str, model) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model))


def check_db_extraction(url: str, extractor: Extractor) -> None:
    ids = add_articles(
        url,
        [
            (ARTICLE, dt.datetime(2019, 5, 6, tzinfo=dt.UTC)),
            (
                "Moon Jae-in met Kim Jong Un. Both spoke of peace.",
                dt.datetime(2019, 2, 1, tzinfo=dt.UTC),
            ),
            (
                "Moon Jae-in met Kim Jong Un. Both spoke of peace.",
                dt.datetime(2023, 2, 1, tzinfo=dt.UTC),
            ),
            ("", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        ],
    )
    stats = extract_pending(url, limit=1, extractor=extractor)
    assert stats.articles == 1 and stats.sentences == 3
    stats = extract_pending(url, batch_size=2, extractor=extractor)
    assert stats.articles == 3
    again = extract_pending(url, extractor=extractor)  # idempotent: nothing left to do
    assert again.articles == 0
    with session_scope(url) as s:
        arts = {a.id: a for a in s.scalars(select(Article)).all()}
        assert all(a.extracted_at is not None for a in arts.values())
        first = s.scalars(
            select(Sentence).where(Sentence.article_id == ids[0]).order_by(Sentence.index)
        ).all()
        assert [x.index for x in first] == [0, 1, 2]
        assert ARTICLE[first[0].start : first[0].end] == first[0].text
        assert {(p.a, p.b) for p in first[0].pairs} == {
            ("PRK", "KOR"),
            ("PRK", "JPN"),
            ("KOR", "JPN"),
        }
        for m in first[0].mentions:
            assert first[0].text[m.start : m.end] == m.text
        # leaders resolve by Article.published_at
        in_office = s.scalars(select(Sentence).where(Sentence.article_id == ids[1])).first()
        out_of_office = s.scalars(select(Sentence).where(Sentence.article_id == ids[2])).first()
        assert {(p.a, p.b) for p in in_office.pairs} == {("KOR", "PRK")}
        assert {m.iso3 for m in out_of_office.mentions} == {"PRK"}
        assert out_of_office.pairs == []
        assert (
            s.scalar(
                select(func.count()).select_from(Sentence).where(Sentence.article_id == ids[3])
            )
            == 0
        )
    assert count(url, Pair) == 3 + 3 + 1  # two 3-country sentences, one Moon-Kim sentence


def test_db_extraction_sqlite(db_url, extractor):
    check_db_extraction(db_url, extractor)


@pytest.mark.postgres
def test_db_extraction_postgres(pg_url, extractor):
    check_db_extraction(pg_url, extractor)


def test_claimed_articles_are_not_extracted_twice(db_url, extractor):
    [aid] = add_articles(db_url, [("Japan and China met.", None)])
    with session_scope(db_url) as s:
        first = extract_batch(s, [aid], extractor)
    with session_scope(db_url) as s:
        second = extract_batch(s, [aid], extractor)
    assert (first.articles, second.articles) == (1, 0)
    assert count(db_url, Sentence) == 1 and count(db_url, Mention) == 2


def test_failed_batch_leaves_nothing_half_written(db_url, extractor, monkeypatch):
    add_articles(db_url, [("Japan and China met.", None), ("India and Russia met.", None)])

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(extractor, "articles", boom)
    with pytest.raises(RuntimeError):
        extract_pending(db_url, extractor=extractor)
    assert count(db_url, Sentence) == 0
    with session_scope(db_url) as s:
        assert all(a.extracted_at is None for a in s.scalars(select(Article)))


def test_bad_arguments_are_rejected(db_url):
    with pytest.raises(InputError, match="limit"):
        extract_pending(db_url, limit=0)
    with pytest.raises(InputError, match="batch"):
        extract_pending(db_url, batch_size=0)


def test_extract_job_extracts_the_configured_database(db_url):
    from relwatch.core.config import get_settings
    from relwatch.flows.jobs import run_handler
    from relwatch.flows.params import parse_params

    add_articles(db_url, [("India and Japan signed a pact.", None)])
    result = run_handler("extract", parse_params("extract", {"limit": 5}), get_settings())
    assert result["articles"] == 1 and result["pairs"] == 1
    assert run_handler("extract", parse_params("extract", {}), get_settings())["articles"] == 0


def test_annotate_rows_is_the_cli_library_call(extractor):
    from relwatch.extract.pipeline import annotate_rows

    rows = [{"id": 7, "text": "Kim Jong Un met Trump. Later, nothing.", "date": "2019-02-27"}]
    [sent] = annotate_rows(rows, "sentence", extractor)
    assert sent["countries"] == ["PRK", "USA"] and sent["id"] == 7
    arts = annotate_rows(rows, "article", extractor)
    assert [r["id"] for r in arts] == ["7:0", "7:1"]
    assert arts[0]["pairs"] == [
        {
            "a": "PRK",
            "b": "USA",
            "a_span": [0, 11],
            "b_span": [16, 21],
            "direction": "a->b",
            "place_only": False,
        }
    ]
    with pytest.raises(InputError, match="unit"):
        annotate_rows(rows, "paragraph", extractor)
