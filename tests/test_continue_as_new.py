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

        async def history(run_id: str) -> list:
            return [
                event
                async for event in env.client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history_events()
            ]

        def suggestion_at(events: list) -> int | None:
            return next(
                (
                    index
                    for index, event in enumerate(events)
                    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
                    and event.workflow_task_started_event_attributes.suggest_continue_as_new
                ),
                None,
            )

        async def change_goals() -> None:
            goals.append(f"Cut onboarding from 40 to {20 + len(goals)} days within two quarters.")
            await latest.execute_update(
                DealHandoffWorkflow.update_document, DocumentUpdate(fields=DocumentPatch(goals=goals[-1]))
            )

        # Each document change adds a handful of events; keep going until the server suggests moving on.
        for _ in range(40):
            await change_goals()
            if suggestion_at(await history(first_run)) is not None:
                break
        # A waiting handoff acts on the suggestion at its next event (a message or a timer): one more
        # message, then nothing, and the run must move on by itself, however slowly the machine drains it.
        if (await latest.describe()).run_id == first_run:
            await change_goals()

        async def moved_on():
            assert (await latest.describe()).run_id != first_run, "the run never continued as new"

        await assert_eventually(moved_on, timeout=30)
        first = await history(first_run)
        assert first[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        # Bounded: after the suggestion the run took at most the change it saw it with and the one that woke
        # it, and started no timer. Not a count of raw events: a loaded machine adds task timeouts.
        suggested = suggestion_at(first)
        assert suggested is not None
        after = [event.event_type for event in first[suggested:]]
        shown = [EventType.Name(kind) for kind in after]
        assert after.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) <= 2, shown
        assert EventType.EVENT_TYPE_TIMER_STARTED not in after, shown
        # Work in flight at the suggestion (the read-model writes) is finished, not dropped.
        scheduled = after.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        assert after.count(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) >= scheduled, shown

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
