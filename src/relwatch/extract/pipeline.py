"""From article text to sentences, mentions and pairs — over rows and over the database.

One ``Extractor`` serves the CLI (JSONL rows), the ingest pipeline and the API, so all
three produce identical units. Database extraction claims unextracted articles batch by
batch inside one transaction per batch (claim, write sentences/mentions/pairs, stamp
``extracted_at``): a crash leaves no half-written article, a rerun skips finished ones,
and two workers never extract the same article twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from relwatch.core.errors import InputError
from relwatch.core.logging import get_logger
from relwatch.extract.mentions import Mention, MentionFinder, NerPolicy
from relwatch.extract.pairs import CountryPair, countries, country_pairs
from relwatch.extract.roles import RoleTagger
from relwatch.extract.sentences import dateline_end, split_sentences
from relwatch.extract.textrank import textrank

log = get_logger(__name__)


@dataclass(slots=True)
class SentenceUnit:
    """One sentence with what extraction found in it; offsets of mentions/pairs are into
    ``text``; ``start``/``end`` locate the sentence in its article."""

    index: int
    text: str
    start: int
    end: int
    score: float | None
    mentions: list[Mention] = field(default_factory=list)
    pairs: list[CountryPair] = field(default_factory=list)

    @property
    def countries(self) -> list[str]:
        return countries(self.mentions)

    def annotations(self) -> dict[str, Any]:
        return {
            "mentions": [m.to_dict() for m in self.mentions],
            "countries": self.countries,
            "pairs": [p.to_dict() for p in self.pairs],
        }


#: A sentence naming two countries, which takes every step of the article path.
WARM_SAMPLE = "Seoul and Tokyo signed a trade agreement."


class Extractor:
    """Sentence split, TextRank, mentions checked by NER, and pairs with roles and direction.

    ``roles=False`` skips the dependency parse: mentions keep role None, pairs direction None
    and place_only False (faster, for callers that only need country sets)."""

    def __init__(
        self,
        finder: MentionFinder | None = None,
        ner_policy: NerPolicy = "ambiguous",
        *,
        roles: bool = True,
        tagger: RoleTagger | None = None,
    ) -> None:
        self.finder = finder or MentionFinder(ner_policy=ner_policy)
        self.tagger = (tagger or RoleTagger()) if roles else None

    @property
    def alias_version(self) -> str:
        return self.finder.gazetteer.version

    def warm(self) -> None:
        """Load the gazetteer and every spaCy pipeline this extractor may call, so that no
        later call pays a load (NER runs only on sentences with an ambiguous alias)."""
        self.articles([WARM_SAMPLE])
        if self.finder.ner is not None:
            self.finder.ner.entities(["Jordan met officials in Chad."])

    def _annotate(
        self, texts: Sequence[str], found: Sequence[list[Mention]]
    ) -> list[tuple[list[Mention], list[CountryPair]]]:
        """Mentions with roles and pairs with direction; only sentences naming two or more
        countries are parsed (the others have no pair to direct)."""
        if self.tagger is None:
            return [(ms, country_pairs(ms)) for ms in found]
        out: list[tuple[list[Mention], list[CountryPair]]] = []
        for ms, analysis in zip(found, self.tagger.analyze(texts, found), strict=True):
            if not analysis.parsed:
                out.append((ms, country_pairs(ms)))
                continue
            tagged = [replace(m, role=r) for m, r in zip(ms, analysis.roles, strict=True)]
            out.append((tagged, country_pairs(tagged, analysis)))
        return out

    def sentences(
        self, texts: Sequence[str], dates: Sequence[dt.date | None] | None = None
    ) -> list[SentenceUnit]:
        """Each text is already one sentence (``--unit sentence``)."""
        found = self.finder.find(texts, dates, [dateline_end(t) for t in texts])
        return [
            SentenceUnit(0, text, 0, len(text), None, ms, pairs)
            for text, (ms, pairs) in zip(texts, self._annotate(texts, found), strict=True)
        ]

    def articles(
        self, texts: Sequence[str], dates: Sequence[dt.date | None] | None = None
    ) -> list[list[SentenceUnit]]:
        """Split each article, rank its sentences, find mentions in one batched pass."""
        per_article: list[list[SentenceUnit]] = []
        flat_text: list[str] = []
        flat_date: list[dt.date | None] = []
        flat_skip: list[int] = []
        for k, text in enumerate(texts):
            spans = split_sentences(text)
            scores = textrank([s.text for s in spans]) if spans else []
            units = [
                SentenceUnit(i, s.text, s.start, s.end, float(scores[i]))
                for i, s in enumerate(spans)
            ]
            per_article.append(units)
            for u in units:
                flat_text.append(u.text)
                flat_date.append(dates[k] if dates is not None else None)
                flat_skip.append(dateline_end(u.text) if u.index == 0 else 0)
        found = self.finder.find(flat_text, flat_date, flat_skip)
        it = iter(self._annotate(flat_text, found))
        for units in per_article:
            for u in units:
                u.mentions, u.pairs = next(it)
        return per_article


def annotate_rows(
    rows: Sequence[dict[str, Any]],
    unit: str = "sentence",
    extractor: Extractor | None = None,
    dates: Sequence[dt.date | None] | None = None,
) -> list[dict[str, Any]]:
    """The library call behind ``relwatch extract --input/--output``.

    ``unit="sentence"``: each row's ``text`` is one sentence; the row comes back with
    ``mentions``, ``countries`` and ``pairs`` added. ``unit="article"``: one output row per
    sentence with ``id`` "<article id>:<index>", ``article_id``, ``sentence_index``, ``text``,
    ``start``/``end`` in the article and the TextRank ``score``. ``dates`` default to each
    row's ISO ``date``.
    """
    if unit not in ("sentence", "article"):
        raise InputError(f"unit must be 'sentence' or 'article', not {unit!r}")
    extractor = extractor or Extractor()
    texts = [r["text"] for r in rows]
    if dates is None:
        dates = [
            dt.date.fromisoformat(str(r["date"])[:10]) if r.get("date") else None for r in rows
        ]
    out: list[dict[str, Any]] = []
    if unit == "sentence":
        for row, u in zip(rows, extractor.sentences(texts, dates), strict=True):
            out.append({**row, **u.annotations()})
        return out
    for row, units in zip(rows, extractor.articles(texts, dates), strict=True):
        for u in units:
            rec: dict[str, Any] = {
                "id": f"{row['id']}:{u.index}",
                "article_id": row["id"],
                "sentence_index": u.index,
                "text": u.text,
                "start": u.start,
                "end": u.end,
                "score": round(u.score or 0.0, 6),
            }
            if row.get("date"):
                rec["date"] = row["date"]
            rec.update(u.annotations())
            out.append(rec)
    return out


# ------------------------------------------------------------------------ database
@dataclass(slots=True)
class ExtractStats:
    articles: int = 0
    sentences: int = 0
    mentions: int = 0
    pairs: int = 0
    seconds: float = 0.0

    @property
    def articles_per_s(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    @property
    def sentences_per_s(self) -> float:
        return self.sentences / self.seconds if self.seconds else 0.0


def _article_day(published: dt.datetime | None, fetched: dt.datetime | None) -> dt.date | None:
    stamp = published or fetched
    return stamp.date() if stamp is not None else None


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    from relwatch.core.models import Article

    return (
        session.scalar(
            select(func.count()).select_from(Article).where(Article.extracted_at.is_(None))
        )
        or 0
    )


def extract_batch(
    session: Session, article_ids: Iterable[int], extractor: Extractor
) -> ExtractStats:
    """Extract the given articles inside the caller's transaction; skip ones already done.

    The claim is a conditional UPDATE (``extracted_at IS NULL``), so a concurrent worker that
    claimed an article first wins and this call leaves that article alone.
    """
    from relwatch.core.models import Article, Pair, Sentence
    from relwatch.core.models import Mention as MentionRow

    ids = list(article_ids)
    stats = ExtractStats()
    if not ids:
        return stats
    now = dt.datetime.now(dt.UTC)
    claimed = session.scalars(
        update(Article)
        .where(Article.id.in_(ids), Article.extracted_at.is_(None))
        .values(extracted_at=now)
        .returning(Article.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return stats
    rows = session.execute(
        select(Article.id, Article.text, Article.published_at, Article.fetched_at)
        .where(Article.id.in_(claimed))
        .order_by(Article.id)
    ).all()
    texts = [r.text or "" for r in rows]
    dates = [_article_day(r.published_at, r.fetched_at) for r in rows]
    results = extractor.articles(texts, dates)
    sentence_rows: list[Sentence] = []
    for row, units in zip(rows, results, strict=True):
        for u in units:
            sent = Sentence(
                article_id=row.id,
                index=u.index,
                text=u.text,
                start=u.start,
                end=u.end,
                score=u.score,
            )
            sent.mentions = [
                MentionRow(
                    start=m.start,
                    end=m.end,
                    text=m.text[:300],
                    iso3=m.iso3,
                    kind=m.kind,
                    role=m.role,
                )
                for m in u.mentions
            ]
            sent.pairs = [
                Pair(
                    a=p.a,
                    b=p.b,
                    a_start=p.a_span[0],
                    a_end=p.a_span[1],
                    b_start=p.b_span[0],
                    b_end=p.b_span[1],
                    direction=p.direction,
                    place_only=p.place_only,
                )
                for p in u.pairs
            ]
            sentence_rows.append(sent)
            stats.mentions += len(u.mentions)
            stats.pairs += len(u.pairs)
    session.add_all(sentence_rows)
    session.flush()
    stats.articles = len(rows)
    stats.sentences = len(sentence_rows)
    return stats


def extract_pending(
    url: str,
    *,
    limit: int | None = None,
    batch_size: int = 100,
    extractor: Extractor | None = None,
    progress: Callable[[ExtractStats, int], None] | None = None,
) -> ExtractStats:
    """Extract every article whose ``extracted_at`` is empty (at most ``limit``), committing
    each batch on its own so long runs can be stopped and resumed."""
    from relwatch.core.db import session_scope
    from relwatch.core.models import Article

    if limit is not None and limit < 1:
        raise InputError("limit must be at least 1")
    if batch_size < 1:
        raise InputError("batch size must be at least 1")
    extractor = extractor or Extractor()
    total = ExtractStats()
    started = time.perf_counter()
    last_id = 0
    with session_scope(url) as session:
        todo = pending_count(session)
    todo = min(todo, limit) if limit is not None else todo
    while total.articles < todo:
        want = min(batch_size, todo - total.articles)
        with session_scope(url) as session:
            ids = session.scalars(
                select(Article.id)
                .where(Article.extracted_at.is_(None), Article.id > last_id)
                .order_by(Article.id)
                .limit(want)
            ).all()
            if not ids:
                break
            last_id = ids[-1]
            batch = extract_batch(session, ids, extractor)
        for name in ("articles", "sentences", "mentions", "pairs"):
            setattr(total, name, getattr(total, name) + getattr(batch, name))
        total.seconds = time.perf_counter() - started
        log.debug(
            "extract.batch",
            articles=batch.articles,
            sentences=batch.sentences,
            pairs=batch.pairs,
            done=total.articles,
            todo=todo,
        )
        if progress is not None:
            progress(total, todo)
    total.seconds = time.perf_counter() - started
    log.info(
        "extract.done",
        alias_version=extractor.alias_version,
        articles=total.articles,
        sentences=total.sentences,
        mentions=total.mentions,
        pairs=total.pairs,
        seconds=round(total.seconds, 1),
    )
    return total
