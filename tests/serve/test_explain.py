"""Explanations: one sentence, the prediction's own figures, Korean names for Korean text."""

from __future__ import annotations

import pytest

from relwatch.serve.explain import KOREAN_NAMES, country_name, explain

PROBS = {"conflict": 0.72, "neutral": 0.18, "cooperation": 0.10}


def test_english_sentence_names_label_probability_actor_and_runner_up():
    text = explain("PRK", "JPN", "conflict", PROBS, "a->b", "en")
    assert text == (
        "The sentence reads as conflict (72%) for North Korea acting toward Japan; "
        "next is neutral at 18%."
    )
    flipped = explain("PRK", "JPN", "conflict", PROBS, "b->a", "en")
    assert "Japan acting toward North Korea" in flipped
    mutual = explain("PRK", "JPN", "conflict", PROBS, "mutual", "en")
    assert "neither clearly acting" in mutual
    unsure = explain(
        "USA", "CHN", "neutral", {"conflict": 0.3, "neutral": 0.4, "cooperation": 0.3}, None, "en"
    )
    assert "unsure" in unsure


def test_korean_sentence_uses_korean_names_labels_and_particles():
    assert explain("PRK", "JPN", "conflict", PROBS, "a->b", "ko") == (
        "이 문장에서 북한이 일본에 대해 취한 행동은 '갈등'으로 분류되었습니다: "
        "확률 72%, 다음은 중립 18%."
    )
    # 러시아 ends in a vowel: 가, not 이; 와 after a vowel, 과 after a consonant
    assert "러시아가 인도에 대해" in explain("RUS", "IND", "conflict", PROBS, "a->b", "ko")
    assert "중국과 미국의 관계는" in explain("CHN", "USA", "conflict", PROBS, "mutual", "ko")
    assert "러시아와 인도의 관계는" in explain("RUS", "IND", "conflict", PROBS, "mutual", "ko")
    assert "모델의 확신이 낮음" in explain(
        "KOR", "JPN", "neutral", {"conflict": 0.3, "neutral": 0.4, "cooperation": 0.3}, None, "ko"
    )


@pytest.mark.parametrize(
    ("code", "name"),
    [("KOR", "한국"), ("PRK", "북한"), ("USA", "미국"), ("CHN", "중국"), ("JPN", "일본"),
     ("RUS", "러시아"), ("IND", "인도")],
)  # fmt: skip
def test_focus_countries_have_korean_names(code: str, name: str):
    assert KOREAN_NAMES[code] == name == country_name(code, "ko")


def test_other_countries_keep_their_english_name():
    assert country_name("FJI", "ko") == "Fiji" == country_name("FJI", "en")
    assert country_name("KOR", "en") == "South Korea"
    assert country_name("Seoul", "ko") == "Seoul"  # a free-text side, returned as given
