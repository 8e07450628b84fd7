"""The rules count whole seconds while the server's clock has fractions: a deadline due part-way
through a second must fire when the rules reach it, not spin the run until the deadlock detector
fails its workflow task (a close in milliseconds, as HubSpot and the API's learned instant give)."""

from datetime import timedelta

from temporalio.api.enums.v1 import EventType

from domain.roles import SlaName
from domain.state import DeadlineStatus
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal, start_handoff
from tests.test_handoff_slas import started
from workflows.handoff import DealHandoffWorkflow


async def test_a_deadline_due_part_way_through_a_second_fires_without_a_failed_task(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        # 700 ms past a whole second: every deadline measured from it in clock hours keeps the fraction.
        closed = now.replace(microsecond=700_000) + timedelta(seconds=1)
        handle = await start_handoff(rig, deal(closed_at=closed), document=READY_DOCUMENT)
        state = await assert_eventually(lambda: started(handle))
        assert state.deadlines[SlaName.CSM_BRIEFED].due.microsecond == 700_000
        await env.sleep(closed + timedelta(hours=49) - await env.get_current_time())
        state = await handle.query(DealHandoffWorkflow.state)
        assert state.deadlines[SlaName.CSM_BRIEFED].status is DeadlineStatus.BREACHED
        history = await handle.fetch_history()
        failed = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
        assert failed == []
