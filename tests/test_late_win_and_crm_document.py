"""A win recorded days late starts its SLA clocks when Baton learns of it (no escalation storm), and
document fields written in the CRM reach the running handoff without submitting it (issue 12, 3 and 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio import activity

from activities.crm import FetchDeal, FetchedDeal
from domain.crm_fields import CrmDocumentChange
from domain.document import DocumentPatch
from domain.handoff_input import HandoffInput
from domain.ids import handoff_workflow_id
from domain.policy import Policy, parse_policy
from domain.roles import SlaName
from domain.timeline import Kind
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal
from workflows.handoff import DealHandoffWorkflow

pytestmark = pytest.mark.temporal


async def start(rig, late_deal, policy: Policy, learned_at, **extra):
    workflow_id = handoff_workflow_id(late_deal.crm, late_deal.deal_id)
    rig.started.append(workflow_id)
    return await rig.client.start_workflow(
        DealHandoffWorkflow.run,
        HandoffInput(deal=late_deal, policy=policy, learned_at=learned_at, **extra),
        id=workflow_id,
        task_queue=rig.task_queue,
    )


async def started(handle):
    state = await handle.query(DealHandoffWorkflow.state)
    assert state.deadlines
    return state


async def test_a_win_marked_five_days_late_escalates_nobody_at_once(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        late = deal(closed_at=now - timedelta(days=5))
        handle = await start(rig, late, parse_policy(None), learned_at=now)
        state = await assert_eventually(lambda: started(handle))
        # later_of (the default for new policies): every close-anchored clock starts when Baton learned.
        first_touch = state.deadlines[SlaName.CS_FIRST_TOUCH]
        assert first_touch.due > now
        assert not [e for e in state.timeline if e.kind in (Kind.SLA_BREACHED, Kind.ESCALATED)]
        set_entries = [e for e in state.timeline if e.kind is Kind.DEADLINE_SET]
        assert set_entries and all(e.details["start"] == "learned" for e in set_entries)
        assert all(e.details["start_rule"] == "later_of" for e in set_entries)


async def test_a_snapshot_without_the_key_measures_from_the_close_as_before(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        late = deal(closed_at=now - timedelta(days=5))
        handle = await start(rig, late, Policy(), learned_at=now)  # Policy(): no sla_start, like old snapshots
        state = await assert_eventually(lambda: started(handle))
        assert state.deadlines[SlaName.CS_FIRST_TOUCH].due < now
        assert all(e.details["start"] == "close" for e in state.timeline if e.kind is Kind.DEADLINE_SET)


async def test_crm_document_fields_change_the_document_and_never_submit_it(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        crm_goals = DocumentPatch(goals=READY_DOCUMENT.goals)
        handle = await start(rig, deal(closed_at=now), parse_policy(None), learned_at=now, crm_document=crm_goals)
        state = await assert_eventually(lambda: started(handle))
        assert state.document.goals == READY_DOCUMENT.goals and state.facts.submitted_at is None

        await handle.signal(
            DealHandoffWorkflow.crm_document_changed,
            CrmDocumentChange(fields=DocumentPatch(risks=READY_DOCUMENT.risks)),
        )

        async def risks_in():
            current = await handle.query(DealHandoffWorkflow.state)
            assert current.document.risks == READY_DOCUMENT.risks
            return current

        state = await assert_eventually(risks_in)
        assert state.facts.submitted_at is None
        everything = DocumentPatch.model_validate(READY_DOCUMENT.model_dump())
        await handle.signal(DealHandoffWorkflow.crm_document_changed, CrmDocumentChange(fields=everything, submit=True))

        async def submitted():
            current = await handle.query(DealHandoffWorkflow.state)
            assert current.facts.submitted_at is not None
            return current

        await assert_eventually(submitted)


def fetch_returning(document: DocumentPatch, submitted: bool):
    """The CRM fetch, as a CRM whose mapped properties hold this document would answer it."""

    @activity.defn(name="crm_fetch_deal")
    async def fetch(request: FetchDeal) -> FetchedDeal:
        return FetchedDeal(**request.deal.model_dump(), crm_document=document, crm_submitted=submitted)

    return fetch


@pytest.mark.parametrize("submitted", [False, True])
async def test_a_document_read_at_the_fetch_submits_only_when_the_crm_says_so(rig_factory, env, submitted):
    whole = DocumentPatch.model_validate(READY_DOCUMENT.model_dump())
    async with rig_factory(activities_override=[fetch_returning(whole, submitted)]) as rig:
        now = await env.get_current_time()
        handle = await start(rig, deal(closed_at=now), parse_policy(None), learned_at=now)
        state = await assert_eventually(lambda: started(handle))
        assert state.document.goals == READY_DOCUMENT.goals
        assert (state.facts.submitted_at is not None) is submitted


async def test_a_win_reaching_a_pre_close_run_carries_its_crm_document_fields(rig_factory, env):
    """The won event of a run started before the close carries the document fields its CRM properties
    map to (they were lost before: only a new run's input had them); they never submit by themselves."""
    from domain.messages import StageChanged
    from domain.stages import StageKind

    async with rig_factory() as rig:
        now = await env.get_current_time()
        early = deal(closed_at=None, acv=150_000)
        handle = await start(rig, early, parse_policy(None), learned_at=None, won=False)

        async def pre_close():
            state = await handle.query(DealHandoffWorkflow.state)
            assert state.phase.value == "pre_close"

        await assert_eventually(pre_close)
        won = early.model_copy(update={"closed_at": now})
        crm_goals = DocumentPatch(goals=READY_DOCUMENT.goals, risks=READY_DOCUMENT.risks)
        await handle.signal(
            DealHandoffWorkflow.stage_changed,
            StageChanged(stage="closedwon", kind=StageKind.WON, deal=won, at=now, crm_document=crm_goals),
        )

        async def won_with_goals():
            state = await handle.query(DealHandoffWorkflow.state)
            assert state.facts.won_at is not None
            assert (state.document.goals, state.document.risks) == (READY_DOCUMENT.goals, READY_DOCUMENT.risks)
            return state

        state = await assert_eventually(won_with_goals)
        assert state.facts.submitted_at is None
        [changed] = [e for e in state.timeline if e.kind is Kind.MESSAGE and e.details.get("by") == "crm"]
        assert changed.details["fields"] == ["goals", "risks"]
