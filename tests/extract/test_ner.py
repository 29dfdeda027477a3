from __future__ import annotations

import pytest

from relwatch.extract.ner import (
    NER_ONLY_DISABLE,
    Entity,
    NerChecker,
    NerModelMissing,
    load_nlp,
    overlapping,
)
from relwatch.extract.roles import load_parser


def test_entities_have_offsets_into_each_text():
    texts = ["Michael Jordan met officials in Seoul.", "", "North Korea fired a missile."]
    ents = NerChecker(batch_size=2).entities(texts)
    assert len(ents) == 3 and ents[1] == []
    for text, es in zip(texts, ents, strict=True):
        for e in es:
            assert 0 <= e.start < e.end <= len(text)
    assert any(e.label == "PERSON" and "Jordan" in texts[0][e.start : e.end] for e in ents[0])
    assert any(e.label == "GPE" and texts[0][e.start : e.end] == "Seoul" for e in ents[0])


def test_one_pipeline_serves_ner_and_the_parse():
    nlp = load_nlp()
    assert load_parser() is nlp
    assert set(nlp.pipe_names) == {"tok2vec", "parser", "ner"}
    # the ner pipe has its own embedding: entities do not change without tok2vec and parser
    text = "Jordan met officials in Seoul."
    alone = [(e.text, e.label_) for e in next(nlp.pipe([text], disable=NER_ONLY_DISABLE)).ents]
    assert alone == [(e.text, e.label_) for e in nlp(text).ents]


def test_missing_model_is_a_clear_error():
    with pytest.raises(NerModelMissing, match="not installed"):
        load_nlp("no_such_spacy_model_xyz")


def test_overlapping():
    ents = [Entity(0, 5, "GPE"), Entity(10, 20, "PERSON")]
    assert overlapping(ents, 3, 4) == [ents[0]]
    assert overlapping(ents, 5, 10) == []
    assert overlapping(ents, 4, 12) == ents
