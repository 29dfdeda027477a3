"""POST /v1/articles/analyze: text or URL → key sentences, pairs, predictions."""

from __future__ import annotations

import pytest

from tests.collect.server import FixtureServer
from tests.serve.test_urlfetch import ARTICLE

TEXT = (
    "South Korea and Japan agreed on Monday to resume regular security talks. "
    "China criticised the plan in a statement from Beijing. "
    "The weather in the region was mild. "
    "The United States welcomed the agreement between Seoul and Tokyo."
)


def test_analyze_text_gives_key_sentences_pairs_and_a_summary(client):
    response = client.post("/v1/articles/analyze", json={"text": TEXT, "top_k": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] is None and body["truncated"] is False
    assert body["sentences"] == 4
    keys = body["key_sentences"]
    assert len(keys) == 2 and keys[0]["score"] >= keys[1]["score"]
    assert keys[0]["score"] == 1.0  # TextRank's top sentence
    for k in keys:
        assert TEXT[k["start"] : k["end"]] == k["text"]
    pairs = {(p["source"], p["target"], p["sentence_index"]) for p in body["pairs"]}
    assert ("KOR", "JPN", 0) in pairs and ("USA", "KOR", 3) in pairs
    for p in body["pairs"]:
        s, e = p["source_span"]
        assert TEXT[s:e] in p["sentence"]
    summary = {(s["source"], s["target"]): s for s in body["summary"]}
    assert summary[("JPN", "KOR")]["sentences"] == 2  # sentences 0 and 3, either order
    assert -1 <= summary[("JPN", "KOR")]["tone"] <= 1
    assert body["model"]["version"] == "local:tiny-package"


@pytest.fixture
def server():
    with FixtureServer() as srv:
        srv.route("/story", ARTICLE)
        yield srv


def test_analyze_url_from_an_allow_listed_loopback_server(make_client, server):
    client = make_client(serve_url_allowlist=["127.0.0.1"])
    response = client.post("/v1/articles/analyze", json={"url": server.url("/story"), "lang": "ko"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"]["title"] == "Talks in Seoul"
    assert body["source"]["final_url"] == server.url("/story")
    assert any(p["source"] == "KOR" and p["target"] == "JPN" for p in body["pairs"])
    assert all(
        "한국" in p["explanation"]
        or "중국" in p["explanation"]
        or "미국" in p["explanation"]
        or "일본" in p["explanation"]
        for p in body["pairs"]
    )


def test_analyze_url_refuses_a_loopback_server_that_is_not_allow_listed(client, server):
    response = client.post("/v1/articles/analyze", json={"url": server.url("/story")})
    assert response.status_code == 422
    assert response.json()["error"] == {
        "type": "UrlRefused",
        "message": "127.0.0.1 resolves to the non-public address 127.0.0.1; refused (allow it "
        "with RELWATCH_SERVE_URL_ALLOWLIST if this server may read it)",
    }
    assert server.arrivals == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "exactly one of 'text' or 'url'"),
        ({"text": "a", "url": "http://example.org/"}, "exactly one of 'text' or 'url'"),
        ({"url": "file:///etc/passwd"}, "only http and https"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "cloud metadata"),
        ({"text": "Seoul", "top_k": 0}, "top_k: Input should be greater than or equal to 1"),
        ({"text": "Seoul", "unknown": True}, "unknown: unknown field"),
    ],
)
def test_bad_analyze_requests_are_4xx(client, body, message):
    response = client.post("/v1/articles/analyze", json=body)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["message"]


def test_an_article_over_the_limit_is_refused(make_client):
    client = make_client(serve_max_article_chars=100)
    response = client.post("/v1/articles/analyze", json={"text": TEXT})
    assert response.status_code == 422
    assert "RELWATCH_SERVE_MAX_ARTICLE_CHARS" in response.json()["error"]["message"]
