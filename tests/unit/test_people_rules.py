"""The handoff as the guides describe it, under the people rules: the win asks the AE for the intro
(a CRM task due with the intro SLA) and tells the CS lead; a CSM who sends the document back reaches the
AE with their comments; a five-star handoff is shared with the sales team."""

from __future__ import annotations

import pytest

from domain.effects import CreateCrmTask, Notify
from domain.messages import DocumentUpdate, IntakeReviewInput
from domain.roles import SlaName
from domain.state import DeadlineStatus, Phase
from domain.timeline import Kind
from tests.handoffs import READY_DOCUMENT
from tests.unit.machine_builders import CLOSE, H, effects_of, entries, machine, notified, notified_people

pytestmark = pytest.mark.unit


def test_the_win_gives_the_ae_a_crm_task_to_schedule_the_intro_due_with_its_sla():
    m = machine()
    [task] = [t for t in effects_of(m, CreateCrmTask) if "introduction" in t.subject]
    assert task.owner == "ae@example.com"
    assert task.due == m.state.deadlines[SlaName.INTRO_SCHEDULED].due
    [won] = [n for n in effects_of(m, Notify) if n.event == "handoff_won"]
    assert won.to == ["cs_lead"]


def test_an_approach_without_an_intro_gets_no_intro_task():
    m = machine(acv=8_000)  # automated
    assert m.state.approach.approach.value == "automated"
    assert not [t for t in effects_of(m, CreateCrmTask) if "introduction" in t.subject]


def test_a_run_from_before_the_people_rules_gets_neither():
    m = machine(people_rules=False)
    assert not effects_of(m, CreateCrmTask) and "handoff_won" not in notified(m)


def review(m, at, accept, rating=3, comments=""):
    msg = IntakeReviewInput(rating=rating, accept=accept, comments=comments, by="csm-mm-1")
    m.check_intake(msg)
    m.apply_intake(msg, at)


def test_a_csm_sending_the_document_back_reaches_the_ae_with_comments_and_a_follow_up():
    m = machine(READY_DOCUMENT)
    review(m, CLOSE + 2 * H, accept=False, comments="Who signs off on the SSO rollout?")
    s = m.state
    assert s.returned_to_sales and s.facts.submitted_at is None and s.phase is Phase.DOCUMENTING
    [returned] = entries(m, Kind.MESSAGE, message="returned_to_sales")
    assert returned.details["reason"] == "intake review"
    follow_up = s.deadlines[SlaName.AE_FOLLOW_UP]
    assert follow_up.due == CLOSE + 26 * H and follow_up.status is DeadlineStatus.PENDING
    [notice] = [n for n in effects_of(m, Notify) if n.event == "document_returned"]
    assert notice.to == ["ae"] and "Who signs off on the SSO rollout?" in notice.text
    assert notified_people(m, "document_returned") == [["ae@example.com"]]
    [task] = [t for t in effects_of(m, CreateCrmTask) if "returned" in t.subject]
    assert task.body == "Who signs off on the SSO rollout?" and task.due == follow_up.due

    # An edit alone does not send it back to the CSM; the AE's resubmission does, and ends the follow-up.
    m.apply_document(DocumentUpdate(fields={"goals": READY_DOCUMENT.goals + " (sponsor: CFO)"}), CLOSE + 3 * H)
    assert s.returned_to_sales and s.facts.submitted_at is None
    m.check_document(DocumentUpdate(submit=True))
    m.apply_document(DocumentUpdate(submit=True), CLOSE + 4 * H)
    assert not s.returned_to_sales and s.facts.submitted_at == CLOSE + 4 * H and s.phase is Phase.INTAKE_REVIEW
    assert (follow_up.status, follow_up.met_at) == (DeadlineStatus.MET, CLOSE + 4 * H)


def test_the_csm_accepting_ends_the_follow_up_on_gaps():
    from tests.unit.test_gate_and_scoring import GAPS_DOCUMENT

    m = machine(GAPS_DOCUMENT)
    follow_up = m.state.deadlines[SlaName.AE_FOLLOW_UP]
    assert follow_up.status is DeadlineStatus.PENDING
    review(m, CLOSE + 2 * H, accept=True)
    assert (follow_up.status, follow_up.met_at) == (DeadlineStatus.MET, CLOSE + 2 * H)


@pytest.mark.parametrize(("rating", "shared"), [(5, True), (4, False), (3, False)])
def test_a_five_star_handoff_is_shared_with_the_sales_team(rating, shared):
    m = machine(READY_DOCUMENT)
    review(m, CLOSE + 2 * H, accept=True, rating=rating)
    celebrated = [n for n in effects_of(m, Notify) if n.event == "handoff_celebrated"]
    assert bool(celebrated) is shared
    if shared:
        assert celebrated[0].to == ["sales_team"]


@pytest.mark.parametrize("people_rules", [True, False])
def test_the_parent_tells_the_csm_of_the_handover_to_cs_and_the_child_no_longer_does(people_rules):
    from domain.effects import StartOnboarding
    from domain.messages import ChildFinished, KickoffHeld
    from domain.state import ChildKind
    from tests.unit.machine_builders import D, briefed, intro_held

    m = briefed(machine(people_rules=people_rules), CLOSE + H)
    intro_held(m, CLOSE + 2 * H, CLOSE + D)
    m.check_kickoff(KickoffHeld())
    m.apply_kickoff(KickoffHeld(), CLOSE + 2 * D)
    [start] = effects_of(m, StartOnboarding)
    assert start.input.tells_cs is not people_rules
    m.child_started(ChildKind.ONBOARDING, start.workflow_id, CLOSE + 2 * D)
    summary = {"completion": 75.0}
    m.child_finished(
        ChildFinished(kind=ChildKind.ONBOARDING, workflow_id=start.workflow_id, passed=True, summary=summary),
        CLOSE + 20 * D,
    )
    told = [n for n in effects_of(m, Notify) if n.event == "cs_introduction"]
    if people_rules:
        assert [n.to for n in told] == [["csm", "ae"]] and "75.0%" in told[0].text
    else:
        assert told == []


def test_notices_say_what_is_due_and_by_when():
    """Each notice that asks someone to act carries its SLA and due instant (the sinks show it in the
    recipient's own zone); runs from before the people rules send theirs as they did."""
    from domain.messages import AeDeparture

    m = machine(READY_DOCUMENT)
    m.csm_chosen("csm-mm-1", "mid-market", "next in the round robin", CLOSE)
    m.apply_ae_departure(AeDeparture(by="sm@example.com"), CLOSE + H)
    due = {n.event: n.details for n in effects_of(m, Notify)}
    briefed = m.state.deadlines[SlaName.CSM_BRIEFED].due.isoformat()
    assert due["csm_assigned"] == {"sla": "csm_briefed", "due": briefed}
    assert due["handoff_won"] == {"sla": "csm_briefed", "due": briefed}
    assert due["document_submitted"] == {"sla": "csm_briefed", "due": briefed}
    assert due["document_assigned"]["sla"] == "intro_scheduled"
    assert due["ae_departed"] == {
        "sla": "recovery_owner",
        "due": m.state.deadlines[SlaName.RECOVERY_OWNER].due.isoformat(),
    }
    old = machine(READY_DOCUMENT, people_rules=False)
    assert all("due" not in n.details for n in effects_of(old, Notify))
