"""The runs whose histories the replay test keeps, one function per scenario: each drives a handoff (and
its children) through one path on a server and returns the runs to save. Recorded by
`python -m tests.record_histories`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.document import DocumentPatch
from domain.ids import onboarding_workflow_id, post_check_workflow_id
from domain.messages import (
    AeDeparture,
    DeadlineExtension,
    DocumentUpdate,
    FirstTouch,
    IntakeReviewInput,
    IntroAction,
    IntroUpdate,
    KickoffHeld,
    MilestoneReached,
    PostCheckAnswers,
    StageChanged,
)
from domain.onboarding_policy import Milestone
from domain.policy import Policy
from domain.roles import SlaName
from domain.stages import StageKind
from domain.state import Phase
from tests.handoffs import GAPS_DOCUMENT, READY_DOCUMENT, deal
from workflows.governance import GovernanceInput, MonthlyGovernanceWorkflow
from workflows.handoff import DealHandoffWorkflow, HandoffInput
from workflows.onboarding import OnboardingTransitionWorkflow
from workflows.post_check import PostHandoffCheckWorkflow

# What a scenario returns: each run to save, under `<label>-<workflow type>.json`.
Recorded = list[tuple[str, WorkflowHandle]]


async def until(check: Callable[[], Awaitable[bool]], tries: int = 400) -> None:
    for _ in range(tries):
        try:
            if await check():
                return
        except Exception:  # not started yet
            pass
        await asyncio.sleep(0.02)
    raise TimeoutError("condition never held")


async def full_handoff(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    now = await env.get_current_time()
    d = deal(closed_at=now)
    handle = await _start(client, task_queue, HandoffInput(deal=d, policy=Policy(), document=READY_DOCUMENT))
    await until(lambda: _has_csm(handle))
    for update, msg in (
        (DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4, by="csm")),
        (DealHandoffWorkflow.first_touch, FirstTouch(channel="call")),
        (DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED)),
        (DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.HELD)),
        (DealHandoffWorkflow.kickoff, KickoffHeld(success_plan=["SSO live"])),
    ):
        await handle.execute_update(update, msg)
    onboarding = client.get_workflow_handle(onboarding_workflow_id(handle.id))
    await until(lambda: _running(onboarding))
    for milestone in Milestone:
        await onboarding.execute_update(OnboardingTransitionWorkflow.milestone, MilestoneReached(milestone=milestone))
    await onboarding.result()
    await env.sleep(timedelta(days=30, minutes=5) - (await env.get_current_time() - now))
    check = client.get_workflow_handle(post_check_workflow_id(handle.id))
    await until(lambda: _running(check))
    await check.execute_update(PostHandoffCheckWorkflow.answers, PostCheckAnswers(enough_context=True))
    await check.result()
    await handle.result()
    return [("full_handoff", handle), ("full_handoff", onboarding), ("full_handoff", check)]


async def gaps_then_lost(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    now = await env.get_current_time()
    d = deal(closed_at=now, acv=150_000)
    handle = await _start(client, task_queue, HandoffInput(deal=d, policy=Policy(), document=GAPS_DOCUMENT))
    await until(lambda: _has_csm(handle))
    await env.sleep(timedelta(days=4, hours=1))
    await _lose(handle)
    return [("gaps_then_lost", handle)]


async def ae_departure(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """The AE leaves: the recovery-owner SLA starts, breaches and escalates; then an owner is named."""
    now = await env.get_current_time()
    d = deal(closed_at=now)
    handle = await _start(client, task_queue, HandoffInput(deal=d, policy=Policy(), document=READY_DOCUMENT))
    await until(lambda: _has_csm(handle))
    await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))
    await handle.execute_update(DealHandoffWorkflow.ae_departure, AeDeparture(by="sm@example.com"))
    await env.sleep(timedelta(days=7, hours=1))
    await handle.execute_update(DealHandoffWorkflow.ae_departure, AeDeparture(recovery_owner="peer-ae@example.com"))
    await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
    await _lose(handle)
    return [("ae_departure", handle)]


async def deadline_extension(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """Deadlines moved by `extend_by` and by `new_due`: their timers move, and the intro is met in time."""
    now = await env.get_current_time()
    d = deal(closed_at=now)
    handle = await _start(client, task_queue, HandoffInput(deal=d, policy=Policy(), document=READY_DOCUMENT))
    await until(lambda: _has_csm(handle))
    await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))
    await handle.execute_update(
        DealHandoffWorkflow.extend_deadline,
        DeadlineExtension(sla=SlaName.INTRO_SCHEDULED, extend_by="2bd", reason="the champion is travelling"),
    )
    await handle.execute_update(
        DealHandoffWorkflow.extend_deadline,
        DeadlineExtension(sla=SlaName.KICKOFF, new_due=now + timedelta(days=20), reason="customer holiday"),
    )
    await env.sleep(timedelta(days=4))
    await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
    await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.HELD))
    await env.sleep(timedelta(days=1))
    await _lose(handle)
    return [("deadline_extension", handle)]


async def pre_close_start(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """Started at a pre-close stage: the CSM is named before the close, then the won stage advances it."""
    now = await env.get_current_time()
    d = deal(closed_at=None, acv=150_000)
    policy = Policy.model_validate({"stages": {"pre_close": {"hubspot": ["contractsent"]}}})
    handle = await _start(client, task_queue, HandoffInput(deal=d, policy=policy, won=False))
    await until(lambda: _has_csm(handle))
    await handle.execute_update(
        DealHandoffWorkflow.update_document, DocumentUpdate(fields=DocumentPatch(goals=READY_DOCUMENT.goals))
    )
    won = d.model_copy(update={"closed_at": now, "stage": "closedwon"})
    await handle.signal(
        DealHandoffWorkflow.stage_changed, StageChanged(stage="closedwon", kind=StageKind.WON, deal=won)
    )
    await until(lambda: _in_phase(handle, Phase.DOCUMENTING))
    await handle.execute_update(
        DealHandoffWorkflow.update_document,
        DocumentUpdate(fields=DocumentPatch(**READY_DOCUMENT.model_dump()), submit=True),
    )
    await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=5))
    await env.sleep(timedelta(days=1))
    await _lose(handle)
    return [("pre_close_start", handle)]


async def continue_as_new(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """Document edits until the server suggests continue-as-new: the run it ends and the run it starts."""
    now = await env.get_current_time()
    handle = await _start(client, task_queue, HandoffInput(deal=deal(closed_at=now), policy=Policy()))
    first_run = handle.result_run_id
    latest = client.get_workflow_handle_for(DealHandoffWorkflow.run, handle.id)
    await until(lambda: _has_csm(latest), tries=1500)
    for index in range(60):
        goals = f"Cut onboarding from 40 to {20 + index} days within two quarters."
        await latest.execute_update(
            DealHandoffWorkflow.update_document, DocumentUpdate(fields=DocumentPatch(goals=goals))
        )
        if (await latest.describe()).run_id != first_run:
            break
    else:
        raise RuntimeError("the run never continued as new")
    await latest.execute_update(
        DealHandoffWorkflow.update_document,
        DocumentUpdate(fields=DocumentPatch(**READY_DOCUMENT.model_dump()), submit=True),
    )
    await _lose(latest)
    next_run = client.get_workflow_handle(handle.id, run_id=(await latest.describe()).run_id)
    return [
        ("continue_as_new-first_run", client.get_workflow_handle(handle.id, run_id=first_run)),
        ("continue_as_new-next_run", next_run),
    ]


async def partner_check_failed(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """A partner deal's 30-day check fails on the CSM's answers: both check-owned SLAs settle and escalate."""
    now = await env.get_current_time()
    d = deal(closed_at=now, channel_partner="Northwind")
    handle = await _start(client, task_queue, HandoffInput(deal=d, policy=Policy(), document=READY_DOCUMENT))
    await until(lambda: _has_csm(handle))
    await env.sleep(timedelta(days=30, minutes=1))
    check = client.get_workflow_handle(post_check_workflow_id(handle.id))
    await until(lambda: _running(check))
    answers = PostCheckAnswers(enough_context=False, partner_confirmed=False, concerns=["the partner portal is slow"])
    await check.execute_update(PostHandoffCheckWorkflow.answers, answers)
    await check.result()
    await until(lambda: _settled(handle, SlaName.PARTNER_CHECK))
    await _lose(handle)
    return [("partner_check_failed", handle), ("partner_check_failed", check)]


async def lost_while_onboarding(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """The deal is lost while onboarding runs: the parent cancels its child."""
    now = await env.get_current_time()
    handle = await _start(
        client, task_queue, HandoffInput(deal=deal(closed_at=now), policy=Policy(), document=READY_DOCUMENT)
    )
    await until(lambda: _has_csm(handle))
    for update, msg in (
        (DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4)),
        (DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED)),
        (DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.HELD)),
        (DealHandoffWorkflow.kickoff, KickoffHeld(success_plan=["SSO live"])),
    ):
        await handle.execute_update(update, msg)
    onboarding = client.get_workflow_handle(onboarding_workflow_id(handle.id))
    await until(lambda: _running(onboarding))
    await onboarding.execute_update(
        OnboardingTransitionWorkflow.milestone, MilestoneReached(milestone=Milestone.SETUP_COMPLETE)
    )
    await _lose(handle)
    return [("lost_while_onboarding", handle), ("lost_while_onboarding", onboarding)]


async def local_steps(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """The full path again, recorded after the deal fetch and the CSM choice became local activities
    (the `local-fetch-and-csm-choice` patch)."""
    return [("local_steps", handle) for _, handle in await full_handoff(env, client, task_queue)]


async def local_steps_pre_close(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """A pre-close start under the same patch: the CSM chosen by a local activity before the close."""
    return [("local_steps_pre_close", handle) for _, handle in await pre_close_start(env, client, task_queue)]


async def timers_never_cancelled(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """The full path again, recorded after timers stopped being cancelled and signals started waiting
    for the run's own timers (the `timers-never-cancelled` and `signals-after-own-timers` patches)."""
    return [("timers_never_cancelled", handle) for _, handle in await full_handoff(env, client, task_queue)]


