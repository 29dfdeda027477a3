"""Training-time variants: other names in the same form, swapped sides, dropped markers."""

from __future__ import annotations

import random
import re

import pytest

from relwatch.classify.augment import (
    COUNTRY_FORMS,
    Augmentation,
    augmented_input,
    contrast_sentences,
    input_view,
    pair_spans,
    swap_names,
)
from relwatch.classify.data import Example
from relwatch.classify.markers import strip_markers

ALL_FORMS = {form for row in COUNTRY_FORMS for form in row}


def _marked(text: str, marker: str) -> str:
    found = re.search(rf"\[{marker}\] (.+?) \[/{marker}\]", text)
    assert found, text
    return found.group(1)


def test_swapped_names_keep_their_form_every_occurrence_and_the_spans():
    text = "Japan and Chinese officials met; Japan's envoy said Tokyo was ready."
    a, b = (0, 5), (10, 17)
    for seed in range(30):
        new, (na, nb) = swap_names(text, [a, b], random.Random(seed))
        first, second = new[na[0] : na[1]], new[nb[0] : nb[1]]
        name_row = next(r for r in COUNTRY_FORMS if first in (r[0], r[0].removeprefix("the ")))
        assert second in {r[1] for r in COUNTRY_FORMS}  # a demonym stays a demonym
        assert first not in {"Japan", "China"} and second not in {"Chinese", "Japanese"}
        assert new.count(first) >= 2  # "Japan's envoy" follows the swap too
        assert "Tokyo" in new  # a capital that was not marked stays
        assert name_row[1] != second  # never the same country on both sides


def test_an_article_outside_the_span_blocks_the_swap_and_a_dateline_keeps_its_case():
    text = "SEOUL, March 3 - the US and Japan met."
    new, spans = swap_names(text, [(21, 23), (28, 33)], random.Random(1))
    assert new[spans[0][0] : spans[0][1]] == "US"  # "the [US]": left alone
    assert new[spans[1][0] : spans[1][1]] != "Japan"
    capital, _ = swap_names(text, [(0, 5), None], random.Random(2))
    assert capital.split(",")[0].isupper() and not capital.startswith("SEOUL")


def test_marker_dropout_never_touches_sentences_whose_pairs_differ():
    rows = [
        Example(
            "Seoul and Washington condemned Pyongyang.", "cooperation", "t", "Seoul", "Washington"
        ),
        Example("Seoul and Washington condemned Pyongyang.", "conflict", "t", "Seoul", "Pyongyang"),
        Example("Tokyo praised Delhi.", "cooperation", "t", "Tokyo", "Delhi"),
    ]
    contrast = contrast_sentences(rows)
    assert len(contrast) == 1
    drop_all = Augmentation(bare=1.0)
    rng = random.Random(0)
    kept = augmented_input(rows[0], rng, drop_all, may_drop=False)
    assert "[A]" in kept and "[B]" in kept
    assert augmented_input(rows[2], rng, drop_all, may_drop=True) == rows[2].text
    one = {
        augmented_input(rows[2], rng, Augmentation(one_side=1.0), may_drop=True) for _ in range(20)
    }
    assert one == {"[A] Tokyo [/A] praised Delhi.", "Tokyo praised [B] Delhi [/B]."}


def test_side_swap_and_views_keep_the_sentence():
    row = Example("Tokyo praised Delhi.", "cooperation", "t", "Tokyo", "Delhi")
    swapped = augmented_input(row, random.Random(0), Augmentation(swap_sides=1.0), may_drop=False)
    assert swapped == "[B] Tokyo [/B] praised [A] Delhi [/A]."
    assert input_view(row, "marked") == row.model_input()
    assert input_view(row, "one-side") == "[A] Tokyo [/A] praised Delhi."
    assert input_view(row, "bare") == row.text
    with pytest.raises(ValueError, match="view"):
        input_view(row, "sideways")
    assert pair_spans(Example("x", "neutral", "t")) == (None, None)


def test_augmented_text_is_the_sentence_with_other_names_only():
    row = Example(
        "South Korea and the US condemned North Korea's launch, Japan's ministry said.",
        "conflict",
        "t",
        a_span=(0, 11),
        b_span=(33, 44),
    )
    aug = Augmentation(swap_names=1.0, swap_sides=0.5)
    for seed in range(20):
        out = augmented_input(row, random.Random(seed), aug, may_drop=False)
        a, b = _marked(out, "A"), _marked(out, "B")
        assert {a, b} <= ALL_FORMS | {f.removeprefix("the ") for f in ALL_FORMS}
        assert strip_markers(out).endswith("'s ministry said.")
        assert "the US condemned" in out  # the unmarked third country is untouched
