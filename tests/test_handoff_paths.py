"""Tier gates, approaches, AE departure, deal lost, commission: each on the time-skipping server."""

import asyncio
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities.crm import CommissionRelease, CrmWriteResult
from domain.document import DocumentPatch, HandoffDocument
from domain.errors import ErrorType
from domain.messages import (
    AeDeparture,
    CsmAssignment,
    DeadlineExtension,
    DocumentUpdate,
    FirstTouch,
    IntakeReviewInput,
    IntroAction,
    IntroUpdate,
    KickoffHeld,
    StageChanged,
)
from domain.notifications import Delivery, Notification
from domain.policy import Policy
from domain.roles import SlaName
from domain.stages import StageKind
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
            # Briefed: the welcome sequence starts, to the document's contacts with an address; this
            # document has none, which the timeline says (nothing reaches a contact without one).
            state = await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))
            warned = [e.details for e in state.timeline if e.kind is Kind.WARNING]
            assert [w.get("intro") for w in warned] == ["welcome_sequence"]


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
    held = HeldNotices("deal_lost")
    async with rig_factory(activities_override=[held.notify]) as rig:
        now = await env.get_current_time()
        d = deal(closed_at=now, acv=150_000)
        policy = Policy.model_validate({"stages": {"pre_close": {"hubspot": ["contractsent"]}}})
        handle = await start_handoff(rig, d, policy=policy, won=False)
        state = await settled(handle, lambda s: s.owners.csm)
        assert state.phase is Phase.PRE_CLOSE and not state.deadlines  # CSM named before close, no SLA yet
        await handle.signal(DealHandoffWorkflow.stage_changed, StageChanged(stage="closedlost", kind=StageKind.LOST))
        await settled(handle, lambda s: s.phase is Phase.CLOSED)
        # The run is still open (its last notice is held) but the handoff has ended: a person's message is
        # refused, and a late won from the CRM is recorded and ignored.
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                DealHandoffWorkflow.update_document, DocumentUpdate(fields=DocumentPatch(goals="Cut churn by 5%"))
            )
        assert err.value.cause.type == ErrorType.CLOSED.value
        await handle.signal(
            DealHandoffWorkflow.stage_changed, StageChanged(stage="closedwon", kind=StageKind.WON, deal=d)
        )
        await settled(handle, lambda s: s.timeline[-1].kind is Kind.MESSAGE_IGNORED)
        held.release.set()
        result = await handle.result()
        assert result.outcome is Outcome.LOST and result.phase is Phase.CLOSED
        assert result.facts.won_at is None and not result.deadlines and result.document.goals != "Cut churn by 5%"
        assert [(e.kind, e.details.get("message"), e.details.get("reason")) for e in result.timeline[-1:]] == [
            (Kind.MESSAGE_IGNORED, "stage_changed", "handoff has ended")
        ]


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
                kind=StageKind.WON,
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
    crm = ReleasesSeen()
    async with rig_factory(activities_override=[crm.release_commission]) as rig:
        now = await env.get_current_time()
        policy = Policy.model_validate({"commission": {"release": release}})
        handle = await start_handoff(rig, deal(closed_at=now), policy=policy, document=READY_DOCUMENT)
        await settled(handle)
        state = await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
        assert not state.commission.released  # no rating yet
        state = await handle.execute_update(
            DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=2, accept=False, comments="Who signs off?")
        )
        assert not state.commission.released  # rated below the policy's 3, and sent back to the AE
        assert Kind.COMMISSION_RELEASED not in kinds(state) and Kind.COMMISSION_HELD not in kinds(state)
        state = await handle.execute_update(DealHandoffWorkflow.update_document, DocumentUpdate(submit=True))
        assert not state.commission.released  # resubmitted, not yet reviewed again
        state = await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))
        # Ready, rated 4 and introduced: the conditions are met, and recorded either way.
        assert state.commission.released and state.commission.at is not None
        released, held = Kind.COMMISSION_RELEASED in kinds(state), Kind.COMMISSION_HELD in kinds(state)
        assert (released, held) == (release, not release)
        if release:
            # The CRM is asked to release the hold once, for this deal.
            await assert_eventually(lambda: _assert_equal([r.deal.deal_id for r in crm.seen], [state.deal.deal_id]))
        else:
            assert state.commission.note == "conditions met; release is switched off in the policy"
        # One more message: its answer comes after the workflow task that handled the review, so the
        # history holds every activity that task scheduled.
        await handle.execute_update(DealHandoffWorkflow.first_touch, FirstTouch(channel="call"))
        assert await scheduled(handle, "crm_release_commission") == (1 if release else 0)


