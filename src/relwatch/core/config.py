"""One settings object for the whole system.

Every knob is read from the environment (prefix ``RELWATCH_``) or an optional ``.env``
file. With nothing set, everything runs embedded on one machine: SQLite, a local MLflow
store and in-process tasks under ``.relwatch/``. Setting the database, MLflow, Redis and
broker URLs moves the same code onto PostgreSQL, an MLflow server, Redis and Celery.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from relwatch.core.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parents[3]

# Offline by design: no model or dataset hub is reachable, and MLflow must not phone home.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")


def _default_data_dir() -> Path | None:
    for base in (Path.cwd(), PROJECT_ROOT):
        candidate = (base / ".." / "shared" / "datasets").resolve()
        if candidate.is_dir():
            return candidate
    return None


class Settings(BaseSettings):
    """All configuration of relwatch; see the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="RELWATCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(Path(".relwatch"), description="Folder for embedded state and models.")
    data_dir: Path | None = Field(
        default_factory=_default_data_dir,
        description="Labelled sets and corpora (never copied into the repo).",
    )
    database_url: str = Field("", description="SQLAlchemy URL; default SQLite under home.")
    mlflow_tracking_uri: str = Field("", description="MLflow tracking URI; default SQLite.")
    mlflow_artifact_root: str = Field("", description="Artifact root for the embedded store.")
    mlflow_experiment: str = Field("relwatch", description="MLflow experiment name.")
    registered_model: str = Field("relwatch-relation", description="Registered model name.")
    promote_margin: float = Field(
        0.0, description="Macro-F1 a challenger may trail the champion by and still be promoted."
    )
    redis_url: str | None = Field(None, description="Redis for the API cache; none = in-memory.")
    broker_url: str | None = Field(None, description="Celery broker; none = tasks in-process.")
    result_backend: str | None = Field(None, description="Celery result backend.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level."
    )
    log_json: bool = Field(False, description="Emit logs as JSON lines (for log shippers).")
    user_agent: str = Field(
        "relwatch/0.1 (+https://github.com/relwatch/relwatch; mailto:relwatch@example.org)",
        description="User-Agent sent by the crawler; include a contact.",
    )
    crawl_timeout_s: float = Field(20.0, gt=0, description="Seconds per request before a timeout.")
    crawl_max_bytes: int = Field(5_000_000, gt=0, description="Largest body read.")
    crawl_concurrency: int = Field(8, ge=1, description="Requests in flight overall.")
    crawl_per_host_concurrency: int = Field(2, ge=1, description="In flight per host.")
    crawl_max_redirects: int = Field(5, ge=0, description="Redirect hops allowed.")
    crawl_retries: int = Field(3, ge=0, description="Retries after 5xx/timeouts.")
    sources_file: Path | None = Field(
        None,
        description="YAML source registry merged over the built-in one by name "
        "(add outlets, or switch one off with 'enabled: false').",
    )
    api_host: str = Field("127.0.0.1", description="Interface `relwatch serve` listens on.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port `relwatch serve` listens on.")
    api_key: SecretStr | None = Field(
        None, description="Key for the admin routes (X-API-Key); unset = admin routes refused."
    )
    serve_model: str | None = Field(
        None,
        description="Model the API serves (models:/ URI, version or local folder); "
        "unset = the registered model's champion, followed by hot reload.",
    )
    serve_threads: int = Field(
        0, ge=0, description="onnxruntime threads per served model; 0 = all cores."
    )
    serve_thread_spinning: bool = Field(
        False,
        description="onnxruntime threads spin-wait between batches: a little faster alone, "
        "but they hold cores that extraction and the HTTP server need.",
    )
    serve_batch_max_size: int = Field(
        32, ge=1, le=1024, description="Most sentences the micro-batcher runs in one batch."
    )
    serve_batch_max_wait_ms: float = Field(
        5.0, ge=0, le=1000, description="Longest a sentence waits for others to fill a batch."
    )
    serve_max_text_chars: int = Field(
        5000, ge=1, description="Longest text one predict item may carry."
    )
    serve_max_items: int = Field(64, ge=1, description="Most items in one predict request.")
    serve_max_article_chars: int = Field(
        200_000, ge=1, description="Longest article text (given or fetched) analyze reads."
    )
    serve_model_cache_size: int = Field(
        2, ge=0, description="Models loaded on demand (?model=) kept besides the default one."
    )
    serve_reload_interval_s: float = Field(
        30.0, ge=0, description="Seconds between checks of the champion alias; 0 = no hot reload."
    )
    serve_url_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts, IPs or CIDR networks analyze may fetch although not public "
        "(comma-separated or a JSON list).",
    )
    cache_ttl_s: int = Field(
        86_400, ge=1, description="Seconds a cached prediction lives (Redis or in-process)."
    )
    cache_max_entries: int = Field(
        50_000, ge=0, description="Size of the in-process prediction cache (no Redis)."
    )

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, value: str) -> str:
        """SQLite or PostgreSQL through psycopg 3 (the driver installed with relwatch)."""
        if not value:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "not a database URL; use sqlite:///path/to/relwatch.db or "
                "postgresql+psycopg://user@host/dbname"
            ) from None
        if url.drivername in {"sqlite", "sqlite+pysqlite"}:
            return value
        if url.drivername in {"postgresql", "postgresql+psycopg"}:
            if not url.database:
                raise ValueError("name the database: postgresql+psycopg://user@host/dbname")
            return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        raise ValueError(
            f"unsupported driver {url.drivername!r}; use sqlite:/// or postgresql+psycopg://"
        )

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// or rediss://")
        return value or None

    @field_validator("serve_url_allowlist", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """Env vars hold a JSON list or plain comma-separated entries."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                try:
                    return json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"not a JSON list: {exc.msg}") from None
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("broker_url", "result_backend")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        home = self.home.expanduser().resolve()
        self.home = home
        if not self.database_url:
            self.database_url = f"sqlite:///{home / 'relwatch.db'}"
        if not self.mlflow_tracking_uri:
            self.mlflow_tracking_uri = f"sqlite:///{home / 'mlflow.db'}"
        if not self.mlflow_artifact_root:
            self.mlflow_artifact_root = (home / "mlartifacts").as_uri()
        if self.data_dir is not None:
            self.data_dir = self.data_dir.expanduser().resolve()
        return self

    @property
    def models_dir(self) -> Path:
        """Local cache of exported models (ONNX, tokenizer) pulled from MLflow."""
        return self.home / "models"

    def registered_model_dir(self, name: str) -> Path:
        """The folder under ``models_dir`` for one registered model's downloaded versions."""
        return self.models_dir / re.sub(r"[^\w.-]", "_", name)

    @property
    def embedded(self) -> bool:
        """True when no broker is set: Celery tasks run in-process."""
        return self.broker_url is None

    def ensure_dirs(self) -> None:
        """Create the state folders the embedded default writes to."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.models_dir.mkdir(parents=True, exist_ok=True)

    def require_data_dir(self) -> Path:
        """The data directory, or a clear error naming the setting to fix."""
        if self.data_dir is None or not self.data_dir.is_dir():
            raise SettingsError(
                f"data directory not found ({self.data_dir}); set RELWATCH_DATA_DIR"
            )
        return self.data_dir


def describe_validation_error(exc: ValidationError) -> str:
    """Turn pydantic's multi-line report into one line naming the env vars."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        parts.append(f"RELWATCH_{field.upper()}={err.get('input')!r}: {err['msg']}")
    return "invalid settings: " + "; ".join(parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; raise SettingsError with one line when invalid."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
