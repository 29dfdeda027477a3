"""Jobs: recorded in the database, executed in-process by default or by a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relwatch.core.db import session_scope
from relwatch.core.models import Job


def test_in_process_job_runs_to_success(db_url: str):
    from relwatch import worker

    job_id = worker.submit("doctor")
    with session_scope() as s:
        job = s.get(Job, job_id)
        assert job.status == "succeeded"
        assert job.celery_task_id
        names = [c["name"] for c in job.result["checks"]]
        assert names == ["database", "mlflow", "redis", "broker", "data dir"]
        assert job.started_at is not None and job.finished_at >= job.started_at


def test_failing_handler_is_recorded_not_raised(db_url: str, monkeypatch: pytest.MonkeyPatch):
    from relwatch import worker

    def boom(params: dict) -> dict:
        raise RuntimeError(f"bad input {params['x']}")

    monkeypatch.setitem(worker._HANDLERS, "boom", boom)
    job_id = worker.submit("boom", {"x": 7})
    with session_scope() as s:
        job = s.get(Job, job_id)
        assert job.status == "failed"
        assert job.error == "RuntimeError: bad input 7"
        assert job.result is None


def test_unknown_kind_is_refused_before_anything_is_written(db_url: str):
    from sqlalchemy import func, select

    from relwatch import worker

    with pytest.raises(worker.UnknownJobKind, match="unknown job kind 'nope'"):
        worker.submit("nope")
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


@pytest.mark.services
def test_celery_worker_over_redis_executes_job(db_url: str, redis_url: str, tmp_path: Path):
    """The production path: a separate worker process takes the job from the broker."""
    env = {
        **os.environ,
        "RELWATCH_HOME": str(tmp_path / "home"),
        "RELWATCH_DATABASE_URL": db_url,
        "RELWATCH_BROKER_URL": redis_url,
    }
    worker_proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "relwatch.worker",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", "from relwatch.worker import submit; print(submit('doctor'))"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        job_id = out.stdout.strip().splitlines()[-1]
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            with session_scope(db_url) as s:
                status = s.get(Job, job_id).status
            if status in {"succeeded", "failed"}:
                break
            time.sleep(0.5)
        assert status == "succeeded", worker_proc.stderr and status
        with session_scope(db_url) as s:
            job = s.get(Job, job_id)
            broker = next(c for c in job.result["checks"] if c["name"] == "broker")
            assert broker["mode"] == "celery" and broker["ok"]
    finally:
        worker_proc.terminate()
        worker_proc.wait(timeout=30)


def test_registry_schedules_become_beat_entries():
    from datetime import timedelta

    from celery.schedules import crontab

    from relwatch import worker
    from relwatch.collect import load_registry

    assert worker.celery_schedule("30m") == timedelta(minutes=30)
    assert worker.celery_schedule("1d") == timedelta(days=1)
    assert worker.celery_schedule(None) == timedelta(hours=1)
    cron = worker.celery_schedule("0 */6 * * 1-5")
    assert isinstance(cron, crontab) and cron.hour == set(range(0, 24, 6))
    beat = worker._beat_schedule()
    enabled = [s.name for s in load_registry().sources if s.enabled]
    assert {f"crawl:{name}" for name in enabled} <= set(beat)
    assert beat[f"crawl:{enabled[0]}"]["args"] == ["crawl", {"sources": [enabled[0]]}]


@pytest.mark.slow
def test_import_then_extract_jobs_fill_the_database(db_url: str, data_dir: Path):
    from sqlalchemy import func, select

    from relwatch import worker
    from relwatch.core.models import Article, Pair

    imported = worker.submit("import_reuters", {"limit": 40})
    extracted = worker.submit("extract", {"limit": 40})
    with session_scope() as s:
        jobs = {j.kind: j for j in (s.get(Job, imported), s.get(Job, extracted))}
        assert jobs["import_reuters"].status == "succeeded", jobs["import_reuters"].error
        assert jobs["extract"].status == "succeeded", jobs["extract"].error
        n_articles = s.scalar(select(func.count()).select_from(Article))
        assert jobs["import_reuters"].result["imported"] == n_articles > 30
        assert jobs["extract"].result["articles"] == n_articles
        assert s.scalar(select(func.count()).select_from(Pair)) == jobs["extract"].result["pairs"]


def test_predict_job_labels_a_file_with_a_local_model(db_url: str, tmp_path: Path):
    import json

    from relwatch import worker
    from tests.classify.tiny_models import tfidf_model_dir

    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": 1, "text": "Japan and India signed a pact.", "source": "Japan"}\nnot json\n'
    )
    job_id = worker.submit(
        "predict",
        {"model": str(tfidf_model_dir()), "input": str(src), "output": str(tmp_path / "o")},
    )
    with session_scope() as s:
        job = s.get(Job, job_id)
        assert job.status == "succeeded", job.error
        assert (job.result["written"], job.result["skipped"]) == (1, 1)
    row = json.loads((tmp_path / "o").read_text().splitlines()[0])
    assert row["id"] == 1 and set(row["probs"]) == {"conflict", "neutral", "cooperation"}
