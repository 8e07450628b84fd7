"""Tier gates, approaches, AE departure, deal lost, commission: each on the time-skipping server."""

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.document import DocumentPatch, HandoffDocument
from domain.messages import (
    AeDeparture,
    CsmAssignment,
    DocumentUpdate,
    IntakeReviewInput,
    IntroAction,
    IntroUpdate,
    StageChanged,
)
from domain.policy import Policy
from domain.roles import SlaName
from domain.state import DeadlineStatus, Outcome, Phase
from domain.timeline import Kind
from tests.conftest import assert_eventually
from tests.handoffs import GAPS_DOCUMENT, READY_DOCUMENT, deal, start_handoff
from workflows.handoff import DealHandoffWorkflow


async def settled(handle, check=lambda s: True):
    async def poll():
        state = await handle.query(DealHandoffWorkflow.state)
        assert state.quality is not None and check(state)
        return state

    return await assert_eventually(poll)


def kinds(state):
    return [entry.kind for entry in state.timeline]


def events(rig):
    return [n.event for n in rig.sink.sent]


async def test_blocked_document_returns_to_sales_and_escalates(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        thin = HandoffDocument(goals="TBD", scope="Platform")
        handle = await start_handoff(rig, deal(closed_at=now), document=thin)
        state = await settled(handle, lambda s: s.returned_to_sales)
        assert state.quality.tier.value == "blocked"
        assert state.phase is Phase.DOCUMENTING
        assert [(e.sla, e.to.value) for e in state.escalations] == [(SlaName.AE_FOLLOW_UP, "sales_manager")]
        await assert_eventually(lambda: _assert_in("escalated", events(rig)))
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=3))
        assert "not submitted" in str(err.value.cause)
        # The AE completes it and resubmits: the handoff proceeds to intake.
        patch = DocumentPatch(**READY_DOCUMENT.model_dump())
        state = await handle.execute_update(
            DealHandoffWorkflow.update_document, DocumentUpdate(fields=patch, submit=True)
        )
        assert not state.returned_to_sales and state.phase is Phase.INTAKE_REVIEW
        assert state.quality.tier.value == "ready"


async def test_gaps_flag_the_csm_and_start_the_ae_follow_up(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=GAPS_DOCUMENT)
        state = await settled(handle, lambda s: SlaName.AE_FOLLOW_UP in s.deadlines)
        assert state.quality.tier.value == "gaps" and state.phase is Phase.INTAKE_REVIEW
        submitted = state.facts.submitted_at
        assert state.deadlines[SlaName.AE_FOLLOW_UP].due == submitted + timedelta(hours=24)
        await assert_eventually(lambda: _assert_in("gaps_flagged", events(rig)))
        flagged = next(n for n in rig.sink.sent if n.event == "gaps_flagged")
        assert set(flagged.details["missing"]) >= {"risks", "communication_preferences", "success_criteria"}
        # The AE fills the gaps within 24h: the follow-up is met.
        fix = DocumentPatch(
            risks=READY_DOCUMENT.risks,
            communication_preferences=READY_DOCUMENT.communication_preferences,
            success_criteria=READY_DOCUMENT.success_criteria,
        )
        state = await handle.execute_update(DealHandoffWorkflow.update_document, DocumentUpdate(fields=fix))
        assert state.quality.tier.value == "ready"
        assert state.deadlines[SlaName.AE_FOLLOW_UP].status is DeadlineStatus.MET


async def test_gaps_left_open_breach_the_follow_up(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=GAPS_DOCUMENT)
        await settled(handle, lambda s: SlaName.AE_FOLLOW_UP in s.deadlines)
        await env.sleep(timedelta(hours=25))
        state = await handle.query(DealHandoffWorkflow.state)
        assert state.deadlines[SlaName.AE_FOLLOW_UP].status is DeadlineStatus.BREACHED
        assert any(e.sla is SlaName.AE_FOLLOW_UP and e.to.value == "sales_manager" for e in state.escalations)


@pytest.mark.parametrize(
    ("fields", "approach", "has_intro", "extra"),
    [
        ({"acv": 8_000}, "automated", False, set()),
        ({"acv": 50_000}, "structured", True, set()),
        (
            {"acv": 250_000, "executive_sponsor": "Priya Raman", "implementation_owner": "Olu Ade"},
            "white_glove",
            True,
            {"impl_owner_contact"},
        ),
        ({"acv": 60_000, "deal_type": "expansion"}, "internal", False, set()),
        ({"acv": 60_000, "channel_partner": "Northwind Partners"}, "partner_mediated", True, {"partner_check"}),
    ],
)
async def test_each_approach_runs_its_slas(rig_factory, env, fields, approach, has_intro, extra):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now, **fields), document=READY_DOCUMENT)
        state = await settled(handle, lambda s: s.owners.csm)
        assert state.approach.approach.value == approach
        slas = {sla.value for sla in state.deadlines}
        assert ("intro_scheduled" in slas) is has_intro
        assert extra <= slas
        if approach == "partner_mediated":
            assert state.deadlines[SlaName.CSM_BRIEFED].due == now + timedelta(hours=72)
        else:
            assert state.deadlines[SlaName.CSM_BRIEFED].due == now + timedelta(hours=48)
        if approach == "internal":
            assert "stakeholders" not in {f.value for f in state.quality.fields}
        team = {"automated": "scale", "white_glove": "enterprise"}.get(approach, "mid-market")
        assert state.owners.cs_team == team
        if not has_intro:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
            assert "no intro meeting" in str(err.value.cause)
        if approach == "automated":
            await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))
            await assert_eventually(lambda: _assert_in("welcome_sequence", events(rig)))


