"""Entity markers: tell the classifier *which* two countries a sentence is judged for.

One sentence often names three or four countries; the relation between A and B is only
defined once the pair is marked. The markers are plain text (``[A] … [/A]``,
``[B] … [/B]``) that any WordPiece/BPE vocabulary already tokenizes, so no embedding
has to be added to the base model and the ONNX export needs no special tokens.
"""

from __future__ import annotations

import re

INPUT_FORMAT = "markers-v1"
A_OPEN, A_CLOSE = "[A]", "[/A]"
B_OPEN, B_CLOSE = "[B]", "[/B]"
MARKERS = (A_OPEN, A_CLOSE, B_OPEN, B_CLOSE)

Span = tuple[int, int]


def _check_span(text: str, span: Span | None, name: str) -> Span | None:
    if span is None:
        return None
    start, end = span
    if not (0 <= start < end <= len(text)):
        raise ValueError(f"{name}={span} is outside the text (length {len(text)})")
    return (int(start), int(end))


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def find_name(text: str, name: str, avoid: Span | None = None) -> Span | None:
    """Where ``name`` occurs in ``text`` (case-insensitive), preferring whole words.

    ``avoid`` skips an occurrence that overlaps the other entity, so "Korea … Korea"
    marks two different mentions when A and B share a name.
    """
    name = name.strip()
    if not name:
        return None
    escaped = re.escape(name)
    patterns = (rf"(?<!\w){escaped}(?!\w)", escaped)
    for pattern in patterns:
        for match in re.finditer(pattern, text, flags=re.IGNORECASE):
            span = (match.start(), match.end())
            if avoid is None or not _overlaps(span, avoid):
                return span
    return None


def format_input(
    text: str,
    source: str | None = None,
    target: str | None = None,
    a_span: Span | None = None,
    b_span: Span | None = None,
) -> str:
    """The model input for (sentence, A, B): the sentence with A and B marked.

    Spans (character offsets into ``text``) win over names; names are located
    case-insensitively. A name that cannot be located (or that overlaps the other
    entity) is left unmarked rather than guessed. Without a pair the sentence is
    returned as is, so sentence-only data and pair data share one model.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, not {type(text).__name__}")
    a = _check_span(text, a_span, "a_span")
    b = _check_span(text, b_span, "b_span")
    if a is None and source:
        a = find_name(text, source, avoid=b)
    if b is None and target:
        b = find_name(text, target, avoid=a)
    if a is not None and b is not None and _overlaps(a, b):
        b = None  # one mention cannot be both sides; keep A, the actor
    marks: list[tuple[Span, str, str]] = []
    if a is not None:
        marks.append((a, A_OPEN, A_CLOSE))
    if b is not None:
        marks.append((b, B_OPEN, B_CLOSE))
    if not marks:
        return text
    out = text
    for (start, end), opener, closer in sorted(marks, key=lambda m: m[0][0], reverse=True):
        out = f"{out[:start]}{opener} {out[start:end]} {closer}{out[end:]}"
    return out


def strip_markers(text: str) -> str:
    """The sentence without markers (for display and for dedup across pairs)."""
    for marker in MARKERS:
        text = text.replace(f"{marker} ", "").replace(f" {marker}", "").replace(marker, "")
    return text
