"""Pair direction (who acts on whom) on the directed gold set, beside two baselines.

    .venv/bin/python bench/direction.py [--gold FILE] [--errors]

Each gold row names a sentence (its text for hand-written rows, a pointer into the data dir
for research-use corpora), the two countries and the gold direction ("USA->JPN" or "mutual");
rows marked ``"set": "heldout"`` were labelled after the rules were last changed and are
reported apart. The sentence goes through ``Extractor.sentences`` (mentions, roles, pairs)
and the pair's predicted direction is compared with the gold one. Baselines measured on the
same pairs: "the first-named country is the source" and "always mutual". Rows whose pair the
mention finder does not produce are counted apart (a mention miss, not a direction miss).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
GOLD = ROOT / "data" / "direction_gold.jsonl"


@dataclass(frozen=True, slots=True)
class DirectedRow:
    id: str
    source: str
    text: str
    date: dt.date | None
    countries: tuple[str, str]
    agent: str | None  # the gold source country; None for mutual
    split: str = "tuning"  # "heldout": labelled after the rules were last changed


def resolve(ref: dict[str, Any], data_dir: Path) -> str:
    """The sentence a pointer names. CoNLL records (conflibert ``ner_train.txt``) are their
    tokens joined by spaces; everything else goes through ``extract.evaluate.resolve_ref``
    (Reuters NEWID + offsets, or a TSV line), with brackets dropped where ``unbracket``."""
    from relwatch.extract.evaluate import resolve_ref

    if "record" in ref:
        path = data_dir / ref["file"]
        if not path.is_file():
            raise ValueError(f"{ref['file']} not found under {data_dir}")
        lines = path.read_text(encoding="utf-8").splitlines()
        tokens: list[str] = []
        for line in lines[int(ref["line"]) - 1 :]:
            if not line.strip():
                break
            tokens.append(line.rsplit(" ", 1)[0])
        text = " ".join(tokens)
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
        if digest != ref["sha1"]:
            raise ValueError(f"text at {ref} changed (sha1 {digest} != {ref['sha1']})")
        return text
    text = resolve_ref(ref, data_dir)
    return text.replace("[", "").replace("]", "") if ref.get("unbracket") else text


def load(path: Path, data_dir: Path | None) -> tuple[list[DirectedRow], int]:
    """Gold rows; pointer rows are skipped (and counted) without a data dir."""
    rows: list[DirectedRow] = []
    skipped = 0
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        rec = json.loads(line)
        if "text" in rec:
            text = rec["text"]
        elif data_dir is None:
            skipped += 1
            continue
        else:
            text = resolve(rec["ref"], data_dir)
        x, y = rec["countries"]
        gold = rec["direction"]
        if gold == "mutual":
            agent = None
        else:
            agent, target = gold.split("->")
            if {agent, target} != {x, y}:
                raise ValueError(f"{path}:{lineno}: direction {gold} is not over {x}, {y}")
        day = dt.date.fromisoformat(rec["date"]) if rec.get("date") else None
        rows.append(
            DirectedRow(
                rec["id"], rec["source"], text, day, (x, y), agent, rec.get("set", "tuning")
            )
        )
    return rows, skipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--errors", action="store_true", help="list every wrong pair")
    args = parser.parse_args()

    from relwatch.core.config import get_settings
    from relwatch.extract.pipeline import Extractor

    data_dir = get_settings().data_dir
    data_dir = data_dir if data_dir is not None and data_dir.is_dir() else None
    rows, skipped = load(args.gold, data_dir)
    units = Extractor().sentences([r.text for r in rows], [r.date for r in rows])

    stats: dict[str, Counter[str]] = defaultdict(Counter)
    errors: list[str] = []
    for row, unit in zip(rows, units, strict=True):
        pair = next((p for p in unit.pairs if {p.a, p.b} == set(row.countries)), None)
        keys = ("all", f"set: {row.split}", row.source)
        for key in keys:
            stats[key]["rows"] += 1
        if pair is None:
            for key in keys:
                stats[key]["no pair"] += 1
            errors.append(f"  {row.id}: pair {row.countries} not found | {row.text[:150]}")
            continue
        predicted = {"a->b": pair.a, "b->a": pair.b}.get(pair.direction or "mutual")
        gold_kind = "mutual" if row.agent is None else ("a->b" if row.agent == pair.a else "b->a")
        for key in keys:
            s = stats[key]
            s["pairs"] += 1
            s["ours"] += predicted == row.agent
            s["first"] += row.agent == pair.a
            s["mutual"] += row.agent is None
            s[f"gold {gold_kind}"] += 1
            s[f"ours on {gold_kind}"] += predicted == row.agent
        if predicted != row.agent:
            errors.append(
                f"  {row.id}: gold {row.agent or 'mutual'}, got {predicted or 'mutual'} "
                f"({pair.a},{pair.b} {pair.direction}{' place_only' if pair.place_only else ''})"
                f" | {row.text[:160]}"
            )

    print(
        f"# direction on {args.gold.name}: {len(rows)} rows"
        + (f" ({skipped} pointer rows skipped: no data dir)" if skipped else "")
    )
    head = (
        f"{'source':20s} {'pairs':>5s} {'rule':>6s} {'first':>6s} {'mutual':>6s}   "
        "rule on gold a->b / b->a / mutual"
    )
    print(head)
    order = {"all": 0, "set: tuning": 1, "set: heldout": 2}
    for name, s in sorted(stats.items(), key=lambda kv: (order.get(kv[0], 3), kv[0])):
        n = s["pairs"]
        if not n:
            continue
        by_kind = " / ".join(
            f"{s[f'ours on {k}']}/{s[f'gold {k}']}" for k in ("a->b", "b->a", "mutual")
        )
        print(
            f"{name:20s} {n:5d} {s['ours'] / n:6.3f} {s['first'] / n:6.3f} {s['mutual'] / n:6.3f}"
            f"   {by_kind}" + (f"   ({s['no pair']} pairs not found)" if s["no pair"] else "")
        )
    print("rule: subject/agent rule; first: first-named is the source; mutual: always mutual")
    if args.errors:
        print("\n".join(errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
