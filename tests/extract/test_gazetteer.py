from __future__ import annotations

import datetime as dt

import pytest

from relwatch.extract.gazetteer import (
    _clean_library_name,
    build_gazetteer,
    load_gazetteer,
    read_alias_file,
)

FOCUS = ("KOR", "PRK", "USA", "CHN", "JPN", "RUS", "IND")
D = dt.date


@pytest.fixture(scope="module")
def gaz():
    return load_gazetteer()


def test_covers_about_250_iso3_codes(gaz):
    named = {e.iso3 for es in gaz.entries.values() for e in es if e.kind == "name"}
    assert len(named) >= 240
    assert {"KOR", "PRK", "TCD", "JOR", "GEO", "TUR", "NER", "NGA", "COD", "COG"} <= named


@pytest.mark.parametrize("iso3", FOCUS)
def test_focus_countries_have_every_kind(gaz, iso3):
    kinds = {e.kind for es in gaz.entries.values() for e in es if e.iso3 == iso3}
    assert kinds == {"name", "demonym", "capital", "institution", "leader"}


@pytest.mark.parametrize(
    ("text", "iso3", "kind"),
    [
        ("North Korea", "PRK", "name"),
        ("South Korea", "KOR", "name"),
        ("DPRK", "PRK", "name"),
        ("Republic of Korea", "KOR", "name"),
        ("Democratic People's Republic of Korea", "PRK", "name"),
        ("North Korean", "PRK", "demonym"),
        ("South Koreans", "KOR", "demonym"),
        ("Seoul", "KOR", "capital"),
        ("Pyongyang", "PRK", "capital"),
        ("Beijing", "CHN", "capital"),
        ("Peking", "CHN", "capital"),
        ("Washington", "USA", "capital"),
        ("Moscow", "RUS", "capital"),
        ("New Delhi", "IND", "capital"),
        ("Tokyo", "JPN", "capital"),
        ("Kremlin", "RUS", "institution"),
        ("Zhongnanhai", "CHN", "institution"),
        ("Kasumigaseki", "JPN", "institution"),
        ("South Block", "IND", "institution"),
        ("Foggy Bottom", "USA", "institution"),
        ("Pentagon", "USA", "institution"),
        ("White House", "USA", "institution"),
        ("Soviet Union", "RUS", "name"),
        ("Republic of China", "TWN", "name"),
        ("People's Republic of China", "CHN", "name"),
        ("Nigerien", "NER", "demonym"),
        ("Nigerian", "NGA", "demonym"),
        ("Filipinos", "PHL", "demonym"),
    ],
)
def test_alias_meanings(gaz, text, iso3, kind):
    entry = gaz.resolve(text, D(2020, 1, 1))
    assert entry is not None and (entry.iso3, entry.kind) == (iso3, kind)


def test_seats_that_moved_are_dated(gaz):
    assert gaz.resolve("Blue House", D(2019, 1, 1)).iso3 == "KOR"
    assert gaz.resolve("Blue House", D(2023, 1, 1)) is None
    assert gaz.resolve("Yongsan", D(2023, 1, 1)).iso3 == "KOR"
    assert gaz.resolve("Yongsan", D(2019, 1, 1)) is None


@pytest.mark.parametrize(
    ("name", "day", "iso3"),
    [
        ("Moon Jae-in", D(2019, 6, 30), "KOR"),
        ("Moon Jae-in", D(2023, 6, 30), None),  # out of office: no country at all
        ("Moon Jae In", D(2019, 6, 30), "KOR"),
        ("Kim Jong Un", D(2012, 1, 1), "PRK"),
        ("Kim Jong-un", D(2012, 1, 1), "PRK"),
        ("Kim Jong Il", D(2012, 1, 1), None),
        ("Shevardnadze", D(1987, 3, 1), "RUS"),  # Soviet foreign minister
        ("Shevardnadze", D(2000, 3, 1), "GEO"),  # Georgian head of state
        ("Shevardnadze", D(1991, 6, 1), None),
        ("Trump", D(2018, 1, 1), "USA"),
        ("Trump", D(2022, 1, 1), None),
        ("Trump", D(2025, 6, 1), "USA"),
        ("Bush", D(1990, 1, 1), "USA"),
        ("Bush", D(1998, 1, 1), None),
        ("Abe", D(2015, 1, 1), "JPN"),
        ("Gorbachev", D(1987, 1, 1), "RUS"),
        ("Xi Jinping", D(2010, 1, 1), None),
        ("Wang Yi", D(2023, 3, 1), None),  # Qin Gang's months
        ("Wang Yi", D(2024, 3, 1), "CHN"),
        ("Modi", D(2020, 1, 1), "IND"),
    ],
)
def test_leaders_resolve_only_in_office(gaz, name, day, iso3):
    entry = gaz.resolve(name, day)
    assert (entry.iso3 if entry else None) == iso3
    if entry:
        assert entry.kind == "leader"


def test_stop_phrases_are_not_aliases(gaz):
    for phrase in ("Korean Peninsula", "South China Sea", "Latin America", "New Mexico"):
        assert phrase in gaz.stop_phrases
        assert phrase not in gaz.entries


def test_alias_file_is_versioned_and_library_names_are_cleaned():
    assert read_alias_file()["version"]
    assert _clean_library_name("Korea, Republic of") == "Republic of Korea"
    assert _clean_library_name("Taiwan, Province of China") is None
    assert _clean_library_name("Micronesia (Federated States of)") == "Micronesia"


def test_build_resolves_conflicts_in_favour_of_the_alias_file():
    raw = {"version": "t", "extra_names": {"AAA": ["Foo"]}, "blocked": ["Bar"]}
    lib = {
        "AAA": ({"Foo", "Alpha"}, {"Bar"}),
        "BBB": ({"Foo", "Beta"}, set()),
        "CCC": ({"Gamma", "Zed"}, set()),
        "DDD": ({"Zed"}, set()),
    }
    g = build_gazetteer(raw, lib)
    assert g.resolve("Foo", D(2020, 1, 1)).iso3 == "AAA"
    assert "Bar" not in g.entries  # blocked capital
    assert "Zed" not in g.entries  # library name shared by two countries is dropped
    assert g.resolve("Beta", D(2020, 1, 1)).iso3 == "BBB"
