"""From request texts to classified country pairs: the work behind predict, analyze and jobs.

Three steps, split so the API and a bulk job share them: :func:`plan_items` runs extraction
(sentences, mentions, pairs with direction) and builds one model input per pair, with the
pair marked as the classifier was trained; the caller computes probabilities for those
inputs (the API through its cache and micro-batcher, a job straight on the engine); then
:func:`assemble_item` / :func:`assemble_article` shape the answer with labels and
explanations. Offsets in answers are into the text the caller sent.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from relwatch.classify.markers import find_name, format_input
from relwatch.core.errors import InputError
from relwatch.core.models import LABELS
from relwatch.extract import Extractor, Mention, SentenceUnit
from relwatch.extract.pipeline import WARM_SAMPLE
from relwatch.serve.explain import Lang, explain

__all__ = [
    "ItemPlan",
    "PairPlan",
    "TextItem",
    "assemble_article",
    "assemble_item",
    "check_items",
    "extract_units",
    "get_extractor",
    "guess_inputs",
    "plan_article",
    "plan_items",
    "predict_items_sync",
    "warm_up",
]

_ISO3 = re.compile(r"^[A-Za-z]{3}$")
_FLIP = {"a->b": "b->a", "b->a": "a->b", "mutual": "mutual"}
# spaCy pipelines are not safe to call from two threads at once; the API and an in-process
# job may both extract, so every call goes through this lock.
_EXTRACT_LOCK = threading.Lock()


@dataclass(frozen=True)
class TextItem:
    """One text to classify, with an optional pair (ISO3 codes or names as written)."""

    text: str
    source: str | None = None
    target: str | None = None


@dataclass
class PairPlan:
    """One (sentence, source, target) to classify and where it came from."""

    source: str
    target: str
    source_span: tuple[int, int] | None
    target_span: tuple[int, int] | None
    direction: str
    place_only: bool
    sentence_index: int | None
    sentence: str
    model_input: str


@dataclass
class ItemPlan:
    text: str
    mentions: list[dict[str, Any]]
    pairs: list[PairPlan]
    units: list[SentenceUnit] = field(default_factory=list)


@cache
def get_extractor() -> Extractor:
    """The process's extractor (gazetteer, NER and parser loaded once)."""
    return Extractor()


@cache
def _gazetteer_only() -> Extractor:
    """Mentions from the gazetteer alone (no NER veto, no parse): enough to mark a pair."""
    return Extractor(ner_policy="off", roles=False)


#: Longest request (characters in all) whose model inputs are guessed before extraction.
GUESS_MAX_CHARS = 4000


def guess_inputs(items: Sequence[TextItem]) -> list[str] | None:
    """The model inputs of explicit-pair items from the gazetteer alone, or None.

    The marked input of a caller's pair needs only where the two names are, not the parse,
    so the model can run while spaCy extracts; the caller compares these with the inputs of
    the full plan and recomputes any that differ (an NER veto moved a mention). None when an
    item has no pair, the request is long, or the pair cannot be placed this way.
    """
    if not items or any(i.source is None or i.target is None for i in items):
        return None
    if sum(len(i.text) for i in items) > GUESS_MAX_CHARS:
        return None
    units = [
        [SentenceUnit(0, i.text, 0, len(i.text), None, ms, [])]
        for i, ms in zip(items, _gazetteer_only().finder.find([i.text for i in items]), strict=True)
    ]
    try:
        plans = plan_items(items, units=units)
    except InputError:
        return None
    return [p.model_input for plan in plans for p in plan.pairs]


def _import_spacy() -> None:
    """Import spaCy without letting thinc import torch, unless torch is already loaded.

    thinc imports torch only to offer it as a backend; the server's spaCy pipelines run on
    numpy, and torch's import is about a second of the start. torch stays importable
    afterwards (an in-process training job imports it as usual)."""
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy  # noqa: F401
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


def warm_up() -> None:
    """Import spaCy, load the extractor's gazetteer and spaCy pipelines and the pair guess
    (thread-safe; a second call only reruns the cheap sample)."""
    with _EXTRACT_LOCK:
        _import_spacy()
        get_extractor().warm()
    guess_inputs([TextItem(WARM_SAMPLE, "KOR", "JPN")])


def extract_units(
    texts: Sequence[str], dates: Sequence[dt.date | None] | None = None
) -> list[list[SentenceUnit]]:
    """Sentences with mentions and directed pairs, one list per text (thread-safe)."""
    extractor = get_extractor()
    with _EXTRACT_LOCK:
        return extractor.articles(list(texts), list(dates) if dates is not None else None)


