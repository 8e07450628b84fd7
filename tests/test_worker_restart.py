"""A worker that stops mid-handoff: a fresh worker on the same task queue resumes every run."""

import uuid
from datetime import timedelta

from domain.messages import IntakeReviewInput, IntroAction, IntroUpdate
from domain.policy import Policy
from domain.roles import SlaName
from domain.state import DeadlineStatus
from domain.timeline import Kind
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal
from tests.workers import RecordingSink, handoff_worker, new_database
from workflows.handoff import DealHandoffWorkflow, HandoffInput


def worker(env, database_url, task_queue, sink):
    # No workflow cache: the second worker must rebuild each run from its history, as after a crash.
    return handoff_worker(env.client, database_url, task_queue=task_queue, sink=sink, max_cached_workflows=0)


async def idle(handle) -> None:
    # Stop the first worker between tasks: the time-skipping server keeps its clock locked for a task
    # handed to a worker that then went away, until that task times out.
    description = (await handle.describe()).raw_description
    assert not description.pending_activities and not description.HasField("pending_workflow_task")


async def test_a_new_worker_resumes_the_handoff(env, tmp_path):
    url = new_database(tmp_path)
    task_queue = f"restart-{uuid.uuid4()}"
    now = await env.get_current_time()
    d = deal(closed_at=now)
    first_sink = RecordingSink()
    async with worker(env, url, task_queue, first_sink):
        handle = await env.client.start_workflow(
            DealHandoffWorkflow.run,
            HandoffInput(deal=d, policy=Policy(), document=READY_DOCUMENT),
            id=f"baton-hubspot-{d.deal_id}",
            task_queue=task_queue,
        )

        async def assigned():
            state = await handle.query(DealHandoffWorkflow.state)
            assert state.owners.csm

        await assert_eventually(assigned)
        await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))
        await assert_eventually(lambda: idle(handle))

    second_sink = RecordingSink()
    async with worker(env, url, task_queue, second_sink):
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


async def test_a_continued_run_resumes_from_its_state(rig_factory, env):
    """Continue-as-new carries the whole state as one model: a run started from it goes on as before."""
    from tests.handoffs import start_handoff

    async with rig_factory() as rig:
        now = await env.get_current_time()
        d = deal(closed_at=now)
        first = await start_handoff(rig, d, document=READY_DOCUMENT)

        async def assigned():
            state = await first.query(DealHandoffWorkflow.state)
            assert state.owners.csm

        await assert_eventually(assigned)
        carried = await first.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))
        resumed = await env.client.start_workflow(
            DealHandoffWorkflow.run,
            HandoffInput(deal=carried.deal, policy=Policy(), resume=carried),
            # A second id beside the first run: terminating a run on the time-skipping server can
            # leave its clock locked, and the resume path is the same.
            id=f"{first.id}-continued",
            task_queue=rig.task_queue,
        )
        state = await resumed.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
        assert state.timeline[: len(carried.timeline)] == carried.timeline
        assert state.commission.released
        await env.sleep(timedelta(hours=49))
        state = await resumed.query(DealHandoffWorkflow.state)
        assert state.deadlines[SlaName.CS_FIRST_TOUCH].status is DeadlineStatus.BREACHED
        assert [e.kind for e in state.timeline].count(Kind.CSM_ASSIGNED) == 1
