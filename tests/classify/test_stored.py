"""Classifying stored pairs: idempotent, resumable, per model version, actor marked as A."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from relwatch.classify.stored import pending_pairs, predict_stored_pairs
from relwatch.core.db import session_factory, session_scope
from relwatch.core.errors import InputError
from relwatch.core.models import Article, Pair, Prediction, Sentence


class Recorder:
    """A scorer that records its inputs; fails on a chosen call to simulate a crash."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_on_call = fail_on_call

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        if self.fail_on_call == len(self.calls):
            raise RuntimeError("simulated crash")
        coop = np.array([0.8 if "signed" in t else 0.1 for t in texts])
        return np.column_stack([1 - coop - 0.05, np.full(len(texts), 0.05), coop])


def seed(url: str, n: int = 7) -> None:
    """``n`` one-sentence articles on consecutive days, each with one JPN–CHN pair."""
    text = "China signed a pact with Japan."
    with session_scope(url) as s:
        for k in range(n):
            article = Article(
                text=text,
                published_at=dt.datetime(1987, 3, 1 + k, tzinfo=dt.UTC),
                content_hash=hashlib.sha256(f"{k}".encode()).hexdigest(),
            )
            sentence = Sentence(index=0, text=text, start=0, end=len(text), score=1.0)
            sentence.pairs.append(
                Pair(a="CHN", b="JPN", a_start=0, a_end=5, b_start=25, b_end=30, direction="b->a")
            )
            article.sentences.append(sentence)
            s.add(article)


def count(url: str, version: str | None = None) -> int:
    with session_scope(url) as s:
        query = select(func.count()).select_from(Prediction)
        if version:
            query = query.where(Prediction.model_version == version)
        return int(s.scalar(query))


def test_every_pair_once_per_version_and_a_rerun_adds_nothing(db_url: str):
    seed(db_url)
    sessions = session_factory(db_url)
    stats = predict_stored_pairs(
        sessions, Recorder(), model_name="m", model_version="1", chunk_size=3
    )
    assert (stats.pending, stats.predicted, stats.chunks) == (7, 7, 3)
    again = predict_stored_pairs(sessions, Recorder(), model_name="m", model_version="1")
    assert (again.pending, again.predicted) == (0, 0)
    other = predict_stored_pairs(sessions, Recorder(), model_name="m", model_version="2")
    assert other.predicted == 7
    assert (count(db_url, "1"), count(db_url, "2")) == (7, 7)
    with session_scope(db_url) as s:
        row = s.scalars(select(Prediction).limit(1)).one()
        assert row.label == "cooperation" and row.direction == "b->a"
        assert row.p_cooperation == pytest.approx(0.8)


def test_the_acting_country_is_marked_as_a(db_url: str):
    seed(db_url, n=1)
    model = Recorder()
    predict_stored_pairs(session_factory(db_url), model, model_name="m", model_version="1")
    # pair (CHN, JPN) with direction b->a: Japan acts, so Japan is A
    assert model.calls == [["[B] China [/B] signed a pact with [A] Japan [/A]."]]


def test_an_interrupted_run_loses_at_most_one_chunk_and_resumes(db_url: str):
    seed(db_url)
    sessions = session_factory(db_url)
    with pytest.raises(RuntimeError, match="simulated crash"):
        predict_stored_pairs(
            sessions, Recorder(fail_on_call=3), model_name="m", model_version="1", chunk_size=2
        )
    assert count(db_url) == 4  # two whole chunks committed, the third lost
    resumed = predict_stored_pairs(
        sessions, Recorder(), model_name="m", model_version="1", chunk_size=2
    )
    assert (resumed.pending, resumed.predicted) == (3, 3)
    assert count(db_url) == 7


def test_date_range_and_limit(db_url: str):
    seed(db_url)
    sessions = session_factory(db_url)
    with sessions() as s:
        march_2_to_4 = pending_pairs(
            s,
            model_name="m",
            model_version="1",
            start=dt.date(1987, 3, 2),
            end=dt.date(1987, 3, 4),
        )
    assert march_2_to_4 == 3
    stats = predict_stored_pairs(sessions, Recorder(), model_name="m", model_version="1", limit=2)
    assert stats.predicted == 2 and count(db_url) == 2
    with pytest.raises(InputError, match="before"):
        predict_stored_pairs(
            sessions,
            Recorder(),
            model_name="m",
            model_version="1",
            start=dt.date(1987, 3, 5),
            end=dt.date(1987, 3, 1),
        )


def test_cli_predict_db_and_the_job_label_a_local_model_the_same_way(db_url: str, tmp_path):
    """One model-spec resolver: the command and the job store the same version label."""
    from relwatch.core.config import get_settings
    from relwatch.flows.worker import submit
    from tests.classify.tiny_models import tfidf_model_dir
    from tests.cli_process import run_cli

    seed(db_url, n=3)
    env = {"RELWATCH_DATABASE_URL": db_url, "RELWATCH_HOME": str(tmp_path / "home")}
    out = run_cli("predict", "--db", "--model", str(tfidf_model_dir()), "--limit", "2", env=env)
    assert out.returncode == 0, out.stderr
    assert "classified 2 of 3 pending pairs" in out.stdout and "sentences/s" in out.stdout
    submit("predict_db", {"model": str(tfidf_model_dir())}, settings=get_settings())
    with session_scope(db_url) as s:
        labels = set(s.scalars(select(Prediction.model_version)))
        names = set(s.scalars(select(Prediction.model_name)))
    assert labels == {f"local:{tfidf_model_dir().name}"} and names == {"local"}
    assert count(db_url) == 3


def test_predict_file_and_predict_job_write_the_same_model_version(db_url: str, tmp_path):
    import json

    from relwatch.core.config import get_settings
    from relwatch.flows.worker import submit
    from tests.classify.tiny_models import tfidf_model_dir
    from tests.cli_process import run_cli

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "Japan and India signed a pact."}) + "\n")
    env = {"RELWATCH_DATABASE_URL": db_url, "RELWATCH_HOME": str(tmp_path / "home")}
    model = str(tfidf_model_dir())
    out = run_cli(
        "predict", "-m", model, "-i", str(src), "-o", str(tmp_path / "cli.jsonl"), env=env
    )
    assert out.returncode == 0, out.stderr
    params = {"model": model, "input": str(src), "output": str(tmp_path / "job.jsonl")}
    submit("predict", params, settings=get_settings())
    cli_row = json.loads((tmp_path / "cli.jsonl").read_text())
    job_row = json.loads((tmp_path / "job.jsonl").read_text())
    assert cli_row["model_version"] == job_row["model_version"] == f"local:{Path(model).name}"
