from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from relwatch.collect.reuters import (
    ReutersError,
    corpus_files,
    import_reuters,
    parse_date,
    parse_sgml,
)
from relwatch.core.models import Article, Source

# Written for these tests in the corpus' format (not corpus text): latin-1, &#N; junk,
# a story without <BODY> and an exact duplicate.
SGML = """<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="1" NEWID="7">
<DATE>26-FEB-1987 15:01:01.79</DATE>
<TOPICS><D>trade</D></TOPICS>
<PLACES><D>japan</D><D>usa</D></PLACES>
<PEOPLE></PEOPLE><ORGS></ORGS><EXCHANGES></EXCHANGES><COMPANIES></COMPANIES>
<UNKNOWN>&#5;&#5;&#5;C T
&#22;&#22;&#1;f0704&#31;reute</UNKNOWN>
<TEXT>&#2;
<TITLE>JAPAN AND U.S. &lt;TRADE&gt; TALKS RESUME</TITLE>
<DATELINE>    TOKYO, Feb 26 - </DATELINE><BODY>Japanese and American negotiators resumed
talks on semiconductor trade, officials said, after a pause caused by a
dispute over market access for the caf\xe9 chain.
    The talks are expected to last three days.
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="2" NEWID="8">
<DATE> 2-MAR-1987 09:10:00.00</DATE>
<TOPICS></TOPICS><PLACES><D>uk</D></PLACES>
<TEXT TYPE="UNPROC">&#2;
London markets were quiet ahead of the budget, dealers said.
&#3;</TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="3" NEWID="9">
<DATE>2-MAR-1987 09:11:00.00</DATE>
<TEXT TYPE="UNPROC">&#2;
London markets were quiet ahead of the budget, dealers said.
&#3;</TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="4" NEWID="10">
<DATE>BAD DATE</DATE>
<TEXT TYPE="BRIEF">&#2;
<TITLE>******</TITLE>&#3;</TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5" NEWID="11">
<DATE>2-MAR-1987 10:00:00.00</DATE>
<TEXT>&#2;
<TITLE>MINISTERS AGREE TO MEET IN PARIS</TITLE>
<BODY>****** Blah blah blah.
&#3;</BODY></TEXT>
</REUTERS>
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "reuters21578"
    folder.mkdir()
    (folder / "reut2-000.sgm").write_bytes(SGML.encode("latin-1"))
    return folder


def test_parse_sgml_cleans_junk_and_reads_fields(corpus: Path):
    stories = list(parse_sgml((corpus / "reut2-000.sgm").read_text(encoding="latin-1")))
    first = stories[0]
    assert first.newid == 7 and first.external_id == "reuters21578:7"
    assert first.published_at == dt.datetime(1987, 2, 26, 15, 1, 1, tzinfo=dt.UTC)
    assert first.title == "Japan And U.S. <Trade> Talks Resume"
    assert first.places == ("japan", "usa") and first.topics == ("trade",)
    assert first.dateline == "TOKYO, Feb 26"
    assert "&#" not in first.text and not first.text.endswith("Reuter")
    assert "café" in first.text
    assert first.text.split("\n") == [
        "Japanese and American negotiators resumed talks on semiconductor trade, officials "
        "said, after a pause caused by a dispute over market access for the café chain.",
        "The talks are expected to last three days.",
    ]
    assert stories[1].text.startswith("London markets") and stories[1].title is None
    assert stories[3].published_at is None
    assert stories[4].text == stories[4].title == "Ministers Agree To Meet In Paris"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("26-FEB-1987 15:01:01.79", dt.datetime(1987, 2, 26, 15, 1, 1, tzinfo=dt.UTC)),
        (" 5-MAR-1987 09:00:00.00", dt.datetime(1987, 3, 5, 9, 0, tzinfo=dt.UTC)),
        ("31-FEB-1987 10:00:00.00", None),
        ("1-XYZ-1987 10:00:00.00", None),
        (None, None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


def test_import_is_idempotent_and_skips_duplicates(corpus: Path, sessions):
    with sessions() as session:
        report = import_reuters(session, corpus)
    assert (report.read, report.imported, report.duplicates, report.empty) == (5, 3, 1, 1)
    with sessions() as session:
        again = import_reuters(session, corpus)
        assert (again.imported, again.already_present) == (0, 3)
        rows = session.scalars(select(Article).order_by(Article.external_id)).all()
        assert [r.external_id for r in rows] == [
            "reuters21578:11",
            "reuters21578:7",
            "reuters21578:8",
        ]
        assert rows[1].published_at.year == 1987 and rows[1].language == "en"
        assert rows[1].places == ["japan", "usa"]
        assert session.scalar(select(Source.name).where(Source.id == rows[0].source_id)) == (
            "Reuters-21578"
        )


def test_missing_or_empty_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ReutersError, match="not found"):
        corpus_files(tmp_path / "nope")
    with pytest.raises(ReutersError, match="no reut2-"):
        corpus_files(tmp_path)


def test_real_corpus_first_stories(data_dir: Path, sessions):
    folder = data_dir / "reuters21578"
    if not folder.is_dir():
        pytest.skip("reuters21578 not in the data directory")
    with sessions() as session:
        report = import_reuters(session, folder, limit=60)
        assert report.read == 60 and report.imported + report.duplicates + report.empty == 60
        count = session.scalar(select(func.count()).select_from(Article))
        assert count == report.imported
        first = session.scalar(select(Article).where(Article.external_id == "reuters21578:1"))
        assert first.title == "Bahia Cocoa Review"
        assert first.published_at.replace(tzinfo=None) == dt.datetime(1987, 2, 26, 15, 1, 1)
        assert "&#" not in first.text and "Reuter\n" not in first.text
        more = import_reuters(session, folder, limit=80)
        assert more.already_present == report.imported and more.imported <= 20
