"""The workflow's own edges on the time-skipping server: a stage change while the deal is still being
fetched, a lost deal while both children run, no CSM available, a child's finish delivered twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from activities.crm import FetchDeal
from domain.deal import Deal
from domain.ids import post_check_workflow_id
from domain.messages import ChildFinished, CsmAssignment, IntakeReviewInput, StageChanged
from domain.onboarding_policy import Milestone
from domain.policy import Policy
from domain.roles import Role, SlaName
from domain.stages import StageKind
from domain.state import ChildKind, Outcome, Phase
from domain.timeline import Kind
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal, start_handoff
from tests.test_handoff_children import reach, to_onboarding
from workflows.handoff import DealHandoffWorkflow

pytestmark = pytest.mark.temporal

LOST = StageChanged(stage="closedlost", kind=StageKind.LOST)


# The fetch is a local activity: held, it keeps its workflow task open, and the worker heartbeats that
# task at 80% of its timeout; what waits on the run (a query, a signal) waits that long each time.
HELD = timedelta(seconds=2)


def held_fetch() -> tuple[asyncio.Event, asyncio.Event, object]:
    """A CRM fetch that stays in flight until the test releases it: `fetching` is set once it runs."""
    fetching, release = asyncio.Event(), asyncio.Event()

    @activity.defn(name="crm_fetch_deal")
    async def fetch_deal(request: FetchDeal) -> Deal:
        fetching.set()
        await release.wait()
        return request.deal

    return fetching, release, fetch_deal


async def test_a_loss_signalled_while_the_deal_is_fetched_ends_the_handoff_once_it_begins(rig_factory, env):
    fetching, release, fetch_deal = held_fetch()
    async with rig_factory(activities_override=[fetch_deal]) as rig:
        handle = await start_handoff(
            rig, deal(closed_at=await env.get_current_time()), document=READY_DOCUMENT, task_timeout=HELD
        )
        await asyncio.wait_for(fetching.wait(), timeout=10)
        # People's messages wait for the start; the CRM's signal is kept for it.
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))
        assert "still starting" in str(err.value.cause)
        await handle.signal(DealHandoffWorkflow.stage_changed, LOST)
        release.set()
        result = await handle.result()
        assert result.outcome is Outcome.LOST and result.phase is Phase.CLOSED
        kinds = [e.kind for e in result.timeline]
        assert kinds.index(Kind.STARTED) < kinds.index(Kind.DEADLINE_CANCELLED) < kinds.index(Kind.CLOSED)


async def test_a_win_signalled_while_a_pre_close_deal_is_fetched_starts_its_slas(rig_factory, env):
    fetching, release, fetch_deal = held_fetch()
    async with rig_factory(activities_override=[fetch_deal]) as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=None, acv=150_000), won=False, task_timeout=HELD)
        await asyncio.wait_for(fetching.wait(), timeout=10)
        state = await handle.query(DealHandoffWorkflow.state)
        won = state.deal.model_copy(update={"closed_at": now})
        await handle.signal(
            DealHandoffWorkflow.stage_changed, StageChanged(stage="closedwon", kind=StageKind.WON, deal=won)
        )
        release.set()

        async def documenting():
            state = await handle.query(DealHandoffWorkflow.state)
            assert state.phase is Phase.DOCUMENTING and state.owners.csm
            return state

        state = await assert_eventually(documenting)
        assert state.deadlines[SlaName.CSM_BRIEFED].due == now + timedelta(hours=48)
        assert [e.details["pre_close"] for e in state.timeline if e.kind is Kind.STARTED] == [True]


async def test_a_lost_deal_cancels_both_running_children(rig_factory, env):
    async with rig_factory() as rig:
        # Milestones alone hand over: onboarding is still running when the 30-day check starts.
        policy = Policy.model_validate({"onboarding": {"trigger": "milestone"}})
        _, handle, onboarding = await to_onboarding(rig, env, policy)
        check = rig.client.get_workflow_handle(post_check_workflow_id(handle.id))
        await env.sleep(timedelta(days=30, hours=1))

        async def both_running():
            assert (await check.describe()).status is WorkflowExecutionStatus.RUNNING
            assert (await onboarding.describe()).status is WorkflowExecutionStatus.RUNNING

        await assert_eventually(both_running)
        await handle.signal(DealHandoffWorkflow.stage_changed, LOST)

        # Polled with describe, not awaited with result(): awaiting a result lets the test server skip
        # time, and it may then jump to the check's 7-day answer window while a cancel is in flight.
        async def all_closed():
            assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
            assert (await check.describe()).status is WorkflowExecutionStatus.CANCELED
            assert (await onboarding.describe()).status is WorkflowExecutionStatus.CANCELED

        await assert_eventually(all_closed)
        result = await handle.result()
        assert result.outcome is Outcome.LOST
        assert not [e for e in result.timeline if e.kind is Kind.CHILD_FINISHED]


async def test_no_csm_available_escalates_to_the_cs_manager_and_a_lead_can_still_assign(rig_factory, env):
    policy = Policy.model_validate(
        {
            "teams": [
                {
                    "name": "mid-market",
                    "approaches": ["structured"],
                    "csms": [{"id": "csm-full", "capacity": 0}],
                    "manager": "carla@example.com",
                }
            ]
        }
    )
    async with rig_factory() as rig:
        handle = await start_handoff(rig, deal(closed_at=await env.get_current_time()), policy, READY_DOCUMENT)

        async def escalated():
            state = await handle.query(DealHandoffWorkflow.state)
            assert [(e.sla, e.to, e.person) for e in state.escalations] == [
                (SlaName.CSM_BRIEFED, Role.CS_MANAGER, "carla@example.com")
            ]
            return state

        state = await assert_eventually(escalated)
        assert state.owners.csm == ""
        [warning] = [e for e in state.timeline if e.kind is Kind.WARNING]
        assert "csm-full at capacity (0/0)" in warning.details["message"]
        await assert_eventually(lambda: _sent_to(rig, "escalated", "carla@example.com"))
        state = await handle.execute_update(DealHandoffWorkflow.assign_csm, CsmAssignment(csm="csm-lent", by="lead"))
        assert state.owners.csm == "csm-lent" and state.owners.cs_team == "mid-market"


async def test_a_childs_finish_delivered_twice_is_recorded_once_and_the_handoff_carries_on(rig_factory, env):
    async with rig_factory() as rig:
        _, handle, onboarding = await to_onboarding(rig, env)
        await reach(onboarding, *Milestone)

        async def transitioned():
            state = await handle.query(DealHandoffWorkflow.state)
            assert state.phase is Phase.TRANSITIONED
            return state

        state = await assert_eventually(transitioned)
        child = state.children["onboarding"]
        again = ChildFinished(kind=ChildKind.ONBOARDING, workflow_id=child.workflow_id, passed=False, summary={})
        await handle.signal(DealHandoffWorkflow.child_finished, again)

        async def ignored():
            state = await handle.query(DealHandoffWorkflow.state)
            [entry] = [e for e in state.timeline if e.kind is Kind.MESSAGE_IGNORED]
            assert entry.details == {
                "message": "child_finished",
                "child": "onboarding",
                "reason": "unknown or repeated",
            }
            return state

        state = await assert_eventually(ignored)
        assert state.children["onboarding"] == child and state.phase is Phase.TRANSITIONED
        assert [e.kind for e in state.timeline].count(Kind.CHILD_FINISHED) == 1
        assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING


def _sent_to(rig, event: str, person: str) -> None:
    assert any(n.event == event and person in n.to for n in rig.sink.sent), [n.event for n in rig.sink.sent]
