"""Country mentions: a token trie over every alias, longest match first, checked in context.

Why a token trie: ~1,500 aliases matched per sentence must cost microseconds, and matching
whole tokens gives word boundaries for free ("Niger" never fires inside "Nigeria", "Oman"
never inside "Romania"). Matching is case-sensitive as the alias is written, so "us", "china"
and "turkey" in lower case never match, and all-capital datelines ("SEOUL (Reuters) -") are
not mentions. Ambiguous aliases then pass context rules (cheap) and, only where still in
doubt, spaCy NER run in batches over just the sentences that need it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from relwatch.extract.gazetteer import AmbiguityRule, Gazetteer, load_gazetteer, normalize_alias
from relwatch.extract.ner import PLACE_LABELS, Entity, NerChecker, overlapping

NerPolicy = Literal["ambiguous", "all", "off"]

_TOKEN = re.compile(r"\w+|[^\w\s]")
_TOKEN_NORMAL = str.maketrans({"’": "'", "‘": "'", "‐": "-", "‑": "-", "–": "-"})
_END = ""  # trie key marking the end of an alias

_TITLES = {
    "President",
    "Premier",
    "Prime",
    "Minister",
    "Chancellor",
    "Chairman",
    "Secretary",
    "Leader",
    "King",
    "Queen",
    "Emperor",
    "Empress",
    "Prince",
    "Princess",
    "General",
    "Gen",
    "Senator",
    "Governor",
    "Foreign",
    "Defense",
    "Defence",
    "Vice",
    "Deputy",
    "Former",
    "Ambassador",
    "State",
    "Supreme",
    "Crown",
    "Sheikh",
    "Sultan",
    "Emir",
    "Pope",
    "Marshal",
    "Comrade",
    "Army",
    "Navy",
    "Air",
    "Government",
    "Parliament",
    "Embassy",
    "Consulate",
    "Ministry",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "North",
    "South",
    "East",
    "West",
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Central",
    "Neighboring",
    "Neighbouring",
    "Communist",
    "Reuters",
    "AP",
    "AFP",
    "Officials",
    "Authorities",
    "Police",
    "Troops",
    "Forces",
}
_HONORIFICS = {"Mr", "Mrs", "Ms", "Miss", "Dr", "Mister"}
_CORPORATE = {
    "Corp",
    "Inc",
    "Co",
    "Ltd",
    "Plc",
    "PLC",
    "LLC",
    "Corporation",
    "Company",
    "Industries",
    "Holdings",
}
_ORG_LABELS = frozenset({"ORG", "FAC", "PRODUCT", "WORK_OF_ART", "EVENT"})
_US_STATES_EXCLUDED = {"Georgia", "Washington", "New York"}


@dataclass(frozen=True, slots=True)
class Mention:
    """A country mention; offsets are into the text it was found in. ``role`` is ``actor``,
    ``place`` (a venue: "talks in Hanoi") or ``attribute`` (of money: "U.S. cents") where the
    sentence names two or more countries and roles were tagged, else None."""

    start: int
    end: int
    text: str
    iso3: str
    kind: str
    role: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class _Candidate:
    start: int
    end: int
    tok_start: int
    tok_end: int
    key: str
    iso3: str
    kind: str
    needs_ner: bool = False
    require_entity: bool = False


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Word and punctuation tokens with character offsets, apostrophes/hyphens normalised."""
    return [(m.group().translate(_TOKEN_NORMAL), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _capitalised_word(token: str) -> bool:
    return token[:1].isupper() and token.isalpha()


class MentionFinder:
    """Finds country mentions in sentences; see the module docstring for the rules."""

    def __init__(
        self,
        gazetteer: Gazetteer | None = None,
        ner: NerChecker | None = None,
        ner_policy: NerPolicy = "ambiguous",
    ) -> None:
        self.gazetteer = gazetteer or load_gazetteer()
        self.ner_policy = ner_policy
        self.ner = ner if ner is not None else (NerChecker() if ner_policy != "off" else None)
        self._trie: dict[str, dict] = {}
        for key in [*self.gazetteer.entries, *self.gazetteer.stop_phrases, *self.gazetteer.joint]:
            node = self._trie
            for tok, _, _ in tokenize(key):
                node = node.setdefault(tok, {})
            node[_END] = key  # type: ignore[assignment]
        from spacy.lang.en.stop_words import STOP_WORDS

        self._exempt = _TITLES | {w.capitalize() for w in STOP_WORDS}
        states = sorted(set(self.gazetteer.us_states) - _US_STATES_EXCLUDED, key=len, reverse=True)
        self._us_state_re = (
            re.compile(r"\b(?:" + "|".join(map(re.escape, states)) + r")\b") if states else None
        )

    # ---------------------------------------------------------------- matching
    def _raw_matches(self, tokens: list[tuple[str, int, int]]) -> list[tuple[int, int, str]]:
        """Leftmost-longest alias matches as (first token, end token, key)."""
        out: list[tuple[int, int, str]] = []
        i, n = 0, len(tokens)
        trie = self._trie
        while i < n:
            node = trie.get(tokens[i][0])
            best: tuple[int, str] | None = None
            j = i
            while node is not None:
                j += 1
                if _END in node:
                    best = (j, node[_END])  # type: ignore[assignment]
                if j >= n:
                    break
                node = node.get(tokens[j][0])
            if best is None:
                i += 1
                continue
            out.append((i, best[0], best[1]))
            i = best[0]
        return out

    def _vetoed_by_context(
        self,
        rule: AmbiguityRule,
        kind: str,
        tokens: list[tuple[str, int, int]],
        i: int,
        j: int,
        text: str,
        key: str,
    ) -> bool:
        prev = tokens[i - 1][0] if i > 0 else ""
        nxt = tokens[j][0] if j < len(tokens) else ""
        if prev in rule.veto_prev or nxt in rule.veto_next:
            return True
        if rule.caps_context:
            letters = [c for c in text if c.isalpha()]
            if letters and sum(c.isupper() for c in letters) / len(letters) > 0.6:
                return True
        after = [t for t, _, _ in tokens[j : j + 3]]
        if _CORPORATE & set(after):
            return True  # "Georgia Gulf Corp", "Jordan Brand Inc": a company, not the place
        if (
            nxt == "-"
            and len(after) > 1
            and _capitalised_word(after[1])
            and after[1] not in self.gazetteer.entries
        ):
            return True  # "Georgia-Pacific"
        if rule.person_like:
            if kind != "leader" and prev == "." and i > 1 and tokens[i - 2][0] in _HONORIFICS:
                return True
            if kind != "leader" and prev in _HONORIFICS:
                return True
            for word in (prev, nxt):
                if (
                    _capitalised_word(word)
                    and word not in self._exempt
                    and word not in self.gazetteer.entries
                ):
                    return True
        if rule.us_state:
            words = {t for t, _, _ in tokens}
            us_hit = bool(words & rule.us_cues) or (
                self._us_state_re is not None
                and any(m.group() != key for m in self._us_state_re.finditer(text))
            )
            if us_hit and not (words & rule.country_cues):
                return True
        return False

    def _candidates(self, text: str, day: dt.date) -> list[_Candidate]:
        tokens = tokenize(text)
        gaz = self.gazetteer
        out: list[_Candidate] = []
        for i, j, key in self._raw_matches(tokens):
            if key in gaz.stop_phrases:
                continue
            if key in gaz.joint:
                start, end = tokens[i][1], tokens[j - 1][2]
                out.extend(
                    _Candidate(start, end, i, j, key, code, "name") for code in gaz.joint[key]
                )
                continue
            entry = gaz.resolve(key, day)
            if entry is None:
                continue
            cand = _Candidate(tokens[i][1], tokens[j - 1][2], i, j, key, entry.iso3, entry.kind)
            rule = gaz.rules.get(key)
            if rule is not None:
                if self._vetoed_by_context(rule, entry.kind, tokens, i, j, text, key):
                    continue
                cand.needs_ner = entry.kind != "leader"
                cand.require_entity = rule.require_entity
            elif self.ner_policy == "all" and entry.kind != "leader":
                cand.needs_ner = True
            out.append(cand)
        return out

    # ---------------------------------------------------------------- public API
    def find(
        self,
        texts: Sequence[str],
        dates: Sequence[dt.date | None] | None = None,
        skip_before: Sequence[int] | None = None,
    ) -> list[list[Mention]]:
        """Mentions per text. ``dates`` resolve leaders (None: today, UTC); mentions ending at
        or before ``skip_before[i]`` are dropped (datelines)."""
        today = dt.datetime.now(dt.UTC).date()
        per_text: list[list[_Candidate]] = []
        for idx, text in enumerate(texts):
            day = (dates[idx] if dates is not None else None) or today
            cands = self._candidates(text, day)
            if skip_before is not None and skip_before[idx] > 0:
                cands = [c for c in cands if c.start >= skip_before[idx]]
            per_text.append(cands)
        if self.ner is not None and self.ner_policy != "off":
            todo = [k for k, cands in enumerate(per_text) if any(c.needs_ner for c in cands)]
            ents = self.ner.entities([texts[k] for k in todo])
            for k, entities in zip(todo, ents, strict=True):
                per_text[k] = [c for c in per_text[k] if not self._vetoed_by_ner(c, entities)]
        return [
            [Mention(c.start, c.end, texts[k][c.start : c.end], c.iso3, c.kind) for c in cands]
            for k, cands in enumerate(per_text)
        ]

    @staticmethod
    def _vetoed_by_ner(cand: _Candidate, entities: list[Entity]) -> bool:
        if not cand.needs_ner:
            return False
        hits = overlapping(entities, cand.start, cand.end)
        if any(e.label == "PERSON" for e in hits):
            return True
        # An organisation or facility *named after* the place ("Georgia Gulf Corp").
        if any(
            e.label in _ORG_LABELS and e.start == cand.start and e.end > cand.end + 2 for e in hits
        ):
            return True
        return cand.require_entity and not any(e.label in PLACE_LABELS for e in hits)


def find_mentions(
    text: str, date: dt.date | None = None, finder: MentionFinder | None = None
) -> list[Mention]:
    """Convenience for one sentence (batch with ``MentionFinder.find`` for speed)."""
    return (finder or default_finder()).find([text], [date])[0]


_DEFAULT: MentionFinder | None = None


def default_finder() -> MentionFinder:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = MentionFinder()
    return _DEFAULT


__all__ = ["Mention", "MentionFinder", "NerPolicy", "find_mentions", "normalize_alias", "tokenize"]
