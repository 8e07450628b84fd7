"""The tier gate and scoring inside the machine: ready proceeds, gaps start the AE follow-up, blocked
returns the document to sales; a CSM's overrides rescore and re-gate."""

from __future__ import annotations

import pytest

from domain.document import CORE_FIELDS, DocumentPatch, FieldName, HandoffDocument
from domain.effects import AssignCsm, CreateCrmTask, Notify
from domain.errors import ErrorType, Refused
from domain.messages import DocumentUpdate, IntakeReviewInput
from domain.roles import Role, SlaName
from domain.scoring import Tier
from domain.state import DeadlineStatus, Escalated, Phase
from domain.timeline import Kind
from tests.handoffs import GAPS_DOCUMENT, READY_DOCUMENT
from tests.unit.machine_builders import (
    CLOSE,
    CREATED,
    NY,
    D,
    H,
    effects_of,
    entries,
    machine,
    notified,
    notified_people,
)

pytestmark = pytest.mark.unit

# goals "TBD" is a placeholder (0.5 x 3) and scope "Platform" names no product (0.5 x 2):
# 2.5 of 17 weights = 14.7, under the 60 of gaps.
THIN = HandoffDocument(goals="TBD", scope="Platform")
# GAPS_DOCUMENT drops risks (2) and communication preferences (1) and makes the success criteria
# generic (0.5 x 3): 17 - 2 - 1 - 1.5 = 12.5 of 17 = 73.5, between 60 and 85.
GAPS_SCORE = 73.5


def document(fields: HandoffDocument, submit: bool = False, by: str = "ae@example.com") -> DocumentUpdate:
    return DocumentUpdate(fields=DocumentPatch(**fields.model_dump(exclude_defaults=True)), submit=submit, by=by)


def test_a_ready_document_carried_by_the_win_counts_as_submitted():
    m = machine(READY_DOCUMENT)
    s = m.state
    assert (s.quality.score, s.quality.tier) == (100.0, Tier.READY)
    assert s.facts.submitted_at == CLOSE and s.phase is Phase.INTAKE_REVIEW
    assert SlaName.AE_FOLLOW_UP not in s.deadlines and not s.escalations
    assert notified(m) == ["document_assigned", "handoff_won", "document_submitted"]
    assert effects_of(m, AssignCsm) == [AssignCsm(team="mid-market")]
    assert entries(m, Kind.DOCUMENT_SCORED) and entries(m, Kind.DOCUMENT_SCORED)[0].details == {
        "score": 100.0,
        "tier": "ready",
        "statuses": {name.value: 1.0 for name in CORE_FIELDS},  # partner context: partner deals only
    }


@pytest.mark.parametrize("carried", [None, HandoffDocument()])
def test_a_win_without_a_document_waits_for_the_ae(carried):
    m = machine(carried, products=["Marketing Hub Enterprise", "25 seats"])
    s = m.state
    assert s.facts.submitted_at is None and s.phase is Phase.DOCUMENTING
    # The CRM's own data prefills what it can; it is never enough alone.
    assert s.document.scope == "Marketing Hub Enterprise, 25 seats"
    assert s.quality.tier is Tier.BLOCKED and not s.returned_to_sales
    assert notified(m) == ["document_assigned", "handoff_won"]
    assert effects_of(m, Notify)[0].to == ["ae"]  # a place in the handoff, resolved as it is sent
    assert notified_people(m, "document_assigned") == [["ae@example.com"]]


def test_a_blocked_document_returns_to_sales_escalates_once_and_proceeds_when_completed():
    m = machine(THIN)
    s = m.state
    assert (s.quality.score, s.quality.tier) == (14.7, Tier.BLOCKED)
    assert s.returned_to_sales and s.facts.submitted_at is None and s.phase is Phase.DOCUMENTING
    assert entries(m, Kind.ESCALATED, sla="ae_follow_up")[0].details["people"] == ["sm@example.com"]
    assert s.escalations == [
        Escalated(sla=SlaName.AE_FOLLOW_UP, to=Role.SALES_MANAGER, at=CLOSE, person="sm@example.com")
    ]
    intro_task, task = effects_of(m, CreateCrmTask)
    assert intro_task.subject.startswith("Schedule the warm introduction")
    assert task.owner == "ae@example.com"
    # Every field is short of specific; heaviest first, the document's order within a weight.
    assert task.body == (
        "goals, stakeholders, success_criteria, risks, scope, sales_conversations, contract_terms, "
        "communication_preferences"
    )
    assert [e.to for e in effects_of(m, Notify) if e.event == "escalated"] == [["sales_manager"]]
    assert notified_people(m, "escalated") == [["sm@example.com"]]

    # Submitted again, still blocked: no second escalation, no second CRM task.
    m.apply_document(document(HandoffDocument(goals="Improve efficiency"), submit=True), CLOSE + H)
    assert len(s.escalations) == 1 and len(effects_of(m, CreateCrmTask)) == 2 and s.returned_to_sales

    m.apply_document(document(READY_DOCUMENT, submit=True), CLOSE + 2 * H)
    assert not s.returned_to_sales and s.quality.tier is Tier.READY
    assert s.facts.submitted_at == CLOSE + 2 * H and s.phase is Phase.INTAKE_REVIEW
    assert notified(m)[-1] == "document_submitted"


