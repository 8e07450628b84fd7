"""The deal fetch and the CSM choice run as local activities: no workflow task of their own between
the won deal and the CSM's notice, and a read-model outage still delays the choice, never loses it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import ApplicationError

from activities.crm import CRM_REJECTED, FetchDeal, FetchedDeal
from activities.store_activities import STORE_REFUSED, AssignCsm, CsmChoice, StoreActivities
from domain.ids import handoff_workflow_id
from domain.policy import Policy
from domain.timeline import Kind
from store.engine import make_engine
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal, start_handoff
from tests.workers import handoff_worker, new_database
from workflows.handoff import PATCHES, DealHandoffWorkflow, HandoffInput
from workflows.handoff_effects import LOCAL_STEPS

pytestmark = pytest.mark.temporal


async def _csm_told(handle: WorkflowHandle, sink) -> None:
    async def told():
        state = await handle.query(DealHandoffWorkflow.state)
        assert state.owners.csm
        assert any(n.event == "csm_assigned" and n.workflow_id == handle.id for n in sink.sent)

    await assert_eventually(told)


def _markers(events, name: str) -> list[bytes]:
    """The raw details of every marker of that name (a local activity's holds its activity type)."""
    return [
        b"".join(p.SerializeToString() for payloads in e.marker_recorded_event_attributes.details.values()
                 for p in payloads.payloads)
        for e in events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED and e.marker_recorded_event_attributes.marker_name == name
    ]  # fmt: skip


async def test_a_new_handoff_fetches_and_chooses_its_csm_inside_workflow_tasks(rig_factory):
    async with rig_factory() as rig:
        the_deal = deal(closed_at=await rig.env.get_current_time())
        handle = await start_handoff(rig, the_deal, document=READY_DOCUMENT)
        await _csm_told(handle, rig.sink)

        events = [event async for event in handle.fetch_history_events()]
        scheduled = [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        assert "crm_fetch_deal" not in scheduled and "store_assign_csm" not in scheduled
        assert "notify" in scheduled  # the notices stay activities of their own
        local = _markers(events, "core_local_activity")
        assert sum(b"crm_fetch_deal" in m for m in local) == 1
        assert sum(b"store_assign_csm" in m for m in local) == 1
        patches = _markers(events, "core_patch")
        assert any(LOCAL_STEPS.encode() in m for m in patches)
        # Every patch is decided before the first local activity: what follows a local activity's result
        # can land in a later workflow task, where a patch consulted for the first time would replay
        # as unknown (a run split so failed to replay, under load, before this).
        for patch in PATCHES:
            assert sum(patch.encode() in m for m in patches) == 1, patch
        kinds = [
            e.marker_recorded_event_attributes.marker_name
            for e in events
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        ]
        assert kinds.index("core_local_activity") > max(i for i, kind in enumerate(kinds) if kind == "core_patch")
        # Before the first notice went out, one workflow task after the start did it all.
        first_notify = next(
            i for i, e in enumerate(events) if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        )
        completed = [e for e in events[:first_notify] if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]
        assert len(completed) == 1


class DatabaseDown:
    """The CSM choice while the read model is unreachable for the first `outage` attempts."""

    def __init__(self, store: StoreActivities, outage: int) -> None:
        self.store = store
        self.outage = outage
        self.attempts: list[int] = []

    @activity.defn(name="store_assign_csm")
    def assign_csm(self, request: AssignCsm) -> CsmChoice:
        self.attempts.append(activity.info().attempt)
        if len(self.attempts) <= self.outage:
            # What a lost connection raises: a plain error, so Temporal retries it.
            raise ConnectionError("could not connect to server: Connection refused")
        return self.store.assign_csm(request)


async def test_a_read_model_outage_delays_the_csm_choice_on_durable_timers_and_loses_nothing(env, tmp_path):
    url = new_database(tmp_path)
    engine = make_engine(url)
    down = DatabaseDown(StoreActivities(engine), outage=4)
    try:
        async with handoff_worker(env.client, url, replace=[down.assign_csm]) as worker:
            the_deal = deal(closed_at=await env.get_current_time())
            handle = await env.client.start_workflow(
                DealHandoffWorkflow.run,
                HandoffInput(deal=the_deal, policy=Policy(), document=READY_DOCUMENT),
                id=handoff_workflow_id(the_deal.crm, the_deal.deal_id),
                task_queue=worker.task_queue,
            )
            await assert_eventually(lambda: _attempted(down, 2))
            # Past the first retry the backoff waits on server timers: skip over them.
            await env.sleep(timedelta(minutes=1))
            await _csm_told(handle, worker.sink)

            assert down.attempts == [1, 2, 3, 4, 5]
            events = [event async for event in handle.fetch_history_events()]
            backoffs = [e for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
                        and e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta() <= timedelta(seconds=8)]  # fmt: skip
            assert len(backoffs) == 3  # 2 s, 4 s and 8 s: the first retry (1 s) ran in the worker
            state = await handle.query(DealHandoffWorkflow.state)
            assert [e.kind for e in state.timeline].count(Kind.CSM_ASSIGNED) == 1
            # No warning of the outage: the only one says the intro e-mail has no customer address.
            warnings = [e.details for e in state.timeline if e.kind is Kind.WARNING]
            assert [w.get("intro") for w in warnings] == ["intro_email"]
            await handle.terminate("test over")
    finally:
        engine.dispose()


def _attempted(down: DatabaseDown, count: int) -> None:
    assert len(down.attempts) >= count


@activity.defn(name="crm_fetch_deal")
async def crm_rejects(request: FetchDeal) -> FetchedDeal:
    raise ApplicationError("hubspot answered 404", non_retryable=True, type=CRM_REJECTED)


@activity.defn(name="store_assign_csm")
def store_refuses(request: AssignCsm) -> CsmChoice:
    raise ApplicationError("the read model refused this handoff's values", non_retryable=True, type=STORE_REFUSED)


async def test_a_step_that_gives_up_is_on_the_timeline_and_the_handoff_goes_on(rig_factory):
    async with rig_factory([crm_rejects, store_refuses]) as rig:
        the_deal = deal(closed_at=await rig.env.get_current_time())
        handle = await start_handoff(rig, the_deal, document=READY_DOCUMENT)

        async def both_noted():
            state = await handle.query(DealHandoffWorkflow.state)
            failed = [e.details for e in state.timeline if e.kind is Kind.CRM_WRITE_FAILED]
            warned = [e.details for e in state.timeline if e.kind is Kind.WARNING]
            assert [d["what"] for d in failed] == ["fetch deal"] and "404" in failed[0]["error"]
            assert [d["what"] for d in warned] == ["CSM assignment"]
            return state

        state = await assert_eventually(both_noted)
        assert state.deal.account == the_deal.account and not state.ended  # on the carried deal
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
