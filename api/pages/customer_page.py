"""The customer's onboarding page (`/c/{token}`): read-only, for the champion, by an expiring signed link.

It shows the success plan and the milestones reached, the named CSM and the next meeting, and nothing
internal: no score, tier, risk, note, comment, deadline or escalation. The link names one handoff and
reaches nothing else; nobody signs in.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages import tokens
from api.pages.access import resolve
from api.pages.errors import PageError
from api.pages.handoff_state import read_state
from api.pages.render import render
from api.pages.viewer import clock, directory, secret
from domain.onboarding_policy import Milestone
from workflows.handoff import DealHandoffWorkflow

router = APIRouter(include_in_schema=False)
PURPOSE = "customer-link"
MILESTONE_WORDS = {
    Milestone.SETUP_COMPLETE: "Setup complete",
    Milestone.TRAINING_DONE: "Training done",
    Milestone.ACTIVATION_ACHIEVED: "Activation achieved",
    Milestone.FIRST_VALUE: "First value",
}


@router.get("/c/{token}")
async def customer_page(request: Request, token: str) -> Response:
    now = clock(request)
    try:
        claims = tokens.verify(secret(request), PURPOSE, token, now)
    except tokens.ExpiredToken:
        raise PageError(410, "This link has expired. Ask your customer success manager for a new one.") from None
    except tokens.BadToken:
        raise PageError(404, "This link is not valid.") from None
    workflow_id = claims.get("w")
    if not isinstance(workflow_id, str):
        raise PageError(404, "This link is not valid.")
    handle = request.app.state.client.get_workflow_handle_for(DealHandoffWorkflow.run, workflow_id)
    state = await read_state(request, handle)
    csm = resolve(directory(request), state.deal.crm, state.owners.csm)
    upcoming = state.facts.intro_scheduled_for
    next_meeting = upcoming if upcoming and upcoming > now and state.facts.intro_held_at is None else None
    reached = state.milestones
    context = {
        "account": state.deal.account,
        "csm": csm,
        "plan": state.success_plan,
        "milestones": [(MILESTONE_WORDS[m], reached.get(m)) for m in Milestone],
        "next_meeting": next_meeting,
        "kickoff_at": state.facts.kickoff_at,
        "zone": None,
    }
    response = render(request, "customer.html", context)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