def _mention_dict(m: Mention, offset: int) -> dict[str, Any]:
    return {
        "start": m.start + offset,
        "end": m.end + offset,
        "text": m.text,
        "iso3": m.iso3,
        "kind": m.kind,
        "role": m.role,
    }


def _shift(span: tuple[int, int], offset: int) -> tuple[int, int]:
    return (span[0] + offset, span[1] + offset)


def _auto_pairs(units: list[SentenceUnit]) -> list[PairPlan]:
    """Every pair extraction found, sentence by sentence; the actor is marked as A."""
    out = []
    for u in units:
        for p in u.pairs:
            direction = p.direction or "mutual"
            a, b, a_span, b_span = p.a, p.b, p.a_span, p.b_span
            if direction == "b->a":  # as stored predictions do: the acting country is A
                a, b, a_span, b_span = b, a, b_span, a_span
            out.append(
                PairPlan(
                    source=p.a,
                    target=p.b,
                    source_span=_shift(p.a_span, u.start),
                    target_span=_shift(p.b_span, u.start),
                    direction=direction,
                    place_only=p.place_only,
                    sentence_index=u.index,
                    sentence=u.text,
                    model_input=format_input(u.text, a, b, a_span, b_span),
                )
            )
    return out


@cache
def _names_to_codes() -> dict[str, str]:
    from relwatch.extract import load_gazetteer

    return {name.lower(): code for code, name in load_gazetteer().countries.items()}


def _country_code(name: str) -> str | None:
    """ISO3 code of a country named in full ("Japan", "South Korea"), else None."""
    return _names_to_codes().get(name.strip().lower().removeprefix("the "))


def _locate(
    value: str, text: str, mentions: list[dict[str, Any]], side: str, avoid: tuple[int, int] | None
) -> tuple[str, tuple[int, int]]:
    """(ISO3 code or the name as given, span in text) of one side of an explicit pair."""
    value = value.strip()
    if not value:
        raise InputError(f"{side} is empty")
    code = value.upper() if _ISO3.match(value) else _country_code(value)
    if code is not None:  # a country: its first mention, whatever words name it
        for m in mentions:
            span = (m["start"], m["end"])
            if m["iso3"] == code and (avoid is None or span != avoid):
                return code, span
    span = find_name(text, value, avoid=avoid)
    if span is None:
        raise InputError(
            f"{side} {value!r} is not mentioned in the text; give an ISO3 code of a country "
            "the text names, or the name as written, or leave source and target out"
        )
    for m in mentions:  # a name that is also a mention: report its ISO3 code
        if m["start"] <= span[0] and span[1] <= m["end"]:
            return m["iso3"], span
    return value, span


def _explicit_pair(
    item: TextItem, units: list[SentenceUnit], mentions: list[dict[str, Any]]
) -> PairPlan:
    """The caller's pair over the whole text: source marked as A, target as B."""
    assert item.source is not None and item.target is not None
    source, s_span = _locate(item.source, item.text, mentions, "source", None)
    target, t_span = _locate(item.target, item.text, mentions, "target", s_span)
    if source == target:
        raise InputError(f"source and target are the same country ({source})")
    direction, place_only, index, sentence = "mutual", False, None, item.text
    for u in units:
        for p in u.pairs:
            if {p.a, p.b} == {source, target}:
                d = p.direction or "mutual"
                direction = d if p.a == source else _FLIP[d]
                place_only, index, sentence = p.place_only, u.index, u.text
                break
        else:
            continue
        break
    return PairPlan(
        source=source,
        target=target,
        source_span=s_span,
        target_span=t_span,
        direction=direction,
        place_only=place_only,
        sentence_index=index,
        sentence=sentence,
        model_input=format_input(item.text, item.source, item.target, s_span, t_span),
    )


def check_items(items: Sequence[TextItem]) -> None:
    """Refuse, before any work, items that cannot be planned."""
    for k, item in enumerate(items):
        if not item.text.strip():
            raise InputError(f"items[{k}].text is empty")
        if (item.source is None) != (item.target is None):
            raise InputError(f"items[{k}]: give both source and target, or neither")


