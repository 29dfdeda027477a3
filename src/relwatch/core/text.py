"""Is this text English? The models and gazetteers of relwatch read English only.

Text in another language is not an error, but it must never be dropped or mislabelled in
silence: readers count it and warn. The check is a cheap, deterministic rule: a text whose
letters are mostly outside the Latin script is not English; a Latin-script text of eight
words or more is English when at least a tenth of its words are common English words.
"""

from __future__ import annotations

import re

__all__ = ["looks_english"]

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_COMMON = frozenset(
    [
        "a",
        "about",
        "after",
        "against",
        "all",
        "also",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "between",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "more",
        "most",
        "new",
        "no",
        "not",
        "of",
        "on",
        "one",
        "or",
        "other",
        "our",
        "over",
        "said",
        "says",
        "she",
        "should",
        "than",
        "that",
        "the",
        "their",
        "them",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "under",
        "up",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "while",
        "who",
        "will",
        "with",
        "would",
        "year",
        "years",
    ]
)


def _latin_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
    return latin / len(letters)


def looks_english(text: str) -> bool:
    """True when ``text`` reads as English (short or letterless text is given the benefit)."""
    if _latin_share(text) < 0.7:
        return False
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 8:
        return True
    common = sum(1 for w in words if w in _COMMON)
    return common / len(words) >= 0.1
