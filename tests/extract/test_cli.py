"""``relwatch extract``: files in, files out, the database, and bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relwatch.core.errors import DataError
from relwatch.extract.files import extract_file, read_rows


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from relwatch.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200", **env},
    )


def test_sentence_unit_keeps_rows_and_adds_annotations(tmp_path):
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "s1", "text": "Moon Jae-in met Kim Jong Un.", "date": "2018-04-27", "extra": 1},
            {"id": 2, "text": "Nothing to see."},
        ],
    )
    out = tmp_path / "out.jsonl"
    stats = extract_file(src, out, unit="sentence", batch_size=1, ner=True)
    assert (stats.rows_in, stats.rows_out) == (2, 2)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["id"] == "s1" and rows[0]["extra"] == 1
    assert rows[0]["countries"] == ["KOR", "PRK"]
    assert rows[0]["mentions"][0] == {
        "start": 0,
        "end": 11,
        "text": "Moon Jae-in",
        "iso3": "KOR",
        "kind": "leader",
        "role": "actor",
    }
    assert rows[0]["pairs"] == [
        {
            "a": "KOR",
            "b": "PRK",
            "a_span": [0, 11],
            "b_span": [16, 27],
            "direction": "a->b",
            "place_only": False,
        }
    ]
    assert rows[1] == {
        "id": 2,
        "text": "Nothing to see.",
        "mentions": [],
        "countries": [],
        "pairs": [],
    }


def test_article_unit_emits_one_row_per_sentence(tmp_path):
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {
                "id": "a",
                "text": "TOKYO, March 3 - Japan's surplus with the U.S. grew. It was large.",
                "date": "1987-03-03",
            },
        ],
    )
    out = tmp_path / "out.jsonl"
    stats = extract_file(src, out, unit="article", batch_size=10, ner=False)
    assert (stats.rows_in, stats.rows_out) == (1, 2)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["article_id"], r["sentence_index"]) for r in rows] == [
        ("a:0", "a", 0),
        ("a:1", "a", 1),
    ]
    assert rows[0]["countries"] == ["JPN", "USA"] and rows[1]["countries"] == []
    assert rows[0]["pairs"][0]["a"] == "JPN"
    assert 0 < rows[1]["score"] <= 1 and rows[0]["date"] == "1987-03-03"


def test_malformed_lines_are_reported_with_line_numbers(tmp_path):
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": 1, "text": "ok"},
            "not json",
            {"id": 1, "text": "dup"},
            {"text": "no id"},
            {"id": 3, "text": 5},
            {"id": 4, "text": "x", "date": "someday"},
            "[1, 2]",
        ],
    )
    with pytest.raises(DataError) as err:
        read_rows(src)
    msg = str(err.value)
    assert msg.startswith("6 malformed line(s)")
    for fragment in (
        "line 2: invalid JSON",
        "line 3: duplicate id",
        "line 4: 'id'",
        "line 5: 'text'",
        "line 6: 'date'",
        "line 7: expected a JSON object",
    ):
        assert fragment in msg


@pytest.mark.slow
def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": 1, "text": "ok"}, "{broken"])
    out = tmp_path / "out.jsonl"
    env = {"RELWATCH_HOME": str(tmp_path / "home")}
    res = run_cli("extract", "--input", str(src), "--output", str(out), env=env)
    assert res.returncode == 2
    assert "line 2" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists() and list(tmp_path.glob(".out.jsonl.*")) == []
    res = run_cli(
        "extract", "--input", str(tmp_path / "missing.jsonl"), "--output", str(out), env=env
    )
    assert res.returncode == 2 and "not found" in res.stderr
    res = run_cli("extract", "--db", "--input", str(src), env=env)
    assert res.returncode == 2 and "--db" in res.stderr


@pytest.mark.slow
def test_cli_db_extracts_database_articles(tmp_path, db_url):
    from relwatch.core.db import session_scope
    from relwatch.core.models import Article, Pair

    with session_scope(db_url) as s:
        s.add(
            Article(
                text="Japan and South Korea agreed to talks. China objected.",
                published_at=dt.datetime(2019, 1, 1, tzinfo=dt.UTC),
                content_hash=hashlib.sha256(b"x").hexdigest(),
            )
        )
    env = {"RELWATCH_HOME": str(tmp_path / "home"), "RELWATCH_DATABASE_URL": db_url}
    res = run_cli("extract", "--db", "--limit", "10", env=env)
    assert res.returncode == 0, res.stderr
    assert "extracted 1 articles" in res.stdout and "sentences/s" in res.stdout
    with session_scope(db_url) as s:
        assert [(p.a, p.b) for p in s.query(Pair).all()] == [("JPN", "KOR")]


@pytest.mark.slow
def test_cli_db_without_schema_is_a_clear_error(tmp_path):
    env = {
        "RELWATCH_HOME": str(tmp_path / "home"),
        "RELWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
    }
    res = run_cli("extract", "--db", env=env)
    assert res.returncode == 2 and "relwatch db upgrade" in res.stderr
