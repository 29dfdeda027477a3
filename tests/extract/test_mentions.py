from __future__ import annotations

import datetime as dt

import pytest

from relwatch.extract.mentions import MentionFinder, tokenize
from relwatch.extract.ner import Entity

D2019 = dt.date(2019, 6, 30)


def found(finder, text: str, day: dt.date | None = D2019) -> list[tuple[str, str]]:
    ms = finder.find([text], [day])[0]
    for m in ms:
        assert text[m.start : m.end] == m.text  # offsets are into the sentence
    return [(m.text, m.iso3) for m in ms]


# Point 4 of the issue: each trap next to the genuine use of the same word.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Atlanta, Georgia, saw heavy rain on Tuesday.", []),
        ("Georgia Governor Brian Kemp signed the bill.", []),
        (
            "Georgia's president accused Russia of occupying South Ossetia.",
            [("Georgia", "GEO"), ("Russia", "RUS")],
        ),
        ("Michael Jordan scored 30 points for the Bulls.", []),
        ("Jordan and Israel signed a peace treaty.", [("Jordan", "JOR"), ("Israel", "ISR")]),
        ("We carved the turkey after the game.", []),
        ("Turkey sandwiches sold out at the fair.", []),
        (
            "Turkey and Greece held talks in Ankara.",
            [("Turkey", "TUR"), ("Greece", "GRC"), ("Ankara", "TUR")],
        ),
        ("She keeps her best china in a cabinet.", []),
        ("China and Japan agreed to cooperate.", [("China", "CHN"), ("Japan", "JPN")]),
        ("Let us know what you think.", []),
        ("THE COACH TOLD US TO KEEP RUNNING.", []),
        ("The US and South Korea held drills.", [("US", "USA"), ("South Korea", "KOR")]),
        ("Chad Johnson said he was happy.", []),
        ("Mr. Chad Evans denied the charge.", []),
        ("Chad and Sudan closed their border.", [("Chad", "TCD"), ("Sudan", "SDN")]),
        ("Denzel Washington starred in the film.", []),
        ("George Washington crossed the Delaware.", []),
        (
            "Washington warned Pyongyang against more tests.",
            [("Washington", "USA"), ("Pyongyang", "PRK")],
        ),
    ],
)
def test_issue_traps(finder, text, expected):
    assert found(finder, text) == expected


def test_longest_match_wins(finder):
    assert found(finder, "North Korea and South Korea met; Korea's won rose.") == [
        ("North Korea", "PRK"),
        ("South Korea", "KOR"),
        ("Korea", "KOR"),
    ]
    assert found(finder, "The U.S.S.R. and the U.S. talked.") == [
        ("U.S.S.R.", "RUS"),
        ("U.S.", "USA"),
    ]
    assert found(finder, "The People's Republic of China and the Republic of China") == [
        ("People's Republic of China", "CHN"),
        ("Republic of China", "TWN"),
    ]


def test_word_boundaries_and_stop_phrases(finder):
    assert found(finder, "Nigeria and Niger, Romania and Oman.") == [
        ("Nigeria", "NGA"),
        ("Niger", "NER"),
        ("Romania", "ROU"),
        ("Oman", "OMN"),
    ]
    assert found(finder, "The Korean War and the South China Sea and New Mexico.") == []
    assert found(finder, "Indianapolis voters and Indian Ocean routes.") == []


def test_kinds_and_curly_apostrophes(finder):
    ms = finder.find(
        ["The Kremlin’s envoy, South Korean officials and Xi Jinping met in Seoul."], [D2019]
    )[0]
    assert [(m.text, m.iso3, m.kind) for m in ms] == [
        ("Kremlin", "RUS", "institution"),
        ("South Korean", "KOR", "demonym"),
        ("Xi Jinping", "CHN", "leader"),
        ("Seoul", "KOR", "capital"),
    ]


def test_inter_korean_names_both_koreas(finder):
    ms = finder.find(["Inter-Korean talks resumed."], [D2019])[0]
    assert sorted(m.iso3 for m in ms) == ["KOR", "PRK"]
    assert {(m.start, m.end) for m in ms} == {(0, 12)}


def test_leaders_depend_on_the_date(finder):
    text = "Moon Jae-in met Abe in Osaka."
    assert found(finder, text, dt.date(2019, 6, 28)) == [("Moon Jae-in", "KOR"), ("Abe", "JPN")]
    assert found(finder, text, dt.date(2023, 6, 28)) == []
    assert found(finder, "Laura Bush visited Texas.", dt.date(2004, 3, 1)) == []
    assert found(finder, "President Bush visited Seoul.", dt.date(2004, 3, 1)) == [
        ("Bush", "USA"),
        ("Seoul", "KOR"),
    ]


def test_dateline_is_skipped_when_asked(finder):
    text = "Seoul, May 4 (Yonhap) -- North Korea fired a projectile."
    ms = finder.find([text], [D2019], [len("Seoul, May 4 (Yonhap) -- ")])[0]
    assert [m.iso3 for m in ms] == ["PRK"]


class CountingNer:
    """Stands in for spaCy: records which texts were sent and labels given spans."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.seen: list[str] = []

    def entities(self, texts):
        self.seen.extend(texts)
        out = []
        for t in texts:
            ents = []
            for word, label in self.labels.items():
                pos = t.find(word)
                if pos >= 0:
                    ents.append(Entity(pos, pos + len(word), label))
            out.append(ents)
        return out


def test_ner_runs_only_on_sentences_with_ambiguous_candidates(finder):
    ner = CountingNer({"Jordan": "PERSON"})
    f = MentionFinder(finder.gazetteer, ner=ner)
    texts = ["South Korea and Japan met.", "Jordan said it would attend.", "Nothing here."]
    out = f.find(texts, [D2019] * 3)
    assert ner.seen == ["Jordan said it would attend."]
    assert [m.iso3 for m in out[0]] == ["KOR", "JPN"]
    assert out[1] == []  # NER said PERSON: vetoed


def test_ner_policy_all_checks_every_alias_and_off_skips_ner(finder):
    ner = CountingNer({"Japan": "PERSON"})
    strict = MentionFinder(finder.gazetteer, ner=ner, ner_policy="all")
    assert strict.find(["Japan met."], [D2019]) == [[]]
    off = MentionFinder(finder.gazetteer, ner_policy="off")
    assert off.ner is None
    assert [m.iso3 for m in off.find(["Jordan and Chad met."], [D2019])[0]] == ["JOR", "TCD"]


def test_require_entity_and_org_named_after_place(finder):
    ner = CountingNer({"Georgia Gulf Corporation": "ORG"})
    f = MentionFinder(finder.gazetteer, ner=ner)
    assert f.find(["Georgia Gulf Corporation filed results."], [D2019]) == [[]]
    ner2 = CountingNer({})  # no entity at all: "Turkey" needs one
    f2 = MentionFinder(finder.gazetteer, ner=ner2)
    assert f2.find(["Turkey prices rose."], [D2019]) == [[]]


def test_tokenize_keeps_offsets_and_normalises_quotes():
    toks = tokenize("Korea’s U.S.-led")
    assert [t for t, _, _ in toks] == ["Korea", "'", "s", "U", ".", "S", ".", "-", "led"]
    assert toks[0][1:] == (0, 5)
