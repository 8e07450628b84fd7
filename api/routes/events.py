"""The generic event: a deal stage from any other CRM or script, a churn, or a first-touch survey."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from api import examples
from api.crm import ChurnEventBody, DealEventBody, GenericEvent, to_deal_event
from api.crm.fields import load_json
from api.deps import AUTH_RESPONSES, IngestDep, StoreDep, require_roles, roles_note
from api.ingest_plan import EventOutcome
from domain.ids import handoff_workflow_id, normalise_salesforce_id
from store.engine import session_scope
from store.repository import record_churn, record_nps
from store.tables import HandoffRow

router = APIRouter(prefix="/v1", tags=["events"])
ROLES = ("crm",)


async def plain_json(request: Request) -> None:
    """Python's JSON reader takes NaN, Infinity and lone surrogates, none of which is JSON a CRM sends
    or a store can keep: refused (400, naming the field) before the body is validated."""
    load_json(await request.body())


class Recorded(BaseModel):
    type: str
    outcome: str
    workflow_id: str | None = None


def _deal_id(source: str, deal_id: str, where: str) -> str:
    """A source named salesforce keys its deals as the Salesforce routes do: 18 characters."""
    if source != "salesforce":
        return deal_id
    try:
        return normalise_salesforce_id(deal_id)
    except ValueError as err:
        raise HTTPException(
            422, [{"loc": ["body", *where.split(".")], "msg": str(err), "type": "value_error"}]
        ) from None


@router.post(
    "/events",
    status_code=202,
    response_model=list[EventOutcome] | list[Recorded],
    summary="A generic CRM event",
    description=(
        "`type` picks the event: `deal` (a stage change: starts or advances the handoff as the CRM webhooks do), "
        "`churn` (recorded once per account and date) or `survey` (the first-touch NPS of the handoff "
        "`baton-<source>-<deal_id>`). " + roles_note(*ROLES)
    ),
    dependencies=[Depends(require_roles(*ROLES)), Depends(plain_json)],
    responses=AUTH_RESPONSES,
)
async def post_event(
    event: Annotated[GenericEvent, Body(openapi_examples=examples.GENERIC_EVENTS)],
    ingest: IngestDep,
    engine: StoreDep,
) -> list[EventOutcome] | list[Recorded]:
    if isinstance(event, DealEventBody):
        deal = event.deal.model_copy(update={"id": _deal_id(event.source, event.deal.id, "deal.id")})
        return await ingest.run([to_deal_event(event.model_copy(update={"deal": deal}))])
    if isinstance(event, ChurnEventBody):
        new = await asyncio.to_thread(_churn, engine, event)
        return [Recorded(type="churn", outcome="recorded" if new else "duplicate")]
    workflow_id = handoff_workflow_id(event.source, _deal_id(event.source, event.deal_id, "deal_id"))
    if not await asyncio.to_thread(_nps, engine, workflow_id, event.nps):
        raise HTTPException(
            404,
            [{"loc": ["body", "deal_id"], "msg": f"no handoff {workflow_id} to rate", "type": "not_found"}],
        )
    return [Recorded(type="survey", outcome="recorded", workflow_id=workflow_id)]


def _churn(engine, event: ChurnEventBody) -> bool:
    with session_scope(engine, write=True) as session:
        return record_churn(session, event.account, event.churned_on, event.reason, event.source)


def _nps(engine, workflow_id: str, nps: int) -> bool:
    """False, recording nothing, for a deal that never had a handoff: an answer about nothing."""
    with session_scope(engine, write=True) as session:
        known = session.execute(
            select(col(HandoffRow.workflow_id)).where(col(HandoffRow.workflow_id) == workflow_id)
        ).first()
        if known is None:
            return False
        record_nps(session, workflow_id, nps, datetime.now(UTC))
        return True
