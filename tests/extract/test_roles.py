from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from relwatch.core.db import session_scope
from relwatch.core.models import Mention as MentionRow
from relwatch.core.models import Pair
from relwatch.extract import roles as roles_module
from relwatch.extract.pairs import country_pairs
from relwatch.extract.roles import RoleTagger, SentenceRoles

DAY = dt.date(2019, 6, 1)


@pytest.fixture(scope="module")
def tagger() -> RoleTagger:
    return RoleTagger()


def analyse(finder, tagger: RoleTagger, text: str):
    [mentions] = finder.find([text], [DAY])
    [analysis] = tagger.analyze([text], [mentions])
    return mentions, analysis


def roles_of(finder, tagger: RoleTagger, text: str) -> dict[str, str | None]:
    mentions, analysis = analyse(finder, tagger, text)
    return {m.text: r for m, r in zip(mentions, analysis.roles, strict=True)}


def directions(finder, tagger: RoleTagger, text: str) -> dict[tuple[str, str], str | None]:
    mentions, analysis = analyse(finder, tagger, text)
    return {(p.a, p.b): p.direction for p in country_pairs(mentions, analysis)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Talks in Hanoi between China and Vietnam ended without a deal.",
            {"Hanoi": "place", "China": "actor", "Vietnam": "actor"},
        ),
        (
            "Trump met Kim Jong Un in Singapore last year.",
            {"Trump": "actor", "Kim Jong Un": "actor", "Singapore": "place"},
        ),
        (
            "Japan's foreign minister said in Tokyo that talks with China would resume.",
            {"Japan": "actor", "Tokyo": "place", "China": "actor"},
        ),
        (
            "Tokyo said it would raise tariffs on Chinese steel.",
            {"Tokyo": "actor", "Chinese": "actor"},
        ),
        ("The Japanese embassy in Seoul protested.", {"Japanese": "actor", "Seoul": "place"}),
        (
            "Seoul stocks fell as North Korea tested a missile.",
            {"Seoul": "place", "North Korea": "actor"},
        ),
        # not venues: the country acted on, or a capital standing for its government
        (
            "Japanese companies invested heavily in Vietnam.",
            {"Japanese": "actor", "Vietnam": "actor"},
        ),
        (
            "Officials in Washington said sanctions on Iran would stay.",
            {"Washington": "actor", "Iran": "actor"},
        ),
    ],
)
def test_venues_are_places_and_parties_are_actors(finder, tagger, text, expected):
    assert roles_of(finder, tagger, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The ore sold for 37 U.S. cents a pound, or 50 Canadian cents.",
            {"U.S.": "attribute", "Canadian": "attribute"},
        ),
        (
            "Japan's currency rose against the U.S. dollar on Friday.",
            {"Japan": "attribute", "U.S.": "attribute"},
        ),
        # a product's origin is trade between the two states: actors, not attributes
        (
            "South Korea agreed to buy more U.S. wheat and Japanese machinery.",
            {"South Korea": "actor", "U.S.": "actor", "Japanese": "actor"},
        ),
    ],
)
def test_money_a_country_only_qualifies_is_an_attribute(finder, tagger, text, expected):
    assert roles_of(finder, tagger, text) == expected


def test_pair_of_two_currencies_is_no_relation(finder, tagger):
    text = "The Canadian dollar fell against the U.S. dollar as Canada cut rates."
    mentions, analysis = analyse(finder, tagger, text)
    assert [(p.a, p.b, p.place_only) for p in country_pairs(mentions, analysis)] == [
        ("CAN", "USA", True)
    ]


def test_dateline_capital_is_a_place(finder, tagger):
    text = "Tokyo, March 3 - Japan protested to China over the incursion."
    assert roles_of(finder, tagger, text) == {"Tokyo": "place", "Japan": "actor", "China": "actor"}


