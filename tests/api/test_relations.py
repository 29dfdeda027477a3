"""POST /v1/relations/predict on the real engine (tiny ONNX model) and real extraction."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import metric

TEXT = "North Korea fired missiles toward Japan on Monday, and China urged calm."


def test_every_pair_in_the_text_is_classified_with_spans_direction_and_model(client):
    response = client.post("/v1/relations/predict", json={"text": TEXT})
    assert response.status_code == 200, response.text
    body = response.json()
    (item,) = body["items"]
    assert body["model"] == item["model"] == {"name": "local", "version": "local:tiny-package"}
    codes = {m["iso3"] for m in item["mentions"]}
    assert codes == {"PRK", "JPN", "CHN"}
    for m in item["mentions"]:
        assert TEXT[m["start"] : m["end"]] == m["text"]
    pairs = {(p["source"], p["target"]) for p in item["pairs"]}
    assert pairs == {("PRK", "JPN"), ("PRK", "CHN"), ("JPN", "CHN")}
    for p in item["pairs"]:
        assert p["label"] in ("conflict", "neutral", "cooperation")
        assert p["label"] == max(p["probs"], key=p["probs"].get)
        assert sum(p["probs"].values()) == pytest.approx(1, abs=1e-5)
        assert p["direction"] in ("a->b", "b->a", "mutual")
        s, e = p["source_span"]
        assert TEXT[s:e] in ("North Korea", "Japan", "China")
        assert p["explanation"].startswith("The sentence reads as") and p["explanation"].endswith(
            "."
        )


def test_a_given_pair_is_classified_by_code_or_by_name(client):
    text = "Seoul and Tokyo signed a trade agreement on Friday."
    by_code = client.post(
        "/v1/relations/predict", json={"text": text, "source": "KOR", "target": "JPN"}
    ).json()["items"][0]["pairs"]
    by_name = client.post(
        "/v1/relations/predict",
        json={"items": [{"text": text, "source": "South Korea", "target": "Tokyo"}]},
    ).json()["items"][0]["pairs"]
    assert len(by_code) == len(by_name) == 1
    assert (by_code[0]["source"], by_code[0]["target"]) == ("KOR", "JPN")
    assert by_code[0]["source_span"] == [0, 5] and by_code[0]["target_span"] == [10, 15]
    assert by_name[0]["probs"] == by_code[0]["probs"]  # the same marked input


def test_korean_explanations_use_korean_country_names(client):
    body = client.post("/v1/relations/predict", json={"text": TEXT, "lang": "ko"}).json()
    explanations = [p["explanation"] for p in body["items"][0]["pairs"]]
    assert all(re.search(r"[가-힣]", e) for e in explanations)
    joined = " ".join(explanations)
    assert "북한" in joined and "일본" in joined and "중국" in joined
    assert "North Korea" not in joined
    assert any(w in joined for w in ("갈등", "중립", "협력"))


def test_many_items_in_one_request_and_repeats_come_from_the_cache(client):
    items = [
        {"text": "India and Russia agreed to expand defence ties."},
        {"text": "The United States imposed sanctions on Russian banks."},
        {"text": "A quiet day with no country named."},
    ]
    first = client.post("/v1/relations/predict", json={"items": items})
    assert first.status_code == 200
    answers = first.json()["items"]
    assert [len(a["pairs"]) for a in answers] == [1, 1, 0]
    misses = metric(client, "relwatch_cache_total", result="miss")
    assert misses == 2
    again = client.post("/v1/relations/predict", json={"items": items}).json()["items"]
    assert again == answers
    assert metric(client, "relwatch_cache_total", result="hit") == 2
    assert metric(client, "relwatch_cache_total", result="miss") == misses


BAD_BODIES = [
    ({}, "either 'items' or a single 'text'"),
    ({"text": ""}, "text: String should have at least 1 character"),
    ({"text": "   "}, "text is empty"),
    ({"text": "Seoul", "colour": "red"}, "colour: unknown field"),
    ({"items": [{"text": "Seoul", "extra": 1}]}, "items[0].extra: unknown field"),
    ({"items": []}, "items: List should have at least 1 item"),
    ({"items": [{"text": "a"}], "text": "b"}, "either 'items' or a single 'text'"),
    ({"text": "Seoul", "source": "KOR"}, "both source and target"),
    ({"text": 42}, "text: Input should be a valid string"),
    ({"text": "Seoul", "lang": "fr"}, "lang: Input should be 'en' or 'ko'"),
    ({"text": "Seoul and Tokyo", "source": "USA", "target": "JPN"}, "'USA' is not mentioned"),
    ({"text": "Seoul and South Korea", "source": "KOR", "target": "South Korea"}, "same country"),
    ({"text": "x" * 5001}, "over the limit of 5,000 (RELWATCH_SERVE_MAX_TEXT_CHARS)"),
    ({"text": "Seoul", "model": "/etc/passwd"}, "local folders are not accepted"),
    ({"text": "Seoul", "model": "../models"}, "local folders are not accepted"),
    ({"items": [{"text": "Seoul"}] * 65}, "over the limit of 64 per request"),
    ([1, 2], "Input should be a valid dictionary"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_bad_input_is_a_clear_422_never_a_500(client, body, message):
    response = client.post("/v1/relations/predict", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert set(error) == {"type", "message"}
    assert message in error["message"], error["message"]


def test_malformed_and_oversized_bodies(make_client):
    client = make_client(serve_max_items=2, serve_max_text_chars=100)
    response = client.post(
        "/v1/relations/predict",
        content=b'{"text": "Seoul',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422 and "invalid JSON" in response.json()["error"]["message"]
    huge = b'{"text": "' + b"a" * 2_000_000 + b'"}'
    response = client.post(
        "/v1/relations/predict", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["error"]["type"] == "TooLarge"
    three = {"items": [{"text": "Seoul"}] * 3}
    assert (
        "limit of 2" in client.post("/v1/relations/predict", json=three).json()["error"]["message"]
    )
    assert client.get("/v1/relations/predict").status_code == 405


def test_asking_for_a_registry_model_without_a_registry_is_a_4xx(client):
    response = client.post("/v1/relations/predict", json={"text": TEXT, "model": "7"})
    assert response.status_code == 422
    assert "no registered model" in response.json()["error"]["message"]


def test_a_given_pair_is_classified_while_extracting_and_checked_against_the_full_plan(
    make_client, monkeypatch
):
    """The model starts on the gazetteer's guess of the pair; when the full plan marks the
    pair elsewhere (an NER veto moved a mention), the answer is the full plan's input."""
    from relwatch.serve import relations, runtime

    text = "Japan and China held talks in Beijing on Japan's fishing rights."
    item = relations.TextItem(text, "JPN", "CHN")
    full = [p.model_input for p in relations.plan_items([item])[0].pairs]
    assert relations.guess_inputs([item]) == full  # the usual case: the guess is the plan
    assert relations.guess_inputs([relations.TextItem(text)]) is None  # no pair given

    body = {"text": text, "source": "JPN", "target": "CHN"}
    monkeypatch.setattr(runtime, "guess_inputs", lambda items: None)
    plain_path = make_client().post("/v1/relations/predict", json=body).json()
    wrong = full[0].replace("[A] Japan [/A]", "Japan", 1).replace("Japan's", "[A] Japan [/A]'s")
    assert wrong != full[0]
    monkeypatch.setattr(runtime, "guess_inputs", lambda items: [wrong])
    client = make_client()
    guessed_wrong = client.post("/v1/relations/predict", json=body).json()
    assert guessed_wrong["items"][0]["pairs"] == plain_path["items"][0]["pairs"]
    assert metric(client, "relwatch_batch_size_count") == 2  # the guess, then the plan
