"""One-sentence explanations of a prediction, in English or Korean.

Analysts read the label, not the probability vector; the sentence says what the model
decided about which two countries, who acts on whom (from extraction's direction), how sure
it is and what came second — all taken from the prediction itself, nothing invented.
Korean names cover the focus countries and the usual neighbours; other countries keep their
English name in Korean sentences rather than a guessed transliteration.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Literal

__all__ = ["KOREAN_NAMES", "LABELS_KO", "Lang", "country_name", "explain"]

Lang = Literal["en", "ko"]

KOREAN_NAMES: dict[str, str] = {
    "KOR": "한국",
    "PRK": "북한",
    "USA": "미국",
    "CHN": "중국",
    "JPN": "일본",
    "RUS": "러시아",
    "IND": "인도",
    "TWN": "대만",
    "MNG": "몽골",
    "VNM": "베트남",
    "GBR": "영국",
    "FRA": "프랑스",
    "DEU": "독일",
    "ITA": "이탈리아",
    "CAN": "캐나다",
    "AUS": "호주",
    "UKR": "우크라이나",
    "IRN": "이란",
    "ISR": "이스라엘",
    "PAK": "파키스탄",
    "SAU": "사우디아라비아",
    "TUR": "튀르키예",
    "BRA": "브라질",
    "MEX": "멕시코",
    "IDN": "인도네시아",
    "PHL": "필리핀",
    "THA": "태국",
    "SGP": "싱가포르",
    "EGY": "이집트",
    "ZAF": "남아프리카공화국",
}
LABELS_KO = {"conflict": "갈등", "neutral": "중립", "cooperation": "협력"}
#: Below this top probability the sentence says the model is unsure.
UNSURE_BELOW = 0.5


@cache
def _english_names() -> dict[str, str]:
    from relwatch.extract import load_gazetteer

    return dict(load_gazetteer().countries)


def country_name(code: str, lang: Lang = "en") -> str:
    """Display name of an ISO3 code (or of a free-text name, returned as given)."""
    if lang == "ko" and code in KOREAN_NAMES:
        return KOREAN_NAMES[code]
    return _english_names().get(code, code)


def _ko_particle(word: str, with_final: str, without_final: str) -> str:
    """The particle a Korean word takes (이/가, 과/와): depends on its last syllable."""
    last = word[-1] if word else ""
    if "가" <= last <= "힣":
        return with_final if (ord(last) - 0xAC00) % 28 else without_final
    return with_final  # Latin names: the form that reads naturally after a consonant


def explain(
    source: str,
    target: str,
    label: str,
    probs: Mapping[str, float],
    direction: str | None,
    lang: Lang = "en",
) -> str:
    """One sentence: label with its probability, the pair and who acts, the runner-up."""
    ranked = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)
    top = float(probs[label])
    runner, runner_p = ranked[1] if ranked[0][0] == label else ranked[0]
    a, b = country_name(source, lang), country_name(target, lang)
    unsure = top < UNSURE_BELOW
    if lang == "ko":
        lab, second = LABELS_KO[label], LABELS_KO[runner]
        if direction == "a->b":
            who = f"{a}{_ko_particle(a, '이', '가')} {b}에 대해 취한 행동은"
        elif direction == "b->a":
            who = f"{b}{_ko_particle(b, '이', '가')} {a}에 대해 취한 행동은"
        else:
            who = f"{a}{_ko_particle(a, '과', '와')} {b}의 관계는"
        hedge = " (모델의 확신이 낮음)" if unsure else ""
        return (
            f"이 문장에서 {who} '{lab}'으로 분류되었습니다{hedge}: 확률 {top:.0%}, "
            f"다음은 {second} {float(runner_p):.0%}."
        )
    if direction == "a->b":
        who = f"{a} acting toward {b}"
    elif direction == "b->a":
        who = f"{b} acting toward {a}"
    else:
        who = f"{a} and {b} (neither clearly acting on the other)"
    hedge = ", though the model is unsure" if unsure else ""
    return (
        f"The sentence reads as {label} ({top:.0%}) for {who}{hedge}; "
        f"next is {runner} at {float(runner_p):.0%}."
    )