def test_pair_is_place_only_when_one_side_is_only_a_venue(finder, tagger):
    mentions, analysis = analyse(finder, tagger, "Trump met Kim Jong Un in Singapore last year.")
    place_only = {(p.a, p.b): p.place_only for p in country_pairs(mentions, analysis)}
    assert place_only == {("USA", "PRK"): False, ("USA", "SGP"): True, ("PRK", "SGP"): True}
    # a venue mention does not make a pair place-only while the country also acts
    mentions, analysis = analyse(finder, tagger, "Talks in Hanoi between China and Vietnam failed.")
    assert [(p.a, p.b, p.place_only) for p in country_pairs(mentions, analysis)] == [
        ("VNM", "CHN", False)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Japan imposed tariffs on the United States.", {("JPN", "USA"): "a->b"}),
        ("The United States and Japan agreed to extend the pact.", {("USA", "JPN"): "mutual"}),
        ("China was criticized by Japan for its exports.", {("CHN", "JPN"): "b->a"}),
        ("Japanese officials said China had violated the agreement.", {("JPN", "CHN"): "a->b"}),
        ("Japan's ministry said Russian aircraft entered its airspace.", {("JPN", "RUS"): "a->b"}),
        ("Talks between India and Pakistan resumed on Monday.", {("IND", "PAK"): "mutual"}),
        ("Kenya received a loan from China.", {("KEN", "CHN"): "b->a"}),
        ("Washington's deficit with Taipei rose to a record.", {("USA", "TWN"): "mutual"}),
        (
            "The group urged the U.S. government to impose sanctions on Japan.",
            {("USA", "JPN"): "a->b"},
        ),
        (
            "Poland, backed by the United States, warned Belarus.",
            {("POL", "USA"): "b->a", ("POL", "BLR"): "a->b"},
        ),
    ],
)
def test_direction_follows_the_grammatical_agent(finder, tagger, text, expected):
    got = directions(finder, tagger, text)
    assert {pair: got.get(pair) for pair in expected} == expected


def test_a_venue_never_sources_a_direction(finder, tagger):
    got = directions(finder, tagger, "Japan held talks with China in Seoul.")
    assert got[("JPN", "CHN")] == "a->b"
    assert got[("JPN", "KOR")] == "mutual" and got[("CHN", "KOR")] == "mutual"


def test_sentences_with_one_country_are_not_parsed(monkeypatch, finder):
    def boom(*_a, **_k):
        raise AssertionError("parser loaded for a sentence without a pair")

    monkeypatch.setattr(roles_module, "load_parser", boom)
    texts = ["Japan grew.", "Nothing here.", "Tokyo and Japan again."]
    found = finder.find(texts, [DAY] * 3)
    result = RoleTagger().analyze(texts, found)
    assert all(not r.parsed for r in result)
    assert result[0].roles == (None,) and result[1].roles == ()
    assert result[0].direction(found[0], "JPN", "USA") == "mutual"


def test_tag_returns_roles_per_mention(finder, tagger):
    texts = ["The summit in Singapore brought together Japan and China.", "Japan grew."]
    found = finder.find(texts, [DAY] * 2)
    assert tagger.tag(texts, found) == [["place", "actor", "actor"], [None]]


def test_extractor_fills_roles_direction_and_place_only(extractor):
    [u] = extractor.sentences(["China was criticized by Japan at talks in Hanoi."], [DAY])
    assert {m.text: m.role for m in u.mentions} == {
        "China": "actor",
        "Japan": "actor",
        "Hanoi": "place",
    }
    pairs = {(p["a"], p["b"]): p for p in u.annotations()["pairs"]}
    assert pairs[("CHN", "JPN")]["direction"] == "b->a"
    assert pairs[("CHN", "JPN")]["place_only"] is False
    assert pairs[("CHN", "VNM")]["place_only"] is True
    [single] = extractor.sentences(["Japan grew."], [DAY])
    assert single.annotations()["mentions"][0]["role"] is None


def test_extractor_without_roles_leaves_them_empty(finder):
    from relwatch.extract.pipeline import Extractor

    [u] = Extractor(finder, roles=False).sentences(["Japan imposed tariffs on China."], [DAY])
    assert [m.role for m in u.mentions] == [None, None]
    assert [(p.direction, p.place_only) for p in u.pairs] == [(None, False)]


def test_database_extraction_stores_roles_and_direction(db_url, extractor):
    from relwatch.extract.pipeline import extract_pending
    from tests.extract.test_pipeline import add_articles

    add_articles(
        db_url,
        [("China was criticized by Japan at talks in Hanoi. Japan grew.", None)],
    )
    extract_pending(db_url, extractor=extractor)
    with session_scope(db_url) as s:
        stored = {(m.text, m.role) for m in s.scalars(select(MentionRow)).all()}
        pairs = {(p.a, p.b): (p.direction, p.place_only) for p in s.scalars(select(Pair)).all()}
    assert stored == {("China", "actor"), ("Japan", "actor"), ("Hanoi", "place"), ("Japan", None)}
    assert pairs == {
        ("CHN", "JPN"): ("b->a", False),
        ("CHN", "VNM"): ("mutual", True),
        ("JPN", "VNM"): ("mutual", True),
    }


def test_unparsed_roles_say_so():
    assert not SentenceRoles((None, None)).parsed


def test_a_sentence_whose_root_is_a_preposition_does_not_break_extraction():
    from relwatch.extract import Extractor

    units = Extractor().articles(["In Japan. Out of China, into Korea and on to Russia."])[0]
    assert all(p.direction in {"a->b", "b->a", "mutual"} for u in units for p in u.pairs)
