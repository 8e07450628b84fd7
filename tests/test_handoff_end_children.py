"""A lost deal ends the children still running; a child already gone is nothing to end.

The second case runs on a dev server: the time-skipping server never answers a request to cancel a run
that has closed or never existed, where a real server answers "not found".
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from domain.ids import handoff_workflow_id, onboarding_workflow_id
from domain.machine import HandoffMachine
from domain.messages import StageChanged
from domain.policy import Policy
from domain.stages import StageKind
from domain.state import ChildKind, Outcome
from domain.timeline import Kind
from tests.dev_server import dev_server, worker_stack
from tests.handoffs import READY_DOCUMENT, deal
from workflows.handoff import DealHandoffWorkflow, HandoffInput

pytestmark = pytest.mark.temporal


async def test_a_child_already_gone_does_not_hold_up_a_lost_handoff(tmp_path):
    now = datetime.now(UTC)
    won = deal(closed_at=now)
    workflow_id = handoff_workflow_id(won.crm, won.deal_id)
    # A handoff whose onboarding child is, as far as it knows, still running, though no such run exists
    # any more (it finished and its history passed retention before its last signal arrived).
    machine = HandoffMachine.new(workflow_id, won, Policy())
    machine.start(won, READY_DOCUMENT, won=True, now=now)
    machine.child_started(ChildKind.ONBOARDING, onboarding_workflow_id(workflow_id), now)
    async with dev_server() as env, worker_stack(env.client, tmp_path) as stack:
        handle = await env.client.start_workflow(
            DealHandoffWorkflow.run,
            HandoffInput(deal=won, policy=Policy(), resume=machine.state),
            id=workflow_id,
            task_queue=stack.task_queue,
        )
        await handle.signal(DealHandoffWorkflow.stage_changed, StageChanged(stage="closedlost", kind=StageKind.LOST))
        # Had the "not found" answer failed the workflow task, the run would retry it and never close.
        async with asyncio.timeout(30):
            state = await handle.result()
    # The run closed (its deal_lost notice, resolved as it closed, follows the entry).
    rules = [e.kind for e in state.timeline if e.kind not in (Kind.NOTIFIED, Kind.RECIPIENT_UNRESOLVED)]
    assert state.outcome is Outcome.LOST and rules[-1] is Kind.CLOSED
