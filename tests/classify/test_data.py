from __future__ import annotations

import json
from pathlib import Path

import pytest

from relwatch.classify import data as d
from relwatch.core.models import LABELS

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fake_data_dir(tmp_path: Path) -> Path:
    """Files in each shared set's format, with sentences written for the tests."""
    root = tmp_path / "datasets"
    (root / "conflibert_cameo").mkdir(parents=True)
    (root / "conflibert_cameo" / "train.tsv").write_text(
        "Japan and India signed a defence pact.\t2\n"
        "Russia shelled the border town.\t4\n"
        "The minister spoke to reporters.\t0\n",
        encoding="utf-8",
    )
    (root / "conflibert_cameo" / "ner_train.txt").write_text(
        "Russia B-S\nshelled O\nthe B-T\nborder I-T\ntown I-T\n. O\n\n", encoding="utf-8"
    )
    (root / "directed_sentiment").mkdir()
    for name in ("train", "valid", "test"):
        (root / "directed_sentiment" / f"{name}.txt").write_text(
            "A [Los Angele]s anchor praised [the United State]s.\tLos Angele\tthe United State\t1\n"
            "[Seoul] was blamed by [Tokyo] officials.\tSeoul\tTokyo\t4\n",
            encoding="utf-8",
        )
    (root / "keep_it_local").mkdir()
    (root / "keep_it_local" / "en_quad_multiclass.tsv").write_text(
        "en\tQuadClass\nThe parties agreed to cooperate.\t3\nTroops attacked the camp.\t2\n"
        "The report is annexed.\t0\n",
        encoding="utf-8",
    )
    (root / "seed_sample").mkdir()
    (root / "seed_sample" / "sentiment_train.tsv").write_text(
        '\tid\tsentence\tsentiment\n0\t1\t"Seoul protested, saying\nit was unacceptable."\t0\n'
        "1\t2\tThe two leaders praised ties.\t1\n",
        encoding="utf-8",
    )
    (root / "newsmtsc").mkdir()
    (root / "newsmtsc" / "train.jsonl").write_text(
        json.dumps(
            {
                "sentence_normalized": "Smith attacked Jones.",
                "targets": [
                    {"from": 0, "to": 5, "mention": "Smith", "polarity": 2.0},
                    {"from": 15, "to": 20, "mention": "Jones", "polarity": 4.0},
                ],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    return root


def test_shared_loaders_map_labels_as_datasets_md_says(fake_data_dir: Path):
    conf = d.load_conflibert(fake_data_dir)
    assert [e.label for e in conf.examples] == ["cooperation", "conflict", "neutral"]
    shelled = conf.examples[1]
    assert shelled.model_input() == "[A] Russia [/A] shelled [B] the border town [/B]."
    kil = d.load_keep_it_local(fake_data_dir)
    assert [e.label for e in kil.examples] == ["cooperation", "conflict", "neutral"]
    seed = d.load_seed_sample(fake_data_dir)
    assert [e.label for e in seed.examples] == ["conflict", "cooperation"]
    assert "\n" in seed.examples[0].text  # quoted multi-line field read as one row
    news = d.load_newsmtsc(fake_data_dir)
    assert [e.label for e in news.examples] == ["conflict", "neutral"]


def test_directed_sentiment_brackets_become_spans_and_direction(fake_data_dir: Path):
    ds = d.load_directed_sentiment(fake_data_dir)
    assert len(ds) == 6
    first, second = ds.examples[:2]
    assert first.text == "A Los Angeles anchor praised the United States."
    assert first.model_input() == (
        "A [A] Los Angeles [/A] anchor praised [B] the United States [/B]."
    )
    assert (first.label, first.direction) == ("cooperation", "a->b")
    assert (second.label, second.direction) == ("conflict", "b->a")


def test_bad_label_names_file_and_line(tmp_path: Path, fake_data_dir: Path):
    path = fake_data_dir / "keep_it_local" / "en_quad_multiclass.tsv"
    path.write_text("en\tQuadClass\nok\t1\nbad row\t9\n", encoding="utf-8")
    with pytest.raises(d.DataError, match=r"en_quad_multiclass.tsv:3: label 9"):
        d.load_keep_it_local(fake_data_dir)


def test_generic_importer_reads_jsonl_csv_tsv():
    jl = d.load_table(FIXTURES / "relations.jsonl")
    assert [e.label for e in jl.examples] == ["cooperation", "conflict", "neutral"]
    assert jl.examples[0].model_input().startswith("[A] Seoul [/A] and [B] Tokyo [/B]")
    csv_ = d.load_table(FIXTURES / "relations.csv")
    assert [e.label for e in csv_.examples] == ["cooperation", "conflict"]
    assert csv_.examples[1].source is None
    tsv = d.load_table(FIXTURES / "relations.tsv")
    assert [e.label for e in tsv.examples] == ["cooperation", "conflict"]


def test_generic_importer_errors_are_clear(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "label": "conflict"}\n{"text": "b", "label": "war"}\n')
    with pytest.raises(d.DataError, match=r"bad.jsonl:2: label 'war'"):
        d.load_table(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "a", "label": "conflict"}\n{oops\n')
    with pytest.raises(d.DataError, match=r"broken.jsonl:2: invalid JSON"):
        d.load_table(broken)
    nolabel = tmp_path / "x.csv"
    nolabel.write_text("text\nhello\n")
    with pytest.raises(d.DataError, match="lacks column"):
        d.load_table(nolabel)
    with pytest.raises(d.DataError, match="unsupported"):
        d.load_table(_touch(tmp_path / "a.xlsx"))
    with pytest.raises(FileNotFoundError):
        d.load_table(tmp_path / "missing.csv")


def _touch(path: Path) -> Path:
    path.write_text("x")
    return path


def test_label_studio_export_newest_annotation_wins_and_regions_mark_pair():
    ds = d.load_label_studio(FIXTURES / "label_studio.json")
    assert len(ds) == 2  # the cancelled task is skipped
    first, second = ds.examples
    assert first.label == "cooperation"
    assert first.model_input() == "[A] China [/A] pledged aid to [B] Russia [/B] after the floods."
    assert second.label == "conflict"
    assert second.model_input().startswith("[A] India [/A] expelled [B] Chinese [/B]")
    assert d.load_table(FIXTURES / "label_studio.json").digest == ds.digest


def test_content_hash_is_stable_and_content_sensitive():
    rows = d.load_table(FIXTURES / "relations.jsonl").examples
    h = d.content_hash(rows)
    assert h == d.content_hash(list(reversed(rows)))  # order does not matter
    assert len(h) == 64
    changed = [rows[0].__class__(rows[0].text, "conflict", rows[0].dataset), *rows[1:]]
    assert d.content_hash(changed) != h
    # pinned: the canonical serialisation must not drift between releases
    assert d.content_hash([d.Example("a", "neutral", "x")]) == (
        "a9dff9b7b2930e2e7423f5e961ec2b01c2998a2308c4a20512aed890c9746efd"
    )


def test_splits_are_deterministic_and_keep_a_sentence_in_one_split():
    rows = [d.Example(f"Sentence number {i} about ties.", LABELS[i % 3], "t") for i in range(600)]
    # the same sentence with another pair and other spacing/case/brackets
    rows += [
        d.Example(f"sentence  number {i} about [ties].", "neutral", "t", source="x")
        for i in range(0, 600, 7)
    ]
    first = d.split_examples(rows)
    again = d.split_examples(list(reversed(rows)))
    assert {k: sorted(e.text for e in v) for k, v in first.items()} == {
        k: sorted(e.text for e in v) for k, v in again.items()
    }
    seen: dict[str, str] = {}
    for split, items in first.items():
        for e in items:
            key = d.normalize_sentence(e.text)
            assert seen.setdefault(key, split) == split
    sizes = {k: len(v) for k, v in first.items()}
    assert 0.6 < sizes["train"] / len(rows) < 0.8
    assert sizes["validation"] > 50 and sizes["test"] > 50


def test_real_directed_sentiment_has_no_sentence_in_two_splits(data_dir: Path):
    ds = d.load_directed_sentiment(data_dir)
    splits = d.split_examples(ds.examples)
    keys = {name: {d.normalize_sentence(e.text) for e in rows} for name, rows in splits.items()}
    assert not keys["train"] & keys["test"]
    assert not keys["train"] & keys["validation"]
    assert not keys["validation"] & keys["test"]
    # the known duplicates exist in the raw files (else this test proves nothing)
    raw_train = {
        d.normalize_sentence(line.split("\t")[0])
        for line in (data_dir / "directed_sentiment" / "train.txt").read_text().splitlines()
    }
    raw_test = {
        d.normalize_sentence(line.split("\t")[0])
        for line in (data_dir / "directed_sentiment" / "test.txt").read_text().splitlines()
    }
    assert len(raw_train & raw_test) >= 300


def test_real_sets_load_with_documented_sizes(data_dir: Path):
    sizes = {
        name: len(d.load_named(name, data_dir))
        for name in ("conflibert", "keep_it_local", "seed_sample")
    }
    assert sizes == {"conflibert": 1349, "keep_it_local": 5979, "seed_sample": 91}
    conf = d.load_conflibert(data_dir)
    assert sum(1 for e in conf.examples if e.a_span or e.b_span) > 500  # actors aligned
    assert d.load_named("conflibert", data_dir).digest == conf.digest


def test_cap_is_stable():
    rows = [d.Example(f"s{i}", "neutral", "t") for i in range(100)]
    assert d.cap(rows, 10) == d.cap(list(reversed(rows)), 10)
    assert len(d.cap(rows, 10)) == 10 and d.cap(rows, None) == rows


def _assert_every_pair_labelled_once(rows: list[dict]) -> None:
    """The bundled every-pair format: spans are the surfaces' first occurrences, each pair of
    mentioned codes is labelled exactly once, labels, roles and directions are known."""
    import itertools

    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    for row in rows:
        codes = [m["code"] for m in row["mentions"]]
        assert len(codes) == len(set(codes)) >= 2, row["id"]
        for m in row["mentions"]:
            start, end = m["span"]
            assert row["text"][start:end] == m["surface"], row["id"]
            assert row["text"].index(m["surface"]) == start, row["id"]  # first occurrence
            assert m["role"] in {"actor", "place", "reporter"}
        pairs = [frozenset((p["a"], p["b"])) for p in row["pairs"]]
        assert len(pairs) == len(set(pairs)), row["id"]
        assert sorted(map(sorted, pairs)) == sorted(
            map(sorted, map(frozenset, itertools.combinations(codes, 2)))
        ), row["id"]
        for p in row["pairs"]:
            assert p["label"] in LABELS
            assert p["direction"] in {None, "a->b", "b->a", "mutual"}
            assert (p["direction"] is None) == (p["label"] == "neutral"), row["id"]


def test_pair_contrast_labels_every_pair_of_every_sentence_once():
    rows = d.pair_contrast_rows()
    assert len(rows) >= 300
    _assert_every_pair_labelled_once(rows)
    mixed = sum({"conflict", "cooperation"} <= {p["label"] for p in row["pairs"]} for row in rows)
    assert mixed >= 50  # the sentences a marker-blind model cannot get right


def test_market_news_labels_every_pair_once_in_the_intended_mix():
    from collections import Counter

    rows = d.market_news_rows()
    assert 180 <= len(rows) <= 360
    _assert_every_pair_labelled_once(rows)
    labels = Counter(p["label"] for row in rows for p in row["pairs"])
    total = sum(labels.values())
    assert 0.50 <= labels["neutral"] / total <= 0.62
    assert 0.20 <= labels["conflict"] / total <= 0.30
    assert 0.14 <= labels["cooperation"] / total <= 0.24
    assert sum(len(row["mentions"]) >= 3 for row in rows) >= 40
    mixed = sum({"conflict", "cooperation"} <= {p["label"] for p in row["pairs"]} for row in rows)
    assert mixed >= 5
    assert len({m["code"] for row in rows for m in row["mentions"]}) >= 40  # not only USA-JPN
    lengths = [len(row["text"].split()) for row in rows]
    assert min(lengths) >= 12 and max(lengths) <= 45
    texts = [d.normalize_sentence(row["text"]) for row in rows]
    assert len(texts) == len(set(texts))
    assert not set(texts) & {d.normalize_sentence(r["text"]) for r in d.pair_contrast_rows()}


def test_market_news_ships_with_the_package_and_holds_out_30_percent():
    rows = d.market_news_rows()
    ds = d.load_any("market_news", None)  # no data directory needed
    assert "market_news" in d.BUNDLED and d.load_named("market_news", None).digest == ds.digest
    assert ds.name == "market_news" and {e.dataset for e in ds.examples} == {"market_news"}
    assert len(ds) == sum(len(row["pairs"]) for row in rows)
    assert all(e.a_span and e.b_span for e in ds.examples)
    assert all(e.text[slice(*e.a_span)] == e.source for e in ds.examples)
    assert d.SPLIT_FRACTIONS["market_news"] == d.SPLIT_FRACTIONS["pair_contrast"] == (0.15, 0.30)
    splits = d.split_dataset(ds)
    sentences = {name: {d.normalize_sentence(e.text) for e in p} for name, p in splits.items()}
    assert 0.22 < len(sentences["test"]) / len(rows) < 0.38  # its own 30% held out
    assert not sentences["train"] & sentences["test"]
    assert not sentences["validation"] & sentences["test"]
    assert d.split_dataset(ds) == splits


def test_undoings_are_labelled_every_pair_trained_whole_and_kept_apart_from_the_diagnostic():
    """The undoing sentences teach verbs: both polar classes, many countries, all of it
    training rows, and none of bench/reversals.py's never-trained sentences among them."""
    from collections import Counter

    rows = d.undoings_rows()
    assert len(rows) >= 300
    _assert_every_pair_labelled_once(rows)
    labels = Counter(p["label"] for row in rows for p in row["pairs"])
    assert min(labels["cooperation"], labels["conflict"]) >= 0.3 * sum(labels.values())
    assert len({m["code"] for row in rows for m in row["mentions"]}) >= 40
    mixed = sum({"conflict", "cooperation"} <= {p["label"] for p in row["pairs"]} for row in rows)
    assert mixed >= 50
    ds = d.load_named("undoings", None)
    assert "undoings" in d.BUNDLED and len(ds) == sum(len(row["pairs"]) for row in rows)
    splits = d.split_dataset(ds, validation=0.15, test=0.3)
    assert len(splits["train"]) == len(ds) and not splits["validation"] and not splits["test"]
    texts = {d.normalize_sentence(row["text"]) for row in rows}
    assert len(texts) == len(rows)
    diagnostic = Path(__file__).resolve().parents[2] / "bench" / "data" / "reversals.jsonl"
    held = [json.loads(line)["text"] for line in diagnostic.read_text("utf-8").splitlines()]
    others = [r["text"] for r in d.pair_contrast_rows() + d.market_news_rows()]
    assert not texts & {d.normalize_sentence(t) for t in held + others}


def test_bundled_files_report_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "data").mkdir()
    good = json.dumps(d.market_news_rows()[0])

    class Files:
        @staticmethod
        def files(_package: str) -> Path:
            return tmp_path

    monkeypatch.setattr(d, "resources", Files)
    for bad, message in [
        ("{not json", r"x\.jsonl:3: invalid JSON"),
        ('{"id": "x", "text": "Japan"}', r"x\.jsonl:3: malformed row \(KeyError"),
        (good.replace('"neutral"', '"friendly"'), r"x\.jsonl:3: label 'friendly'"),
        (good.replace('"span": [', '"span": [1, '), r"x\.jsonl:3: span"),
    ]:
        (tmp_path / "data" / "x.jsonl").write_text(f"{good}\n\n{bad}\n", encoding="utf-8")
        with pytest.raises(d.DataError, match=message):
            d.load_bundled_pairs("x", "x.jsonl")
    (tmp_path / "data" / "x.jsonl").write_text(good + "\n", encoding="utf-8")
    assert d.load_bundled_pairs("x", "x.jsonl").name == "x"


def test_pair_contrast_ships_with_the_package_and_holds_out_whole_sentences():
    ds = d.load_any("pair_contrast", None)  # no data directory needed
    assert ds.name == "pair_contrast" and len(ds) >= 900
    assert all(e.a_span and e.b_span for e in ds.examples)
    splits = d.split_dataset(ds)
    assert 0.25 < len(splits["test"]) / len(ds) < 0.36  # its own 30% held out
    keys = {name: {d.normalize_sentence(e.text) for e in rows} for name, rows in splits.items()}
    assert not keys["train"] & keys["test"] and not keys["validation"] & keys["test"]
    assert d.split_dataset(ds) == splits
    with pytest.raises(d.DataError, match="data directory"):
        d.load_any("conflibert", None)


def test_directed_contrast_keeps_sentences_labelled_for_several_pairs(data_dir: Path):
    ds = d.load_named("directed_contrast", data_dir)
    by_sentence: dict[str, set] = {}
    for e in ds.examples:
        by_sentence.setdefault(d.normalize_sentence(e.text), set()).add((e.a_span, e.b_span))
    assert len(by_sentence) >= 10
    assert all(len(pairs) >= 2 for pairs in by_sentence.values())
