"""Jobs: recorded in the database, executed in-process by default or by a real Celery worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relwatch.core.db import session_scope
from relwatch.core.models import Job


def submit(kind: str, params: dict | None = None) -> str:
    from relwatch.core.config import get_settings
    from relwatch.flows.worker import submit as submit_job

    return submit_job(kind, params, settings=get_settings())


def test_in_process_job_runs_to_success(db_url: str):
    job_id = submit("doctor")
    with session_scope() as s:
        job = s.get(Job, job_id)
        assert job.status == "succeeded"
        assert job.celery_task_id
        names = [c["name"] for c in job.result["checks"]]
        assert names == ["database", "mlflow", "redis", "broker", "data dir"]
        assert job.started_at is not None and job.finished_at >= job.started_at


def test_failing_handler_is_recorded_not_raised(db_url: str, monkeypatch: pytest.MonkeyPatch):
    from relwatch.flows import jobs

    def boom(params, settings) -> dict:
        raise RuntimeError(f"bad input {params.limit}")

    monkeypatch.setitem(jobs.HANDLERS, "extract", boom)
    job_id = submit("extract", {"limit": 7})
    with session_scope() as s:
        job = s.get(Job, job_id)
        assert job.status == "failed"
        assert job.error == "RuntimeError: bad input 7"
        assert job.finished_at is not None
        assert job.result is None


def test_unknown_kind_is_refused_before_anything_is_written(db_url: str):
    from sqlalchemy import func, select

    from relwatch.core.errors import UnknownJobKind

    with pytest.raises(UnknownJobKind, match="unknown job kind 'nope'"):
        submit("nope")
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
            [
                sys.executable,
                "-c",
                "from relwatch.core.config import get_settings;"
                " from relwatch.flows.worker import submit;"
                " print(submit('doctor', settings=get_settings()))",
            ],
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

    from relwatch.collect import load_registry
    from relwatch.flows.beat import beat_schedule, celery_schedule

    assert celery_schedule("30m") == timedelta(minutes=30)
    assert celery_schedule("1d") == timedelta(days=1)
    assert celery_schedule(None) == timedelta(hours=1)
    cron = celery_schedule("0 */6 * * 1-5")
    assert isinstance(cron, crontab) and cron.hour == set(range(0, 24, 6))
    registry = load_registry()
    beat = beat_schedule(registry)
    enabled = [s.name for s in registry.sources if s.enabled]
    assert {f"crawl:{name}" for name in enabled} <= set(beat)
    assert beat[f"crawl:{enabled[0]}"]["args"] == ["crawl", {"sources": [enabled[0]]}]


@pytest.mark.slow
def test_import_then_extract_jobs_fill_the_database(db_url: str, data_dir: Path):
    from sqlalchemy import func, select

    from relwatch.core.models import Article, Pair

    imported = submit("import_reuters", {"limit": 40})
    extracted = submit("extract", {"limit": 40})
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

    from tests.classify.tiny_models import tfidf_model_dir

    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": 1, "text": "Japan and India signed a pact.", "source": "Japan"}\nnot json\n'
    )
    job_id = submit(
        "predict",
        {"model": str(tfidf_model_dir()), "input": str(src), "output": str(tmp_path / "o")},
    )
    with session_scope() as s:
        job = s.get(Job, job_id)
        assert job.status == "succeeded", job.error
        assert (job.result["written"], job.result["skipped"]) == (1, 1)
    row = json.loads((tmp_path / "o").read_text().splitlines()[0])
    assert row["id"] == 1 and set(row["probs"]) == {"conflict", "neutral", "cooperation"}


def test_registry_and_beat_share_one_schedule_grammar():
    from relwatch.collect.sources import SourceSpec
    from relwatch.core.schedule import parse_schedule

    with pytest.raises(ValueError, match="duration"):
        parse_schedule("every hour")
    with pytest.raises(ValueError, match="duration"):
        SourceSpec(name="x", country="KOR", kind="rss", url="https://x.org/rss", schedule="5x")
    spec = SourceSpec(name="x", country="KOR", kind="rss", url="https://x.org/rss", schedule="2h")
    assert spec.schedule == "2h"


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("import_reuters", {"directory": "/nope"}, "directory: no such folder"),
        ("extract", {"limit": "abc"}, "limit: Input should be a valid integer"),
        ("extract", {"limt": 5}, "limt: unknown parameter"),
        ("crawl", {"countries": ["Korea"]}, "not ISO3"),
        ("predict", {"input": "/no/in.jsonl", "output": "/tmp/o"}, "no such input file"),
        ("train", {"quick": True, "thorough": True}, "quick or thorough, not both"),
    ],
)
def test_bad_job_parameters_are_refused_before_a_row_is_written(
    db_url: str, kind: str, params: dict, message: str
):
    from sqlalchemy import func, select

    from relwatch.core.errors import InputError

    with pytest.raises(InputError, match=message):
        submit(kind, params)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_unreachable_broker_is_refused_and_leaves_no_queued_row(
    db_url: str, monkeypatch: pytest.MonkeyPatch
):
    """A broker nobody listens on: one clear error, and no job row stuck in 'queued'."""
    from sqlalchemy import func, select

    from relwatch.core.config import get_settings
    from relwatch.core.errors import ServiceUnavailable
    from relwatch.flows import worker

    with socket.socket() as sock:  # a port that is surely closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("RELWATCH_BROKER_URL", f"redis://127.0.0.1:{port}/0")
    get_settings.cache_clear()
    monkeypatch.setattr(worker, "celery_app", worker.make_celery(get_settings()))
    with pytest.raises(ServiceUnavailable, match="cannot reach the Celery broker"):
        worker.submit("doctor", {}, settings=get_settings())
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_jobs_before_db_upgrade_say_what_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from relwatch.core.config import get_settings
    from relwatch.core.errors import StateError

    monkeypatch.setenv("RELWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    get_settings.cache_clear()
    with pytest.raises(StateError, match="relwatch db upgrade"):
        submit("doctor")


def test_show_takes_the_short_id_that_list_prints(db_url: str):
    from relwatch.core.errors import InputError, JobNotFound
    from relwatch.flows import ledger

    job_id = submit("doctor")
    with session_scope() as s:
        listed = ledger.list_jobs(s, limit=5)
        assert [j.id for j in listed] == [job_id]
        assert ledger.get_job(s, job_id[: ledger.SHORT_ID]).id == job_id
        assert ledger.get_job(s, job_id.upper()).id == job_id
        with pytest.raises(JobNotFound):
            ledger.get_job(s, "ffffffff")
        with pytest.raises(InputError, match="too short"):
            ledger.get_job(s, "ab")
