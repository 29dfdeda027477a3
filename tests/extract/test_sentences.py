from __future__ import annotations

import pytest

from relwatch.extract.sentences import dateline_end, split_sentences


def texts(article: str) -> list[str]:
    return [s.text for s in split_sentences(article)]


def test_abbreviations_do_not_end_sentences():
    art = (
        "U.S. Secretary of State Mr. Blinken met Gen. Park in Seoul on Monday. "
        "He left for Tokyo on Tuesday."
    )
    assert texts(art) == [
        "U.S. Secretary of State Mr. Blinken met Gen. Park in Seoul on Monday.",
        "He left for Tokyo on Tuesday.",
    ]


def test_dateline_stays_with_its_sentence_and_quotes_close_sentences():
    art = (
        'SEOUL (Reuters) - North Korea fired a missile, officials said. "We will respond '
        'firmly," the minister said. Japan protested.'
    )
    assert texts(art) == [
        "SEOUL (Reuters) - North Korea fired a missile, officials said.",
        '"We will respond firmly," the minister said.',
        "Japan protested.",
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        '"We have counsel in every region" Redstone told Reuters in an interview.',
        "Prices rose 20 pct in many areas this month, the Pentagon said..",
        "  Japan protested the launch!\u201d  ",
        "Seoul and Tokyo restored each other to their trade white lists",
        "U.S. officials told Mr. Abe the 3.4 billion dlr deal with the U.N. 242 panel stands.",
    ],
)
def test_a_text_with_no_inner_sentence_end_is_one_sentence(sentence: str):
    """Marks that only close the text never split it (pysbd split the first two after the
    closing quote and between the two full stops)."""
    (span,) = split_sentences(sentence)
    assert span.text == sentence.strip() and sentence[span.start : span.end] == span.text


def test_an_initialism_before_a_capital_may_end_a_sentence():
    assert texts("He held talks with the U.S. The ministry protested.") == [
        "He held talks with the U.S.",
        "The ministry protested.",
    ]


def test_offsets_point_into_the_article():
    art = "  First one here.  Second one, from the U.S. side.\n\nThird.  "
    spans = split_sentences(art)
    assert [s.text for s in spans] == [
        "First one here.",
        "Second one, from the U.S. side.",
        "Third.",
    ]
    for s in spans:
        assert art[s.start : s.end] == s.text


def test_hard_wrapped_wire_text_is_joined_but_paragraphs_split():
    art = (
        "National Westminster Bank Plc said it has\ncut its base lending rate 0.5 "
        "points to 10.5 pct\ntoday.\n    National Westminster said it was responding "
        "to general\neasing in money market rates.\n REUTER\n"
    )
    spans = split_sentences(art)
    assert len(spans) == 3
    assert spans[0].text.startswith("National Westminster Bank Plc said it has\ncut")
    assert spans[0].text.endswith("today.")
    assert spans[1].text.endswith("money market rates.")
    assert spans[2].text == "REUTER"


def test_one_paragraph_per_line_text_splits_at_every_line():
    # what crawlers and the Reuters importer store: a paragraph per line, no full stop needed
    art = (
        "Semi-annual dividend 4 cts\nPay May 29\nRecord April 14\n"
        "Note: full name is U.S. Facilities Corp. This is the first dividend."
    )
    assert texts(art) == [
        "Semi-annual dividend 4 cts",
        "Pay May 29",
        "Record April 14",
        "Note: full name is U.S. Facilities Corp.",
        "This is the first dividend.",
    ]


def test_heading_without_full_stop_is_not_glued_to_the_next_sentence():
    art = "North Korea fires missile\n\nPyongyang launched a missile on Monday."
    assert texts(art) == ["North Korea fires missile", "Pyongyang launched a missile on Monday."]


@pytest.mark.parametrize("text", ["", "   \n  \n"])
def test_empty_text_has_no_sentences(text):
    assert split_sentences(text) == []


@pytest.mark.parametrize(
    ("sentence", "prefix"),
    [
        ("SEOUL (Reuters) - North Korea said", "SEOUL (Reuters) - "),
        ("TOKYO, March 3 - Japan said", "TOKYO, March 3 - "),
        ("Seoul, May 4 (Yonhap) -- North Korea said", "Seoul, May 4 (Yonhap) -- "),
        ("WASHINGTON - The U.S. said", "WASHINGTON - "),
    ],
)
def test_dateline_end_finds_datelines(sentence, prefix):
    assert dateline_end(sentence) == len(prefix)


@pytest.mark.parametrize("sentence", ["North Korea - a reclusive state - said", "Japan said so."])
def test_dateline_end_ignores_ordinary_sentences(sentence):
    assert dateline_end(sentence) == 0
