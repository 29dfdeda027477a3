"""GET /v1/index*: the stored index in the shapes the dashboard reads, JSON and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pytest

from relwatch.core import db
from relwatch.index import build_index
from tests.index.conftest import MODEL, insert_units
from tests.index.synth import DAY0, Builder

POINT_KEYS = {
    "date",
    "tone",
    "tone_raw",
    "ci_low",
    "ci_high",
    "volume",
    "articles",
    "sources",
    "attention",
    "n_conflict",
    "n_neutral",
    "n_cooperation",
    "tone_smooth7",
}


@pytest.fixture
def indexed(db_url: str) -> str:
    """40 days: KOR–JPN turns from cooperation to conflict on day 30; USA–CHN stays mild."""
    rng = np.random.default_rng(0)
    b = Builder()
    for d in range(40):
        day = DAY0 + dt.timedelta(days=d)
        level = 0.5 if d < 30 else -0.5
        for _ in range(2):
            tones = level + rng.normal(0, 0.05, 3)
            b.article(day, tones, a="JPN", b="KOR", direction="a->b")
        b.article(day, [0.1] * 2, a="USA", b="CHN", publisher="USA", publisher_id=2)
    insert_units(db_url, b.frame())
    with db.session_scope(db_url) as s:
        build_index(s, model_name=MODEL[0], model_version=MODEL[1])
    return db_url


def test_series_shape_views_and_csv(client, indexed):
    body = client.get("/v1/index", params={"pair": "kor-jpn"}).json()
    assert {k: body[k] for k in ("pair", "source", "target", "grain", "directed")} == {
        "pair": "JPN-KOR",
        "source": "JPN",
        "target": "KOR",
        "grain": "day",
        "directed": False,
    }
    assert body["model"] == {"name": MODEL[0], "version": MODEL[1]}
    assert body["updated_at"]
    assert len(body["points"]) == 40
    assert set(body["points"][0]) == POINT_KEYS
    assert body["points"][0]["date"] == DAY0.isoformat()
    assert body["points"][0]["tone"] > 0 > body["points"][-1]["tone"]
    assert body["points"][0]["tone_smooth7"] is None or isinstance(
        body["points"][0]["tone_smooth7"], float
    )

    ranged = client.get(
        "/v1/index",
        params={"pair": "JPN-KOR", "from": "2024-01-05", "to": "2024-01-06", "grain": "day"},
    ).json()
    assert [p["date"] for p in ranged["points"]] == ["2024-01-05", "2024-01-06"]
    weekly = client.get("/v1/index", params={"pair": "JPN-KOR", "grain": "week"}).json()
    assert len(weekly["points"]) == 6  # Mondays Jan 1 … Feb 5
    directed = client.get("/v1/index", params={"pair": "JPN-KOR", "directed": "true"}).json()
    assert (directed["source"], directed["target"], directed["directed"]) == ("JPN", "KOR", True)

    response = client.get("/v1/index", params={"pair": "KOR-JPN", "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 40 and rows[0]["pair"] == "JPN-KOR" and rows[0]["date"] == "2024-01-01"


def test_matrix_cells_with_shift_and_volume(client, indexed):
    body = client.get(
        "/v1/index/matrix", params={"countries": "KOR,JPN,USA,CHN", "window": 10}
    ).json()
    assert body["countries"] == ["KOR", "JPN", "USA", "CHN"]
    assert body["day"] == (DAY0 + dt.timedelta(days=39)).isoformat()
    assert body["model"] == {"name": MODEL[0], "version": MODEL[1]} and body["updated_at"]
    cells = {(c["source"], c["target"]): c for c in body["cells"]}
    assert set(cells) == {("JPN", "KOR"), ("CHN", "USA")}
    kj = cells[("JPN", "KOR")]
    assert kj["tone"] < 0 and kj["shift"] < -0.5 and kj["volume"] == 60
    assert abs(cells[("CHN", "USA")]["shift"]) < 0.05 and cells[("CHN", "USA")]["volume"] == 20

    only_two = client.get("/v1/index/matrix", params={"countries": "KOR,JPN"}).json()
    assert [(c["source"], c["target"]) for c in only_two["cells"]] == [("JPN", "KOR")]
    extra = client.get(
        "/v1/index/matrix", params={"countries": "KOR,JPN", "extra": "true", "window": 5}
    ).json()
    assert {(c["source"], c["target"]) for c in extra["cells"]} == {("JPN", "KOR"), ("CHN", "USA")}
    earlier = client.get(
        "/v1/index/matrix", params={"countries": "KOR,JPN", "day": "2024-01-05", "window": 2}
    ).json()
    assert earlier["day"] == "2024-01-05" and earlier["cells"][0]["tone"] > 0
    as_csv = client.get("/v1/index/matrix", params={"format": "csv", "window": 10}).text
    assert as_csv.splitlines()[0] == "day,source,target,tone,shift,volume"


def test_evidence_items(client, indexed):
    body = client.get(
        "/v1/index/evidence", params={"pair": "KOR-JPN", "date": "2024-02-05", "limit": 2}
    ).json()
    assert len(body["items"]) == 2
    item = body["items"][0]
    for key in (
        "sentence_id",
        "text",
        "spans",
        "title",
        "source_name",
        "url",
        "corpus_id",
        "date",
        "label",
        "probs",
        "direction",
        "model_version",
        "contribution",
    ):
        assert key in item, key
    assert item["date"] == "2024-02-05" and item["label"] == "conflict"
    assert item["model_version"] == MODEL[1] and item["direction"] == "a->b"
    start, end = item["spans"]["source"]  # the view's source: JPN (undirected: min code)
    assert item["text"][start:end] == "Japan"
    start, end = item["spans"]["target"]
    assert item["text"][start:end] == "South Korea"
    assert item["contribution"] < 0 and isinstance(item["sentence_id"], int)
    assert set(item["probs"]) == {"conflict", "neutral", "cooperation"}
    ranged = client.get(
        "/v1/index/evidence",
        params={"pair": "JPN-KOR", "date": "2024-01-01", "to": "2024-01-20", "limit": 50},
    ).json()
    assert 1 <= len(ranged["items"]) <= 50
    rows = client.get(
        "/v1/index/evidence", params={"pair": "KOR-JPN", "date": "2024-02-05", "format": "csv"}
    ).text.splitlines()
    assert rows[0].startswith("sentence_id,prediction_id,text,spans_source,spans_target")


def test_alerts_and_status(client, indexed):
    alerts = client.get("/v1/index/alerts", params={"pair": "KOR-JPN"}).json()["alerts"]
    assert alerts, "a 1.0 swing in tone must raise an alert"
    assert set(alerts[0]) == {
        "day",
        "source",
        "target",
        "directed",
        "direction",
        "size",
        "statistic",
        "baseline",
        "value",
        "volume",
    }
    assert alerts[0]["direction"] == "to_conflict"
    assert client.get("/v1/index/alerts", params={"pair": "USA-CHN"}).json() == {"alerts": []}
    assert len(client.get("/v1/index/alerts", params={"limit": 1}).json()["alerts"]) == 1
    status = client.get("/v1/index/status").json()
    assert status == {
        "model": {"name": MODEL[0], "version": MODEL[1]},
        "updated_at": status["updated_at"],
        "first_day": "2024-01-01",
        "last_day": "2024-02-09",
        "pairs": 2,
    }


INDEX_ERRORS = [
    ("/v1/index", {"pair": "KOREA-JAPAN"}, 422, "expected two ISO3 codes"),
    ("/v1/index", {"pair": "KOR-KOR"}, 422, "must differ"),
    ("/v1/index", {"pair": "KOR-XXX"}, 422, "not an ISO 3166"),
    ("/v1/index", {}, 422, "pair: field required"),
    ("/v1/index", {"pair": "KOR-JPN", "grain": "year"}, 422, "grain"),
    ("/v1/index", {"pair": "KOR-JPN", "from": "2024-13-01"}, 422, "from"),
    ("/v1/index", {"pair": "KOR-JPN", "from": "2024-02-01", "to": "2024-01-01"}, 422, "after"),
    ("/v1/index", {"pair": "KOR-JPN", "model": "9"}, 404, "model version 9"),
    ("/v1/index", {"pair": "KOR-JPN", "format": "xml"}, 422, "format"),
    ("/v1/index/matrix", {"countries": "KOR"}, 422, "at least two"),
    ("/v1/index/matrix", {"window": 0}, 422, "window"),
    ("/v1/index/evidence", {"pair": "KOR-JPN"}, 422, "date: field required"),
    ("/v1/index/evidence", {"pair": "KOR-IND", "date": "2024-01-02"}, 404, "no predictions"),
    ("/v1/index/alerts", {"limit": 0}, 422, "limit"),
]


def test_index_errors_are_4xx_with_a_message(client, indexed):
    for path, params, status, message in INDEX_ERRORS:  # one index build for all cases
        response = client.get(path, params=params)
        assert response.status_code == status, (path, params, response.text)
        assert message in response.json()["error"]["message"], (path, params)


def test_an_empty_index_is_a_404_that_says_what_to_run(client):
    response = client.get("/v1/index/status")
    assert response.status_code == 404
    assert "relwatch index build" in response.json()["error"]["message"]
