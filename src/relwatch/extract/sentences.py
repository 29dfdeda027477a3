"""Sentence splitting for news text, with character offsets into the article.

pysbd (rule-based, kept library) handles abbreviations ("U.S.", "Mr.", "Gen."), quotes and
initials. Before it runs, hard-wrapped lines (Reuters' 1987 wire text breaks every ~65
characters) are joined — a newline becomes a space of the same length, so offsets never move
— while real paragraph breaks (blank line, indented line, or a long soft-wrapped line) are
kept as boundaries: headings without a full stop must not glue onto the next sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_SOFT_WRAP_LINE = 120  # a line longer than this is a whole paragraph, not a wrapped line
_DATELINE = re.compile(
    r"""^\s*
    (?:[A-Z][A-Z.'\- ]{1,40}|[A-Z][\w.'\- ]{1,40}?)          # place: SEOUL / Seoul
    (?:,\s*[A-Z][a-z]{2,9}\.?\s+\d{1,2})?                     # , March 3
    \s*(?:\((?:[A-Z][\w.\- ]{1,25})\))?                       # (Reuters)
    \s*[-–—]{1,2}\s+""",
    re.VERBOSE,
)


# A block whose only sentence-ending marks close it is one sentence whatever pysbd's rules
# say; such blocks (most single sentences sent to the API) skip pysbd, whose regex passes cost
# more than the rest of a sentence's extraction outside spaCy.
_ONE_SENTENCE = re.compile(r"[^.!?\u2026\n]*[.!?\u2026]*[\"'\u201d\u2019)\]]*\s*")
# Full stops that never end a sentence: in a number ("3.4"), in an initialism before a
# lower-case word or a number ("U.S. officials", "U.N. 242"), after a title before a name.
_INNER_STOP = re.compile(
    r"(?<=\d)\.(?=\d)"
    r"|(?<![\w.])(?:[A-Z]\.){2,}(?=\s+[a-z0-9])"
    r"|(?<![\w.])(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Maj|Capt|Adm|Sgt|Sen|Rep|Gov|Prof|Rev)\.(?=\s+[A-Z])"
)


def _one_sentence(block: str) -> bool:
    return _ONE_SENTENCE.fullmatch(_INNER_STOP.sub(lambda m: "_" * len(m[0]), block)) is not None


@dataclass(frozen=True, slots=True)
class SentenceSpan:
    """A sentence: ``article[start:end] == text``."""

    start: int
    end: int
    text: str


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _hard_wrapped(lines: list[str]) -> bool:
    """True for wire text broken every ~65 characters (raw Reuters), False when each line is
    a paragraph (crawled pages, cleaned imports)."""
    body = [ln.rstrip("\r\n") for ln in lines[:-1] if ln.strip()]
    if len(body) < 2:
        return False
    wrapped = sum(1 for ln in body if 30 <= len(ln.strip()) <= _SOFT_WRAP_LINE)
    return wrapped / len(body) >= 0.6 and max(len(ln) for ln in body) <= _SOFT_WRAP_LINE


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraph spans. Hard-wrapped text splits at blank or indented lines only; otherwise
    every line is its own paragraph (headings without a full stop stay apart)."""
    lines = text.splitlines(keepends=True)
    wrapped = _hard_wrapped(lines)
    spans: list[tuple[int, int]] = []
    start = 0
    pos = 0
    for line in lines:
        end = pos + len(line)
        nxt = text[end : end + 1]
        is_break = not wrapped or not line.strip() or nxt in (" ", "\t", "\n", "\r")
        if is_break and end > start:
            spans.append((start, end))
            start = end
        pos = end
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _flatten(text: str) -> str:
    """Whitespace of any kind to plain spaces, one for one (offsets preserved)."""
    return "".join(" " if ch.isspace() else ch for ch in text)


def split_sentences(text: str) -> list[SentenceSpan]:
    """Sentences of an article in order; empty text gives no sentences."""
    out: list[SentenceSpan] = []
    seg = _segmenter()
    for b_start, b_end in _blocks(text):
        block = _flatten(text[b_start:b_end])
        stripped = block.strip()
        if not stripped:
            continue
        if _one_sentence(stripped):
            s = b_start + block.find(stripped)
            out.append(SentenceSpan(s, s + len(stripped), text[s : s + len(stripped)]))
            continue
        cursor = 0
        for piece in seg.segment(block):
            stripped = piece.strip()
            if not stripped:
                continue
            found = block.find(stripped, cursor)
            if found < 0:  # pysbd changed the text: keep the rest of the block as one sentence
                rest = block[cursor:]
                found = cursor + (len(rest) - len(rest.lstrip()))
                stripped = rest.strip()
                if not stripped:
                    break
            s, e = b_start + found, b_start + found + len(stripped)
            out.append(SentenceSpan(s, e, text[s:e]))
            cursor = found + len(stripped)
            if found + len(stripped) >= len(block.rstrip()):
                break
    return out


def dateline_end(sentence: str) -> int:
    """Length of a leading dateline ("SEOUL (Reuters) - ", "TOKYO, March 3 - "), else 0.

    Why: a dateline says where the reporter filed from, not which country acts.
    """
    match = _DATELINE.match(sentence)
    if not match:
        return 0
    head = match.group(0)
    if "(" in head or re.search(r",\s*[A-Z][a-z]{2,9}\.?\s+\d", head) or head.strip()[:4].isupper():
        return match.end()
    return 0
