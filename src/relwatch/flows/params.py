"""Job parameters as pydantic models: one check for the CLI, the API and the workers.

A job is refused before its row is written when its parameters do not validate, so a
typo (``-p limit=abc``, ``-p directory=/nope``) is a one-line error, not a job that fails
later or quietly runs on the defaults. Unknown keys are refused for the same reason.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from relwatch.core.errors import InputError, UnknownJobKind

__all__ = [
    "JOB_PARAMS",
    "CrawlParams",
    "DoctorParams",
    "ExtractParams",
    "ImportReutersParams",
    "IndexBuildParams",
    "JobParams",
    "PredictDbParams",
    "PredictFileParams",
    "TrainParams",
    "parse_params",
]


class JobParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DoctorParams(JobParams):
    """No parameters: checks every backend from the worker's side."""


class CrawlParams(JobParams):
    """One crawl of the registry, or of the named sources / countries."""

    sources: list[str] = Field(default_factory=list, description="Source names.")
    countries: list[str] = Field(default_factory=list, description="ISO3 codes.")
    max_items: int | None = Field(None, ge=1, description="Articles per source this run.")
    sources_file: Path | None = Field(None, description="A YAML registry to use instead.")

    @field_validator("countries")
    @classmethod
    def _iso3(cls, values: list[str]) -> list[str]:
        out = [v.strip().upper() for v in values]
        bad = [v for v in out if len(v) != 3 or not v.isalpha()]
        if bad:
            raise ValueError(f"not ISO3 country codes: {', '.join(bad)}")
        return out

    @field_validator("sources_file")
    @classmethod
    def _file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such sources file: {value}")
        return value


class ImportReutersParams(JobParams):
    """Reuters-21578 from the data directory (or ``directory``) as dated articles."""

    directory: Path | None = Field(None, description="Folder of reut2-*.sgm files.")
    limit: int | None = Field(None, ge=1, description="First N stories only.")

    @field_validator("directory")
    @classmethod
    def _is_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"no such folder: {value}")
        return value


class ExtractParams(JobParams):
    """Sentences, mentions and pairs for stored articles not extracted yet."""

    limit: int | None = Field(None, ge=1)
    batch_size: int = Field(100, ge=1, le=10_000)


class TrainParams(JobParams):
    """A training run (the retrain flow): preset plus a few overrides."""

    quick: bool = False
    model: Literal["transformer", "tfidf"] = "transformer"
    base_model: str | None = None
    datasets: list[str] | None = None
    epochs: int | None = Field(None, ge=1)
    max_length: int | None = Field(None, ge=16, le=512)
    seed: int | None = None


class PredictFileParams(JobParams):
    """Label a JSON-lines file with a model spec (default: the champion)."""

    input: Path
    output: Path
    model: str | None = None
    batch_size: int = Field(64, ge=1, le=4096)
    precision: Literal["int8", "fp32"] = "int8"

    @field_validator("input")
    @classmethod
    def _input_exists(cls, value: Path) -> Path:
        if not value.exists():
            raise ValueError(f"no such input file: {value}")
        if not value.is_file():
            raise ValueError(f"input {value} is a folder; give a file")
        return value


class PredictDbParams(JobParams):
    """Classify stored pairs a model version has not seen (default: the champion)."""

    model: str | None = None
    start: dt.date | None = Field(None, description="First article date (YYYY-MM-DD).")
    end: dt.date | None = Field(None, description="Last article date (YYYY-MM-DD).")
    limit: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> PredictDbParams:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class IndexBuildParams(JobParams):
    """(Re)compute the pair index where new predictions arrived."""

    model: str | None = Field(None, description="Model version (or NAME@VERSION).")
    start: dt.date | None = None
    end: dt.date | None = None
    full: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> IndexBuildParams:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


JOB_PARAMS: dict[str, type[JobParams]] = {
    "doctor": DoctorParams,
    "crawl": CrawlParams,
    "import_reuters": ImportReutersParams,
    "extract": ExtractParams,
    "train": TrainParams,
    "predict": PredictFileParams,
    "predict_db": PredictDbParams,
    "index_build": IndexBuildParams,
}


def parse_params(kind: str, raw: dict[str, Any] | None) -> JobParams:
    """Validated parameters of a ``kind`` job, or one line naming what is wrong."""
    model = JOB_PARAMS.get(kind)
    if model is None:
        raise UnknownJobKind(f"unknown job kind {kind!r}; known: {', '.join(sorted(JOB_PARAMS))}")
    try:
        return model.model_validate(raw or {})
    except ValidationError as exc:
        raise InputError(f"{kind} job: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    """Pydantic's report as one line: ``field: message; …``."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "params"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown parameter"
        parts.append(f"{field}: {message}")
    return "; ".join(parts)
