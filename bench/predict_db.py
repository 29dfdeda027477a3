"""``relwatch predict --db`` throughput against the raw engine's best, on the same sentences.

Run:  .venv/bin/python bench/predict_db.py [--model SPEC] [--pairs 2000] [--database-url URL]

Reads up to ``--pairs`` stored pairs (the demo database by default), measures the engine
alone on exactly the model inputs ``predict --db`` builds (batch sizes 1–64, length-sorted
as the engine batches), then runs the real ``predict_stored_pairs`` (database reads, input
marking, inference, inserts, one commit per chunk) under a throw-away version label and
deletes its rows afterwards. Prints both throughputs and their ratio (target ≥ 80%).
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


def best_engine(engine, texts: list[str]) -> tuple[int, float]:
    """(batch size, sentences/s) of the fastest batch size; one warm-up pass first."""
    engine.batch_size = 32
    engine.predict_proba(texts[:64])
    best = (0, 0.0)
    for size in (1, 8, 16, 32, 64):
        engine.batch_size = size
        started = time.perf_counter()
        engine.predict_proba(texts)
        rate = len(texts) / (time.perf_counter() - started)
        print(f"  engine batch {size:>2}: {rate:7.1f} sentences/s")
        best = max(best, (size, rate), key=lambda x: x[1])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model spec (default: the champion)")
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    settings = get_settings()
    sessions = session_factory(args.database_url or settings.database_url)
    loaded = load_model(args.model, settings=settings)
    texts = inputs(sessions, args.pairs)
    if not texts:
        sys.exit("no stored pairs: run make demo (or relwatch extract --db) first")
    print(f"{len(texts)} stored pairs, model {loaded.name} v{loaded.version}")
    size, raw = best_engine(loaded.engine, texts)
    loaded.engine.batch_size = 32
    label = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        stats = predict_stored_pairs(
            sessions, loaded.engine, model_name=loaded.name, model_version=label, limit=len(texts)
        )
    finally:
        with sessions() as s, s.begin():
            s.execute(delete(Prediction).where(Prediction.model_version == label))
    print(f"  predict --db     : {stats.per_second:7.1f} sentences/s ({stats.predicted} pairs)")
    print(
        f"predict --db / best raw engine (batch {size}): {stats.per_second / raw:.0%} "
        "(target >= 80%)"
    )


if __name__ == "__main__":
    main()
