"""/v1/jobs: submit returns at once (202) while the job runs on; follow it by id or prefix."""

from __future__ import annotations

import threading
import time

import pytest

from relwatch.flows import jobs as job_handlers

SAFETY_S = 120


def wait_for(client, job_id: str, done=("succeeded", "failed")) -> dict:
    deadline = time.monotonic() + SAFETY_S
    while time.monotonic() < deadline:
        body = client.get(f"/v1/jobs/{job_id}").json()
        if body["status"] in done:
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {body['status']}")


def test_the_api_answers_while_the_job_is_still_running(client, monkeypatch):
    release = threading.Event()
    started = threading.Event()

    def slow_doctor(params, settings):
        started.set()
        assert release.wait(SAFETY_S)
        return {"checks": "done"}

    monkeypatch.setitem(job_handlers.HANDLERS, "doctor", slow_doctor)
    response = client.post("/v1/jobs", json={"kind": "doctor"})
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert started.wait(SAFETY_S)
    running = client.get(f"/v1/jobs/{job_id[:8]}").json()  # a short prefix works
    assert running["status"] == "running" and running["id"] == job_id
    assert client.get("/healthz").status_code == 200  # the server is free meanwhile
    release.set()
    done = wait_for(client, job_id)
    assert done["status"] == "succeeded" and done["result"] == {"checks": "done"}
    assert done["progress"] == 1.0
    listed = client.get("/v1/jobs", params={"kind": "doctor"}).json()["jobs"]
    assert [j["id"] for j in listed] == [job_id]


def test_predict_texts_job_classifies_in_bulk(client):
    texts = [
        {"text": "North Korea fired missiles toward Japan."},
        {"text": "Seoul and Tokyo signed a trade pact.", "source": "KOR", "target": "JPN"},
    ]
    response = client.post(
        "/v1/jobs", json={"kind": "predict_texts", "params": {"texts": texts, "lang": "ko"}}
    )
    assert response.status_code == 202, response.text
    done = wait_for(client, response.json()["id"])
    assert done["status"] == "succeeded", done["error"]
    result = done["result"]
    assert result["texts"] == 2 and result["pairs"] == 2
    assert result["model"] == {"name": "local", "version": "local:tiny-package"}
    first, second = result["items"]
    assert (first["pairs"][0]["source"], first["pairs"][0]["target"]) == ("PRK", "JPN")
    assert "북한" in first["pairs"][0]["explanation"]
    assert (second["pairs"][0]["source"], second["pairs"][0]["target"]) == ("KOR", "JPN")
    # the same answer as the interactive route
    online = client.post("/v1/relations/predict", json={"items": texts, "lang": "ko"}).json()
    assert [i["pairs"] for i in online["items"]] == [i["pairs"] for i in result["items"]]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"kind": "teleport"}, 422, "unknown job kind 'teleport'"),
        ({"kind": "predict_texts", "params": {}}, 422, "predict_texts job: texts: Field required"),
        ({"kind": "predict_texts", "params": {"texts": []}}, 422, "texts: List should have"),
        (
            {"kind": "predict_texts", "params": {"texts": [{"text": "a", "source": "KOR"}]}},
            422,
            "both source and target",
        ),
        (
            {"kind": "predict_db", "params": {"start": "2024-02-01", "end": "2024-01-01"}},
            422,
            "before start",
        ),
        ({"kind": "index_build", "params": {"colour": 1}}, 422, "colour: unknown parameter"),
        ({"kind": "doctor", "extra": 1}, 422, "extra: unknown field"),
        ({"kind": "import_reuters", "params": {"directory": "/tmp"}}, 403, "RELWATCH_API_KEY"),
        ({"kind": "train", "params": {"datasets": ["/etc/passwd"]}}, 403, "RELWATCH_API_KEY"),
        ({"kind": "predict", "params": {"input": "/etc/hosts", "output": "/tmp/o"}}, 403, "KEY"),
        (
            {"kind": "predict_texts", "params": {"texts": [{"text": "a"}], "model": "/tmp"}},
            403,
            "RELWATCH_API_KEY",
        ),
    ],
)
def test_bad_jobs_are_refused_before_anything_is_recorded(client, body, status, message):
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]
    assert client.get("/v1/jobs").json()["jobs"] == []


def test_server_paths_in_job_params_need_the_admin_key(make_client, tmp_path):
    client = make_client(api_key="s3cret")
    body = {"kind": "import_reuters", "params": {"directory": str(tmp_path)}}
    assert client.post("/v1/jobs", json=body).status_code == 401
    wrong = client.post("/v1/jobs", json=body, headers={"X-API-Key": "nope"})
    assert wrong.status_code == 401
    accepted = client.post("/v1/jobs", json=body, headers={"X-API-Key": "s3cret"})
    assert accepted.status_code == 202
    done = wait_for(client, accepted.json()["id"])
    assert done["status"] == "failed"  # the key lets it run; the folder is not Reuters
    assert (
        done["error"] == f"no reut2-*.sgm files in {tmp_path} (is this the Reuters-21578 folder?)"
    )


def test_unknown_and_ambiguous_job_ids(client):
    assert client.get("/v1/jobs/0123456789abcdef").status_code == 404
    short = client.get("/v1/jobs/ab")
    assert short.status_code == 422 and "too short" in short.json()["error"]["message"]
