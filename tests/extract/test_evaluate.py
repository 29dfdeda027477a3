from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from relwatch.extract.evaluate import (
    GoldError,
    GoldRow,
    load_gold,
    predict_countries,
    resolve_ref,
    score,
)

GOLD = Path(__file__).parent / "data" / "gold_mentions.jsonl"
RESEARCH_ONLY = {"reuters21578", "conflibert", "directed_sentiment", "seed_sample"}


def test_gold_set_commits_no_research_only_text():
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 200
    for row in rows:
        if row["source"] in RESEARCH_ONLY:
            assert "text" not in row and {"file", "start", "end", "sha1"} <= set(row["ref"])
        else:
            assert row["source"] in {"newsmtsc", "keep_it_local", "handwritten"}
        assert row["countries"] == sorted(set(row["countries"]))


def test_quality_on_committed_gold_sentences(finder):
    rows, _ = load_gold(GOLD, data_dir=None)
    assert len(rows) >= 200
    s = score(rows, predict_countries(rows, finder))["all"]
    assert s.precision >= 0.95, s.errors
    assert s.recall >= 0.90, s.errors


def test_quality_on_full_gold_set_with_corpus_pointers(finder, data_dir):
    rows, skipped = load_gold(GOLD, data_dir)
    assert skipped == 0 and len(rows) >= 250
    scores = score(rows, predict_countries(rows, finder))
    assert scores["all"].precision >= 0.95
    assert scores["all"].recall >= 0.90
    for name, s in scores.items():  # no source may hide behind the pooled figure
        assert s.precision >= 0.9 and s.recall >= 0.85, (name, s.errors)


def test_traps_in_gold_set_are_all_avoided(finder):
    rows, _ = load_gold(GOLD, data_dir=None)
    traps = [r for r in rows if "trap" in r.note or r.note.startswith(("Jordan the", "Chad the"))]
    assert len(traps) >= 8
    preds = predict_countries(traps, finder)
    wrong = {r.id for r, p in zip(traps, preds, strict=True) if p != r.countries}
    # Known misses, kept visible: a person named "German"; "Chad, the accountant" (the small
    # spaCy model tags this Chad GPE and no context rule catches an appositive).
    known = {"newsmtsc:train.jsonl:6675", "handwritten:038"}
    assert wrong <= known, wrong - known


def test_score_counts_per_sentence_country_decisions():
    rows = [
        GoldRow("1", "a", "x", None, frozenset({"KOR", "PRK"})),
        GoldRow("2", "b", "y", None, frozenset()),
    ]
    out = score(rows, [frozenset({"KOR", "JPN"}), frozenset({"USA"})])
    assert (out["all"].tp, out["all"].fp, out["all"].fn) == (1, 2, 1)
    assert out["all"].precision == pytest.approx(1 / 3)
    assert out["all"].recall == pytest.approx(1 / 2)
    assert out["b"].recall == 1.0 and out["b"].precision == 0.0
    assert len(out["all"].errors) == 2


def test_bad_gold_rows_and_refs_are_clear_errors(tmp_path):
    bad = tmp_path / "g.jsonl"
    bad.write_text(
        '{"id": "x", "source": "s", "text": "t", "date": "yesterday", "countries": []}\n'
    )
    with pytest.raises(GoldError, match=r"g\.jsonl:1"):
        load_gold(bad)
    with pytest.raises(GoldError, match="not found"):
        resolve_ref({"file": "reuters21578/none.sgm", "newid": "1", "start": 0, "end": 1}, tmp_path)


def test_pointer_rows_resolve_and_check_their_hash(data_dir):
    row = next(json.loads(line) for line in GOLD.read_text().splitlines() if '"ref"' in line)
    text = resolve_ref(row["ref"], data_dir)
    assert text
    with pytest.raises(GoldError, match="changed"):
        resolve_ref({**row["ref"], "sha1": "0" * 40}, data_dir)
    assert dt.date.fromisoformat(row["date"]).year == 1987
