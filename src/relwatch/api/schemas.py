"""Request and response bodies of the HTTP API (pydantic; unknown request fields refused).

Limits that come from settings (characters per text, items per request) are checked by
the runtime, which names the setting in its message; the limits here are the fixed ones.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AnalyzeRequest",
    "ErrorBody",
    "JobAccepted",
    "JobRequest",
    "ModelRef",
    "PairPrediction",
    "PredictItem",
    "PredictRequest",
    "PredictResponse",
    "PromoteRequest",
]

Lang = Literal["en", "ko"]
NAME_MAX = 100
MODEL_MAX = 200


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictItem(_Request):
    """A text, with an optional pair (ISO3 codes or names as written in the text)."""

    text: str = Field(min_length=1, examples=["North Korea fired two missiles toward Japan."])
    source: str | None = Field(None, min_length=1, max_length=NAME_MAX, examples=["PRK"])
    target: str | None = Field(None, min_length=1, max_length=NAME_MAX, examples=["JPN"])

    @model_validator(mode="after")
    def _pair(self) -> PredictItem:
        if (self.source is None) != (self.target is None):
            raise ValueError("give both source and target, or neither")
        return self


class PredictRequest(_Request):
    """``items`` (a list) or a single ``text`` with its optional pair."""

    items: list[PredictItem] | None = Field(None, min_length=1)
    text: str | None = Field(None, min_length=1)
    source: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    target: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    lang: Lang = Field("en", description="Language of the explanations: en or ko.")
    model: str | None = Field(
        None,
        max_length=MODEL_MAX,
        description="Version number or alias (e.g. challenger); default: the served model.",
    )

    @model_validator(mode="after")
    def _one_form(self) -> PredictRequest:
        if (self.items is None) == (self.text is None):
            raise ValueError("give either 'items' or a single 'text'")
        if self.items is not None and (self.source is not None or self.target is not None):
            raise ValueError("with 'items', put source and target inside each item")
        if (self.source is None) != (self.target is None):
            raise ValueError("give both source and target, or neither")
        return self

    def as_items(self) -> list[PredictItem]:
        if self.items is not None:
            return self.items
        assert self.text is not None
        return [PredictItem(text=self.text, source=self.source, target=self.target)]


class ModelRef(BaseModel):
    name: str
    version: str


class Mention(BaseModel):
    start: int
    end: int
    text: str
    iso3: str
    kind: str
    role: str | None


class PairPrediction(BaseModel):
    source: str
    target: str
    label: Literal["conflict", "neutral", "cooperation"]
    probs: dict[str, float]
    direction: Literal["a->b", "b->a", "mutual"]
    place_only: bool
    source_span: list[int] | None
    target_span: list[int] | None
    sentence_index: int | None
    sentence: str
    explanation: str


class ItemPrediction(BaseModel):
    mentions: list[Mention]
    pairs: list[PairPrediction]
    model: ModelRef


class PredictResponse(BaseModel):
    items: list[ItemPrediction]
    model: ModelRef


class AnalyzeRequest(_Request):
    """An article as ``text`` or as an http(s) ``url`` to fetch (public addresses only)."""

    text: str | None = Field(None, min_length=1)
    url: str | None = Field(None, min_length=1, max_length=2048)
    lang: Lang = "en"
    model: str | None = Field(None, max_length=MODEL_MAX)
    top_k: int = Field(5, ge=1, le=50, description="Key sentences returned (TextRank).")

    @model_validator(mode="after")
    def _one_source(self) -> AnalyzeRequest:
        if (self.text is None) == (self.url is None):
            raise ValueError("give exactly one of 'text' or 'url'")
        return self


class KeySentence(BaseModel):
    index: int
    text: str
    start: int
    end: int
    score: float


class PairSummary(BaseModel):
    source: str
    target: str
    sentences: int
    tone: float
    labels: dict[str, int]


class ArticleSource(BaseModel):
    url: str
    final_url: str
    redirects: list[str]
    title: str | None
    published_at: str | None
    language: str | None


class AnalyzeResponse(BaseModel):
    source: ArticleSource | None
    truncated: bool
    sentences: int
    key_sentences: list[KeySentence]
    mentions: list[Mention]
    pairs: list[PairPrediction]
    summary: list[PairSummary]
    model: ModelRef


class JobRequest(_Request):
    kind: str = Field(min_length=1, max_length=50, examples=["predict_texts"])
    params: dict[str, Any] = Field(default_factory=dict)


class JobAccepted(BaseModel):
    id: str
    status: str


class PromoteRequest(_Request):
    version: str | None = Field(None, max_length=20, description="Default: the challenger.")
    margin: float | None = Field(None, ge=0, le=1)
    allow_gate_change: bool = False


class ErrorDetail(BaseModel):
    type: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail
