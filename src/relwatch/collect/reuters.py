"""Import the Reuters-21578 corpus (1987 newswire, SGML) as dated articles.

This workspace has no internet, so the demo and the index run on a real, dated corpus
instead of a live crawl. The SGML is not well-formed XML (latin-1, stray ``&#N;``
control characters, unescaped ``<`` in text), so stories are cut out with regular
expressions rather than an XML parser. Research use only: the text is read at run time
from the data directory and never copied into the repository.

Stories are stored with ``external_id = "reuters21578:<NEWID>"``; importing again skips
them (idempotent), and exact textual duplicates inside the corpus are skipped too.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from relwatch.collect.dedup import content_hash, simhash
from relwatch.core.errors import ReutersError
from relwatch.core.models import Article, Source, utcnow

SOURCE_NAME = "Reuters-21578"
SOURCE_URL = "https://archive.ics.uci.edu/dataset/137/reuters+21578+text+categorization+collection"
EXTERNAL_PREFIX = "reuters21578:"

_STORY = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.S)
_NEWID = re.compile(r'NEWID="(\d+)"')
_DATE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})")
_CONTROL = re.compile(r"&#(\d+);")
_TAG = re.compile(r"<[^>]+>")
_WORDLIKE = re.compile(r"[A-Za-z]{2}")
_BLAH = re.compile(r"^[*\s]*Blah blah blah\.?\s*$", re.I)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}


@dataclass(frozen=True)
class ReutersStory:
    newid: int
    published_at: dt.datetime | None
    title: str | None
    dateline: str | None
    text: str
    places: tuple[str, ...]
    topics: tuple[str, ...]

    @property
    def external_id(self) -> str:
        return f"{EXTERNAL_PREFIX}{self.newid}"


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    already_present: int = 0
    duplicates: int = 0
    empty: int = 0
    first_date: dt.datetime | None = None
    last_date: dt.datetime | None = None
    files: list[str] = field(default_factory=list)


def _field(body: str, tag: str) -> str | None:
    m = re.search(rf"<{tag}(?:\s[^>]*)?>(.*?)</{tag}>", body, re.S)
    return m.group(1) if m else None


def _clean(raw: str | None) -> str:
    """Drop control-character entities and tags, unescape the rest, tidy whitespace."""
    if not raw:
        return ""
    text = _CONTROL.sub(lambda m: "" if int(m.group(1)) < 32 else m.group(0), raw)
    text = html.unescape(_TAG.sub(" ", text))
    # Paragraphs start with an indented line; wrapped lines inside them are rejoined.
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n[ \t]{2,}", text))
    text = "\n".join(p for p in paragraphs if p)
    return re.sub(r"\s*\bReuter\s*$", "", text).strip()


def parse_date(raw: str | None) -> dt.datetime | None:
    """'26-FEB-1987 15:01:01.79' → aware UTC datetime (the corpus gives no zone)."""
    m = _DATE.search(raw or "")
    if not m:
        return None
    day, mon, year, hh, mm, ss = m.groups()
    month = _MONTHS.get(mon.upper())
    if month is None:
        return None
    try:
        return dt.datetime(int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=dt.UTC)
    except ValueError:
        return None


def _tags(body: str, tag: str) -> tuple[str, ...]:
    block = _field(body, tag) or ""
    return tuple(d.strip() for d in re.findall(r"<D>(.*?)</D>", block) if d.strip())


def parse_sgml(text: str) -> Iterator[ReutersStory]:
    """Stories of one SGML file in file order."""
    for m in _STORY.finditer(text):
        attrs, body = m.groups()
        newid = _NEWID.search(attrs)
        if not newid:
            continue
        inner = _field(body, "TEXT") or ""
        title = _clean(_field(inner, "TITLE")) or None
        if title and title.isupper():
            title = title.title()  # headlines are all capitals in the corpus
        dateline = _clean(_field(inner, "DATELINE")).rstrip(" -") or None
        story = _clean(_field(inner, "BODY"))
        if not story:  # UNPROC/BRIEF stories: take what the TEXT element holds
            rest = re.sub(r"<(TITLE|DATELINE|AUTHOR)>.*?</\1>", " ", inner, flags=re.S)
            story = _clean(rest)
        if not story or _BLAH.match(story):  # headline-only flashes: the headline is the news
            story = title or ""
        yield ReutersStory(
            newid=int(newid.group(1)),
            published_at=parse_date(_field(body, "DATE")),
            title=title,
            dateline=dateline,
            text=story,
            places=_tags(body, "PLACES"),
            topics=_tags(body, "TOPICS"),
        )


def corpus_files(path: Path) -> list[Path]:
    """The ``reut2-NNN.sgm`` files in corpus order, or a clear error."""
    if not path.is_dir():
        raise ReutersError(f"Reuters-21578 folder not found: {path}")
    files = sorted(path.glob("reut2-*.sgm"))
    if not files:
        raise ReutersError(f"no reut2-*.sgm files in {path} (is this the Reuters-21578 folder?)")
    return files


def read_corpus_file(file: Path) -> str:
    """One SGML file's text, refused when it is not a whole Reuters-21578 file.

    Checked before anything is imported: NUL bytes (a corrupt copy, which PostgreSQL
    also refuses to store), no story at all (not the corpus), or stories opened and not
    closed (a truncated copy that would otherwise import silently short).
    """
    raw = file.read_bytes()
    if b"\x00" in raw:
        raise ReutersError(f"{file}: contains NUL bytes; the file is corrupt (copy it again)")
    text = raw.decode("latin-1")
    opened = len(re.findall(r"<REUTERS\b", text))
    closed = text.count("</REUTERS>")
    if opened == 0:
        raise ReutersError(f"{file}: no <REUTERS> story found; not a Reuters-21578 SGML file")
    if opened != closed or not text.rstrip().endswith(("</REUTERS>", "</LEWIS>")):
        raise ReutersError(
            f"{file}: truncated or damaged ({opened} stories open, {closed} close); "
            "copy the file again"
        )
    return text


def check_corpus(path: Path) -> list[Path]:
    """Every corpus file, each checked whole; the first bad one is the error."""
    files = corpus_files(path)
    for file in files:
        read_corpus_file(file)
    return files


def iter_stories(path: Path) -> Iterator[ReutersStory]:
    for file in corpus_files(path):
        yield from parse_sgml(read_corpus_file(file))


def _reuters_source(session: Session) -> Source:
    source = session.scalar(select(Source).where(Source.name == SOURCE_NAME))
    if source is None:
        source = Source(
            name=SOURCE_NAME,
            country="GBR",
            kind="corpus",
            url=SOURCE_URL,
            language="en",
            rate_limit_per_sec=1.0,
            enabled=False,
        )
        session.add(source)
        session.flush()
    return source


def import_reuters(
    session: Session,
    path: Path,
    limit: int | None = None,
    *,
    batch_size: int = 500,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Load up to ``limit`` stories (corpus order) as articles; commits every batch.

    Already imported stories count towards ``limit`` so that ``--limit N`` always means
    "the first N stories", whether or not some are in the database already.
    """
    if limit is not None and limit < 0:
        raise ReutersError("limit must be zero or positive")
    report = ImportReport(files=[f.name for f in check_corpus(path)])
    source_id = _reuters_source(session).id
    present = set(
        session.scalars(
            select(Article.external_id).where(Article.external_id.like(f"{EXTERNAL_PREFIX}%"))
        )
    )
    hashes = set(
        session.scalars(select(Article.content_hash).where(Article.source_id == source_id))
    )
    pending: list[Article] = []
    now = utcnow()
    for story in iter_stories(path):
        if limit is not None and report.read >= limit:
            break
        report.read += 1
        if story.external_id in present:
            report.already_present += 1
        elif not _WORDLIKE.search(story.text):  # empty, or a "******" brief
            report.empty += 1
        else:
            digest = content_hash(story.text)
            if digest in hashes:
                report.duplicates += 1
            else:
                hashes.add(digest)
                pending.append(
                    Article(
                        source_id=source_id,
                        external_id=story.external_id,
                        title=story.title,
                        text=story.text,
                        language="en",
                        country="GBR",
                        places=list(story.places),
                        published_at=story.published_at,
                        fetched_at=now,
                        content_hash=digest,
                        simhash=simhash(story.text),
                    )
                )
                report.imported += 1
                if story.published_at:
                    if report.first_date is None or story.published_at < report.first_date:
                        report.first_date = story.published_at
                    if report.last_date is None or story.published_at > report.last_date:
                        report.last_date = story.published_at
        if len(pending) >= batch_size:
            session.add_all(pending)
            session.commit()
            pending.clear()
        if on_progress:
            on_progress(1)
    if pending:
        session.add_all(pending)
    session.commit()
    return report
