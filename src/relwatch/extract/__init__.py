"""Text pipeline: sentences, TextRank importance, country mentions checked by NER, pairs.

Public API (everything else is an implementation detail)::

    from relwatch.extract import Extractor, extract_pending, find_mentions
    units = Extractor().articles([text], [date])[0]     # SentenceUnit list
    rows = annotate_rows([{"id": 1, "text": t}], "sentence")  # the CLI's JSONL rows
    stats = extract_pending(database_url, limit=1000)   # database articles -> rows
"""

from relwatch.extract.files import ExtractFileStats, extract_file
from relwatch.extract.gazetteer import Gazetteer, load_gazetteer
from relwatch.extract.mentions import Mention, MentionFinder, find_mentions
from relwatch.extract.pairs import CountryPair, country_pairs
from relwatch.extract.pipeline import (
    Extractor,
    ExtractStats,
    SentenceUnit,
    annotate_rows,
    extract_batch,
    extract_pending,
)
from relwatch.extract.sentences import SentenceSpan, split_sentences
from relwatch.extract.textrank import textrank

__all__ = [
    "CountryPair",
    "ExtractFileStats",
    "ExtractStats",
    "Extractor",
    "Gazetteer",
    "Mention",
    "MentionFinder",
    "SentenceSpan",
    "SentenceUnit",
    "annotate_rows",
    "country_pairs",
    "extract_batch",
    "extract_file",
    "extract_pending",
    "find_mentions",
    "load_gazetteer",
    "split_sentences",
    "textrank",
]
