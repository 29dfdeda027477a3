"""Does the pair index move the way history says? Dated episodes against the built index.

    .venv/bin/python bench/index_history.py [EPISODES.yaml] [--database-url URL]
        [--min-sentences N] [--model-version V] [--hidden FILE] [--show-hidden] [--json OUT]

Each episode (format: the header of ``bench/data/episodes_1987.yaml``) names an undirected
pair, a window in which history records a crisis (expected ``conflict``: the tone falls) or a
rapprochement (``cooperation``: it rises), and a quiet baseline of the same pair. For both
spans the script reads the daily index (``relwatch.index.query_series``) and takes the
sentence-weighted tone: the mean of ``tone_raw`` weighted by ``volume``, i.e. the mean tone
of every sentence in the span. The shrunk ``tone`` is not used: it pulls thin days toward
the pair's own past, which would blur exactly the change asked about. An episode with fewer
than ``--min-sentences`` on either side is "insufficient data" and stays out of the
agreement rate; the peer figure is a coin flip (50 %), with a one-sided binomial p-value.

``--hidden FILE`` runs the same check on a second list of the same format (kept away from
whoever tunes the model); only its totals are printed unless ``--show-hidden``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent
EPISODES = ROOT / "data" / "episodes_1987.yaml"
EXPECTED = ("conflict", "cooperation")
_PAIR = re.compile(r"^([A-Z]{3})-([A-Z]{3})$")

# (source, target, start, end) -> day rows of the undirected pair, columns as query_series
Fetch = Callable[[str, str, dt.date, dt.date], pd.DataFrame]


class EpisodeError(ValueError):
    """An episodes file that cannot be used as it is (the message says where and why)."""


@dataclass(frozen=True, slots=True)
class Span:
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class Episode:
    id: str
    pair: tuple[str, str]  # as the index stores an undirected pair: (smaller, larger code)
    window: Span
    baseline: Span
    expected: str
    summary: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    id: str
    pair: str
    expected: str
    window_volume: int
    baseline_volume: int
    window_tone: float | None
    baseline_tone: float | None
    change: float | None
    verdict: str  # "agrees" | "disagrees" | "insufficient data"


def _date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise EpisodeError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _span(raw: object, where: str) -> Span:
    if not isinstance(raw, dict) or set(raw) != {"start", "end"}:
        raise EpisodeError(f"{where}: expected {{start: YYYY-MM-DD, end: YYYY-MM-DD}}")
    span = Span(_date(raw["start"], f"{where}.start"), _date(raw["end"], f"{where}.end"))
    if span.start > span.end:
        raise EpisodeError(f"{where}: start {span.start} is after end {span.end}")
    return span


def load_episodes(path: Path) -> list[Episode]:
    """Read and check an episodes file; every problem is an ``EpisodeError`` naming the entry."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EpisodeError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise EpisodeError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, list) or not raw:
        raise EpisodeError(f"{path}: expected a non-empty list of episodes")
    episodes: list[Episode] = []
    seen: set[str] = set()
    required = {"id", "pair", "window", "baseline", "expected", "summary", "references"}
    for i, item in enumerate(raw, 1):
        where = f"{path.name} entry {i}"
        if not isinstance(item, dict):
            raise EpisodeError(f"{where}: expected a mapping")
        missing, unknown = required - set(item), set(item) - required
        if missing or unknown:
            raise EpisodeError(
                f"{where}: missing {sorted(missing)}"
                if missing
                else f"{where}: unknown {sorted(unknown)}"
            )
        eid = str(item["id"])
        where = f"{path.name} episode {eid!r}"
        if eid in seen:
            raise EpisodeError(f"{where}: duplicate id")
        seen.add(eid)
        match = _PAIR.match(str(item["pair"]).strip().upper())
        if not match or match[1] == match[2]:
            raise EpisodeError(f"{where}: pair must be two different ISO3 codes, e.g. USA-JPN")
        if item["expected"] not in EXPECTED:
            raise EpisodeError(f"{where}: expected must be one of {', '.join(EXPECTED)}")
        refs = item["references"]
        if not isinstance(refs, list) or not 1 <= len(refs) <= 3:
            raise EpisodeError(f"{where}: references must be a list of 1-3 entries")
        window, baseline = (
            _span(item["window"], f"{where} window"),
            _span(item["baseline"], f"{where} baseline"),
        )
        if window.start <= baseline.end and baseline.start <= window.end:
            raise EpisodeError(f"{where}: baseline overlaps the window")
        a, b = sorted((match[1], match[2]))
        episodes.append(
            Episode(
                eid,
                (a, b),
                window,
                baseline,
                item["expected"],
                str(item["summary"]),
                tuple(map(str, refs)),
            )
        )
    return episodes


def cross_overlaps(episodes: Sequence[Episode]) -> list[str]:
    """Baselines that overlap another episode's window of the same pair (a quiet stretch
    should not hold a recorded episode); reported as notes, since a hidden list may differ."""
    notes = []
    for e in episodes:
        for other in episodes:
            w, b = other.window, e.baseline
            same_pair = other is not e and other.pair == e.pair
            if same_pair and w.start <= b.end and b.start <= w.end:
                notes.append(f"baseline of {e.id!r} overlaps the window of {other.id!r}")
    return notes


def span_tone(days: pd.DataFrame, span: Span) -> tuple[int, float | None]:
    """(sentences, sentence-weighted tone) of the day rows inside ``span``."""
    if days.empty:
        return 0, None
    when = pd.to_datetime(days["date"]).dt.date
    inside = days[(when >= span.start) & (when <= span.end)]
    volume = inside["volume"].fillna(0).astype(float)
    total = float(volume.sum())
    if total <= 0:
        return 0, None
    tone = float((inside["tone_raw"].astype(float) * volume).sum() / total)
    return round(total), tone


