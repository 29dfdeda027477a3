"""``/v1/articles``: analyse a whole article, given as text or fetched from a URL."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from relwatch.api.deps import RuntimeDep
from relwatch.api.schemas import AnalyzeRequest, AnalyzeResponse, ErrorBody

router = APIRouter(prefix="/v1/articles", tags=["articles"])


@router.post(
    "/analyze",
    response_model=AnalyzeResponse,
    responses={422: {"model": ErrorBody}, 502: {"model": ErrorBody}},
)
async def analyze(body: AnalyzeRequest, runtime: RuntimeDep) -> dict[str, Any]:
    """Key sentences (TextRank), every country pair and its prediction, and a per-pair summary.

    A ``url`` is fetched only over http(s) from a public address (robots.txt, the
    crawler's size and time limits; see RELWATCH_SERVE_URL_ALLOWLIST) and read with
    trafilatura.
    """
    return await runtime.analyze(
        text=body.text, url=body.url, lang=body.lang, model=body.model, top_k=body.top_k
    )
