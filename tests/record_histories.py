"""Record the histories the replay test replays: `python -m tests.record_histories`.

Run it after a deliberate, versioned change to a workflow; the replay test then guards the new
shape. Each history is one realistic run on the time-skipping server.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.crm import CrmActivities
from activities.notify import NotifyActivities
from activities.notify_sinks import LogSink
from activities.report_activities import ReportActivities
from activities.store_activities import StoreActivities
from activities.usage import NoUsageSource, UsageActivities
from domain.ids import onboarding_workflow_id, post_check_workflow_id
from domain.messages import (
    FirstTouch,
    IntakeReviewInput,
    IntroAction,
    IntroUpdate,
    KickoffHeld,
    MilestoneReached,
    PostCheckAnswers,
    StageChanged,
)
from domain.policy import Milestone, Policy
from infra.search_attribute_setup import register_search_attributes
from infra.temporal_binaries import test_server_path
from infra.temporal_client import data_converter
from store.engine import make_engine
from store.migrate import upgrade
from tests.handoffs import GAPS_DOCUMENT, READY_DOCUMENT, deal
from worker.registry import WORKFLOW_RUNNER, WORKFLOWS, activities_of
from workflows.governance import GovernanceInput, MonthlyGovernanceWorkflow
from workflows.handoff import DealHandoffWorkflow, HandoffInput
from workflows.onboarding import OnboardingTransitionWorkflow
from workflows.post_check import PostHandoffCheckWorkflow

HISTORIES = Path(__file__).parent / "histories"


async def until(check, tries: int = 400) -> None:
    for _ in range(tries):
        try:
            if await check():
                return
        except Exception:  # not started yet
            pass
        await asyncio.sleep(0.02)
    raise TimeoutError("condition never held")


async def full_handoff(env: WorkflowEnvironment, client: Client, task_queue: str) -> list[WorkflowHandle]:
    now = await env.get_current_time()
    d = deal(closed_at=now)
    handle = await client.start_workflow(
        DealHandoffWorkflow.run,
        HandoffInput(deal=d, policy=Policy(), document=READY_DOCUMENT),
        id=f"baton-hubspot-{d.deal_id}",
        task_queue=task_queue,
    )
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
    return [handle, onboarding, check]


async def gaps_then_lost(env: WorkflowEnvironment, client: Client, task_queue: str) -> list[WorkflowHandle]:
    now = await env.get_current_time()
    d = deal(closed_at=now, acv=150_000)
    handle = await client.start_workflow(
        DealHandoffWorkflow.run,
        HandoffInput(deal=d, policy=Policy(), document=GAPS_DOCUMENT),
        id=f"baton-hubspot-{d.deal_id}",
        task_queue=task_queue,
    )
    await until(lambda: _has_csm(handle))
    await env.sleep(timedelta(days=4, hours=1))
    await handle.signal(DealHandoffWorkflow.stage_changed, StageChanged(stage="closedlost", kind="lost"))
    await handle.result()
    return [handle]


async def governance(env: WorkflowEnvironment, client: Client, task_queue: str) -> list[WorkflowHandle]:
    handle = await client.start_workflow(
        MonthlyGovernanceWorkflow.run, GovernanceInput(), id=f"governance-{uuid.uuid4().hex[:6]}", task_queue=task_queue
    )
    await handle.result()
    return [handle]


async def _has_csm(handle) -> bool:
    return bool((await handle.query(DealHandoffWorkflow.state)).owners.csm)


async def _running(handle) -> bool:
    await handle.describe()
    return True


async def record() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(), test_server_existing_path=test_server_path()
    )
    await register_search_attributes(env.client)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/record.db"
        upgrade(url)
        engine = make_engine(url)
        acts = activities_of(
            CrmActivities({}), NotifyActivities([LogSink()]), StoreActivities(engine), UsageActivities(NoUsageSource())
        )
        acts.append(ReportActivities(engine).governance)
        task_queue = f"record-{uuid.uuid4()}"
        with ThreadPoolExecutor(max_workers=4) as pool:
            async with Worker(
                env.client,
                task_queue=task_queue,
                workflows=WORKFLOWS,
                workflow_runner=WORKFLOW_RUNNER,
                activities=acts,
                activity_executor=pool,
            ):
                for name, scenario in (
                    ("full_handoff", full_handoff),
                    ("gaps_then_lost", gaps_then_lost),
                    ("governance", governance),
                ):
                    for handle in await scenario(env, env.client, task_queue):
                        history = await handle.fetch_history()
                        kind = history.events[0].workflow_execution_started_event_attributes.workflow_type.name
                        path = HISTORIES / f"{name}-{kind}.json"
                        # The workflow id is part of what replays (children's ids derive from it).
                        path.write_text(
                            json.dumps({"workflow_id": handle.id, "history": json.loads(history.to_json())})
                        )
                        print(f"recorded {path.name} ({len(history.events)} events)")
        engine.dispose()
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record())
    sys.stdout.flush()
    os._exit(0)  # sdk-python #300: the native bridge can crash at interpreter exit