def judge(episode: Episode, fetch: Fetch, min_sentences: int) -> Outcome:
    """Window against baseline for one episode."""
    a, b = episode.pair
    nw, tw = span_tone(fetch(a, b, episode.window.start, episode.window.end), episode.window)
    nb, tb = span_tone(fetch(a, b, episode.baseline.start, episode.baseline.end), episode.baseline)
    change = None if tw is None or tb is None else tw - tb
    if change is None or nw < min_sentences or nb < min_sentences:
        verdict = "insufficient data"
    else:
        moved = change < 0 if episode.expected == "conflict" else change > 0
        verdict = "agrees" if moved else "disagrees"
    return Outcome(episode.id, f"{a}-{b}", episode.expected, nw, nb, tw, tb, change, verdict)


def agreement(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Agreement rate over the decidable episodes, beside a coin flip (one-sided binomial p)."""
    from scipy.stats import binomtest

    decided = [o for o in outcomes if o.verdict != "insufficient data"]
    agree = sum(o.verdict == "agrees" for o in decided)
    n = len(decided)
    return {
        "episodes": len(outcomes),
        "decidable": n,
        "insufficient": len(outcomes) - n,
        "agree": agree,
        "rate": agree / n if n else None,
        "vs_coin_flip": (agree / n) / 0.5 if n else None,
        "p_one_sided": binomtest(agree, n, 0.5, alternative="greater").pvalue if n else None,
    }


def index_fetch(session: Any, model_version: str | None) -> Fetch:
    """Day rows of an undirected pair from the index library (all publishers)."""
    try:
        from relwatch.index import query_series
    except ImportError as exc:
        raise EpisodeError(
            f"relwatch.index.query_series is not available in this checkout ({exc})"
        ) from None

    def fetch(source: str, target: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        return query_series(
            session,
            source=source,
            target=target,
            directed=False,
            grain="day",
            start=start,
            end=end,
            model_version=model_version,
        )

    return fetch


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def report(title: str, outcomes: Sequence[Outcome], summary: dict[str, Any], rows: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 150)  # no squashed piped tables
    if rows:
        table = Table(title=title)
        for name in ("episode", "pair", "expected", "n win", "n base", "tone win", "tone base"):
            table.add_column(name, justify="left" if name in ("episode", "pair") else "right")
        table.add_column("change", justify="right")
        table.add_column("verdict")
        for o in outcomes:
            table.add_row(
                o.id,
                o.pair,
                o.expected,
                str(o.window_volume),
                str(o.baseline_volume),
                _fmt(o.window_tone, True),
                _fmt(o.baseline_tone, True),
                _fmt(o.change, True),
                o.verdict,
            )
        console.print(table)
    rate = summary["rate"]
    line = (
        f"[bold]{title}[/]: {summary['agree']}/{summary['decidable']} decidable episodes move "
        f"the expected way ({'-' if rate is None else f'{rate:.0%}'}; coin flip 50%"
    )
    if rate is not None:
        line += f", ratio {summary['vs_coin_flip']:.2f}, one-sided p={summary['p_one_sided']:.3f}"
    console.print(line + f"); {summary['insufficient']} with insufficient data")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example: bench/index_history.py --min-sentences 20 --hidden ~/episodes.yaml",
    )
    parser.add_argument(
        "episodes", nargs="?", type=Path, default=EPISODES, help=f"default {EPISODES}"
    )
    parser.add_argument("--database-url", help="relwatch database (default: the settings')")
    parser.add_argument(
        "--min-sentences",
        type=int,
        default=10,
        help="fewer sentences than this in window or baseline = insufficient data (default 10)",
    )
    parser.add_argument("--model-version", help="index rows of this model (default: the API's)")
    parser.add_argument("--hidden", type=Path, help="a second episodes file, totals only")
    parser.add_argument("--show-hidden", action="store_true", help="also list hidden episodes")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args(argv)
    if args.min_sentences < 1:
        parser.error("--min-sentences must be at least 1")

    try:
        lists = {"episodes": load_episodes(args.episodes)}
        if args.hidden:
            lists["hidden"] = load_episodes(args.hidden)
    except EpisodeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for episodes in lists.values():
        for note in cross_overlaps(episodes):
            print(f"note: {note}", file=sys.stderr)

    from sqlalchemy.exc import SQLAlchemyError

    from relwatch.core.db import session_scope
    from relwatch.core.errors import RelwatchError

    results: dict[str, Any] = {}
    try:
        with session_scope(args.database_url) as session:
            fetch = index_fetch(session, args.model_version)
            for name, episodes in lists.items():
                outcomes = [judge(e, fetch, args.min_sentences) for e in episodes]
                results[name] = {"summary": agreement(outcomes), "outcomes": outcomes}
    except (EpisodeError, RelwatchError) as exc:  # e.g. no index built yet: says what to run
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        reason = str(exc).splitlines()[0]
        print(
            f"error: cannot read the index ({reason}); run relwatch db upgrade, then build it",
            file=sys.stderr,
        )
        return 2

    for name, result in results.items():
        title = f"{name}: {args.episodes.name if name == 'episodes' else args.hidden.name}"
        show = name == "episodes" or args.show_hidden
        report(title, result["outcomes"], result["summary"], rows=show)
    if args.json:
        payload = {
            name: {
                "summary": r["summary"],
                "outcomes": [asdict(o) for o in r["outcomes"]],
            }
            for name, r in results.items()
        }
        payload["min_sentences"] = args.min_sentences
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
