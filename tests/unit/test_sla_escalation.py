"""SLA breaches and escalations as the machine records them, extensions, and the kickoff brought
forward by the intro."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.effects import Notify
from domain.errors import ErrorType, Refused
from domain.messages import DeadlineExtension, FirstTouch, IntroAction, IntroUpdate
from domain.policy import Policy
from domain.roles import Role, SlaName
from domain.state import DeadlineStatus
from domain.timeline import Kind
from tests.unit.machine_builders import CLOSE, NY, D, H, briefed, effects_of, entries, intro_held, machine

pytestmark = pytest.mark.unit

HOLIDAY_AND_MANAGER = Policy.model_validate(
    {
        "calendar": {"holidays": ["2026-03-09"]},
        "teams": [
            {"name": "mid-market", "approaches": ["structured"], "csms": [{"id": "csm-mm-1"}], "manager": "carla@x.io"}
        ],
    }
)


def ny(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=NY)


def test_every_breach_and_escalation_is_recorded_at_its_own_instant_in_time_order():
    m = machine(policy=HOLIDAY_AND_MANAGER)
    m.tick(ny(16, 16))
    # An escalation goes on the timeline once its people are resolved (here after the one tick that
    # caught up on them all), stamped with the instant it fell due.
    timeline = entries(m, Kind.SLA_BREACHED) + entries(m, Kind.ESCALATED)
    breach_seq = {(e.details["sla"], e.at): e.seq for e in entries(m, Kind.SLA_BREACHED)}
    fired = [
        (e.kind, e.details["sla"], e.details.get("to"), e.at)
        for e in sorted(timeline, key=lambda e: (e.at, breach_seq.get((e.details["sla"], e.at), e.seq), e.seq))
    ]
    # From Friday 6 March 15:00 EST: 48h is Sunday 16:00 EDT (the clocks went forward); intro_scheduled
    # 3bd skips the Monday holiday: Thursday 12th 15:00 EDT; intro_held 5bd (never before it, unlike the
    # old 5d, which fell on Wednesday 11th) and the VP step 5bd: Monday 16th 15:00 EDT, in the order the
    # SLAs were planned; kickoff 10d: Monday 16th 16:00 EDT, the tick itself.
    assert fired == [
        (Kind.SLA_BREACHED, "csm_briefed", None, ny(8, 16)),
        (Kind.ESCALATED, "csm_briefed", "cs_manager", ny(8, 16)),
        (Kind.SLA_BREACHED, "cs_first_touch", None, ny(8, 16)),
        (Kind.ESCALATED, "cs_first_touch", "cs_manager", ny(8, 16)),
        (Kind.SLA_BREACHED, "intro_scheduled", None, ny(12, 15)),
        (Kind.ESCALATED, "intro_scheduled", "sales_manager", ny(12, 15)),
        (Kind.SLA_BREACHED, "intro_held", None, ny(16, 15)),
        (Kind.ESCALATED, "intro_held", "sales_manager", ny(16, 15)),
        (Kind.ESCALATED, "intro_scheduled", "vp_sales", ny(16, 15)),
        (Kind.SLA_BREACHED, "kickoff", None, ny(16, 16)),
        (Kind.ESCALATED, "kickoff", "cs_manager", ny(16, 16)),
    ]
    # A role names whom to find; the deal's owners and the CS team's manager say who that is.
    people = {(e.sla, e.to): e.person for e in m.state.escalations}
    assert people[(SlaName.CSM_BRIEFED, Role.CS_MANAGER)] == "carla@x.io"
    assert people[(SlaName.INTRO_SCHEDULED, Role.SALES_MANAGER)] == "sm@example.com"
    assert people[(SlaName.INTRO_SCHEDULED, Role.VP_SALES)] == "vp@example.com"
    assert m.state.sla_breached
    # A second tick at the same instant fires nothing again.
    count = len(m.state.timeline)
    m.tick(ny(16, 16))
    assert len(m.state.timeline) == count


def test_an_escalation_without_a_person_goes_to_the_role():
    m = machine(channel_partner="Northwind Partners")
    # Partner-mediated: briefed within 72h, escalated to the partner manager; no one is named for it.
    assert m.state.deadlines[SlaName.CSM_BRIEFED].due == CLOSE + 72 * H
    m.tick(CLOSE + 72 * H)
    [escalated] = [e for e in m.state.escalations if e.sla is SlaName.CSM_BRIEFED]
    assert (escalated.to, escalated.person) == (Role.PARTNER_MANAGER, "")
    [notice] = [n for n in effects_of(m, Notify) if n.event == "escalated" and n.details.get("sla") == "csm_briefed"]
    assert (notice.event, notice.to) == ("escalated", ["partner_manager"])
    # The default teams name no CS manager either: the notice goes to the role.
    [first_touch] = [e for e in m.state.escalations if e.sla is SlaName.CS_FIRST_TOUCH]
    assert (first_touch.to, first_touch.person) == (Role.CS_MANAGER, "")


def test_met_deadlines_neither_breach_nor_escalate_and_a_late_meeting_records_no_met():
    m = briefed(machine(), CLOSE + H)
    m.apply_first_touch(FirstTouch(channel="email"), CLOSE + 2 * H)
    m.apply_intro(IntroUpdate(action=IntroAction.SCHEDULED), CLOSE + 3 * H)
    m.tick(ny(16, 15))
    for sla in (SlaName.CSM_BRIEFED, SlaName.CS_FIRST_TOUCH, SlaName.INTRO_SCHEDULED):
        assert m.state.deadlines[sla].status is DeadlineStatus.MET
        assert not entries(m, Kind.ESCALATED, sla=sla.value)
    # intro_held (5bd) was missed on Friday 13th 15:00; holding it later settles nothing and records no `deadline_met`.
    assert m.state.deadlines[SlaName.INTRO_HELD].status is DeadlineStatus.BREACHED
    m.apply_intro(IntroUpdate(action=IntroAction.HELD), ny(16, 15))
    assert m.state.deadlines[SlaName.INTRO_HELD].met_at is None
    assert not entries(m, Kind.DEADLINE_MET, sla="intro_held")


@pytest.mark.parametrize(
    ("change", "type_", "says"),
    [
        ({"new_due": datetime(2026, 3, 20, tzinfo=UTC), "extend_by": "2bd"}, ErrorType.INVALID_VALUE, "exactly one"),
        ({}, ErrorType.INVALID_VALUE, "exactly one"),
        ({"extend_by": "2bd", "reason": "  "}, ErrorType.INVALID_VALUE, "reason: an extension needs a reason"),
        ({"new_due": datetime(2026, 3, 20)}, ErrorType.INVALID_VALUE, "with a UTC offset"),
        ({"new_due": datetime(2026, 3, 16, 20, tzinfo=UTC)}, ErrorType.INVALID_VALUE, "later than the current due"),
        ({"new_due": datetime(2026, 3, 1, tzinfo=UTC)}, ErrorType.INVALID_VALUE, "later than the current due"),
        ({"sla": SlaName.RECOVERY_OWNER, "extend_by": "1d"}, ErrorType.INVALID_TRANSITION, "it is not set"),
        ({"sla": SlaName.CSM_BRIEFED, "extend_by": "1d"}, ErrorType.INVALID_TRANSITION, "it is met"),
    ],
)
def test_a_bad_extension_is_refused_and_changes_nothing(change, type_, says):
    m = briefed(machine(), CLOSE + H)
    before = m.state.model_dump()
    values = {"sla": SlaName.KICKOFF, "reason": "customer offsite", **change}
    with pytest.raises(Refused) as refused:
        m.check_extension(DeadlineExtension(**values))
    assert refused.value.type is type_ and says in refused.value.message
    assert m.state.model_dump() == before


def test_extend_by_business_days_moves_the_due_and_its_escalation_steps():
    m = machine()
    msg = DeadlineExtension(sla=SlaName.INTRO_SCHEDULED, extend_by="2bd", reason="AE travelling", by="lead@x.io")
    m.check_extension(msg)
    m.apply_extension(msg, CLOSE + D)
    d = m.state.deadlines[SlaName.INTRO_SCHEDULED]
    # Wednesday 11th 15:00 EDT + 2bd = Friday 13th 15:00 EDT; both steps move by those 48 hours, the
    # VP's from Friday 13th to Sunday 15th (a shift of elapsed time, not of business days).
    assert d.due == ny(13, 15) and d.status is DeadlineStatus.EXTENDED
    assert [s.at for s in d.escalations] == [ny(13, 15), ny(15, 15)]
    [moved] = entries(m, Kind.DEADLINE_EXTENDED)
    assert moved.details == {
        "sla": "intro_scheduled",
        "previous_due": "2026-03-11T15:00:00-04:00",
        "due": "2026-03-13T15:00:00-04:00",
        "reason": "AE travelling",
        "by": "lead@x.io",
    }
    # The old instant passes quietly; the new one breaches.
    m.tick(ny(11, 15))
    assert d.open and not entries(m, Kind.SLA_BREACHED, sla="intro_scheduled")
    m.tick(ny(13, 15))
    assert d.status is DeadlineStatus.BREACHED and d.breached_at == ny(13, 15)


def test_a_new_due_given_in_another_offset_is_the_same_instant():
    m = machine()
    new_due = datetime.fromisoformat("2026-03-20T09:30:00+05:30")
    m.apply_extension(DeadlineExtension(sla=SlaName.KICKOFF, new_due=new_due, reason="board meeting"), CLOSE + D)
    assert m.state.deadlines[SlaName.KICKOFF].due == datetime(2026, 3, 20, 4, 0, tzinfo=UTC)
    # An extended deadline can still be met.
    m.apply_extension(DeadlineExtension(sla=SlaName.KICKOFF, extend_by="1d", reason="again"), CLOSE + 2 * D)
    assert m.state.deadlines[SlaName.KICKOFF].due == datetime(2026, 3, 21, 4, 0, tzinfo=UTC)
    assert len(m.state.deadlines[SlaName.KICKOFF].extensions) == 2


def test_the_intro_held_brings_the_kickoff_forward_to_5_business_days_after_it():
    m = briefed(machine(), CLOSE + H)
    intro_held(m, CLOSE + 2 * H, ny(9, 10))
    # Monday 9th 10:00 EDT + 5bd = Monday 16th 10:00 EDT, before the 10d due (Monday 16th 16:00 EDT).
    assert m.state.deadlines[SlaName.KICKOFF].due == ny(16, 10)
    [moved] = entries(m, Kind.DEADLINE_SET, sla="kickoff", reason="intro held")
    assert moved.details["due"] == "2026-03-16T10:00:00-04:00"


def test_a_late_intro_or_an_extended_kickoff_keeps_the_kickoff_due():
    late = briefed(machine(), CLOSE + H)
    intro_held(late, CLOSE + 2 * H, ny(11, 10))  # + 5bd = Wednesday 18th: after the 10d due
    assert late.state.deadlines[SlaName.KICKOFF].due == ny(16, 16)

    extended = briefed(machine(), CLOSE + H)
    extended.apply_extension(DeadlineExtension(sla=SlaName.KICKOFF, extend_by="1d", reason="holiday"), CLOSE + D)
    intro_held(extended, CLOSE + 2 * H, ny(9, 10))
    # A person moved it; the rule does not move it back.
    assert extended.state.deadlines[SlaName.KICKOFF].due == ny(17, 16)
    assert not entries(extended, Kind.DEADLINE_SET, reason="intro held")


def test_a_kickoff_already_breached_is_not_brought_forward():
    m = briefed(machine(), CLOSE + H)
    m.apply_intro(IntroUpdate(action=IntroAction.SCHEDULED), CLOSE + 2 * H)
    m.tick(ny(16, 16) + timedelta(minutes=1))
    m.apply_intro(IntroUpdate(action=IntroAction.HELD), ny(16, 17))
    assert m.state.deadlines[SlaName.KICKOFF].due == ny(16, 16)
    assert not entries(m, Kind.DEADLINE_SET, reason="intro held")
