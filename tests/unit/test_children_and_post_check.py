"""The children as the parent machine sees them: onboarding from the kickoff, the 30-day check from its
due instant, their results, and when the handoff closes."""

from __future__ import annotations

import pytest

from domain.check_failures import CheckFailure, CheckFailureKind
from domain.effects import EndChildren, StartOnboarding, StartPostCheck
from domain.machine import HandoffMachine
from domain.messages import AeDeparture, ChildFinished, KickoffHeld, MilestoneSignal
from domain.onboarding_policy import Milestone
from domain.roles import Role, SlaName
from domain.stages import StageKind
from domain.state import ChildKind, DeadlineStatus, Outcome, Phase
from domain.timeline import Kind
from tests.unit.machine_builders import CLOSE, D, H, briefed, effects_of, entries, intro_held, machine

pytestmark = pytest.mark.unit

ONBOARDING, POST_CHECK = "baton-hubspot-4242-onboarding", "baton-hubspot-4242-post-check"


def onboarding(**deal_fields) -> HandoffMachine:
    """Kicked off on day 4, its onboarding child running."""
    m = briefed(machine(**deal_fields), CLOSE + H)
    intro_held(m, CLOSE + 2 * H, CLOSE + 2 * D)
    m.apply_kickoff(KickoffHeld(success_plan=["SSO live"]), CLOSE + 4 * D)
    m.child_started(ChildKind.ONBOARDING, ONBOARDING, CLOSE + 4 * D)
    return m


LOW_USAGE = CheckFailure(kind=CheckFailureKind.LOW_USAGE, text="usage: 0 active users (at least 1 expected)")
CONCERN = CheckFailure(kind=CheckFailureKind.CONCERN_RAISED, text="concern raised: slow support")
PARTNER = CheckFailure(
    kind=CheckFailureKind.PARTNER_UNCONFIRMED,
    text="partner: the CSM cannot say what the customer wants and who confirms it",
)


def finished(kind: ChildKind, passed: bool = True, failures: tuple[CheckFailure, ...] = ()) -> ChildFinished:
    workflow_id = ONBOARDING if kind is ChildKind.ONBOARDING else POST_CHECK
    return ChildFinished(kind=kind, workflow_id=workflow_id, passed=passed, checks_failed=list(failures))


def checked(m: HandoffMachine, passed: bool = True, failures: tuple[CheckFailure, ...] = ()) -> HandoffMachine:
    """Day 30 comes; the check starts and reports on day 31."""
    m.tick(CLOSE + 30 * D)
    m.child_started(ChildKind.POST_CHECK, POST_CHECK, CLOSE + 30 * D)
    m.child_finished(finished(ChildKind.POST_CHECK, passed, failures), CLOSE + 31 * D)
    return m


def test_the_kickoff_starts_onboarding_and_its_end_transitions_the_handoff():
    m = onboarding()
    assert [effect.workflow_id for effect in effects_of(m, StartOnboarding)] == [ONBOARDING]
    child = m.state.children["onboarding"]
    assert (child.workflow_id, child.started_at, child.finished_at) == (ONBOARDING, CLOSE + 4 * D, None)
    assert entries(m, Kind.CHILD_STARTED)[0].details == {"child": "onboarding", "workflow_id": ONBOARDING}
    m.milestone(MilestoneSignal(milestone=Milestone.SETUP_COMPLETE, at=CLOSE + 9 * D), CLOSE + 9 * D)
    assert m.state.milestones == {Milestone.SETUP_COMPLETE: CLOSE + 9 * D}
    assert entries(m, Kind.MILESTONE)[0].details == {"milestone": "setup_complete"}
    m.child_finished(finished(ChildKind.ONBOARDING), CLOSE + 20 * D)
    assert m.state.facts.transitioned_at == CLOSE + 20 * D and m.state.phase is Phase.TRANSITIONED
    assert (child.finished_at, child.passed) == (CLOSE + 20 * D, True)
    # The 30-day check has not run: the handoff stays open.
    assert m.state.outcome is Outcome.OPEN


