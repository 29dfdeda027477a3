"""Training-time input variation: other country names, swapped sides, dropped markers.

A classifier that has seen "North Korea" mostly in conflict sentences learns the name, not
the relation; one that always sees both markers fails when the extractor finds only one
country, or none. Each epoch therefore shows every training row in a fresh variant:

- **name swap**: the marked countries (name, demonym or capital; every occurrence in the
  sentence) become other countries in the same form, never one already named there;
- **side swap**: A and B exchange markers (the relation label is undirected);
- **marker dropout**: a row whose sentence has one label for all its pairs is sometimes
  shown with one side marked, or bare, so the same model serves marked, one-side and
  bare input. Rows of sentences whose pairs differ ("A and B condemned C") keep both
  markers: without them the label is undefined.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from relwatch.classify.data import Example, normalize_sentence
from relwatch.classify.markers import find_name, format_input

Span = tuple[int, int]

# name (with its article when it takes one), demonym, capital
COUNTRY_FORMS: tuple[tuple[str, str, str], ...] = (
    ("South Korea", "South Korean", "Seoul"),
    ("North Korea", "North Korean", "Pyongyang"),
    ("the United States", "American", "Washington"),
    ("China", "Chinese", "Beijing"),
    ("Japan", "Japanese", "Tokyo"),
    ("Russia", "Russian", "Moscow"),
    ("India", "Indian", "New Delhi"),
    ("Britain", "British", "London"),
    ("France", "French", "Paris"),
    ("Germany", "German", "Berlin"),
    ("Italy", "Italian", "Rome"),
    ("Spain", "Spanish", "Madrid"),
    ("Poland", "Polish", "Warsaw"),
    ("Ukraine", "Ukrainian", "Kyiv"),
    ("Turkey", "Turkish", "Ankara"),
    ("Iran", "Iranian", "Tehran"),
    ("Iraq", "Iraqi", "Baghdad"),
    ("Israel", "Israeli", "Jerusalem"),
    ("Egypt", "Egyptian", "Cairo"),
    ("Saudi Arabia", "Saudi", "Riyadh"),
    ("Qatar", "Qatari", "Doha"),
    ("Pakistan", "Pakistani", "Islamabad"),
    ("Afghanistan", "Afghan", "Kabul"),
    ("Bangladesh", "Bangladeshi", "Dhaka"),
    ("Vietnam", "Vietnamese", "Hanoi"),
    ("the Philippines", "Philippine", "Manila"),
    ("Indonesia", "Indonesian", "Jakarta"),
    ("Malaysia", "Malaysian", "Kuala Lumpur"),
    ("Thailand", "Thai", "Bangkok"),
    ("Australia", "Australian", "Canberra"),
    ("Canada", "Canadian", "Ottawa"),
    ("Mexico", "Mexican", "Mexico City"),
    ("Brazil", "Brazilian", "Brasilia"),
    ("Argentina", "Argentine", "Buenos Aires"),
    ("Chile", "Chilean", "Santiago"),
    ("Nigeria", "Nigerian", "Abuja"),
    ("Kenya", "Kenyan", "Nairobi"),
    ("Ethiopia", "Ethiopian", "Addis Ababa"),
    ("South Africa", "South African", "Pretoria"),
    ("Sweden", "Swedish", "Stockholm"),
    ("Norway", "Norwegian", "Oslo"),
    ("Finland", "Finnish", "Helsinki"),
    ("Greece", "Greek", "Athens"),
    ("Hungary", "Hungarian", "Budapest"),
    ("Syria", "Syrian", "Damascus"),
    ("Mongolia", "Mongolian", "Ulaanbaatar"),
    ("Kazakhstan", "Kazakh", "Astana"),
    ("Taiwan", "Taiwanese", "Taipei"),
    ("Venezuela", "Venezuelan", "Caracas"),
    ("Cuba", "Cuban", "Havana"),
)
# Other spellings of a form: (surface, row of COUNTRY_FORMS, column 0 name / 1 demonym / 2 capital)
_ALIASES: tuple[tuple[str, int, int], ...] = (
    ("the US", 2, 0),
    ("the U.S.", 2, 0),
    ("the USA", 2, 0),
    ("US", 2, 1),
    ("U.S.", 2, 1),
    ("the UK", 7, 0),
    ("UK", 7, 1),
    ("Kiev", 13, 2),
    ("Delhi", 6, 2),
)


def _index() -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for row, forms in enumerate(COUNTRY_FORMS):
        for column, form in enumerate(forms):
            out.setdefault(form.casefold(), (row, column))
    for surface, row, column in _ALIASES:
        out[surface.casefold()] = (row, column)
    return out


_INDEX = _index()
_FORM_PATTERN = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(k) for k in sorted(_INDEX, key=len, reverse=True))
    + r")(?![\w])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Augmentation:
    """Probabilities of each variation (0 switches it off)."""

    swap_names: float = 0.0
    swap_sides: float = 0.0
    one_side: float = 0.0
    bare: float = 0.0

    @property
    def active(self) -> bool:
        return any((self.swap_names, self.swap_sides, self.one_side, self.bare))


def pair_spans(example: Example) -> tuple[Span | None, Span | None]:
    """A's and B's spans: given ones, else the names located as ``format_input`` would."""
    a, b = example.a_span, example.b_span
    if a is None and example.source:
        a = find_name(example.text, example.source, avoid=b)
    if b is None and example.target:
        b = find_name(example.text, example.target, avoid=a)
    if a is not None and b is not None and a[0] < b[1] and b[0] < a[1]:
        b = None
    return a, b


def contrast_sentences(examples: Sequence[Example]) -> set[str]:
    """Normalised sentences whose labelled pairs do not all share one label."""
    labels: dict[str, set[str]] = {}
    for e in examples:
        labels.setdefault(normalize_sentence(e.text), set()).add(e.label)
    return {key for key, found in labels.items() if len(found) > 1}


def _styled(form: str, like: str) -> str:
    if like.isalpha() and like.isupper() and len(like) > 3:
        return form.upper()  # datelines: "SEOUL, March 3"
    if like[:1].isupper():
        return form[:1].upper() + form[1:]
    return form


def _country_in(surface: str) -> tuple[Span, int, int] | None:
    """The country form inside a marked surface: the whole surface ("the US"), or a word in
    it ("The U.S. Defense Department", where "U.S." is an adjective and "The" stays)."""
    match = _FORM_PATTERN.search(surface)
    if match is None:
        return None
    start, end = match.start(), match.end()
    key = match.group(1).casefold()
    if key.startswith("the ") and (start, end) != (0, len(surface)):
        start += 4
        key = key[4:]
        if key not in _INDEX:
            return None
    row, column = _INDEX[key]
    return (start, end), row, column


def swap_names(
    text: str, spans: Sequence[Span | None], rng: random.Random
) -> tuple[str, list[Span | None]]:
    """Replace the country in each marked span, and every other occurrence of that word,
    by another country in the same form; spans are moved to follow the new text."""
    present = {_INDEX[m.group(1).casefold()][0] for m in _FORM_PATTERN.finditer(text)}
    pool = [row for row in range(len(COUNTRY_FORMS)) if row not in present]
    edits: dict[Span, str] = {}
    for span in spans:
        if span is None or not pool:
            continue
        found = _country_in(text[span[0] : span[1]])
        if found is None:
            continue
        (start, end), _, column = found
        word = text[span[0] + start : span[0] + end]
        after_the = text[max(0, span[0] + start - 4) : span[0] + start].casefold() == "the "
        whole = (start, end) == (0, span[1] - span[0])
        if after_the and (column == 0 or whole) and not word.casefold().startswith("the "):
            continue  # "the [US]": noun or adjective, and the article sits outside the span
        article = word.casefold().startswith("the ")
        fitting = [
            r for r in pool if column != 0 or COUNTRY_FORMS[r][0].startswith("the ") == article
        ] or pool
        new_row = fitting[rng.randrange(len(fitting))]
        pool.remove(new_row)
        form = COUNTRY_FORMS[new_row][column]
        if column == 0 and form.startswith("the ") and not article:
            form = form[4:]
        for match in re.finditer(rf"(?<![\w.]){re.escape(word)}(?!\w)", text):
            if not any(match.start() < e and s < match.end() for s, e in edits):
                edits[(match.start(), match.end())] = _styled(form, word)
    if not edits:
        return text, list(spans)
    pieces, position, shifts = [], 0, []
    for (start, end), new in sorted(edits.items()):
        pieces += [text[position:start], new]
        shifts.append((end, len(new) - (end - start)))
        position = end
    pieces.append(text[position:])

    def moved(offset: int) -> int:
        """An offset after the edits: every edit that ends at or before it shifts it."""
        return offset + sum(change for end, change in shifts if end <= offset)

    out = [None if span is None else (moved(span[0]), moved(span[1])) for span in spans]
    return "".join(pieces), out


VIEWS = ("marked", "one-side", "bare")


def input_view(example: Example, view: str) -> str:
    """The model input with both sides marked, only one (A, else B), or none."""
    if view == "marked":
        return example.model_input()
    if view == "bare":
        return example.text
    if view != "one-side":
        raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
    a, b = pair_spans(example)
    return format_input(example.text, a_span=a) if a else format_input(example.text, b_span=b)


def augmented_input(
    example: Example, rng: random.Random, aug: Augmentation, *, may_drop: bool
) -> str:
    """One training variant of ``example``'s model input."""
    if not aug.active:
        return example.model_input()
    a, b = pair_spans(example)
    text = example.text
    if (a or b) and rng.random() < aug.swap_names:
        text, (a, b) = swap_names(text, [a, b], rng)
    if rng.random() < aug.swap_sides:
        a, b = b, a
    if may_drop and (a or b):
        draw = rng.random()
        if draw < aug.bare:
            a = b = None
        elif draw < aug.bare + aug.one_side and a and b:
            if rng.random() < 0.5:
                a = None
            else:
                b = None
    return format_input(text, a_span=a, b_span=b)