def test_gaps_flag_the_missing_fields_and_start_a_24h_follow_up_that_a_fix_meets():
    m = machine(GAPS_DOCUMENT)
    s = m.state
    assert (s.quality.score, s.quality.tier) == (GAPS_SCORE, Tier.GAPS)
    assert s.facts.submitted_at == CLOSE and s.phase is Phase.INTAKE_REVIEW
    follow_up = s.deadlines[SlaName.AE_FOLLOW_UP]
    assert follow_up.due == CLOSE + 24 * H and follow_up.on_breach is Role.SALES_MANAGER
    [flag] = [e for e in effects_of(m, Notify) if e.event == "gaps_flagged"]
    assert flag.to == ["csm", "ae"]
    # The CSM's id is not in the (empty) directory: the AE alone is reached, and the CSM's place is
    # reported as unresolved.
    assert notified_people(m, "gaps_flagged") == [["ae@example.com"]]
    assert entries(m, Kind.RECIPIENT_UNRESOLVED, event="gaps_flagged", place="csm")
    # What is due and by when (the sinks show it in each person's own zone): the follow-up.
    assert flag.details == {
        "missing": ["success_criteria", "risks", "communication_preferences"],
        "sla": "ae_follow_up",
        "due": (CLOSE + 24 * H).astimezone(NY).isoformat(),
    }

    # A second submission of the same gaps neither restarts the follow-up nor flags again.
    m.apply_document(document(HandoffDocument(goals=GAPS_DOCUMENT.goals), submit=True), CLOSE + H)
    assert s.deadlines[SlaName.AE_FOLLOW_UP].due == CLOSE + 24 * H
    assert notified(m).count("gaps_flagged") == 1 and notified(m).count("document_submitted") == 1

    # An edit after submission is gated again without `submit`: now ready, the follow-up is met.
    fix = HandoffDocument(
        risks=READY_DOCUMENT.risks,
        communication_preferences=READY_DOCUMENT.communication_preferences,
        success_criteria=READY_DOCUMENT.success_criteria,
    )
    m.apply_document(document(fix), CLOSE + 20 * H)
    assert s.quality.tier is Tier.READY
    assert (follow_up.status, follow_up.met_at) == (DeadlineStatus.MET, CLOSE + 20 * H)
    assert entries(m, Kind.DEADLINE_MET, sla="ae_follow_up")


def test_gaps_left_alone_breach_the_follow_up_and_escalate_to_the_sales_manager():
    m = machine(GAPS_DOCUMENT)
    m.tick(CLOSE + 24 * H)
    assert m.state.deadlines[SlaName.AE_FOLLOW_UP].status is DeadlineStatus.BREACHED
    [breach] = entries(m, Kind.SLA_BREACHED, sla="ae_follow_up")
    assert breach.at == CLOSE + 24 * H
    assert entries(m, Kind.ESCALATED, sla="ae_follow_up", to="sales_manager")


def test_edits_before_submission_are_scored_but_not_gated():
    m = machine(None)
    scored = len(entries(m, Kind.DOCUMENT_SCORED))
    m.check_document(document(GAPS_DOCUMENT))
    m.apply_document(document(GAPS_DOCUMENT), CLOSE + H)
    s = m.state
    assert s.quality.score == GAPS_SCORE and s.facts.submitted_at is None and s.phase is Phase.DOCUMENTING
    assert SlaName.AE_FOLLOW_UP not in s.deadlines and "document_submitted" not in notified(m)
    [edit] = entries(m, Kind.MESSAGE, message="document_updated")
    assert edit.details["by"] == "ae@example.com" and edit.details["submit"] is False
    assert "goals" in edit.details["fields"] and "risks" not in edit.details["fields"]
    # The same content again changes no score: nothing new is scored on the timeline.
    m.apply_document(document(GAPS_DOCUMENT), CLOSE + 2 * H)
    assert len(entries(m, Kind.DOCUMENT_SCORED)) == scored + 1