async def people_rules(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """The full path again, recorded after notices went to people (the `people-rules` patch): every
    notice resolved by a local activity, the introduction e-mail, the handover told by the parent."""
    return [("people_rules", handle) for _, handle in await full_handoff(env, client, task_queue)]


async def people_rules_returned(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    """Under the people rules: the CSM sends the document back, the AE resubmits, a five-star review;
    the intro is scheduled after its SLA breached (the ladder stops), then the deal is lost."""
    now = await env.get_current_time()
    d = deal(closed_at=now)
    handle = await _start(client, task_queue, HandoffInput(deal=d, policy=Policy(), document=READY_DOCUMENT))
    await until(lambda: _has_csm(handle))
    await handle.execute_update(
        DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=2, accept=False, comments="Who signs off?")
    )
    await handle.execute_update(DealHandoffWorkflow.update_document, DocumentUpdate(submit=True))
    await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=5, by="csm"))
    await env.sleep(timedelta(days=4, hours=1))
    await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
    await env.sleep(timedelta(days=3))
    await _lose(handle)
    return [("people_rules_returned", handle)]


async def governance(env: WorkflowEnvironment, client: Client, task_queue: str) -> Recorded:
    handle = await client.start_workflow(
        MonthlyGovernanceWorkflow.run, GovernanceInput(), id=f"governance-{uuid.uuid4().hex[:6]}", task_queue=task_queue
    )
    await handle.result()
    return [("governance", handle)]


