from __future__ import annotations

import pytest

from relwatch.classify.markers import find_name, format_input, strip_markers


def test_names_are_marked_case_insensitively():
    text = "Seoul said north korea fired missiles at Japan."
    out = format_input(text, "North Korea", "Japan")
    assert out == "Seoul said [A] north korea [/A] fired missiles at [B] Japan [/B]."


def test_spans_win_over_names():
    text = "Japan and China met; China spoke first."
    out = format_input(text, "Japan", "China", b_span=(21, 26))
    assert out == "[A] Japan [/A] and China met; [B] China [/B] spoke first."


def test_without_pair_the_sentence_is_unchanged():
    text = "The ministers met in Delhi."
    assert format_input(text) == text
    assert format_input(text, "Brazil", "Peru") == text  # names not present: no guess


def test_same_name_marks_two_different_mentions():
    out = format_input("Korea talks: Korea and Korea.", "Korea", "Korea")
    assert out == "[A] Korea [/A] talks: [B] Korea [/B] and Korea."


def test_whole_words_preferred_over_substrings():
    assert find_name("Indiana and India met.", "India") == (12, 17)


def test_overlapping_spans_keep_only_a():
    out = format_input("South Korea met.", a_span=(0, 11), b_span=(6, 11))
    assert out == "[A] South Korea [/A] met."


def test_bad_span_is_a_clear_error():
    with pytest.raises(ValueError, match="outside the text"):
        format_input("short", a_span=(0, 50))


def test_strip_markers_round_trips():
    text = "Seoul and Tokyo signed a deal."
    assert strip_markers(format_input(text, "Seoul", "Tokyo")) == text
