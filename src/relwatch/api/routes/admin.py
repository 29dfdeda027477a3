"""``/v1/admin``: reload and promote; every call needs ``X-API-Key``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from relwatch.api.deps import AdminDep, RuntimeDep
from relwatch.api.schemas import ErrorBody, PromoteRequest

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}},
)


@router.post("/reload")
async def reload(_: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Check the followed alias now and swap in its version (retrying a failed one)."""
    result = await runtime.reload(force=True)
    return result.to_dict()


@router.post("/promote", responses={409: {"model": ErrorBody}})
async def promote(_: AdminDep, runtime: RuntimeDep, body: PromoteRequest | None = None) -> Any:
    """Promote a version (default: the challenger) to champion through the gate, then reload.

    A refusal by the gate answers 409 with both figures in the message.
    """
    body = body or PromoteRequest()
    return await runtime.promote(
        version=body.version, margin=body.margin, allow_gate_change=body.allow_gate_change
    )
