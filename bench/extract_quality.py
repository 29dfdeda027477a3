"""Mention quality on the gold set and extraction speed, printed as figures.

    .venv/bin/python bench/extract_quality.py [--gold FILE] [--sentences 3000] [--errors]

Quality: micro precision / recall / F1 of per-sentence country sets on the gold set
(tests/extract/data/gold_mentions.jsonl; pointer rows are resolved against the data dir).
Speed: sentences/s for mention + pair extraction with NER on ambiguous aliases (the default),
with NER on every sentence that has a candidate, and — as the peer measured in the same run —
a bare spaCy NER pass over the same sentences; plus articles/s for the whole article path
(split + TextRank + mentions + pairs). The machine's load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "extract" / "data" / "gold_mentions.jsonl"


def reuters_articles(data_dir: Path | None, limit: int) -> list[str]:
    from relwatch.extract.evaluate import _reuters_bodies

    if data_dir is None or not (data_dir / "reuters21578").is_dir():
        return []
    out: list[str] = []
    for path in sorted((data_dir / "reuters21578").glob("reut2-*.sgm")):
        out.extend(_reuters_bodies(path).values())
        if len(out) >= limit:
            break
    return out[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--sentences", type=int, default=3000, help="sentences for the speed run")
    parser.add_argument("--articles", type=int, default=500, help="articles for the article run")
    parser.add_argument("--errors", action="store_true", help="list every wrong sentence")
    args = parser.parse_args()

    from relwatch.core.config import get_settings
    from relwatch.extract.evaluate import load_gold, predict_countries, score
    from relwatch.extract.mentions import MentionFinder
    from relwatch.extract.ner import NerChecker, load_nlp
    from relwatch.extract.pairs import country_pairs
    from relwatch.extract.pipeline import Extractor
    from relwatch.extract.sentences import split_sentences

    data_dir = get_settings().data_dir
    data_dir = data_dir if data_dir is not None and data_dir.is_dir() else None
    rows, skipped = load_gold(args.gold, data_dir)
    finder = MentionFinder()
    print(
        f"# quality on {args.gold.name}: {len(rows)} sentences"
        + (f" ({skipped} pointer rows skipped: no data dir)" if skipped else "")
        + f", alias file {finder.gazetteer.version}"
    )
    scores = score(rows, predict_countries(rows, finder))
    print(f"{'source':16s} {'P':>6s} {'R':>6s} {'F1':>6s} {'tp':>5s} {'fp':>4s} {'fn':>4s}")
    for name, s in sorted(scores.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        print(
            f"{name:16s} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.tp:5d} {s.fp:4d} "
            f"{s.fn:4d}"
        )
    if args.errors:
        for e in scores["all"].errors:
            print(f"  {e['id']}: extra={e['extra']} missed={e['missed']} | {e['text'][:140]!r}")

    # ---------------------------------------------------------------- speed
    articles = reuters_articles(data_dir, args.articles)
    sentences = [s.text for a in articles for s in split_sentences(a)]
    origin = "Reuters-21578"
    if len(sentences) < args.sentences:
        sentences += [r.text for r in rows]
        origin += " + gold"
    while len(sentences) < args.sentences:
        sentences += sentences
    sentences = sentences[: args.sentences]
    load_nlp()  # model load is a one-off cost, not per-sentence work
    finder.find(sentences[:50])

    def timed(label: str, fn) -> float:
        start = time.perf_counter()
        fn()
        rate = len(sentences) / (time.perf_counter() - start)
        print(f"{label:58s} {rate:8.0f} sentences/s")
        return rate

    print(
        f"\n# speed on {len(sentences)} sentences ({origin}); load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    default = timed(
        "mentions + pairs, NER on ambiguous aliases (default)",
        lambda: [country_pairs(m) for m in finder.find(sentences)],
    )
    strict = MentionFinder(finder.gazetteer, NerChecker(), ner_policy="all")
    timed(
        "mentions + pairs, NER on every sentence with a candidate",
        lambda: [country_pairs(m) for m in strict.find(sentences)],
    )
    peer = timed(
        "peer: bare spaCy NER (nlp.pipe) on every sentence",
        lambda: NerChecker().entities(sentences),
    )
    print(f"ratio default / peer: {default / peer:.1f}x")
    if articles:
        extractor = Extractor(finder)
        start = time.perf_counter()
        units = extractor.articles(articles)
        took = time.perf_counter() - start
        n_sent = sum(len(u) for u in units)
        print(
            f"article path (split + TextRank + mentions + pairs): {len(articles) / took:.1f} "
            f"articles/s, {n_sent / took:.0f} sentences/s ({len(articles)} Reuters articles)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
