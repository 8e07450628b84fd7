"""A handoff can run for months: when the server suggests it, the run continues as new with its whole
state, so its history never grows without bound. A real dev server, told to suggest it early."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType

from domain.document import DocumentPatch
from domain.ids import handoff_workflow_id
from domain.messages import DocumentUpdate
from domain.policy import Policy
from domain.timeline import Kind
from store.engine import session_scope
from store.tables import TimelineRow
from tests.conftest import assert_eventually
from tests.dev_server import dev_server, worker_stack
from tests.handoffs import deal
from workflows.handoff import DealHandoffWorkflow, HandoffInput

pytestmark = pytest.mark.temporal

SUGGEST_AFTER_EVENTS = 60


async def test_a_long_handoff_continues_as_new_keeping_its_state_and_its_timers(tmp_path):
    async with (
        dev_server("--dynamic-config-value", f"limit.historyCount.suggestContinueAsNew={SUGGEST_AFTER_EVENTS}") as env,
        worker_stack(env.client, tmp_path) as stack,
    ):
        won = deal(closed_at=datetime.now(UTC))
        workflow_id = handoff_workflow_id(won.crm, won.deal_id)
        handle = await env.client.start_workflow(
            DealHandoffWorkflow.run,
            HandoffInput(deal=won, policy=Policy()),
            id=workflow_id,
            task_queue=stack.task_queue,
        )
        first_run = handle.result_run_id
        latest = env.client.get_workflow_handle_for(DealHandoffWorkflow.run, workflow_id)

        async def begun():
            assert (await latest.query(DealHandoffWorkflow.state)).facts.won_at is not None

        await assert_eventually(begun, timeout=30)  # until then a change is refused: still starting
        goals = []
        # Each document change adds a handful of events; keep going until the run has moved on.
        for index in range(40):
            goals.append(f"Cut onboarding from 40 to {20 + index} days within two quarters.")
            await latest.execute_update(
                DealHandoffWorkflow.update_document, DocumentUpdate(fields=DocumentPatch(goals=goals[-1]))
            )
            if (await latest.describe()).run_id != first_run:
                break
        described = await latest.describe()
        assert described.run_id != first_run, "the run never continued as new"

        first = [
            event
            async for event in env.client.get_workflow_handle(workflow_id, run_id=first_run).fetch_history_events()
        ]
        assert first[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        # Bounded: once the run has seen the suggestion it starts no new work (no activity, no timer) and
        # continues as new as soon as the work in flight is done. Not a count of raw events: a loaded
        # machine adds task timeouts, and the messages this test keeps sending while the run drains.
        suggested = next(
            index
            for index, event in enumerate(first)
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
            and event.workflow_task_started_event_attributes.suggest_continue_as_new
        )
        after = [event.event_type for event in first[suggested:]]
        seen = after.index(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)  # the task that saw the suggestion
        new_work = {EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_TIMER_STARTED}
        assert not new_work & set(after[seen + 1 :]), [EventType.Name(kind) for kind in after]
        in_flight = after.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        assert after.count(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) >= in_flight  # drained, not dropped

        async def carried():
            state = await latest.query(DealHandoffWorkflow.state)
            assert state.document.goals == goals[-1]
            return state

        state = await assert_eventually(carried, timeout=30)
        # The new run keeps the SLA deadlines (its timers) and the timeline from before.
        assert state.deadlines and state.facts.won_at is not None
        assert state.timeline[0].kind is Kind.STARTED and state.timeline[0].seq == 1
        # And it goes on working: one more change lands on the new run.
        goals.append("Cut onboarding from 40 to 15 days within two quarters.")
        after = await latest.execute_update(
            DealHandoffWorkflow.update_document, DocumentUpdate(fields=DocumentPatch(goals=goals[-1]))
        )
        assert after.document.goals == goals[-1]
        assert after.timeline[-1].seq > state.timeline[-1].seq

        # The read model holds every timeline entry of both runs, none lost at the hand-over.
        def recorded():
            with session_scope(stack.engine) as session:
                seqs = session.scalars(select(TimelineRow.seq).where(TimelineRow.workflow_id == workflow_id)).all()
            assert sorted(seqs) == [entry.seq for entry in after.timeline]

        await assert_eventually(recorded, timeout=30)
