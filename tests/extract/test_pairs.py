from __future__ import annotations

from relwatch.extract.mentions import Mention
from relwatch.extract.pairs import countries, country_pairs, first_mentions


def m(start: int, end: int, iso3: str, kind: str = "name") -> Mention:
    return Mention(start, end, "x" * (end - start), iso3, kind)


def test_every_unordered_pair_once_with_a_named_first():
    ms = [m(30, 35, "JPN"), m(0, 11, "PRK"), m(15, 26, "KOR"), m(40, 51, "PRK")]
    pairs = country_pairs(ms)
    assert [(p.a, p.b) for p in pairs] == [("PRK", "KOR"), ("PRK", "JPN"), ("KOR", "JPN")]
    assert pairs[0].a_span == (0, 11) and pairs[0].b_span == (15, 26)
    assert pairs[0].to_dict() == {
        "a": "PRK",
        "b": "KOR",
        "a_span": [0, 11],
        "b_span": [15, 26],
        "direction": None,  # no parse given: roles were not tagged
        "place_only": False,
    }


def test_one_country_gives_no_pair_but_is_counted():
    ms = [m(0, 5, "USA"), m(10, 20, "USA", "capital")]
    assert country_pairs(ms) == []
    assert countries(ms) == ["USA"]
    assert first_mentions(ms)["USA"].start == 0


def test_same_span_for_two_countries_orders_by_code():
    ms = [m(0, 12, "PRK"), m(0, 12, "KOR")]
    assert [(p.a, p.b) for p in country_pairs(ms)] == [("KOR", "PRK")]
