"""Who owns the handoff: the CSM by rule or by a lead, no CSM available, the AE leaving and the
recovery owner."""

from __future__ import annotations

import pytest

from domain.effects import AssignCsm, Notify
from domain.errors import ErrorType, Refused
from domain.messages import AeDeparture, CsmAssignment
from domain.policy import Policy
from domain.roles import Role, SlaName
from domain.stages import StageKind
from domain.state import DeadlineStatus, Escalated
from domain.timeline import Kind
from tests.unit.machine_builders import CLOSE, D, H, effects_of, entries, machine, notified_people

pytestmark = pytest.mark.unit

MANAGED = Policy.model_validate(
    {"teams": [{"name": "mid-market", "approaches": ["structured"], "csms": [], "manager": "carla@x.io"}]}
)


def test_the_rule_assigns_the_csm_it_chose_and_tells_them():
    m = machine()
    m.csm_chosen("csm-mm-1", "mid-market", "next in the round robin", CLOSE + H)
    assert (m.state.owners.csm, m.state.owners.cs_team) == ("csm-mm-1", "mid-market")
    [assigned] = entries(m, Kind.CSM_ASSIGNED)
    assert assigned.details == {"csm": "csm-mm-1", "team": "mid-market", "by": "rule"}
    [told] = [n for n in effects_of(m, Notify) if n.event == "csm_assigned"]
    assert told.to == ["csm"] and "(structured)" in told.text
    # Not in the (empty) directory: the CSM's place is unresolved, and said so.
    assert entries(m, Kind.RECIPIENT_UNRESOLVED, event="csm_assigned", place="csm")


def test_no_csm_available_is_a_warning_and_an_escalation_to_the_cs_manager():
    m = machine(policy=MANAGED)
    m.csm_chosen(None, "mid-market", "csm-mm-1 at capacity (25/25)", CLOSE + H)
    s = m.state
    assert s.owners.csm == ""
    [warning] = entries(m, Kind.WARNING)
    assert warning.details["message"] == "no CSM available in team mid-market: csm-mm-1 at capacity (25/25)"
    [note] = entries(m, Kind.ESCALATED)
    assert s.escalations == [Escalated(sla=SlaName.CSM_BRIEFED, to=Role.CS_MANAGER, at=CLOSE + H, person="carla@x.io")]
    assert note.details["people"] == ["carla@x.io"]
    assert note.details["note"] == "assign a CSM: csm-mm-1 at capacity (25/25)"
    # A lead then names one by hand.
    m.check_csm(CsmAssignment(csm="csm-mm-9"))
    m.apply_csm(CsmAssignment(csm="csm-mm-9"), CLOSE + 2 * H)
    assert (s.owners.csm, s.owners.cs_team) == ("csm-mm-9", "mid-market")
    assert entries(m, Kind.CSM_ASSIGNED)[0].details == {"csm": "csm-mm-9", "team": "mid-market", "by": "cs_lead"}


def test_a_lead_who_assigned_first_wins_over_the_rule():
    m = machine()
    m.apply_csm(CsmAssignment(csm="csm-star", team="enterprise", by="lead@x.io"), CLOSE + H)
    timeline = len(m.state.timeline)
    m.csm_chosen("csm-mm-1", "mid-market", "next in the round robin", CLOSE + 2 * H)
    assert (m.state.owners.csm, m.state.owners.cs_team) == ("csm-star", "enterprise")
    assert len(m.state.timeline) == timeline
    # A later reassignment records whom it replaced.
    m.apply_csm(CsmAssignment(csm="csm-mm-2", team="mid-market", by="lead@x.io"), CLOSE + 3 * H)
    assert entries(m, Kind.CSM_ASSIGNED)[-1].details["previous"] == "csm-star"


def test_no_team_for_the_approach_asks_for_no_assignment():
    m = machine(policy=Policy.model_validate({"teams": []}))
    assert not effects_of(m, AssignCsm)
    assert entries(m, Kind.WARNING)[0].details["message"] == "no CS team serves structured handoffs"


def test_the_csm_message_is_refused_after_the_end_and_the_rule_then_changes_nothing():
    m = machine()
    m.stage_changed(StageKind.LOST, "closedlost", None, None, CLOSE + D)
    with pytest.raises(Refused) as err:
        m.check_csm(CsmAssignment(csm="csm-mm-1"))
    assert err.value.type is ErrorType.CLOSED
    before = m.state.model_dump()
    m.csm_chosen("csm-mm-1", "mid-market", "next in the round robin", CLOSE + 2 * D)
    assert m.state.model_dump() == before


