from __future__ import annotations

from pathlib import Path

import pytest

from relwatch.core.config import Settings, SettingsError, get_settings


def test_embedded_defaults_live_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RELWATCH_HOME", str(tmp_path / "state"))
    settings = Settings()
    home = (tmp_path / "state").resolve()
    assert settings.home == home
    assert settings.database_url == f"sqlite:///{home / 'relwatch.db'}"
    assert settings.mlflow_tracking_uri == f"sqlite:///{home / 'mlflow.db'}"
    assert settings.mlflow_artifact_root == (home / "mlartifacts").as_uri()
    assert settings.models_dir == home / "models"
    assert settings.broker_url is None and settings.embedded


def test_production_settings_come_from_env(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RELWATCH_DATABASE_URL", "postgresql+psycopg://u:p@db:5432/relwatch")
    monkeypatch.setenv("RELWATCH_MLFLOW_TRACKING_URI", "http://mlflow:5000")
    monkeypatch.setenv("RELWATCH_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("RELWATCH_BROKER_URL", "amqp://guest:guest@mq:5672//")
    settings = Settings()
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.mlflow_tracking_uri == "http://mlflow:5000"
    assert settings.redis_url == "redis://cache:6379/0"
    assert not settings.embedded


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("RELWATCH_PROMOTE_MARGIN=0.02\n")
    assert Settings().promote_margin == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("RELWATCH_DATABASE_URL", "mysql://x/y", "RELWATCH_DATABASE_URL"),
        ("RELWATCH_REDIS_URL", "http://nope", "RELWATCH_REDIS_URL"),
        ("RELWATCH_CRAWL_CONCURRENCY", "zero", "RELWATCH_CRAWL_CONCURRENCY"),
        ("RELWATCH_LOG_LEVEL", "LOUD", "RELWATCH_LOG_LEVEL"),
    ],
)
def test_invalid_settings_fail_with_one_line(monkeypatch, var, value, needle):
    monkeypatch.setenv(var, value)
    get_settings.cache_clear()
    with pytest.raises(SettingsError) as info:
        get_settings()
    message = str(info.value)
    assert needle in message and "\n" not in message


def test_require_data_dir_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RELWATCH_DATA_DIR", str(tmp_path / "absent"))
    with pytest.raises(SettingsError, match="RELWATCH_DATA_DIR"):
        Settings().require_data_dir()
