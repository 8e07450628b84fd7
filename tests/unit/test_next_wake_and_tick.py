"""When the workflow must wake next (and the summary its timer shows), and what a tick fires."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.messages import DeadlineExtension, FirstTouch, IntroAction, IntroUpdate, KickoffHeld
from domain.roles import SlaName
from domain.stages import StageKind
from domain.state import ChildKind, DeadlineStatus
from domain.timeline import Kind
from tests.unit.machine_builders import CLOSE, NY, D, H, briefed, entries, intro_held, machine

pytestmark = pytest.mark.unit


def ny(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=NY)


def met_early(people_rules: bool = True):
    """Briefed and first touch within the hour of the close."""
    m = briefed(machine(people_rules=people_rules), CLOSE + H)
    m.apply_first_touch(FirstTouch(channel="email"), CLOSE + H)
    return m


def test_the_first_wake_is_the_earliest_deadline():
    # 48 elapsed hours from Friday 20:00 UTC: Sunday 20:00 UTC, 16:00 EDT once the clocks went forward.
    assert machine().next_wake() == (ny(8, 16), "SLA csm_briefed")
    assert met_early().next_wake() == (ny(11, 15), "SLA intro_scheduled")


def test_a_breached_deadline_still_wakes_the_workflow_for_its_next_escalation_step():
    m = met_early()
    m.tick(ny(11, 16))
    # intro_scheduled breached Wednesday 15:00 (its sales manager step fired with it) and intro_held at
    # 16:00; the VP's step (5bd: Friday 13th 15:00 EDT) comes before the kickoff (Monday 16th 16:00 EDT).
    assert m.next_wake() == (ny(13, 15), "SLA intro_scheduled")


def test_with_every_sla_met_the_workflow_wakes_for_the_30_day_check_then_waits_for_a_message():
    m = met_early()
    intro_held(m, CLOSE + 2 * H, CLOSE + D)
    m.apply_kickoff(KickoffHeld(), CLOSE + 2 * D)
    # 30 days of 24 hours from Friday 6 March 20:00 UTC: Sunday 5 April 20:00 UTC.
    assert m.next_wake() == (CLOSE + 30 * D, "30-day post-handoff check")
    m.tick(CLOSE + 30 * D)
    m.child_started(ChildKind.POST_CHECK, "baton-hubspot-4242-post-check", CLOSE + 30 * D)
    assert m.next_wake() is None


def test_an_extension_moves_the_next_wake():
    m = met_early()
    m.apply_extension(
        DeadlineExtension(sla=SlaName.INTRO_SCHEDULED, new_due=ny(12, 9), reason="customer asked"), CLOSE + D
    )
    # The due moved 18 hours: Wednesday 15:00 to Thursday 09:00, still before intro_held (5bd: Friday
    # 13th 15:00), which the next wake after it is once intro_scheduled is met.
    assert m.next_wake() == (ny(12, 9), "SLA intro_scheduled")
    m.apply_intro(IntroUpdate(action=IntroAction.SCHEDULED), CLOSE + 2 * D)
    assert m.next_wake() == (ny(13, 15), "SLA intro_held")


def test_a_tick_before_anything_is_due_changes_nothing():
    m = machine()
    before, asked = m.state.model_dump(), list(m.effects)
    m.tick(ny(8, 16) - H)
    assert m.state.model_dump() == before and m.effects == asked


def test_nothing_fires_and_nothing_wakes_after_the_end():
    m = machine()
    m.stage_changed(StageKind.LOST, "closedlost", None, None, CLOSE + H)
    before = m.state.model_dump()
    m.tick(CLOSE + 60 * D)
    assert m.state.model_dump() == before and m.next_wake() is None


def test_an_intro_scheduled_late_stops_the_escalation_ladder():
    m = met_early()
    m.tick(ny(11, 15))  # 3bd: breached, the sales manager escalated
    m.apply_intro(IntroUpdate(action=IntroAction.SCHEDULED), ny(12, 10))
    m.tick(ny(13, 15))  # 5bd: the intro was scheduled a day ago; the VP has nothing to chase
    assert [e.details["to"] for e in entries(m, Kind.ESCALATED, sla="intro_scheduled")] == ["sales_manager"]
    # Breached it stays: met late, with no `met_at` for the reports to count as met.
    deadline = m.state.deadlines[SlaName.INTRO_SCHEDULED]
    assert deadline.status is DeadlineStatus.BREACHED and deadline.met_at is None
    [late] = entries(m, Kind.DEADLINE_MET, sla="intro_scheduled")
    assert late.details["late"] is True and late.at == ny(12, 10)


def test_before_the_people_rules_a_late_intro_still_reached_the_vp():
    """Runs started before the fix replay as they ran."""
    m = met_early(people_rules=False)
    m.tick(ny(11, 15))
    m.apply_intro(IntroUpdate(action=IntroAction.SCHEDULED), ny(12, 10))
    m.tick(ny(13, 15))
    assert [e.details["to"] for e in entries(m, Kind.ESCALATED, sla="intro_scheduled")] == [
        "sales_manager",
        "vp_sales",
    ]
