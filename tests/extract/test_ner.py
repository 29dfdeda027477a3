from __future__ import annotations

import pytest

from relwatch.extract.ner import Entity, NerChecker, NerModelMissing, load_nlp, overlapping


def test_entities_have_offsets_into_each_text():
    texts = ["Michael Jordan met officials in Seoul.", "", "North Korea fired a missile."]
    ents = NerChecker(batch_size=2).entities(texts)
    assert len(ents) == 3 and ents[1] == []
    for text, es in zip(texts, ents, strict=True):
        for e in es:
            assert 0 <= e.start < e.end <= len(text)
    assert any(e.label == "PERSON" and "Jordan" in texts[0][e.start : e.end] for e in ents[0])
    assert any(e.label == "GPE" and texts[0][e.start : e.end] == "Seoul" for e in ents[0])


def test_only_the_pipes_ner_needs_are_loaded():
    nlp = load_nlp()
    assert "ner" in nlp.pipe_names
    assert not {"parser", "tagger", "lemmatizer"} & set(nlp.pipe_names)


def test_missing_model_is_a_clear_error():
    with pytest.raises(NerModelMissing, match="not installed"):
        load_nlp("no_such_spacy_model_xyz")


def test_overlapping():
    ents = [Entity(0, 5, "GPE"), Entity(10, 20, "PERSON")]
    assert overlapping(ents, 3, 4) == [ents[0]]
    assert overlapping(ents, 5, 10) == []
    assert overlapping(ents, 4, 12) == ents