def test_the_30_day_check_starts_at_its_due_instant_and_is_never_breached_by_the_clock():
    m = onboarding()
    check = m.state.deadlines[SlaName.POST_CHECK]
    assert check.due == CLOSE + 30 * D
    m.tick(CLOSE + 30 * D - H)
    assert effects_of(m, StartPostCheck) == []
    m.tick(CLOSE + 30 * D)
    assert [effect.workflow_id for effect in effects_of(m, StartPostCheck)] == [POST_CHECK]
    m.child_started(ChildKind.POST_CHECK, POST_CHECK, CLOSE + 30 * D)
    m.tick(CLOSE + 40 * D)
    # The child owns that deadline: ten days on, it is still open and not started again.
    assert check.status is DeadlineStatus.PENDING and len(effects_of(m, StartPostCheck)) == 1
    assert not entries(m, Kind.SLA_BREACHED, sla="post_check")


def test_a_passed_check_and_a_transitioned_onboarding_hand_the_customer_off():
    m = checked(onboarding())
    assert m.state.deadlines[SlaName.POST_CHECK].status is DeadlineStatus.MET
    assert entries(m, Kind.CHECK_PASSED, sla="post_check")
    # Onboarding is still running: not closed yet.
    assert m.state.outcome is Outcome.OPEN
    m.child_finished(finished(ChildKind.ONBOARDING), CLOSE + 32 * D)
    s = m.state
    assert (s.outcome, s.phase, s.facts.ended_at) == (Outcome.HANDED_OFF, Phase.CLOSED, CLOSE + 32 * D)
    assert entries(m, Kind.CLOSED)[0].details == {"outcome": "handed_off"}
    assert m.next_wake() is None


def test_a_failed_check_is_breached_and_escalated_to_the_cs_manager():
    m = checked(onboarding(), passed=False, failures=(LOW_USAGE, CONCERN))
    check = m.state.deadlines[SlaName.POST_CHECK]
    assert (check.status, check.breached_at) == (DeadlineStatus.BREACHED, CLOSE + 31 * D)
    texts = [LOW_USAGE.text, CONCERN.text]
    assert entries(m, Kind.CHECK_FAILED)[0].details == {"sla": "post_check", "failures": texts}
    [escalated] = entries(m, Kind.ESCALATED, sla="post_check")
    assert escalated.details["to"] == "cs_manager" and escalated.details["note"] == "; ".join(texts)


@pytest.mark.parametrize(
    ("failures", "partner_ok"),
    [
        ((PARTNER,), False),
        ((LOW_USAGE,), True),
        # Settled by the failure's kind, never its words: a concern that names the partner is a concern.
        ((CheckFailure(kind=CheckFailureKind.CONCERN_RAISED, text="concern raised: the partner never called"),), True),
    ],
)
def test_the_partner_check_fails_only_on_a_partner_failure(failures, partner_ok):
    m = onboarding(channel_partner="Northwind Partners")
    assert m.state.deadlines[SlaName.PARTNER_CHECK].due == CLOSE + 30 * D
    checked(m, passed=False, failures=failures)
    partner = m.state.deadlines[SlaName.PARTNER_CHECK]
    assert m.state.deadlines[SlaName.POST_CHECK].status is DeadlineStatus.BREACHED
    assert (partner.status is DeadlineStatus.MET) is partner_ok
    escalated = {(e.sla, e.to) for e in m.state.escalations if e.sla in (SlaName.POST_CHECK, SlaName.PARTNER_CHECK)}
    expected = {(SlaName.POST_CHECK, Role.CS_MANAGER)}
    if not partner_ok:
        expected.add((SlaName.PARTNER_CHECK, Role.PARTNER_MANAGER))
    assert escalated == expected


