"""Job parameters as pydantic models: one check for the CLI, the API and the workers.

A job is refused before its row is written when its parameters do not validate, so a
typo (``-p limit=abc``, ``-p directory=/nope``) is a one-line error, not a job that fails
later or quietly runs on the defaults. Unknown keys are refused for the same reason.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, ClassVar, Literal

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
    "PredictTextsParams",
    "TextItem",
    "TrainParams",
    "parse_params",
    "server_paths",
]

#: Most texts one predict_texts job takes (its result is stored in the job row).
MAX_JOB_TEXTS = 10_000
MAX_JOB_TEXT_CHARS = 20_000
_REGISTRY_SPEC = re.compile(r"^(models:/.+|\d+)$")


class JobParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: True where ``model`` is a model spec, which may name a local folder.
    model_is_spec: ClassVar[bool] = False
    #: Plain-string parameters that may name files or folders on the machine running the job.
    path_fields: ClassVar[tuple[str, ...]] = ()


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

    path_fields: ClassVar[tuple[str, ...]] = ("base_model", "datasets")

    quick: bool = False
    thorough: bool = False
    model: Literal["transformer", "tfidf"] = "transformer"
    base_model: str | None = None
    datasets: list[str] | None = None
    epochs: int | None = Field(None, ge=1)
    max_length: int | None = Field(None, ge=16, le=512)
    seed: int | None = None

    @model_validator(mode="after")
    def _one_preset(self) -> TrainParams:
        if self.quick and self.thorough:
            raise ValueError("give quick or thorough, not both")
        if self.thorough and self.model != "transformer":
            raise ValueError("thorough distils transformer teachers; the tfidf model has none")
        return self


class PredictFileParams(JobParams):
    """Label a JSON-lines file with a model spec (default: the champion)."""

    model_is_spec: ClassVar[bool] = True

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

    model_is_spec: ClassVar[bool] = True

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


class TextItem(BaseModel):
    """One text of a ``predict_texts`` job; the pair is optional (ISO3 codes or names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=MAX_JOB_TEXT_CHARS)
    source: str | None = Field(None, min_length=1, max_length=100)
    target: str | None = Field(None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _both_or_neither(self) -> TextItem:
        if (self.source is None) != (self.target is None):
            raise ValueError("give both source and target, or neither")
        return self


class PredictTextsParams(JobParams):
    """Classify many texts (every pair in each, or the given pair); results in the job."""

    model_is_spec: ClassVar[bool] = True

    texts: list[TextItem] = Field(min_length=1, max_length=MAX_JOB_TEXTS)
    model: str | None = Field(None, description="Model spec; default: the served model.")
    lang: Literal["en", "ko"] = Field("en", description="Language of the explanations.")


JOB_PARAMS: dict[str, type[JobParams]] = {
    "doctor": DoctorParams,
    "crawl": CrawlParams,
    "import_reuters": ImportReutersParams,
    "extract": ExtractParams,
    "train": TrainParams,
    "predict": PredictFileParams,
    "predict_db": PredictDbParams,
    "index_build": IndexBuildParams,
    "predict_texts": PredictTextsParams,
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


def server_paths(params: JobParams) -> list[str]:
    """Parameters that name files or folders on the machine that runs the job.

    A face open to other machines (the API) gates these: a path given over HTTP would let a
    caller read or write the server's disk. A ``model`` that is not a registry spec
    (``models:/…`` or a version number) is a local folder too.
    """
    found = [
        name
        for name in type(params).model_fields
        if isinstance(getattr(params, name), Path)
        or (name in type(params).path_fields and getattr(params, name))
    ]
    model = getattr(params, "model", None)
    is_local = isinstance(model, str) and not _REGISTRY_SPEC.match(model.strip())
    if type(params).model_is_spec and model and is_local:
        found.append("model")
    return found


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
