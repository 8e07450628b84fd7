"""Sending a person's message as a workflow update, and saying why one could not be delivered."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import HTTPException
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.errors import TemporalUnavailable
from api.settings import ApiSettings


async def send(
    client: Client, settings: ApiSettings, handle: WorkflowHandle, update: Any, msg: Any, parent_id: str | None = None
) -> Any:
    """`execute_update` with a bound on the wait: an update needs a worker, and a caller must not
    hang while none runs. `parent_id` marks a child workflow addressed through its parent's URL."""
    try:
        async with asyncio.timeout(settings.update_timeout_seconds):
            return await handle.execute_update(update, msg)
    except TimeoutError:
        raise TemporalUnavailable("no worker answered in time; retry later") from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        await _why_missing(client, handle.id, parent_id)
        raise


async def exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True


async def _why_missing(client: Client, workflow_id: str, parent_id: str | None) -> None:
    """Temporal says NOT_FOUND both for an unknown run and for one that has closed; the caller
    deserves to know which (404 versus 409)."""
    if parent_id is None:
        if await exists(client, workflow_id):
            raise HTTPException(409, "the handoff has ended")
        raise HTTPException(404, "no such handoff")
    if not await exists(client, parent_id):
        raise HTTPException(404, "no such handoff")
    state = "has finished" if await exists(client, workflow_id) else "has not started"
    raise HTTPException(409, f"{workflow_id} {state}: it is not running")
