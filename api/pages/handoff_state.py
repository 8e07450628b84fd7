"""Reading one handoff's live state for a page: the workflow's query, as the JSON API reads it."""

from __future__ import annotations

from datetime import timedelta

from fastapi import HTTPException, Request
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.deps import handoff_id
from api.errors import is_unreachable
from api.pages.errors import PageError
from domain.state import HandoffState
from workflows.handoff import DealHandoffWorkflow


def handle_for(request: Request, crm: str, deal_id: str) -> WorkflowHandle:
    try:
        workflow_id = handoff_id(crm, deal_id)
    except HTTPException:
        raise PageError(404, "There is no such handoff.") from None
    return request.app.state.client.get_workflow_handle_for(DealHandoffWorkflow.run, workflow_id)


async def read_state(request: Request, handle: WorkflowHandle) -> HandoffState:
    timeout = timedelta(seconds=request.app.state.settings.rpc_timeout_seconds)
    try:
        return await handle.query(DealHandoffWorkflow.state, rpc_timeout=timeout)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise PageError(404, "There is no such handoff (or Temporal no longer keeps it).") from None
        raise PageError(503, "Temporal did not answer in time. Try again in a moment.") from None
    except RuntimeError as err:
        if is_unreachable(err):
            raise PageError(503, "Temporal is unreachable. Try again in a moment.") from None
        raise
