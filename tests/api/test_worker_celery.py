"""The production path: ``relwatch serve`` hands a job to a Celery worker process over Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.classify.tiny_models import tiny_package

DEADLINE_S = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return (err or "")[-3000:]


@pytest.mark.services
def test_job_posted_to_the_api_runs_on_a_celery_worker(db_url: str, redis_url: str, tmp_path: Path):
    port = free_port()
    env = {
        **os.environ,
        "RELWATCH_HOME": str(tmp_path / "home"),
        "RELWATCH_DATABASE_URL": db_url,
        "RELWATCH_BROKER_URL": redis_url,
        "RELWATCH_SERVE_MODEL": str(tiny_package()),
        "RELWATCH_SERVE_RELOAD_INTERVAL_S": "0",
        "RELWATCH_LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "relwatch.worker", "worker", "--pool", "solo",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-c", "from relwatch.cli import main; main()", "serve",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + DEADLINE_S
        ready = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                ready = httpx.get(f"{base}/readyz", timeout=5)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        assert ready is not None and ready.status_code == 200, stop(server)

        texts = [{"text": "North Korea fired missiles toward Japan."}]
        posted = httpx.post(
            f"{base}/v1/jobs",
            json={"kind": "predict_texts", "params": {"texts": texts}},
            timeout=30,
        )
        assert posted.status_code == 202, posted.text
        job_id = posted.json()["id"]
        job = None
        while time.monotonic() < deadline:
            job = httpx.get(f"{base}/v1/jobs/{job_id}", timeout=10).json()
            if job["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.25)
        assert job is not None and job["status"] == "succeeded", (job, stop(worker))
        assert job["celery_task_id"]  # handed over the broker, not run in the API process
        pair = job["result"]["items"][0]["pairs"][0]
        assert (pair["source"], pair["target"]) == ("PRK", "JPN")
        assert job["result"]["model"]["version"] == "local:tiny-package"
    finally:
        stop(server)
        stop(worker)
