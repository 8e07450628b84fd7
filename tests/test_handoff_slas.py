"""SLA timers on the time-skipping server: met, breached, escalated at exact business-day instants."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.messages import DeadlineExtension, FirstTouch, IntakeReviewInput, IntroAction, IntroUpdate
from domain.policy import Policy
from domain.roles import Role, SlaName
from domain.state import DeadlineStatus
from domain.timeline import Kind
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal, start_handoff
from workflows.handoff import DealHandoffWorkflow

NY = ZoneInfo("America/New_York")


def next_weekday(after: datetime, weekday: int, at: time) -> datetime:
    """The first `weekday` (0=Monday) at least 2 days after `after`, at local time `at`."""
    day = after.astimezone(NY).date() + timedelta(days=2)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=NY)


async def started(handle):
    state = await handle.query(DealHandoffWorkflow.state)
    assert state.quality is not None and state.deadlines
    return state


def entries(state, kind, sla=None):
    return [e for e in state.timeline if e.kind is kind and (sla is None or e.details.get("sla") == sla)]


async def test_intro_escalates_to_sales_manager_then_vp_on_business_days(rig_factory, env):
    async with rig_factory() as rig:
        friday = next_weekday(await env.get_current_time(), 4, time(15, 0))
        monday = (friday + timedelta(days=3)).date()
        policy = Policy.model_validate({"calendar": {"holidays": [monday.isoformat()]}})
        handle = await start_handoff(rig, deal(closed_at=friday), policy=policy, document=READY_DOCUMENT)
        state = await assert_eventually(lambda: started(handle))
        # Friday 15:00 + 3bd skipping the Monday holiday: Thursday 15:00; + 5bd: the next Monday 15:00.
        thursday, next_monday = friday + timedelta(days=6), friday + timedelta(days=10)
        assert state.deadlines[SlaName.INTRO_SCHEDULED].due == thursday

        await env.sleep(next_monday + timedelta(hours=1) - await env.get_current_time())
        state = await handle.query(DealHandoffWorkflow.state)
        escalations = [(e.details["to"], e.at) for e in entries(state, Kind.ESCALATED, "intro_scheduled")]
        assert escalations == [("sales_manager", thursday), ("vp_sales", next_monday)]
        breach = entries(state, Kind.SLA_BREACHED, "intro_scheduled")
        assert [e.at for e in breach] == [thursday]
        assert state.deadlines[SlaName.INTRO_SCHEDULED].status is DeadlineStatus.BREACHED
        assert [(x.to, x.person) for x in state.escalations if x.sla is SlaName.INTRO_SCHEDULED] == [
            (Role.SALES_MANAGER, "sm@example.com"),
            (Role.VP_SALES, "vp@example.com"),
        ]
        notified = {n.event for n in rig.sink.sent}
        assert "escalated" in notified
        assert state.sla_breached


async def test_met_deadlines_do_not_escalate(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=READY_DOCUMENT)
        state = await assert_eventually(lambda: started(handle))
        await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=5))
        await handle.execute_update(DealHandoffWorkflow.first_touch, FirstTouch(channel="email"))
        await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
        await env.sleep(timedelta(days=4))
        state = await handle.query(DealHandoffWorkflow.state)
        for sla in (SlaName.CSM_BRIEFED, SlaName.CS_FIRST_TOUCH, SlaName.INTRO_SCHEDULED):
            assert state.deadlines[sla].status is DeadlineStatus.MET, sla
        assert not entries(state, Kind.ESCALATED, "intro_scheduled")
        assert not entries(state, Kind.SLA_BREACHED, "csm_briefed")
        # intro_held (5bd: at least 6 days on) is still pending and breaches at its due
        assert state.deadlines[SlaName.INTRO_HELD].open
        await env.sleep(state.deadlines[SlaName.INTRO_HELD].due - await env.get_current_time() + timedelta(hours=1))
        state = await handle.query(DealHandoffWorkflow.state)
        assert state.deadlines[SlaName.INTRO_HELD].status is DeadlineStatus.BREACHED
        assert entries(state, Kind.ESCALATED, "intro_held")[0].details["to"] == "sales_manager"


async def test_breaches_of_briefing_and_first_touch_escalate_to_cs_manager(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=READY_DOCUMENT)
        await assert_eventually(lambda: started(handle))
        await env.sleep(timedelta(hours=49))
        state = await handle.query(DealHandoffWorkflow.state)
        for sla in ("csm_briefed", "cs_first_touch"):
            [breach] = entries(state, Kind.SLA_BREACHED, sla)
            assert breach.at == now + timedelta(hours=48)
            assert entries(state, Kind.ESCALATED, sla)[0].details["to"] == "cs_manager"


async def test_extension_moves_the_timer(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=READY_DOCUMENT)
        await assert_eventually(lambda: started(handle))
        new_due = now + timedelta(hours=72)
        state = await handle.execute_update(
            DealHandoffWorkflow.extend_deadline,
            DeadlineExtension(
                sla=SlaName.CS_FIRST_TOUCH, new_due=new_due, reason="customer on holiday", by="lead@x.com"
            ),
        )
        assert state.deadlines[SlaName.CS_FIRST_TOUCH].status is DeadlineStatus.EXTENDED
        await env.sleep(timedelta(hours=50))
        state = await handle.query(DealHandoffWorkflow.state)
        assert not entries(state, Kind.SLA_BREACHED, "cs_first_touch")
        assert entries(state, Kind.SLA_BREACHED, "csm_briefed")  # the one not extended did breach
        await env.sleep(timedelta(hours=23))
        state = await handle.query(DealHandoffWorkflow.state)
        [breach] = entries(state, Kind.SLA_BREACHED, "cs_first_touch")
        assert breach.at == new_due
        extended = entries(state, Kind.DEADLINE_EXTENDED, "cs_first_touch")[0]
        assert extended.details["reason"] == "customer on holiday"


async def test_implementation_owner_contact_met_and_breached(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        two_people = dict(acv=250_000, executive_sponsor="Priya Raman", implementation_owner="Olu Ade")
        met = await start_handoff(rig, deal(closed_at=now, **two_people), document=READY_DOCUMENT)
        late = await start_handoff(rig, deal(closed_at=now, **two_people), document=READY_DOCUMENT)
        same = await start_handoff(
            rig,
            deal(closed_at=now, acv=250_000, executive_sponsor="Priya Raman", implementation_owner="priya raman"),
            document=READY_DOCUMENT,
        )
        for handle in (met, late, same):
            await assert_eventually(lambda handle=handle: started(handle))
        assert SlaName.IMPL_OWNER_CONTACT not in (await same.query(DealHandoffWorkflow.state)).deadlines
        state = await met.execute_update(
            DealHandoffWorkflow.first_touch, FirstTouch(channel="call", with_implementation_owner=True)
        )
        assert state.deadlines[SlaName.IMPL_OWNER_CONTACT].status is DeadlineStatus.MET
        await env.sleep(timedelta(days=14, hours=1))
        state = await late.query(DealHandoffWorkflow.state)
        assert state.deadlines[SlaName.IMPL_OWNER_CONTACT].status is DeadlineStatus.BREACHED
        assert entries(state, Kind.ESCALATED, "impl_owner_contact")[0].details["to"] == "cs_manager"
        assert not entries(await met.query(DealHandoffWorkflow.state), Kind.SLA_BREACHED, "impl_owner_contact")


async def test_kickoff_due_moves_to_5_business_days_after_the_intro_and_breaches(rig_factory, env):
    async with rig_factory() as rig:
        monday = next_weekday(await env.get_current_time(), 0, time(10, 0))
        handle = await start_handoff(rig, deal(closed_at=monday), document=READY_DOCUMENT)
        await assert_eventually(lambda: started(handle))
        await env.sleep(monday + timedelta(hours=1) - await env.get_current_time())
        await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))
        await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
        state = await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.HELD))
        held = state.facts.intro_held_at
        # Held Monday 11:00: 5 business days later is the next Monday 11:00, before close + 10 days.
        assert state.deadlines[SlaName.KICKOFF].due == held + timedelta(days=7)
        await env.sleep(timedelta(days=7, hours=1))
        state = await handle.query(DealHandoffWorkflow.state)
        assert state.deadlines[SlaName.KICKOFF].status is DeadlineStatus.BREACHED
        assert entries(state, Kind.ESCALATED, "kickoff")[0].details["to"] == "cs_manager"