def test_the_ae_leaving_starts_a_7_day_recovery_that_naming_an_owner_meets():
    m = machine()
    m.check_ae_departure(AeDeparture(by="sm@example.com"))
    m.apply_ae_departure(AeDeparture(by="sm@example.com"), CLOSE + 2 * D)
    s = m.state
    recovery = s.deadlines[SlaName.RECOVERY_OWNER]
    assert s.facts.ae_departed_at == CLOSE + 2 * D and recovery.due == CLOSE + 9 * D
    [told] = [n for n in effects_of(m, Notify) if n.event == "ae_departed"]
    assert told.to == ["sales_manager"]
    assert notified_people(m, "ae_departed") == [["sm@example.com"]]

    with pytest.raises(Refused) as err:
        m.check_ae_departure(AeDeparture())
    assert err.value.type is ErrorType.INVALID_TRANSITION and "name the recovery owner" in err.value.message

    m.check_ae_departure(AeDeparture(recovery_owner="peer@example.com"))
    m.apply_ae_departure(AeDeparture(recovery_owner="peer@example.com", by="sm@example.com"), CLOSE + 3 * D)
    assert s.owners.recovery_owner == "peer@example.com"
    assert (recovery.status, recovery.met_at) == (DeadlineStatus.MET, CLOSE + 3 * D)
    assert len(entries(m, Kind.MESSAGE, message="ae_departed")) == 1
    [told] = [n for n in effects_of(m, Notify) if n.event == "recovery_owner_assigned"]
    # The customer hears from the introduction step, not from an internal notice.
    assert told.to == ["recovery_owner", "csm"]
    assert notified_people(m, "recovery_owner_assigned") == [["peer@example.com"]]


def test_a_recovery_owner_who_already_owns_is_not_replaced():
    m = machine()
    m.apply_ae_departure(AeDeparture(recovery_owner="peer@example.com"), CLOSE + D)
    before = m.state.model_dump()
    for msg in (AeDeparture(recovery_owner="other@example.com"), AeDeparture(recovery_owner="peer@example.com")):
        with pytest.raises(Refused) as err:
            m.check_ae_departure(msg)
        assert (err.value.type, err.value.message) == (
            ErrorType.INVALID_TRANSITION,
            "peer@example.com already owns the recovery",
        )
    assert m.state.model_dump() == before


def test_naming_the_owner_with_the_departure_plans_and_meets_the_recovery_at_once():
    m = machine(sales_manager="")
    m.apply_ae_departure(AeDeparture(recovery_owner="peer@example.com"), CLOSE + D)
    recovery = m.state.deadlines[SlaName.RECOVERY_OWNER]
    assert recovery.status is DeadlineStatus.MET and recovery.met_at == CLOSE + D
    # No sales manager on the deal and none in the (empty) directory: nobody holds the place, and
    # the timeline says so rather than naming the role.
    assert notified_people(m, "ae_departed") == [[]]
    assert entries(m, Kind.RECIPIENT_UNRESOLVED, event="ae_departed", place="sales_manager")


def test_a_recovery_left_unowned_breaches_and_goes_to_the_vp():
    m = machine()
    m.apply_ae_departure(AeDeparture(), CLOSE + D)
    m.tick(CLOSE + 8 * D)
    assert entries(m, Kind.ESCALATED, sla="recovery_owner")[0].details["people"] == ["vp@example.com"]
    assert m.state.deadlines[SlaName.RECOVERY_OWNER].status is DeadlineStatus.BREACHED
    [escalated] = [e for e in m.state.escalations if e.sla is SlaName.RECOVERY_OWNER]
    assert (escalated.to, escalated.person, escalated.at) == (Role.VP_SALES, "vp@example.com", CLOSE + 8 * D)


def test_the_departure_is_refused_after_the_end():
    m = machine()
    m.stage_changed(StageKind.LOST, "closedlost", None, None, CLOSE + D)
    with pytest.raises(Refused) as err:
        m.check_ae_departure(AeDeparture(recovery_owner="peer@example.com"))
    assert err.value.type is ErrorType.CLOSED
