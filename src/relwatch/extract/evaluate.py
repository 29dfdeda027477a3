"""Mention quality against a gold set: per-sentence country sets, precision and recall.

Gold rows are JSONL: ``{"id", "source", "text" | "ref", "date"?, "countries": [ISO3...]}``.
Rows from research-use corpora carry no text, only a ``ref`` (file, record id, character
offsets and a SHA-1 of the sentence) that is resolved against the data directory at run
time, so the repository never redistributes their text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from relwatch.core.errors import GoldError
from relwatch.extract.mentions import MentionFinder
from relwatch.extract.sentences import dateline_end


@dataclass(frozen=True, slots=True)
class GoldRow:
    id: str
    source: str
    text: str
    date: dt.date | None
    countries: frozenset[str]
    note: str = ""


@lru_cache(maxsize=32)
def _reuters_bodies(path: Path) -> dict[str, str]:
    """NEWID → unescaped <BODY> text of one Reuters-21578 SGML file."""
    raw = path.read_text(encoding="latin-1")
    out: dict[str, str] = {}
    for story in re.findall(r"<REUTERS.*?</REUTERS>", raw, re.S):
        newid = re.search(r'NEWID="(\d+)"', story)
        body = re.search(r"<BODY>(.*?)</BODY>", story, re.S)
        if newid and body:
            out[newid.group(1)] = html.unescape(body.group(1))
    return out


def resolve_ref(ref: dict[str, Any], data_dir: Path) -> str:
    """The sentence a pointer names, checked against its SHA-1."""
    path = data_dir / ref["file"]
    if not path.is_file():
        raise GoldError(f"{ref['file']} not found under {data_dir}")
    if ref["file"].startswith("reuters21578/"):
        body = _reuters_bodies(path).get(str(ref["newid"]))
        if body is None:
            raise GoldError(f"NEWID {ref['newid']} not in {ref['file']}")
        text = body[ref["start"] : ref["end"]]
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
        text = lines[int(ref["line"]) - 1].split("\t")[0][ref["start"] : ref["end"]]
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    if ref.get("sha1") and digest != ref["sha1"]:
        raise GoldError(f"text at {ref} changed (sha1 {digest} != {ref['sha1']})")
    return text


def load_gold(path: Path, data_dir: Path | None = None) -> tuple[list[GoldRow], int]:
    """Gold rows; pointer rows are skipped (and counted) when ``data_dir`` is None."""
    rows: list[GoldRow] = []
    skipped = 0
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if "text" in rec:
                text = rec["text"]
            elif data_dir is None:
                skipped += 1
                continue
            else:
                text = resolve_ref(rec["ref"], data_dir)
            day = dt.date.fromisoformat(rec["date"]) if rec.get("date") else None
            rows.append(
                GoldRow(
                    rec["id"],
                    rec["source"],
                    text,
                    day,
                    frozenset(rec["countries"]),
                    rec.get("note", ""),
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise GoldError(f"{path}:{lineno}: {exc}") from exc
    return rows, skipped


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def predict_countries(rows: Sequence[GoldRow], finder: MentionFinder) -> list[frozenset[str]]:
    """Countries the finder sees per gold sentence (a leading dateline is skipped, as in
    article extraction)."""
    texts = [r.text for r in rows]
    found = finder.find(texts, [r.date for r in rows], [dateline_end(t) for t in texts])
    return [frozenset(m.iso3 for m in ms) for ms in found]


def score(rows: Iterable[GoldRow], predicted: Iterable[frozenset[str]]) -> dict[str, Score]:
    """Micro-averaged scores over (sentence, country) decisions: overall and per source."""
    scores: dict[str, Score] = defaultdict(Score)
    for row, pred in zip(rows, predicted, strict=True):
        tp, fp, fn = len(pred & row.countries), len(pred - row.countries), len(row.countries - pred)
        for key in ("all", row.source):
            s = scores[key]
            s.tp += tp
            s.fp += fp
            s.fn += fn
        if fp or fn:
            scores["all"].errors.append(
                {
                    "id": row.id,
                    "text": row.text,
                    "gold": sorted(row.countries),
                    "extra": sorted(pred - row.countries),
                    "missed": sorted(row.countries - pred),
                }
            )
    return dict(scores)
