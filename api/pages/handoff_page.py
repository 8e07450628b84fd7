"""The handoff page (`/h/{crm}/{deal_id}`), the link every notification carries, and its forms.

The page reads the workflow's state by query; every form is the JSON API's workflow update (api.updates
`send`) with the signed-in person's directory id as `by`. A refused step re-renders the page with the
workflow's own reason beside the form; a step that went through redirects back (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.errors import UPDATE_STATUS, TemporalUnavailable
from api.pages import handoff_forms as forms
from api.pages import tokens
from api.pages.access import HandoffAccess, handoff_access
from api.pages.customer_page import PURPOSE as CUSTOMER_LINK
from api.pages.errors import PageError
from api.pages.handoff_state import handle_for, read_state
from api.pages.handoff_view import page_context
from api.pages.render import render
from api.pages.viewer import Viewer, check_csrf, clock, require_viewer, secret, settings_of
from api.updates import exists, send
from domain.document import HandoffDocument
from domain.ids import onboarding_workflow_id, post_check_workflow_id
from domain.state import HandoffState
from infra.page_links import handoff_path, public_base
from workflows.handoff import DealHandoffWorkflow
from workflows.onboarding import OnboardingTransitionWorkflow
from workflows.post_check import PostHandoffCheckWorkflow

router = APIRouter(include_in_schema=False)
ViewerDep = Annotated[Viewer, Depends(require_viewer)]


@router.get("/h/{crm}/{deal_id}")
async def handoff_page(request: Request, crm: str, deal_id: str, viewer: ViewerDep, done: str = "") -> Response:
    state = await read_state(request, handle_for(request, crm, deal_id))
    access = _access(viewer, state)
    return render(request, "handoff.html", page_context(viewer, state, access, done=done), viewer)


# Each action: the permission it needs, and how its form becomes the update it sends.
Action = tuple[str, Callable[[Request, FormData, Viewer, HandoffState], Any]]


def _zone(viewer: Viewer, request: Request) -> str:
    return viewer.person.timezone or request.app.state.policy.calendar.timezone


def _seats(viewer: Viewer) -> dict[str, str]:
    return {
        seat.person: team.name
        for team in viewer.directory.cs_teams
        if viewer.person.id in (team.lead, team.manager)
        for seat in team.csms
    }


async def _send_parent(request: Request, handle, update, message) -> None:
    state = request.app.state
    await send(state.client, state.settings, handle, update, message)


async def _send_child(request: Request, handle, child_type, child_id: str, update, message) -> None:
    state = request.app.state
    child = state.client.get_workflow_handle_for(child_type.run, child_id)
    await send(state.client, state.settings, child, update, message, parent_id=handle.id)


@router.post("/h/{crm}/{deal_id}/{action}")
async def act(request: Request, crm: str, deal_id: str, action: str, viewer: ViewerDep) -> Response:
    return await _act(request, crm, deal_id, action, viewer, sla="")


@router.post("/h/{crm}/{deal_id}/deadlines/{sla}")
async def extend(request: Request, crm: str, deal_id: str, sla: str, viewer: ViewerDep) -> Response:
    return await _act(request, crm, deal_id, "extend", viewer, sla=sla)


PERMISSION = {
    "document": "edit_document",
    "intake-review": "cs_steps",
    "intro": "intro",
    "first-touch": "cs_steps",
    "kickoff": "cs_steps",
    "milestone": "cs_steps",
    "post-check": "cs_steps",
    "customer-link": "cs_steps",
    "csm": "assign_csm",
    "extend": "extend_deadlines",
}


async def _act(request: Request, crm: str, deal_id: str, action: str, viewer: Viewer, sla: str) -> Response:
    if action not in PERMISSION:
        raise PageError(404, "There is no such form.")
    form = await request.form()
    check_csrf(request, form.get("csrf"))
    handle = handle_for(request, crm, deal_id)
    state = await read_state(request, handle)
    access = _access(viewer, state)
    if not getattr(access, PERMISSION[action]):
        raise PageError(403, "You cannot do this on this handoff. Ask its CS lead if you think you should.")
    by, anchor = viewer.person.id, action if action != "extend" else f"deadline-{sla}"
    draft: HandoffDocument | None = None
    try:
        if action == "customer-link":
            return _customer_link(request, viewer, state, access)
        if action == "document":
            message = forms.document_update(form, by)
            draft = state.document.merged(message.fields)
            await _send_parent(request, handle, DealHandoffWorkflow.update_document, message)
        elif action == "intake-review":
            await _send_parent(request, handle, DealHandoffWorkflow.intake_review, forms.intake_review(form, by))
        elif action == "intro":
            await _send_parent(
                request, handle, DealHandoffWorkflow.intro, forms.intro(form, by, _zone(viewer, request))
            )
        elif action == "first-touch":
            await _send_parent(request, handle, DealHandoffWorkflow.first_touch, forms.first_touch(form, by))
        elif action == "kickoff":
            await _send_parent(request, handle, DealHandoffWorkflow.kickoff, forms.kickoff(form, by))
        elif action == "csm":
            await _send_parent(
                request, handle, DealHandoffWorkflow.assign_csm, forms.csm_assignment(form, by, _seats(viewer))
            )
        elif action == "extend":
            extension = forms.extension(form, by, sla, _zone(viewer, request))
            await _send_parent(request, handle, DealHandoffWorkflow.extend_deadline, extension)
        elif action == "milestone":
            child_id = onboarding_workflow_id(handle.id)
            reached = forms.milestone(form, by)
            await _send_child(
                request, handle, OnboardingTransitionWorkflow, child_id, OnboardingTransitionWorkflow.milestone, reached
            )
        elif action == "post-check":
            child_id = post_check_workflow_id(handle.id)
            answers = forms.post_check(form, by)
            if await exists(request.app.state.client, child_id):
                await _send_child(
                    request, handle, PostHandoffCheckWorkflow, child_id, PostHandoffCheckWorkflow.answers, answers
                )
            else:  # before the check starts at its due, the handoff keeps the answers for it
                await _send_parent(request, handle, DealHandoffWorkflow.post_check_answers, answers)
    except forms.FormError as err:
        return _refused(request, viewer, state, access, anchor, f"{err.field}: {err.message}", 422, draft)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in UPDATE_STATUS:
            return _refused(request, viewer, state, access, anchor, cause.message, UPDATE_STATUS[cause.type], draft)
        raise PageError(500, "The handoff could not apply this. The error is in the worker's log.") from None
    except HTTPException as err:
        return _refused(request, viewer, state, access, anchor, str(err.detail), err.status_code, draft)
    except TemporalUnavailable:
        return _refused(
            request,
            viewer,
            state,
            access,
            anchor,
            "No worker answered in time; nothing was changed. Try again.",
            503,
            draft,
        )
    return RedirectResponse(
        f"{handoff_path(state.deal.crm, state.deal.deal_id)}?done={action}#{anchor}", status_code=303
    )


def _access(viewer: Viewer, state: HandoffState) -> HandoffAccess:
    access = handoff_access(viewer.directory, viewer.person, state)
    if not access.read:
        raise PageError(403, "This handoff is not one of yours. Ask its CS lead if you need to see it.")
    return access


def _refused(
    request: Request,
    viewer: Viewer,
    state: HandoffState,
    access: HandoffAccess,
    anchor: str,
    message: str,
    status: int,
    draft: HandoffDocument | None,
) -> Response:
    context = page_context(viewer, state, access, errors={anchor: message}, draft=draft)
    return render(request, "handoff.html", context, viewer, status)


def _customer_link(request: Request, viewer: Viewer, state: HandoffState, access: HandoffAccess) -> Response:
    days = settings_of(request).customer_link_days
    expires = clock(request) + timedelta(days=days)
    token = tokens.sign(secret(request), CUSTOMER_LINK, {"w": state.workflow_id}, expires)
    base = request.app.state.settings.public_url or str(request.base_url)
    link = f"{public_base(base)}/c/{token}"
    context = page_context(viewer, state, access, customer_link=(link, expires))
    return render(request, "handoff.html", context, viewer)