def plan_items(
    items: Sequence[TextItem],
    dates: Sequence[dt.date | None] | None = None,
    *,
    units: Sequence[list[SentenceUnit]] | None = None,
) -> list[ItemPlan]:
    """Model inputs for each item. Extraction runs here (blocking) unless ``units`` (one list
    per item, from :func:`extract_units`) were computed already, e.g. batched with others."""
    check_items(items)
    all_units = units if units is not None else extract_units([i.text for i in items], dates)
    plans = []
    for k, (item, units) in enumerate(zip(items, all_units, strict=True)):
        mentions = [_mention_dict(m, u.start) for u in units for m in u.mentions]
        if item.source is not None:
            try:
                pairs = [_explicit_pair(item, units, mentions)]
            except InputError as exc:
                raise InputError(f"items[{k}]: {exc}") from None
        else:
            pairs = _auto_pairs(units)
        plans.append(ItemPlan(item.text, mentions, pairs, units))
    return plans


def plan_article(
    text: str, date: dt.date | None = None, *, units: list[SentenceUnit] | None = None
) -> ItemPlan:
    """An article: every sentence, its TextRank score, and every pair in it."""
    if not text.strip():
        raise InputError("the article text is empty")
    units = units if units is not None else extract_units([text], [date])[0]
    mentions = [_mention_dict(m, u.start) for u in units for m in u.mentions]
    return ItemPlan(text, mentions, _auto_pairs(units), units)


def _probs_dict(probs: Sequence[float]) -> dict[str, float]:
    return {label: round(float(p), 6) for label, p in zip(LABELS, probs, strict=True)}


def _pair_out(pair: PairPlan, probs: Sequence[float], lang: Lang) -> dict[str, Any]:
    p = _probs_dict(probs)
    label = max(p, key=p.__getitem__)
    return {
        "source": pair.source,
        "target": pair.target,
        "label": label,
        "probs": p,
        "direction": pair.direction,
        "place_only": pair.place_only,
        "source_span": list(pair.source_span) if pair.source_span else None,
        "target_span": list(pair.target_span) if pair.target_span else None,
        "sentence_index": pair.sentence_index,
        "sentence": pair.sentence,
        "explanation": explain(pair.source, pair.target, label, p, pair.direction, lang),
    }


def assemble_item(
    plan: ItemPlan, probs: Sequence[Sequence[float]], model: dict[str, str], lang: Lang
) -> dict[str, Any]:
    """The answer for one predict item; ``probs`` in the order of ``plan.pairs``."""
    return {
        "mentions": plan.mentions,
        "pairs": [_pair_out(pair, p, lang) for pair, p in zip(plan.pairs, probs, strict=True)],
        "model": model,
    }


def assemble_article(
    plan: ItemPlan,
    probs: Sequence[Sequence[float]],
    model: dict[str, str],
    lang: Lang,
    *,
    top_k: int,
) -> dict[str, Any]:
    """Key sentences, every pair with its prediction, and a per-pair summary."""
    ranked = sorted(plan.units, key=lambda u: (-(u.score or 0.0), u.index))[:top_k]
    pairs = [_pair_out(pair, p, lang) for pair, p in zip(plan.pairs, probs, strict=True)]
    summary: dict[tuple[str, str], dict[str, Any]] = {}
    for out in pairs:
        key = (min(out["source"], out["target"]), max(out["source"], out["target"]))
        entry = summary.setdefault(
            key,
            {
                "source": key[0],
                "target": key[1],
                "sentences": 0,
                "tone": 0.0,
                "labels": dict.fromkeys(LABELS, 0),
            },
        )
        entry["sentences"] += 1
        entry["tone"] += out["probs"]["cooperation"] - out["probs"]["conflict"]
        entry["labels"][out["label"]] += 1
    for entry in summary.values():
        entry["tone"] = round(entry["tone"] / entry["sentences"], 6)
    return {
        "sentences": len(plan.units),
        "key_sentences": [
            {
                "index": u.index,
                "text": u.text,
                "start": u.start,
                "end": u.end,
                "score": round(float(u.score or 0.0), 6),
            }
            for u in ranked
        ],
        "mentions": plan.mentions,
        "pairs": pairs,
        "summary": sorted(summary.values(), key=lambda e: (-e["sentences"], e["source"])),
        "model": model,
    }


def predict_items_sync(
    engine: Any, model: dict[str, str], items: Sequence[TextItem], lang: Lang = "en"
) -> list[dict[str, Any]]:
    """Bulk path (jobs): plan, one engine call over every pair, assemble."""
    plans = plan_items(items)
    inputs = [p.model_input for plan in plans for p in plan.pairs]
    probs = engine.predict_proba(inputs).tolist() if inputs else []
    out, pos = [], 0
    for plan in plans:
        n = len(plan.pairs)
        out.append(assemble_item(plan, probs[pos : pos + n], model, lang))
        pos += n
    return out