async def test_ae_departure_needs_a_recovery_owner_within_7_days(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=READY_DOCUMENT)
        await settled(handle)
        state = await handle.execute_update(DealHandoffWorkflow.ae_departure, AeDeparture(by="sm@example.com"))
        assert state.deadlines[SlaName.RECOVERY_OWNER].due == state.facts.ae_departed_at + timedelta(days=7)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(DealHandoffWorkflow.ae_departure, AeDeparture())
        await env.sleep(timedelta(days=7, hours=1))
        state = await handle.query(DealHandoffWorkflow.state)
        assert state.deadlines[SlaName.RECOVERY_OWNER].status is DeadlineStatus.BREACHED
        assert any(e.sla is SlaName.RECOVERY_OWNER and e.to.value == "vp_sales" for e in state.escalations)


async def test_recovery_owner_assigned_meets_the_sla(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=READY_DOCUMENT)
        await settled(handle)
        await handle.execute_update(DealHandoffWorkflow.ae_departure, AeDeparture())
        state = await handle.execute_update(
            DealHandoffWorkflow.ae_departure, AeDeparture(recovery_owner="peer-ae@example.com")
        )
        assert state.owners.recovery_owner == "peer-ae@example.com"
        assert state.deadlines[SlaName.RECOVERY_OWNER].status is DeadlineStatus.MET
        await assert_eventually(lambda: _assert_in("recovery_owner_assigned", events(rig)))


async def test_deal_lost_ends_the_handoff_and_refuses_messages(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        d = deal(closed_at=now, acv=150_000)
        policy = Policy.model_validate({"stages": {"pre_close": {"hubspot": ["contractsent"]}}})
        handle = await start_handoff(rig, d, policy=policy, won=False)
        state = await settled(handle, lambda s: s.owners.csm)
        assert state.phase is Phase.PRE_CLOSE and not state.deadlines  # CSM named before close, no SLA yet
        await handle.signal(DealHandoffWorkflow.stage_changed, StageChanged(stage="closedlost", kind="lost"))
        result = await handle.result()
        assert result.outcome is Outcome.LOST and result.phase is Phase.CLOSED
        assert Kind.CLOSED in kinds(result)


async def test_pre_close_run_advances_when_won(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=None, acv=150_000), won=False)
        await settled(handle, lambda s: s.owners.csm)
        won = deal(closed_at=now, acv=150_000)
        await handle.signal(
            DealHandoffWorkflow.stage_changed,
            StageChanged(
                stage="closedwon",
                kind="won",
                deal=won.model_copy(update={"deal_id": (await handle.query(DealHandoffWorkflow.state)).deal.deal_id}),
            ),
        )
        state = await settled(handle, lambda s: s.phase is Phase.DOCUMENTING)
        assert state.deadlines[SlaName.CSM_BRIEFED].due == now + timedelta(hours=48)
        # The named CSM stays: assignment is not repeated.
        assert [e.kind for e in state.timeline].count(Kind.CSM_ASSIGNED) == 1


async def test_lead_assignment_overrides_and_is_recorded(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=READY_DOCUMENT)
        first = await settled(handle, lambda s: s.owners.csm)
        state = await handle.execute_update(
            DealHandoffWorkflow.assign_csm, CsmAssignment(csm="csm-star", team="mid-market", by="lead@x.com")
        )
        assert state.owners.csm == "csm-star"
        assigned = [e for e in state.timeline if e.kind is Kind.CSM_ASSIGNED]
        assert assigned[-1].details == {
            "csm": "csm-star",
            "team": "mid-market",
            "by": "lead@x.com",
            "previous": first.owners.csm,
        }


@pytest.mark.parametrize("release", [True, False])
async def test_commission_released_when_ready_rated_and_intro_scheduled(rig_factory, env, release):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        policy = Policy.model_validate({"commission": {"release": release}})
        handle = await start_handoff(rig, deal(closed_at=now), policy=policy, document=READY_DOCUMENT)
        await settled(handle)
        state = await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
        assert not state.commission.released  # no rating yet
        state = await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=2, accept=True))
        assert not state.commission.released  # rated below the policy's 3
        assert Kind.COMMISSION_RELEASED not in kinds(state) and Kind.COMMISSION_HELD not in kinds(state)


async def test_commission_release_on_a_satisfactory_rating(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        off = Policy.model_validate({"commission": {"release": False}})
        for policy, kind in ((Policy(), Kind.COMMISSION_RELEASED), (off, Kind.COMMISSION_HELD)):
            handle = await start_handoff(rig, deal(closed_at=now), policy=policy, document=READY_DOCUMENT)
            await settled(handle)
            await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=3))
            state = await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
            assert kind in kinds(state)


async def test_messages_after_close_are_refused(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=READY_DOCUMENT)
        await settled(handle)
        await handle.signal(DealHandoffWorkflow.stage_changed, StageChanged(stage="closedlost", kind="lost"))
        await handle.result()
        rig.started.remove(handle.id)


def _assert_in(item, items):
    assert item in items, items
