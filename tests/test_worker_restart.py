"""A worker that stops mid-handoff: a fresh worker on the same task queue resumes every run."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.worker import Worker

from activities.crm import CrmActivities
from activities.notify import NotifyActivities
from activities.notify_sinks import LogSink
from activities.store_activities import StoreActivities
from activities.usage import NoUsageSource, UsageActivities
from domain.messages import IntakeReviewInput, IntroAction, IntroUpdate
from domain.policy import Policy
from domain.roles import SlaName
from domain.state import DeadlineStatus
from domain.timeline import Kind
from store.engine import make_engine
from store.migrate import upgrade
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal
from worker.registry import WORKFLOWS, activities_of
from workflows.handoff import DealHandoffWorkflow, HandoffInput


def worker(env, task_queue, engine, sink, pool):
    acts = activities_of(CrmActivities({}), NotifyActivities([sink]), StoreActivities(engine), UsageActivities(NoUsageSource()))
    # No workflow cache: the second worker must rebuild each run from its history, as after a crash.
    return Worker(env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=acts, activity_executor=pool,
                  max_cached_workflows=0)


async def test_a_new_worker_resumes_the_handoff(env, tmp_path):
    url = f"sqlite:///{tmp_path}/restart.db"
    upgrade(url)
    engine = make_engine(url)
    task_queue = f"restart-{uuid.uuid4()}"
    now = await env.get_current_time()
    d = deal(closed_at=now)
    with ThreadPoolExecutor(max_workers=4) as pool:
        first_sink = LogSink()
        async with worker(env, task_queue, engine, first_sink, pool):
            handle = await env.client.start_workflow(
                DealHandoffWorkflow.run, HandoffInput(deal=d, policy=Policy(), document=READY_DOCUMENT),
                id=f"baton-hubspot-{d.deal_id}", task_queue=task_queue,
            )

            async def assigned():
                state = await handle.query(DealHandoffWorkflow.state)
                assert state.owners.csm
            await assert_eventually(assigned)
            await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))

        second_sink = LogSink()
        async with worker(env, task_queue, engine, second_sink, pool):
            state = await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
            assert state.deadlines[SlaName.CSM_BRIEFED].status is DeadlineStatus.MET
            assert state.commission.released
            await env.sleep(timedelta(hours=49))
            state = await handle.query(DealHandoffWorkflow.state)
            # The timer set under the first worker fired under the second one.
            assert state.deadlines[SlaName.CS_FIRST_TOUCH].status is DeadlineStatus.BREACHED
            assert [e.kind for e in state.timeline].count(Kind.CSM_ASSIGNED) == 1
            keys = [n.key for n in first_sink.sent + second_sink.sent]
            assert len(keys) == len(set(keys)), "a notification was sent twice"
            assert "escalated" in [n.event for n in second_sink.sent]
    engine.dispose()
