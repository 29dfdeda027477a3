"""``/v1/relations``: classify country pairs in texts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from relwatch.api.deps import RuntimeDep
from relwatch.api.schemas import ErrorBody, PredictRequest, PredictResponse
from relwatch.serve.relations import TextItem

router = APIRouter(prefix="/v1/relations", tags=["relations"])


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def predict(body: PredictRequest, runtime: RuntimeDep) -> dict[str, Any]:
    """Conflict / neutral / cooperation for each pair of each text.

    Without ``source``/``target`` every country pair found in the text is classified (one
    per sentence that names both); with them, that pair over the whole text. Each pair
    comes with its direction (who acts on whom), the mentions' spans, the model version
    and a one-sentence explanation in ``lang`` (en or ko).
    """
    items = [TextItem(i.text, i.source, i.target) for i in body.as_items()]
    return await runtime.predict(items, lang=body.lang, model=body.model)
