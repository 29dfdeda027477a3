"""Country pairs per sentence: the (sentence, A, B) units the classifier reads.

Every unordered pair of distinct countries yields one pair; A is the country named first
in the text (by its first mention), and each side carries the span of that first mention
so the classifier can put entity markers around it and the dashboard can highlight it.
Given the sentence's parse (``roles.SentenceRoles``), a pair also carries who acts on whom
(``direction``) and whether one side is only a venue or an attribute of money (``place_only``:
kept, not indexed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

from relwatch.extract.mentions import Mention

if TYPE_CHECKING:
    from relwatch.extract.roles import SentenceRoles


@dataclass(frozen=True, slots=True)
class CountryPair:
    a: str
    b: str
    a_span: tuple[int, int]
    b_span: tuple[int, int]
    direction: str | None = None  # a->b | b->a | mutual; None where roles were not tagged
    place_only: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "a_span": list(self.a_span),
            "b_span": list(self.b_span),
            "direction": self.direction,
            "place_only": self.place_only,
        }


def first_mentions(mentions: Sequence[Mention]) -> dict[str, Mention]:
    """Each country's earliest mention (ties: the longer span)."""
    first: dict[str, Mention] = {}
    for m in sorted(mentions, key=lambda m: (m.start, -(m.end - m.start))):
        first.setdefault(m.iso3, m)
    return first


def country_pairs(
    mentions: Sequence[Mention], roles: SentenceRoles | None = None
) -> list[CountryPair]:
    """All pairs of distinct countries, A before B in the text (ties broken by code); with
    ``roles`` (the same mentions, analysed) each pair gets its direction and place_only."""
    ordered = sorted(first_mentions(mentions).values(), key=lambda m: (m.start, m.iso3))
    if roles is None:
        return [
            CountryPair(x.iso3, y.iso3, (x.start, x.end), (y.start, y.end))
            for x, y in combinations(ordered, 2)
        ]
    return [
        CountryPair(
            x.iso3,
            y.iso3,
            (x.start, x.end),
            (y.start, y.end),
            roles.direction(mentions, x.iso3, y.iso3),
            roles.place_only(mentions, x.iso3, y.iso3),
        )
        for x, y in combinations(ordered, 2)
    ]


def countries(mentions: Sequence[Mention]) -> list[str]:
    return sorted({m.iso3 for m in mentions})