def test_submit_before_the_win_is_refused_and_changes_nothing_but_editing_is_allowed():
    m = machine(None, won=False)
    before = m.state.model_dump()
    with pytest.raises(Refused) as refused:
        m.check_document(document(READY_DOCUMENT, submit=True))
    assert refused.value.type is ErrorType.INVALID_TRANSITION and "not won yet" in refused.value.message
    assert m.state.model_dump() == before

    m.check_document(document(READY_DOCUMENT))
    m.apply_document(document(READY_DOCUMENT), CLOSE - D)
    assert m.state.quality.tier is Tier.READY
    assert m.state.facts.submitted_at is None and m.state.phase is Phase.PRE_CLOSE


def test_a_rapid_close_is_scored_on_its_own_template():
    # Created 10 days before the close: under the 14-day cycle, only the five rapid-close fields count.
    m = machine(GAPS_DOCUMENT, created_at=CLOSE - 10 * D)
    q = m.state.quality
    assert q.rapid_close and set(q.fields) == {
        FieldName.GOALS,
        FieldName.STAKEHOLDERS,
        FieldName.SCOPE,
        FieldName.RISKS,
        FieldName.SALES_CONVERSATIONS,
    }
    # Weights 3+3+2+2+2 = 12; only risks (2) is empty: 10 / 12 = 83.3, gaps.
    assert (q.score, q.tier) == (83.3, Tier.GAPS)
    assert machine(GAPS_DOCUMENT, created_at=CREATED).state.quality.rapid_close is False


def test_an_expansion_is_scored_on_the_lighter_internal_document():
    m = machine(GAPS_DOCUMENT, deal_type="expansion")
    q = m.state.quality
    assert m.state.approach.approach.value == "internal"
    assert FieldName.STAKEHOLDERS not in q.fields and FieldName.CONTRACT_TERMS in q.fields
    # goals 3, scope 2, sales conversations 2, contract terms 1 specific; risks (2) empty: 8 / 10 = 80.
    assert (q.score, q.tier) == (80.0, Tier.GAPS)


def test_before_the_people_rules_the_csms_overrides_rescore_and_regate_the_document():
    m = machine(GAPS_DOCUMENT, people_rules=False)
    m.csm_chosen("csm-mm-1", "mid-market", "next in the round robin", CLOSE)
    override = {FieldName.RISKS: 1.0, FieldName.COMMUNICATION_PREFERENCES: 1.0}
    review = IntakeReviewInput(rating=4, overrides=override, accept=False, by="csm-mm-1")
    m.check_intake(review)
    m.apply_intake(review, CLOSE + 2 * H)
    s = m.state
    # Still generic success criteria (0.5 x 3): 15.5 / 17 = 91.2, ready; the follow-up is met.
    assert (s.quality.score, s.quality.tier) == (91.2, Tier.READY)
    assert s.quality.fields[FieldName.RISKS].overridden
    assert s.quality.fields[FieldName.RISKS].reason.startswith("set to 1 by the CSM's intake review (rules said 0")
    assert s.deadlines[SlaName.AE_FOLLOW_UP].status is DeadlineStatus.MET
    assert s.facts.briefed_at is None and s.phase is Phase.INTAKE_REVIEW

    # A later review keeps the earlier overrides and adds its own; marking every field empty sends
    # the document back to sales.
    empty = {name: 0.0 for name in FieldName if name not in override}
    m.apply_intake(IntakeReviewInput(rating=2, overrides=empty, accept=False), CLOSE + 3 * H)
    assert s.intake.overrides == {**override, **empty}
    # Only risks (2) and communication preferences (1) count: 3 / 17 = 17.6, blocked.
    assert (s.quality.score, s.quality.tier) == (17.6, Tier.BLOCKED)
    assert s.returned_to_sales and s.facts.submitted_at is None and s.phase is Phase.DOCUMENTING
    # A review sent without `by` is the assigned CSM's.
    assert s.intake.reviewer == "csm-mm-1"
    assert [e.to for e in s.escalations] == [Role.SALES_MANAGER]
