"""Serving: relwatch's API against ``mlflow models serve`` on the same registered model.

Run:  .venv/bin/python bench/serve.py [--requests 200] [--rounds 2] [--version N]

Both servers load the same registered version (default: the champion) of the configured
MLflow store (``RELWATCH_HOME``, default ``.relwatch``) and listen on loopback ports. A
separate driver process (this script with ``--drive``) sends one (sentence, A, B) per
request — real stored Reuters sentences with a country pair, names as written — at
concurrency 1 and 16; each (round, concurrency) gets fresh sentences, the same for both
servers, so relwatch's prediction cache never answers. Rounds alternate which server goes
first, so a change in the machine's load hits both alike. relwatch does more per request
than the pyfunc (it finds the mentions, parses for roles and direction and explains), so the
ratio is what the whole answer costs, not the engine alone.

Also measured, before the servers start: the raw engine (``RelationModel``, int8) on the
same sentences at batch sizes 1–32, with plain padding (arrival order) and length-grouped
(sorted by length), so the server's throughput can be read as a share of the best the
engine does; and each server's time from start to ready (relwatch started as ``relwatch
serve`` starts by default, following the champion, once to fetch the package and then
measured with it cached). Bounded loops, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

READY_TIMEOUT_S = 300
CONCURRENCY = (1, 16)
BATCH_SIZES = (1, 2, 4, 8, 16, 32)


# ----------------------------------------------------------------------------- driver
async def _drive(spec: dict) -> dict:
    import httpx

    kind, url, rows, concurrency = spec["kind"], spec["url"], spec["rows"], spec["concurrency"]
    latencies: list[float] = []
    errors: list[str] = []
    queue = list(reversed(rows))

    def body(row: dict) -> dict:
        if kind == "relwatch":
            return {"text": row["text"], "source": row["source"], "target": row["target"]}
        return {"dataframe_records": [row]}

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            row = queue.pop()
            started = time.perf_counter()
            try:
                response = await client.post(url, json=body(row))
                ok = response.status_code == 200
                if not ok:
                    errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
            except httpx.HTTPError as exc:
                ok = False
                errors.append(repr(exc))
            if ok:
                latencies.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {"latencies": latencies, "errors": errors[:5], "n_errors": len(errors), "wall": wall}


def drive(spec: dict) -> dict:
    """Run one load in a separate process (so the driver never shares the server's GIL)."""
    out = subprocess.run(
        [sys.executable, __file__, "--drive"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    return json.loads(out.stdout)


# ----------------------------------------------------------------------------- data
def stored_rows(limit: int) -> list[dict]:
    """Distinct stored sentences with one country pair each, names as written."""
    from sqlalchemy import select

    from relwatch.core.config import get_settings
    from relwatch.core.db import session_scope
    from relwatch.core.models import Pair, Sentence

    rows, seen = [], set()
    with session_scope(get_settings().database_url) as s:
        query = (
            select(Sentence.text, Pair.a_start, Pair.a_end, Pair.b_start, Pair.b_end)
            .join(Pair, Pair.sentence_id == Sentence.id)
            .where(Pair.place_only.is_(False))
            .order_by(Pair.id)
            .limit(limit * 4)
        )
        for text, a0, a1, b0, b1 in s.execute(query):
            if text in seen or len(text) > 1000:
                continue
            seen.add(text)
            rows.append({"text": text, "source": text[a0:a1], "target": text[b0:b1]})
            if len(rows) == limit:
                break
    return rows


# ----------------------------------------------------------------------------- engine
def engine_figures(package: Path, rows: list[dict]) -> dict:
    """Best sentences/s of the raw engine per batch size, plain and length-grouped."""
    from relwatch.classify.engine import RelationModel, softmax
    from relwatch.classify.markers import format_input

    model = RelationModel.load(package, precision="int8")
    texts = [format_input(r["text"], r["source"], r["target"]) for r in rows]
    model.backend.logits(texts[:8])  # warm-up
    out: dict[str, dict[int, float]] = {"plain": {}, "grouped": {}}
    for mode in ("plain", "grouped"):
        ordered = texts if mode == "plain" else sorted(texts, key=len)
        for bs in BATCH_SIZES:
            started = time.perf_counter()
            for i in range(0, len(ordered), bs):
                softmax(model.backend.logits(ordered[i : i + bs]), model.temperature)
            out[mode][bs] = len(ordered) / (time.perf_counter() - started)
    return out


# ----------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, started: float) -> float:
    import httpx

    while time.monotonic() - started < READY_TIMEOUT_S:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode}): {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} not ready after {READY_TIMEOUT_S}s")


def start_relwatch(version: str | None, env: dict) -> tuple[subprocess.Popen, str, float]:
    """``version`` None: as ``relwatch serve`` starts by default, following the champion."""
    port = free_port()
    started = time.monotonic()
    pinned = ["--model", f"models:/{env['RELWATCH_REGISTERED_MODEL']}/{version}"] if version else []
    proc = subprocess.Popen(
        [sys.executable, "-c", "from relwatch.cli import main; main()", "serve",
         "--host", "127.0.0.1", "--port", str(port), "--reload-interval", "0", *pinned],
        env={**env, "RELWATCH_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    ready = wait_ready(f"http://127.0.0.1:{port}/readyz", proc, started)
    return proc, f"http://127.0.0.1:{port}/v1/relations/predict", ready


def start_mlflow(version: str, env: dict) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "models", "serve",
         "-m", f"models:/{env['RELWATCH_REGISTERED_MODEL']}/{version}",
         "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    ready = wait_ready(f"http://127.0.0.1:{port}/ping", proc, started)
    return proc, f"http://127.0.0.1:{port}/invocations", ready


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ----------------------------------------------------------------------------- main
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="per server, round, level")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=16)
    parser.add_argument("--engine-sentences", type=int, default=256)
    parser.add_argument("--version", help="registered version (default: the champion)")
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        print(json.dumps(asyncio.run(_drive(json.load(sys.stdin)))))
        return

    from relwatch.core.config import get_settings
    from relwatch.track.registry import alias_version, resolve_model

    settings = get_settings()
    version = args.version or alias_version("champion", settings=settings)
    if version is None:
        raise SystemExit(f"{settings.registered_model} has no champion; run relwatch train")
    package, _ = resolve_model(version, settings=settings)
    bin_dir = str(Path(sys.executable).parent)  # mlflow execs uvicorn from PATH
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "RELWATCH_HOME": str(settings.home),
        "RELWATCH_REGISTERED_MODEL": settings.registered_model,
    }
    levels = len(CONCURRENCY) * args.rounds
    rows = stored_rows(args.warmup + levels * args.requests)
    if len(rows) < args.warmup + levels * args.requests:
        raise SystemExit(f"only {len(rows)} stored sentences with pairs; run the demo first")
    warm, rest = rows[: args.warmup], rows[args.warmup :]
    load_before = os.getloadavg()
    print(f"model {settings.registered_model} v{version}; {os.cpu_count()} cores; "
          f"load average {load_before[0]:.2f} at start", flush=True)  # fmt: skip

    # relwatch as it starts by default (following the champion) unless a version is pinned;
    # a first start fetches the package from the registry, the measured one finds it cached.
    served = args.version
    proc, _, cold = start_relwatch(served, env)
    stop(proc)
    servers = {}
    results: dict[tuple[str, int], dict] = {}
    try:
        for name, start in (("relwatch", start_relwatch), ("mlflow", start_mlflow)):
            proc, url, ready = start(served if name == "relwatch" else version, env)
            servers[name] = (proc, url, ready)
            print(f"{name} ready in {ready:.1f} s", flush=True)
        for name, (_, url, _) in servers.items():
            drive({"kind": name, "url": url, "rows": warm, "concurrency": 4})
        # after the starts (each timed on a quiet machine), while both servers wait idle
        engine = engine_figures(package, rows[: args.engine_sentences])
        k = 0
        for r in range(args.rounds):
            for c in CONCURRENCY:
                chunk, k = rest[k * args.requests : (k + 1) * args.requests], k + 1
                order = ("relwatch", "mlflow") if r % 2 == 0 else ("mlflow", "relwatch")
                for name in order:
                    _, url, _ = servers[name]
                    out = drive({"kind": name, "url": url, "rows": chunk, "concurrency": c})
                    acc = results.setdefault((name, c), {"latencies": [], "wall": 0.0, "err": 0})
                    acc["latencies"] += out["latencies"]
                    acc["wall"] += out["wall"]
                    acc["err"] += out["n_errors"]
                    if out["n_errors"]:
                        print(f"  {name} c={c}: {out['n_errors']} errors, e.g. {out['errors'][0]}")
    finally:
        for proc, _, _ in servers.values():
            stop(proc)
    load_after = os.getloadavg()

    print()
    print(f"{'conc':>4}  {'server':<9} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for c in CONCURRENCY:
        for name in ("relwatch", "mlflow"):
            acc = results[(name, c)]
            lat = acc["latencies"]
            acc["rps"] = len(lat) / acc["wall"]
            acc["p50"], acc["p99"] = percentile(lat, 0.5) * 1e3, percentile(lat, 0.99) * 1e3
            print(f"{c:>4}  {name:<9} {acc['rps']:>7.1f} {acc['p50']:>8.1f} "
                  f"{acc['p99']:>8.1f} {acc['err']:>6}")  # fmt: skip
        ours, theirs = results[("relwatch", c)], results[("mlflow", c)]
        print(f"{c:>4}  {'ratio':<9} {ours['rps'] / theirs['rps']:>6.2f}× "
              f"{ours['p50'] / theirs['p50']:>7.2f}× {ours['p99'] / theirs['p99']:>7.2f}×"
              "   (relwatch / mlflow; throughput higher is better, latency lower)")  # fmt: skip
    print()
    print("raw engine (int8, sentences/s by batch size, same sentences):")
    print("  batch    " + " ".join(f"{bs:>7}" for bs in BATCH_SIZES))
    for mode in ("plain", "grouped"):
        print(f"  {mode:<8} " + " ".join(f"{engine[mode][bs]:>7.1f}" for bs in BATCH_SIZES))
    best_mode, best_bs = max(
        ((m, bs) for m in engine for bs in BATCH_SIZES), key=lambda k: engine[k[0]][k[1]]
    )
    best = engine[best_mode][best_bs]
    top = results[("relwatch", max(CONCURRENCY))]["rps"]
    print(f"  best {best:.1f}/s ({best_mode}, batch {best_bs}); relwatch at concurrency "
          f"{max(CONCURRENCY)} reaches {top / best:.0%} of it "
          f"(mlflow {results[('mlflow', max(CONCURRENCY))]['rps'] / best:.0%})")  # fmt: skip
    print(f"time to ready: relwatch {servers['relwatch'][2]:.1f} s with the model cached "
          f"({cold:.1f} s on the first start{'' if served else ', following the champion'}), "
          f"mlflow {servers['mlflow'][2]:.1f} s")  # fmt: skip
    print(f"load average {load_before[0]:.2f} → {load_after[0]:.2f} "
          f"(1 min; {os.cpu_count()} cores, shared)")  # fmt: skip
    print(f"{args.rounds} rounds × {args.requests} requests per server and level, one "
          "(sentence, A, B) per request; relwatch's cache never hit (fresh sentences)")  # fmt: skip


if __name__ == "__main__":
    main()
