"""A signed-in person's start page (`/me`): their open handoffs from the read model, and the pages
their roles open."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import or_, select
from sqlmodel import Session, col

from api.pages.access import display_name, queue_scope, reads_scorecard
from api.pages.render import render
from api.pages.viewer import Viewer, require_viewer
from infra.page_links import handoff_path
from store.tables import HandoffRow

router = APIRouter(include_in_schema=False)
LIMIT = 100


def _mine(engine, names: list[str]) -> list[HandoffRow]:
    with Session(engine) as session:
        query = (
            select(HandoffRow)
            .where(
                col(HandoffRow.outcome) == "open", or_(col(HandoffRow.ae).in_(names), col(HandoffRow.csm).in_(names))
            )
            .order_by(col(HandoffRow.closed_at).desc())
            .limit(LIMIT)
        )
        return list(session.scalars(query))


@router.get("/me")
async def home(request: Request, viewer: Annotated[Viewer, Depends(require_viewer)]) -> Response:
    person = viewer.person
    # The read model keeps an owner as the CRM gave it (owner id) or as a person id or e-mail.
    names = [person.id, person.email, *(owner for ids in person.crm_owner_ids.values() for owner in ids)]
    rows = await asyncio.to_thread(_mine, request.app.state.engine, names)
    handoffs = [
        {
            "row": row,
            "page": handoff_path(row.crm, row.deal_id),
            "csm": display_name(viewer.directory, row.csm, row.crm),
        }
        for row in rows
    ]
    context = {
        "handoffs": handoffs,
        "queue": queue_scope(viewer.roles) is not None,
        "scorecard": reads_scorecard(viewer.roles),
        "roles": sorted(role.value.replace("_", " ") for role in viewer.roles),
    }
    return render(request, "home.html", context, viewer)
