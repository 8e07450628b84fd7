"""The CS leads' queue (`/queue`): open handoffs at risk, most urgent first, from the read model.

Filters by team, CSM, approach and phase; each row links to its handoff page and to its run in the
Temporal UI. A CSM sees only their own handoffs.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.pages.access import display_name, queue_scope
from api.pages.errors import PageError
from api.pages.render import render
from api.pages.viewer import Viewer, clock, require_viewer, settings_of
from domain.approach_kinds import Approach
from domain.state import Phase
from infra.page_links import handoff_path
from store.queue import QueueFilter, QueuePage, queue

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
Choice = Annotated[str, Query(max_length=200)]


def _read(engine, now: datetime, where: QueueFilter, offset: int) -> QueuePage:
    with Session(engine) as session:
        return queue(session, now, where, limit=PAGE_SIZE, offset=offset)


@router.get("/queue")
async def queue_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require_viewer)],
    team: Choice = "",
    csm: Choice = "",
    approach: Choice = "",
    phase: Choice = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    scope = queue_scope(viewer.roles)
    if scope is None:
        raise PageError(403, "The queue is for CS leads, CS managers, CSMs and RevOps.")
    if scope == "own":
        csm = viewer.person.id
    # An unknown value filters to nothing rather than erroring: a shared link may outlive a team's name.
    where = QueueFilter(team=team or None, csm=csm or None, approach=approach or None, phase=phase or None)
    found = await asyncio.to_thread(_read, request.app.state.engine, clock(request), where, (page - 1) * PAGE_SIZE)
    people = viewer.directory
    settings = settings_of(request)
    ui = settings.temporal_ui_url.rstrip("/") + f"/namespaces/{quote(settings.temporal_namespace, safe='')}/workflows/"
    rows = [
        {
            "row": row,
            "page": handoff_path(row.crm, row.deal_id),
            "run": ui + quote(row.workflow_id, safe=""),
            "ae": display_name(people, row.ae, row.crm),
            "csm": display_name(people, row.csm, row.crm),
        }
        for row in found.rows
    ]
    filters = {"team": team, "csm": csm, "approach": approach, "phase": phase}
    more = page * PAGE_SIZE < found.total
    context = {
        "rows": rows,
        "total": found.total,
        "filters": filters,
        "scope": scope,
        "teams": [t.name for t in people.cs_teams],
        "csms": sorted(
            {(s.person, display_name(people, s.person)) for t in people.cs_teams for s in t.csms}, key=lambda p: p[1]
        ),
        "approaches": [a.value for a in Approach],
        "phases": [p.value for p in Phase if p is not Phase.CLOSED],
        "page": page,
        "next_url": "/queue?" + urlencode({**filters, "page": page + 1}) if more else None,
        "previous_url": "/queue?" + urlencode({**filters, "page": page - 1}) if page > 1 else None,
    }
    return render(request, "queue.html", context, viewer)