@dataclass(frozen=True)
class Scenario:
    record: Callable[[WorkflowEnvironment, Client, str], Awaitable[Recorded]]
    dev_server: bool = False  # continue-as-new: only a dev server suggests it


SCENARIOS = {
    "full_handoff": Scenario(full_handoff),
    "gaps_then_lost": Scenario(gaps_then_lost),
    "governance": Scenario(governance),
    "ae_departure": Scenario(ae_departure),
    "deadline_extension": Scenario(deadline_extension),
    "pre_close_start": Scenario(pre_close_start),
    "continue_as_new": Scenario(continue_as_new, dev_server=True),
    "partner_check_failed": Scenario(partner_check_failed),
    "lost_while_onboarding": Scenario(lost_while_onboarding),
    "local_steps": Scenario(local_steps),
    "local_steps_pre_close": Scenario(local_steps_pre_close),
    "timers_never_cancelled": Scenario(timers_never_cancelled),
    "people_rules": Scenario(people_rules),
    "people_rules_returned": Scenario(people_rules_returned),
}


async def _start(client: Client, task_queue: str, start: HandoffInput) -> WorkflowHandle:
    return await client.start_workflow(
        DealHandoffWorkflow.run, start, id=f"baton-hubspot-{start.deal.deal_id}", task_queue=task_queue
    )


async def _lose(handle: WorkflowHandle) -> None:
    await handle.signal(DealHandoffWorkflow.stage_changed, StageChanged(stage="closedlost", kind=StageKind.LOST))
    await handle.result()


async def _has_csm(handle: WorkflowHandle) -> bool:
    return bool((await handle.query(DealHandoffWorkflow.state)).owners.csm)


async def _in_phase(handle: WorkflowHandle, phase: Phase) -> bool:
    return (await handle.query(DealHandoffWorkflow.state)).phase is phase


async def _settled(handle: WorkflowHandle, sla: SlaName) -> bool:
    return not (await handle.query(DealHandoffWorkflow.state)).deadlines[sla].open


async def _running(handle: WorkflowHandle) -> bool:
    await handle.describe()
    return True
