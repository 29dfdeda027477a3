"""Mention roles (actor / place / attribute) on the hand-written gold set, and parsing speed.

    .venv/bin/python bench/roles.py [--gold FILE] [--articles 1500] [--errors]

Quality: accuracy over every gold mention the finder also finds, precision / recall / F1 of
"no party" (``place`` or ``attribute``) and of each of the two roles, and pair-level
``place_only`` accuracy, each beside the peer "every mention is an
actor" (what extraction did before roles). Speed: sentences/s of ``RoleTagger.analyze`` on
Reuters-21578 sentences that name two or more countries (the only ones it parses), beside a
bare ``nlp.pipe`` of the same parser over the same sentences, and the article path
(split + TextRank + mentions + pairs) with and without roles.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from relwatch.extract.ner import PARSE_ONLY_DISABLE
from relwatch.extract.roles import NON_PARTY

ROOT = Path(__file__).resolve().parent
GOLD = ROOT / "data" / "roles_gold.jsonl"


def load_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def align(gold: list[list[str]], found: list[Any]) -> tuple[list[tuple[int, str]], list[str]]:
    """Pairs (index into ``found``, gold role) matched by surface text in order; gold
    mentions the finder did not find are returned apart."""
    used: set[int] = set()
    matched: list[tuple[int, str]] = []
    missed: list[str] = []
    for surface, role in gold:
        k = next((i for i, m in enumerate(found) if m.text == surface and i not in used), None)
        if k is None:
            missed.append(surface)
            continue
        used.add(k)
        matched.append((k, role))
    return matched, missed


def report(
    name: str, rows: list[dict[str, Any]], found: list[Any], analysed: list[Any], errors: list[str]
) -> None:
    """Print mention- and pair-level figures for one subset; append its errors."""
    n = correct = base_correct = 0
    counts = {r: [0, 0, 0] for r in ("no party", "place", "attribute")}  # tp, fp, fn
    pairs = pair_ok = pair_base_ok = 0
    missed_total: list[str] = []
    unlabelled: list[str] = []
    for row, ms, an in zip(rows, found, analysed, strict=True):
        matched, missed = align(row["roles"], ms)
        missed_total += [f"{row['id']}:{s}" for s in missed]
        gold_role = dict(matched)
        unlabelled += [f"{row['id']}:{m.text}" for k, m in enumerate(ms) if k not in gold_role]
        for k, role in matched:
            pred = an.roles[k] or "actor"
            n += 1
            correct += pred == role
            base_correct += role == "actor"
            for kind, members in (
                ("no party", NON_PARTY),
                ("place", {"place"}),
                ("attribute", {"attribute"}),
            ):
                counts[kind][0] += pred in members and role in members
                counts[kind][1] += pred in members and role not in members
                counts[kind][2] += pred not in members and role in members
            if pred != role:
                errors.append(
                    f"  {row['id']} {ms[k].text!r}: gold {role}, got {pred} | {row['text']}"
                )
        codes = sorted({m.iso3 for m in ms})
        for i, a in enumerate(codes):
            for b in codes[i + 1 :]:
                sides = [
                    [gold_role.get(k, "actor") for k, m in enumerate(ms) if m.iso3 == c]
                    for c in (a, b)
                ]
                gold_po = any(all(r in NON_PARTY for r in side) for side in sides)
                pairs += 1
                pair_ok += an.place_only(ms, a, b) == gold_po
                pair_base_ok += not gold_po
                if an.place_only(ms, a, b) != gold_po:
                    errors.append(f"  {row['id']} pair {a}-{b}: gold place_only {gold_po}")
    tp, fp, fn = counts["no party"]
    print(
        f"\n## {name}: {len(rows)} sentences, {n} gold mentions ({tp + fn} no party: "
        f"{sum(counts['place'][::2])} places, {sum(counts['attribute'][::2])} attributes), "
        f"{pairs} pairs"
    )
    if missed_total:
        print(f"  gold mentions the finder did not find: {missed_total}")
    if unlabelled:
        print(f"  found mentions without a gold role: {unlabelled}")
    print(f"role accuracy          {correct / n:6.3f}   (peer: all actor {base_correct / n:6.3f})")
    for role, (tp, fp, fn) in counts.items():
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{role:10s} P {p:5.3f} R {r:5.3f} F1 {f1:5.3f}   ({tp} tp, {fp} fp, {fn} fn)")
    print(
        f"pair place_only acc.   {pair_ok / pairs:6.3f}   (peer: never place_only "
        f"{pair_base_ok / pairs:6.3f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--articles", type=int, default=1500, help="Reuters articles for speed")
    parser.add_argument("--errors", action="store_true", help="list every wrong mention")
    args = parser.parse_args()

    from relwatch.core.config import get_settings
    from relwatch.extract.evaluate import _reuters_bodies
    from relwatch.extract.mentions import MentionFinder
    from relwatch.extract.pipeline import Extractor
    from relwatch.extract.roles import RoleTagger, load_parser
    from relwatch.extract.sentences import split_sentences

    rows = load_rows(args.gold)
    finder = MentionFinder()
    tagger = RoleTagger()
    texts = [r["text"] for r in rows]
    dates = [dt.date.fromisoformat(r["date"]) if r.get("date") else None for r in rows]
    found = finder.find(texts, dates)  # datelines kept: the tagger must call them places
    analysed = tagger.analyze(texts, found)

    print(f"# roles on {args.gold.name}: {len(rows)} sentences")
    errors: list[str] = []
    for name in ("tuning", "heldout", "all"):
        idx = [k for k, r in enumerate(rows) if name in ("all", r.get("set", "tuning"))]
        report(
            name,
            [rows[k] for k in idx],
            [found[k] for k in idx],
            [analysed[k] for k in idx],
            errors if name == "all" else [],
        )
    if args.errors:
        print("\n".join(errors))

    # ---------------------------------------------------------------- speed
    data_dir = get_settings().data_dir
    reuters = data_dir / "reuters21578" if data_dir is not None else None
    if reuters is None or not reuters.is_dir():
        print("\n# speed: skipped (no Reuters-21578 in the data dir)")
        return 0
    articles: list[str] = []
    for path in sorted(reuters.glob("reut2-*.sgm")):
        articles.extend(_reuters_bodies(path).values())
        if len(articles) >= args.articles:
            break
    articles = articles[: args.articles]
    sentences = [s.text for a in articles for s in split_sentences(a)]
    mentions = finder.find(sentences)
    keep = [k for k, ms in enumerate(mentions) if len({m.iso3 for m in ms}) >= 2]
    multi = [sentences[k] for k in keep]
    multi_mentions = [mentions[k] for k in keep]
    if not multi:
        print("\n# speed: skipped (no sentence with two countries)")
        return 0
    nlp = load_parser()
    list(nlp.pipe(multi[:20], disable=PARSE_ONLY_DISABLE))  # model load is a one-off cost
    print(
        f"\n# speed on {len(multi)} Reuters sentences with >= 2 countries "
        f"(of {len(sentences)} in {len(articles)} articles); load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    start = time.perf_counter()
    tagger.analyze(multi, multi_mentions)
    ours = len(multi) / (time.perf_counter() - start)
    start = time.perf_counter()
    list(nlp.pipe(multi, batch_size=tagger.batch_size, disable=PARSE_ONLY_DISABLE))
    peer = len(multi) / (time.perf_counter() - start)
    print(f"RoleTagger.analyze (parse + roles + direction links)  {ours:8.0f} sentences/s")
    print(f"peer: bare parser nlp.pipe on the same sentences       {peer:8.0f} sentences/s")
    print(f"ratio ours / peer: {ours / peer:.2f}x")
    sub = articles[: min(300, len(articles))]
    rates = {}
    for label, roles in (("without roles", False), ("with roles", True)):
        extractor = Extractor(finder, roles=roles)
        start = time.perf_counter()
        units = extractor.articles(sub)
        took = time.perf_counter() - start
        rates[label] = sum(len(u) for u in units) / took
        print(
            f"article path {label:14s} {len(sub) / took:6.1f} articles/s, "
            f"{rates[label]:6.0f} sentences/s ({len(sub)} articles)"
        )
    print(f"ratio with / without roles: {rates['with roles'] / rates['without roles']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
