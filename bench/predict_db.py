"""``relwatch predict --db`` throughput against the raw engine's best, on the same sentences.

Run:  .venv/bin/python bench/predict_db.py [--model SPEC] [--pairs 2000] [--database-url URL]

Reads up to ``--pairs`` stored pairs (the demo database by default), measures the engine
alone on exactly the model inputs ``predict --db`` builds (batch sizes 1–64, length-sorted
as the engine batches) and the real ``predict_stored_pairs`` (database reads, input marking,
inference, inserts, one commit per chunk, under a throw-away version label whose rows are
deleted afterwards), in interleaved rounds. Prints both throughputs and their ratio
(target ≥ 80%).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import delete  # noqa: E402

from relwatch.classify.stored import model_inputs, page, predict_stored_pairs  # noqa: E402
from relwatch.core.config import get_settings  # noqa: E402
from relwatch.core.db import session_factory  # noqa: E402
from relwatch.core.models import Prediction  # noqa: E402
from relwatch.serve.models import load_model  # noqa: E402


def inputs(sessions, limit: int) -> list[str]:
    with sessions() as s:
        return model_inputs(page(s, [], limit=limit))


def engine_rate(engine, texts: list[str], batch_size: int) -> float:
    engine.batch_size = batch_size
    started = time.perf_counter()
    engine.predict_proba(texts)
    return len(texts) / (time.perf_counter() - started)


def db_rate(sessions, loaded, n: int) -> float:
    """The real ``predict_stored_pairs`` under a throw-away label, its rows deleted after."""
    loaded.engine.batch_size = 32
    label = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        stats = predict_stored_pairs(
            sessions, loaded.engine, model_name=loaded.name, model_version=label, limit=n
        )
    finally:
        with sessions() as s, s.begin():
            s.execute(delete(Prediction).where(Prediction.model_version == label))
    return stats.per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model spec (default: the champion)")
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; best kept")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    settings = get_settings()
    sessions = session_factory(args.database_url or settings.database_url)
    loaded = load_model(args.model, settings=settings)
    texts = inputs(sessions, args.pairs)
    if not texts:
        sys.exit("no stored pairs: run make demo (or relwatch extract --db) first")
    print(f"{len(texts)} stored pairs, model {loaded.name} v{loaded.version}")
    loaded.engine.predict_proba(texts[:64])  # warm-up
    sizes = (1, 8, 16, 32, 64)
    best: dict[str, float] = {}
    # Rounds interleave every configuration, so load on a shared machine hits all alike;
    # the best of the rounds is each configuration's speed.
    for _ in range(args.rounds):
        for size in sizes:
            key = f"engine batch {size}"
            best[key] = max(best.get(key, 0.0), engine_rate(loaded.engine, texts, size))
        best["predict --db"] = max(
            best.get("predict --db", 0.0), db_rate(sessions, loaded, len(texts))
        )
    for key, rate in best.items():
        print(f"  {key:<16}: {rate:7.1f} sentences/s")
    raw_key = max((k for k in best if k.startswith("engine")), key=best.get)
    ratio = best["predict --db"] / best[raw_key]
    print(f"predict --db / best raw engine ({raw_key}): {ratio:.0%} (target >= 80%)")


if __name__ == "__main__":
    main()
