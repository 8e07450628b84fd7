"""Reading handoffs: one handoff's live state (a query), and the list from Temporal visibility."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from api.deps import AUTH_RESPONSES, ClientDep, HandoffHandle, SettingsDep, require_roles, roles_note
from api.session import _secret as session_secret
from api.visibility import SAFE_VALUE, HandoffPage, build_query, decode_token, encode_token, row
from domain.scoring import Tier
from domain.state import HandoffState, Phase
from workflows.handoff import DealHandoffWorkflow

router = APIRouter(prefix="/v1/handoffs", tags=["handoffs"])
ROLES = ("ae", "cs_lead", "operator")
Person = Annotated[str | None, Query(pattern=SAFE_VALUE, description="as stored on the handoff (id or email)")]


@router.get(
    "",
    response_model=HandoffPage,
    summary="List handoffs",
    description=(
        "Filters combine with AND; rows come from the handoffs' search attributes, so listing never "
        "queries a workflow. Pass `next_page_token` back as `page_token` for the next page. " + roles_note(*ROLES)
    ),
    dependencies=[Depends(require_roles(*ROLES))],
    responses=AUTH_RESPONSES,
)
async def list_handoffs(
    request: Request,
    client: ClientDep,
    settings: SettingsDep,
    phase: Phase | None = None,
    tier: Tier | None = None,
    breached: bool | None = None,
    csm: Person = None,
    ae: Person = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: str | None = None,
) -> HandoffPage:
    try:
        token = decode_token(page_token, session_secret(request))
    except ValueError as err:
        raise HTTPException(422, [{"loc": ["query", "page_token"], "msg": str(err), "type": "value_error"}]) from None
    listing = client.list_workflows(
        build_query(phase, tier, breached, csm, ae),
        page_size=page_size,
        next_page_token=token,
        rpc_timeout=timedelta(seconds=settings.rpc_timeout_seconds),
    )
    # One page per request: the caller pages with the token rather than the API walking every page.
    await listing.fetch_next_page()
    return HandoffPage(
        handoffs=[row(execution) for execution in listing.current_page or []],
        next_page_token=encode_token(listing.next_page_token, session_secret(request)),
    )


@router.get(
    "/{crm}/{deal_id}",
    response_model=HandoffState,
    summary="A handoff's current state",
    description="The live state from the handoff workflow (404 when there is none). " + roles_note(*ROLES),
    dependencies=[Depends(require_roles(*ROLES))],
    responses=AUTH_RESPONSES,
)
async def get_handoff(handle: HandoffHandle, settings: SettingsDep) -> HandoffState:
    return await handle.query(DealHandoffWorkflow.state, rpc_timeout=timedelta(seconds=settings.rpc_timeout_seconds))
