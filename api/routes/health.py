"""Liveness and readiness, unauthenticated and meant for the internal network."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from temporalio.service import RPCError

from api.deps import ClientDep
from api.errors import is_unreachable

router = APIRouter(tags=["health"])
READY_TIMEOUT = timedelta(seconds=3)


@router.get("/healthz", summary="The process is up", description="No dependency is checked. Unauthenticated.")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Temporal is reachable",
    description="503 while Temporal's frontend does not answer its health check. Unauthenticated.",
    responses={503: {"description": "Temporal unreachable"}},
)
async def readyz(client: ClientDep) -> JSONResponse:
    try:
        serving = await client.service_client.check_health(timeout=READY_TIMEOUT)
    except (RPCError, RuntimeError) as err:
        if isinstance(err, RuntimeError) and not is_unreachable(err):
            raise
        serving = False
    if not serving:
        return JSONResponse({"status": "unavailable", "temporal": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ready", "temporal": "serving"})
