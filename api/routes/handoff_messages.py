"""What people send to a handoff. Each is a workflow update: the answer is the new state, a step not
allowed where the handoff stands is 409, an invalid value 422 (DECISIONS.md "Messages")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field

from api import examples
from api.deps import AUTH_RESPONSES, ClientDep, HandoffHandle, SettingsDep, require_roles, roles_note
from api.updates import exists, send
from domain.durations import DurationField
from domain.ids import onboarding_workflow_id, post_check_workflow_id
from domain.messages import (
    AeDeparture,
    CsmAssignment,
    DeadlineExtension,
    DocumentUpdate,
    FirstTouch,
    IntakeReviewInput,
    IntroUpdate,
    KickoffHeld,
    MilestoneReached,
    PostCheckAnswers,
)  # fmt: skip
from domain.onboarding import OnboardingSummary
from domain.roles import SlaName
from domain.state import HandoffState
from workflows.handoff import DealHandoffWorkflow
from workflows.onboarding import OnboardingTransitionWorkflow
from workflows.post_check import PostHandoffCheckWorkflow

router = APIRouter(prefix="/v1/handoffs/{crm}/{deal_id}", tags=["handoff messages"])
REFUSALS: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    404: {"description": "no such handoff"},
    409: {"description": "not allowed where the handoff stands, or it has ended"},
    422: {"description": "invalid values (the message names the field)"},
    503: {"description": "Temporal or its workers did not answer in time; retry"},
}


def _route(
    method: str, path: str, summary: str, roles: tuple[str, ...], response_model: type = HandoffState, detail: str = ""
):
    return router.api_route(
        path,
        methods=[method],
        response_model=response_model,
        summary=summary,
        responses=REFUSALS,
        description=f"{detail} {roles_note(*roles)}".strip(),
        dependencies=[Depends(require_roles(*roles))],
    )


@_route(
    "PATCH",
    "/document",
    "Edit or submit the handoff document",
    ("ae", "cs_lead", "operator"),
    detail="The new state's `quality` carries the new score, tier and a reason per field.",
)
async def update_document(
    handle: HandoffHandle,
    client: ClientDep,
    settings: SettingsDep,
    msg: Annotated[DocumentUpdate, Body(openapi_examples=examples.DOCUMENT)],
) -> HandoffState:
    return await send(client, settings, handle, DealHandoffWorkflow.update_document, msg)


@_route("POST", "/csm", "Assign the CSM", ("cs_lead", "operator"))
async def assign_csm(
    handle: HandoffHandle,
    client: ClientDep,
    settings: SettingsDep,
    msg: Annotated[CsmAssignment, Body(openapi_examples=examples.CSM)],
) -> HandoffState:
    return await send(client, settings, handle, DealHandoffWorkflow.assign_csm, msg)


@_route(
    "POST",
    "/intake-review",
    "The CSM's intake review",
    ("cs_lead",),
    detail="Rating 1-5; `accept: false` sends the document back to sales.",
)
async def intake_review(
    handle: HandoffHandle,
    client: ClientDep,
    settings: SettingsDep,
    msg: Annotated[IntakeReviewInput, Body(openapi_examples=examples.INTAKE)],
) -> HandoffState:
    return await send(client, settings, handle, DealHandoffWorkflow.intake_review, msg)


@_route("POST", "/intro", "Intro meeting scheduled or held", ("ae", "cs_lead"))
async def intro(
    handle: HandoffHandle,
    client: ClientDep,
    settings: SettingsDep,
    msg: Annotated[IntroUpdate, Body(openapi_examples=examples.INTRO)],
) -> HandoffState:
    return await send(client, settings, handle, DealHandoffWorkflow.intro, msg)


@_route("POST", "/first-touch", "CS first touch with the customer", ("cs_lead",))
async def first_touch(
    handle: HandoffHandle,
    client: ClientDep,
    settings: SettingsDep,
    msg: Annotated[FirstTouch, Body(openapi_examples=examples.FIRST_TOUCH)],
) -> HandoffState:
    return await send(client, settings, handle, DealHandoffWorkflow.first_touch, msg)


@_route("POST", "/kickoff", "Kickoff held", ("cs_lead",), detail="Starts the onboarding workflow.")
async def kickoff(
    handle: HandoffHandle,
    client: ClientDep,
    settings: SettingsDep,
    msg: Annotated[KickoffHeld, Body(openapi_examples=examples.KICKOFF)],
) -> HandoffState:
    return await send(client, settings, handle, DealHandoffWorkflow.kickoff, msg)


@_route("POST", "/ae-departure", "The AE has left, or the recovery owner is named", ("ae", "cs_lead", "operator"))
async def ae_departure(
    handle: HandoffHandle,
    client: ClientDep,
    settings: SettingsDep,
    msg: Annotated[AeDeparture, Body(openapi_examples=examples.AE_DEPARTURE)],
) -> HandoffState:
    return await send(client, settings, handle, DealHandoffWorkflow.ae_departure, msg)


class ExtensionBody(BaseModel):
    """The SLA comes from the path; exactly one of `new_due` and `extend_by` is given."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(default="", description="who extends it, for the timeline")
    new_due: datetime | None = None
    extend_by: DurationField | None = Field(default=None, description="a compact duration: 2bd, 48h, 4bh")
    reason: str = ""


@_route(
    "POST",
    "/deadlines/{sla}",
    "Extend an SLA deadline",
    ("cs_lead", "operator"),
    detail="The running timer moves with it; a reason is required.",
)
async def extend_deadline(
    sla: SlaName,
    handle: HandoffHandle,
    client: ClientDep,
    settings: SettingsDep,
    body: Annotated[ExtensionBody, Body(openapi_examples=examples.EXTENSION)],
) -> HandoffState:
    msg = DeadlineExtension(sla=sla, by=body.by, new_due=body.new_due, extend_by=body.extend_by, reason=body.reason)
    return await send(client, settings, handle, DealHandoffWorkflow.extend_deadline, msg)


@_route(
    "POST",
    "/milestones",
    "An onboarding milestone reached",
    ("cs_lead",),
    OnboardingSummary,
    detail="Goes to the onboarding workflow (409 while it is not running); answers its summary.",
)
async def milestone(
    handle: HandoffHandle,
    client: ClientDep,
    settings: SettingsDep,
    msg: Annotated[MilestoneReached, Body(openapi_examples=examples.MILESTONE)],
) -> OnboardingSummary:
    child = client.get_workflow_handle_for(OnboardingTransitionWorkflow.run, onboarding_workflow_id(handle.id))
    return await send(client, settings, child, OnboardingTransitionWorkflow.milestone, msg, parent_id=handle.id)


@_route(
    "POST",
    "/post-check",
    "The CSM's answers to the 30-day check",
    ("cs_lead",),
    PostCheckAnswers,
    detail=(
        "Goes to the post-handoff check workflow; before it starts at its due, the handoff keeps the answers"
        " for it from `post_check.opens_before` ahead of the due (409 before that, or once the check ended)."
    ),
)
async def post_check(
    handle: HandoffHandle,
    client: ClientDep,
    settings: SettingsDep,
    msg: Annotated[PostCheckAnswers, Body(openapi_examples=examples.POST_CHECK)],
) -> PostCheckAnswers:
    child = client.get_workflow_handle_for(PostHandoffCheckWorkflow.run, post_check_workflow_id(handle.id))
    if not await exists(client, child.id):
        await send(client, settings, handle, DealHandoffWorkflow.post_check_answers, msg)
        return msg
    return await send(client, settings, child, PostHandoffCheckWorkflow.answers, msg, parent_id=handle.id)