def test_a_signal_from_a_check_that_predates_failure_kinds_is_settled_as_it_was():
    # Runs in flight before failures carried their kind sent only the texts, in the summary.
    m = onboarding(channel_partner="Northwind Partners")
    m.tick(CLOSE + 30 * D)
    m.child_started(ChildKind.POST_CHECK, POST_CHECK, CLOSE + 30 * D)
    older = ChildFinished.model_validate(
        {"kind": "post_check", "workflow_id": POST_CHECK, "passed": False, "summary": {"failures": [PARTNER.text]}}
    )
    assert older.checks_failed == [PARTNER]
    m.child_finished(older, CLOSE + 31 * D)
    assert m.state.deadlines[SlaName.PARTNER_CHECK].status is DeadlineStatus.BREACHED
    assert entries(m, Kind.CHECK_FAILED, sla="partner_check")[0].details["failures"] == [PARTNER.text]


def test_a_deadline_still_watching_holds_the_close_until_it_settles():
    m = onboarding()
    m.tick(CLOSE + 29 * D)
    m.apply_ae_departure(AeDeparture(), CLOSE + 29 * D)
    checked(m)
    m.child_finished(finished(ChildKind.ONBOARDING), CLOSE + 32 * D)
    assert m.state.outcome is Outcome.OPEN and m.next_wake() == (CLOSE + 36 * D, "SLA recovery_owner")
    m.tick(CLOSE + 36 * D)
    assert m.state.deadlines[SlaName.RECOVERY_OWNER].status is DeadlineStatus.BREACHED
    assert (m.state.outcome, m.state.facts.ended_at) == (Outcome.HANDED_OFF, CLOSE + 36 * D)


def test_a_repeated_or_unknown_child_finished_is_recorded_and_ignored():
    m = onboarding()
    m.child_finished(finished(ChildKind.ONBOARDING), CLOSE + 20 * D)
    before = m.state.model_copy(deep=True)
    m.child_finished(finished(ChildKind.ONBOARDING, passed=False), CLOSE + 21 * D)
    m.child_finished(finished(ChildKind.POST_CHECK), CLOSE + 21 * D)
    ignored = [(e.details["child"], e.details["reason"]) for e in entries(m, Kind.MESSAGE_IGNORED)]
    assert ignored == [("onboarding", "unknown or repeated"), ("post_check", "unknown or repeated")]
    assert m.state.children == before.children and m.state.facts == before.facts
    assert m.state.deadlines == before.deadlines


def test_a_lost_deal_while_the_children_run_ends_them():
    m = checked(onboarding(), passed=True)
    m.child_started(ChildKind.POST_CHECK, POST_CHECK, CLOSE + 30 * D)
    m.stage_changed(StageKind.LOST, "closedlost", None, None, CLOSE + 31 * D)
    assert m.state.outcome is Outcome.LOST
    assert effects_of(m, EndChildren) == [EndChildren()]
    assert m.state.children["onboarding"].finished_at is None


def test_a_child_finishing_after_the_end_changes_nothing():
    m = onboarding()
    m.stage_changed(StageKind.LOST, "closedlost", None, None, CLOSE + 5 * D)
    before = m.state.model_copy(deep=True)
    # The cancelled child may still report, and its milestones still be forwarded, while the parent
    # finishes its last effects: a lost handoff must not turn into a transitioned one.
    m.child_finished(finished(ChildKind.ONBOARDING), CLOSE + 6 * D)
    m.milestone(MilestoneSignal(milestone=Milestone.SETUP_COMPLETE, at=CLOSE + 6 * D), CLOSE + 6 * D)
    s = m.state
    assert (s.outcome, s.phase, s.facts, s.children, s.milestones) == (
        before.outcome,
        before.phase,
        before.facts,
        before.children,
        before.milestones,
    )
    ignored = [(e.details["message"], e.details["reason"]) for e in entries(m, Kind.MESSAGE_IGNORED)]
    assert ignored == [("child_finished", "handoff has ended"), ("milestone_reached", "handoff has ended")]
