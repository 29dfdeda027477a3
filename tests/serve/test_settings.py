"""The serving settings: defaults, env parsing of the allow-list, and bounds."""

from __future__ import annotations

import pytest

from relwatch.core.config import Settings, SettingsError, get_settings


def test_defaults_are_safe():
    s = Settings()
    assert s.api_host == "127.0.0.1" and s.api_key is None
    assert s.serve_url_allowlist == [] and s.serve_model is None
    assert s.serve_reload_interval_s > 0 and s.serve_batch_max_size >= 1


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (
            "127.0.0.1, intranet.example ,10.0.0.0/8",
            ["127.0.0.1", "intranet.example", "10.0.0.0/8"],
        ),
        ('["127.0.0.1", "::1"]', ["127.0.0.1", "::1"]),
        ("", []),
    ],
)
def test_allow_list_from_the_environment(monkeypatch, raw, parsed):
    monkeypatch.setenv("RELWATCH_SERVE_URL_ALLOWLIST", raw)
    assert Settings().serve_url_allowlist == parsed


def test_the_api_key_is_secret_and_bad_values_fail_with_one_line(monkeypatch):
    monkeypatch.setenv("RELWATCH_API_KEY", "hunter2")
    s = Settings()
    assert s.api_key is not None and s.api_key.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(s)
    monkeypatch.setenv("RELWATCH_SERVE_BATCH_MAX_SIZE", "0")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="RELWATCH_SERVE_BATCH_MAX_SIZE"):
        get_settings()
