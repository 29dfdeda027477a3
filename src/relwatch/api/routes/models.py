"""``/v1/models``: registry versions, aliases, gate metrics, and what this server serves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from relwatch.api.deps import RuntimeDep

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("")
async def list_models(runtime: RuntimeDep) -> dict[str, Any]:
    """Every version of the registered model (aliases, gate metrics, which is loaded), the
    alias the server follows, and the last reload failure, if any."""
    return await runtime.models_info()
