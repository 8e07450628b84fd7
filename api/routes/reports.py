"""Reports from the read model: the handoff scorecard, open handoffs at risk, and the churn autopsy.

The store's queries are synchronous SQLAlchemy; they run in a worker thread so a slow report never
stalls the event loop that also answers CRM webhooks.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import AUTH_RESPONSES, StoreDep, require_roles, roles_note
from store.at_risk import AtRisk, at_risk
from store.governance import ChurnReport, churn_report
from store.reports import GroupBy, Scorecard, scorecard

router = APIRouter(prefix="/v1", tags=["reports"])
ROLES = ("cs_lead", "operator")
_DEPENDENCIES = [Depends(require_roles(*ROLES))]


def _read(engine: Engine, query, *args):
    # One short-lived session per report: the thread owns it from open to close.
    with Session(engine) as session:
        return query(session, *args)


@router.get(
    "/scorecard",
    response_model=Scorecard,
    summary="Handoff scorecard",
    description=(
        "Completeness, quality, time to intro and kickoff, SLA compliance, intake within 24h, CSM rating, "
        "first-touch NPS and re-work, per group and overall, over the handoffs won with their close in "
        "[`from`, `to`) (UTC days; `to` defaults to now). " + roles_note(*ROLES)
    ),
    dependencies=_DEPENDENCIES,
    responses=AUTH_RESPONSES,
)
async def get_scorecard(
    engine: StoreDep,
    group_by: GroupBy = "ae",
    start: Annotated[date | None, Query(alias="from", description="first day included (YYYY-MM-DD)")] = None,
    end: Annotated[date | None, Query(alias="to", description="first day excluded (YYYY-MM-DD)")] = None,
) -> Scorecard:
    if start is not None and end is not None and end < start:
        raise HTTPException(422, [{"loc": ["query", "to"], "msg": "to must not be before from", "type": "value_error"}])
    return await asyncio.to_thread(_read, engine, scorecard, group_by, start, end, datetime.now(UTC))


@router.get(
    "/at-risk",
    response_model=list[AtRisk],
    summary="Open handoffs at risk",
    description=(
        "Open handoffs with a breached SLA, an SLA due within `soon_hours`, or a gaps/blocked tier: breached "
        "first (oldest breach first), then due soonest, then blocked before gaps. " + roles_note(*ROLES)
    ),
    dependencies=_DEPENDENCIES,
    responses=AUTH_RESPONSES,
)
async def get_at_risk(
    engine: StoreDep,
    # Bounded so a generated or mistyped value cannot overflow datetime arithmetic into a 500.
    soon_hours: Annotated[float, Query(ge=0, le=24 * 366, description="how far ahead a due SLA counts")] = 24,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AtRisk]:
    now = datetime.now(UTC)
    return await asyncio.to_thread(_read, engine, at_risk, now, timedelta(hours=soon_hours), limit)


@router.get(
    "/reports/churn",
    response_model=ChurnReport,
    summary="Churn autopsy",
    description=(
        "Each churned account against its latest handoff won on or before the churn day (score, tier, "
        "completeness, SLA breaches), the churn rate per tier, and churns with no handoff. " + roles_note(*ROLES)
    ),
    dependencies=_DEPENDENCIES,
    responses=AUTH_RESPONSES,
)
async def get_churn(engine: StoreDep) -> ChurnReport:
    return await asyncio.to_thread(_read, engine, churn_report)