async def scheduled(handle, activity_name: str) -> int:
    """How many times the run has scheduled the activity, from its history."""
    history = await handle.fetch_history()
    return sum(
        1
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name == activity_name
    )


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


# Every person's message, as its update and a body that would be accepted on an open handoff.
EVERY_MESSAGE = [
    (DealHandoffWorkflow.update_document, DocumentUpdate(fields=DocumentPatch(goals="Cut churn by 5%"))),
    (DealHandoffWorkflow.assign_csm, CsmAssignment(csm="csm-star")),
    (DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4)),
    (DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED)),
    (DealHandoffWorkflow.first_touch, FirstTouch(channel="call")),
    (DealHandoffWorkflow.kickoff, KickoffHeld()),
    (DealHandoffWorkflow.ae_departure, AeDeparture()),
    (DealHandoffWorkflow.extend_deadline, DeadlineExtension(sla=SlaName.KICKOFF, extend_by="2bd", reason="asked")),
]


async def test_messages_after_close_are_refused(rig_factory, env):
    held = HeldNotices("deal_lost")
    async with rig_factory(activities_override=[held.notify]) as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=READY_DOCUMENT)
        await settled(handle, lambda s: s.owners.csm)
        await handle.signal(DealHandoffWorkflow.stage_changed, StageChanged(stage="closedlost", kind=StageKind.LOST))
        # Closed, with its deal_lost notice resolved and recorded (the send itself is held).
        closed = await settled(
            handle,
            lambda s: (
                s.phase is Phase.CLOSED
                and any(e.kind is Kind.NOTIFIED and e.details.get("event") == "deal_lost" for e in s.timeline)
            ),
        )
        # While the run finishes its last notice, the handoff has ended: the workflow refuses each message.
        for update, msg in EVERY_MESSAGE:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await handle.execute_update(update, msg)
            assert err.value.cause.type == ErrorType.CLOSED.value, update
            assert err.value.cause.message == "the handoff has ended (lost)"
        assert (await handle.query(DealHandoffWorkflow.state)).timeline == closed.timeline
        held.release.set()
        result = await handle.result()
        assert result.outcome is Outcome.LOST and result.timeline == closed.timeline
        # Once the run has closed, Temporal itself refuses (the API answers 409 "the handoff has ended").
        for update, msg in EVERY_MESSAGE:
            with pytest.raises(RPCError) as refused:
                await handle.execute_update(update, msg)
            assert refused.value.status is RPCStatusCode.NOT_FOUND
        rig.started.remove(handle.id)


class HeldNotices:
    """A notify activity that holds one event's notices until released: a run that has closed its
    handoff stays open meanwhile, so messages reach the workflow's own refusal."""

    def __init__(self, event: str) -> None:
        self.event = event
        self.release = asyncio.Event()

    @activity.defn(name="notify")
    async def notify(self, notification: Notification) -> Delivery:
        if notification.event == self.event:
            await self.release.wait()
        return Delivery(key=notification.key, sinks=["held"])


class ReleasesSeen:
    """The CRM's commission release, recording each request."""

    def __init__(self) -> None:
        self.seen: list[CommissionRelease] = []

    @activity.defn(name="crm_release_commission")
    async def release_commission(self, request: CommissionRelease) -> CrmWriteResult:
        self.seen.append(request)
        return CrmWriteResult(crm=request.deal.crm, done=True)


def _assert_equal(actual, expected):
    assert actual == expected, actual


def _assert_in(item, items):
    assert item in items, items
