"""The deadline rules on their own: planning on the business calendar, meeting, cancelling, moving,
and what fires when."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import deadlines
from domain.approach_policy import Escalation, SlaSpec
from domain.calendar import BusinessCalendar
from domain.durations import business_days, hours
from domain.roles import Role, SlaName
from domain.state import Deadline, DeadlineStatus, EscalationStep
from tests.unit.machine_builders import CLOSE, D, H

pytestmark = pytest.mark.unit

CALENDAR = BusinessCalendar(holidays=["2026-03-09"])
INTRO = SlaSpec(
    due=business_days(3),
    escalations=[
        Escalation(at=business_days(3), to=Role.SALES_MANAGER),
        Escalation(at=business_days(5), to=Role.VP_SALES),
    ],
)


def deadline(sla: SlaName = SlaName.KICKOFF, due=CLOSE + 10 * D, steps=(), status=DeadlineStatus.PENDING) -> Deadline:
    return Deadline(
        sla=sla,
        due=due,
        set_at=CLOSE,
        status=status,
        on_breach=Role.CS_MANAGER,
        escalations=[EscalationStep(at=at, to=to) for at, to in steps],
    )


def test_plan_measures_due_and_escalations_from_the_anchor_in_business_days():
    planned = deadlines.plan(SlaName.INTRO_SCHEDULED, INTRO, CLOSE, CLOSE + H, CALENDAR)
    # Friday 15:00 EST; Monday 9 March is a holiday, so 3bd is Tue, Wed, Thu: Thursday 12 March 15:00,
    # now EDT after the DST change. 5bd adds Fri 13 and Mon 16: Monday 16 March 15:00 EDT.
    assert planned.due.isoformat() == "2026-03-12T15:00:00-04:00"
    assert [(s.at.isoformat(), s.to) for s in planned.escalations] == [
        ("2026-03-12T15:00:00-04:00", Role.SALES_MANAGER),
        ("2026-03-16T15:00:00-04:00", Role.VP_SALES),
    ]
    assert planned.set_at == CLOSE + H and planned.status is DeadlineStatus.PENDING and planned.on_breach is None


def test_clock_hours_run_through_the_dst_change():
    planned = deadlines.plan(SlaName.CSM_BRIEFED, SlaSpec(due=hours(48)), CLOSE, CLOSE, CALENDAR)
    # 48 real hours from Friday 20:00 UTC is Sunday 20:00 UTC, which New York shows as 16:00 EDT.
    assert planned.due.isoformat() == "2026-03-08T16:00:00-04:00"


def test_meet_settles_an_open_deadline_once():
    d = deadline()
    assert deadlines.meet(d, CLOSE + D)
    assert (d.status, d.met_at) == (DeadlineStatus.MET, CLOSE + D)
    assert not deadlines.meet(d, CLOSE + 2 * D)
    assert d.met_at == CLOSE + D
    breached = deadline(status=DeadlineStatus.BREACHED)
    assert not deadlines.meet(breached, CLOSE) and breached.status is DeadlineStatus.BREACHED


def test_cancel_stops_what_still_watches_and_leaves_what_is_settled():
    pending = deadline(steps=[(CLOSE + 12 * D, Role.VP_SALES)])
    assert deadlines.cancel(pending)
    assert pending.status is DeadlineStatus.CANCELLED and all(s.fired for s in pending.escalations)
    # Breached with a step still to come: it was watching, so it is cancelled too.
    breached = deadline(status=DeadlineStatus.BREACHED, steps=[(CLOSE + 12 * D, Role.VP_SALES)])
    assert deadlines.cancel(breached) and breached.status is DeadlineStatus.CANCELLED
    met = deadline(status=DeadlineStatus.MET)
    assert not deadlines.cancel(met) and met.status is DeadlineStatus.MET
    done = deadline(status=DeadlineStatus.BREACHED)
    assert not deadlines.cancel(done) and done.status is DeadlineStatus.BREACHED


def test_extend_moves_the_due_and_the_steps_not_yet_reached_by_the_same_amount():
    d = deadline(steps=[(CLOSE + D, Role.SALES_MANAGER), (CLOSE + 12 * D, Role.VP_SALES)])
    d.escalations[0].fired = True
    deadlines.extend(d, CLOSE + 12 * D, "customer offsite", "lead@example.com", CLOSE + 2 * D)
    assert d.due == CLOSE + 12 * D and d.status is DeadlineStatus.EXTENDED and d.open
    assert [s.at for s in d.escalations] == [CLOSE + D, CLOSE + 14 * D]
    [ext] = d.extensions
    assert (ext.previous_due, ext.new_due, ext.reason, ext.by, ext.at) == (
        CLOSE + 10 * D,
        CLOSE + 12 * D,
        "customer offsite",
        "lead@example.com",
        CLOSE + 2 * D,
    )


def test_next_instant_is_the_earliest_due_or_step_of_what_still_watches():
    assert deadlines.next_instant({}) is None
    kickoff = deadline(SlaName.KICKOFF, CLOSE + 10 * D)
    intro = deadline(SlaName.INTRO_SCHEDULED, CLOSE + 3 * D, steps=[(CLOSE + 5 * D, Role.VP_SALES)])
    check = deadline(SlaName.POST_CHECK, CLOSE + D)
    book = {d.sla: d for d in (kickoff, intro, check)}
    assert deadlines.next_instant(book, skip=frozenset({SlaName.POST_CHECK})) == (
        CLOSE + 3 * D,
        SlaName.INTRO_SCHEDULED,
    )
    assert deadlines.next_instant(book) == (CLOSE + D, SlaName.POST_CHECK)
    # Breached, it still waits for its step; met, it waits for nothing.
    intro.status = DeadlineStatus.BREACHED
    assert deadlines.next_instant(book, skip=frozenset({SlaName.POST_CHECK})) == (
        CLOSE + 5 * D,
        SlaName.INTRO_SCHEDULED,
    )
    intro.status = kickoff.status = DeadlineStatus.MET
    assert deadlines.next_instant(book, skip=frozenset({SlaName.POST_CHECK})) is None


def test_fire_due_breaches_then_escalates_in_time_order_and_only_once():
    intro = deadline(
        SlaName.INTRO_SCHEDULED,
        CLOSE + 3 * D,
        steps=[(CLOSE + 3 * D, Role.SALES_MANAGER), (CLOSE + 5 * D, Role.VP_SALES)],
    )
    intro.on_breach = None
    briefed = deadline(SlaName.CSM_BRIEFED, CLOSE + 2 * D)
    check = deadline(SlaName.POST_CHECK, CLOSE + D)
    book = {d.sla: d for d in (intro, briefed, check)}
    fired = deadlines.fire_due(book, CLOSE + 3 * D, skip=frozenset({SlaName.POST_CHECK}))
    # At one instant the breach comes before the escalation step it sets off.
    assert fired == [
        deadlines.Fired(SlaName.CSM_BRIEFED, True, Role.CS_MANAGER),
        deadlines.Fired(SlaName.INTRO_SCHEDULED, True, None),
        deadlines.Fired(SlaName.INTRO_SCHEDULED, False, Role.SALES_MANAGER),
    ]
    assert intro.breached_at == CLOSE + 3 * D and briefed.breached_at == CLOSE + 2 * D
    assert check.status is DeadlineStatus.PENDING
    assert deadlines.fire_due(book, CLOSE + 3 * D, skip=frozenset({SlaName.POST_CHECK})) == []
    later = deadlines.fire_due(book, CLOSE + 6 * D, skip=frozenset({SlaName.POST_CHECK}))
    assert later == [deadlines.Fired(SlaName.INTRO_SCHEDULED, False, Role.VP_SALES)]


def test_a_met_deadline_never_fires_its_steps():
    d = deadline(steps=[(CLOSE + timedelta(days=12), Role.VP_SALES)], status=DeadlineStatus.MET)
    assert deadlines.fire_due({d.sla: d}, CLOSE + 30 * D) == []
    assert not d.escalations[0].fired
