"""The CSM's intake review, the intro, the first touch and the kickoff: each message, what it settles,
and every refusal (which changes nothing)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.document import DocumentPatch, FieldName
from domain.effects import Notify, StartOnboarding
from domain.errors import ErrorType, Refused
from domain.machine import HandoffMachine
from domain.messages import (
    DocumentUpdate,
    FirstTouch,
    IntakeReviewInput,
    IntroAction,
    IntroUpdate,
    KickoffHeld,
    StageChanged,
)
from domain.policy import Policy
from domain.roles import SlaName
from domain.stages import StageKind
from domain.state import DeadlineStatus, Phase
from domain.timeline import Kind
from tests.handoffs import READY_DOCUMENT
from tests.unit.machine_builders import (
    CLOSE,
    D,
    H,
    briefed,
    effects_of,
    entries,
    intro_held,
    machine,
    notified,
    won_deal,
)

pytestmark = pytest.mark.unit

SCHEDULED, HELD = IntroUpdate(action=IntroAction.SCHEDULED), IntroUpdate(action=IntroAction.HELD)


def lost(m: HandoffMachine) -> HandoffMachine:
    signal = StageChanged(stage="closedlost", kind=StageKind.LOST)
    m.stage_changed(signal.kind, signal.stage, None, None, CLOSE + D)
    return m


def refused(m: HandoffMachine, check: Callable, msg: object) -> Refused:
    """The refusal, after checking that it left the state as it was."""
    before = m.state.model_dump()
    with pytest.raises(Refused) as err:
        check(msg)
    assert m.state.model_dump() == before
    return err.value


@pytest.mark.parametrize(
    ("review", "type_", "says"),
    [
        (IntakeReviewInput(rating=0), ErrorType.INVALID_VALUE, "rating must be 1 to 5 (got 0)"),
        (IntakeReviewInput(rating=6), ErrorType.INVALID_VALUE, "rating must be 1 to 5 (got 6)"),
        (
            IntakeReviewInput(rating=4, overrides={FieldName.GOALS: 0.7}),
            ErrorType.INVALID_VALUE,
            "override statuses must be 0, 0.5 or 1: goals=0.7",
        ),
    ],
)
def test_bad_review_values_are_refused_before_anything_else(review, type_, says):
    # Not yet submitted either: the values are judged first, so the caller hears what to fix.
    m = machine(None)
    err = refused(m, m.check_intake, review)
    assert (err.type, err.message) == (type_, says)


def test_a_review_needs_a_submitted_document_and_happens_once_accepted():
    m = machine(None)
    err = refused(m, m.check_intake, IntakeReviewInput(rating=4))
    assert err.type is ErrorType.INVALID_TRANSITION and "has not submitted" in err.message
    m = briefed(machine(), CLOSE + H)
    err = refused(m, m.check_intake, IntakeReviewInput(rating=5))
    assert err.type is ErrorType.INVALID_TRANSITION and "already done" in err.message


def test_every_message_is_refused_after_the_end():
    m = lost(machine())
    checks = [
        (m.check_intake, IntakeReviewInput(rating=4)),
        (m.check_intro, SCHEDULED),
        (m.check_first_touch, FirstTouch()),
        (m.check_kickoff, KickoffHeld()),
    ]
    for check, msg in checks:
        err = refused(m, check, msg)
        assert (err.type, err.message) == (ErrorType.CLOSED, "the handoff has ended (lost)")


def test_an_accepted_review_briefs_the_csm_and_opens_the_intro():
    m = briefed(machine(), CLOSE + 5 * H, rating=4)
    s = m.state
    assert s.facts.briefed_at == CLOSE + 5 * H and s.phase is Phase.INTRO
    assert s.deadlines[SlaName.CSM_BRIEFED].status is DeadlineStatus.MET
    assert (s.intake.rating, s.intake.accepted, s.intake.reviewer) == (4, True, "csm-mm-1")
    [review] = entries(m, Kind.MESSAGE, message="intake_review")
    assert review.details == {
        "message": "intake_review",
        "by": "csm-mm-1",
        "rating": 4,
        "accepted": True,
        "overrides": {},
    }
    assert "welcome_sequence" not in notified(m)


def test_an_automated_handoff_starts_its_welcome_sequence_and_skips_the_intro():
    m = briefed(machine(acv=8_000), CLOSE + H)
    assert m.state.approach.approach.value == "automated" and m.state.phase is Phase.KICKOFF
    err = refused(m, m.check_intro, SCHEDULED)
    assert err.type is ErrorType.INVALID_TRANSITION and err.message == "automated handoffs have no intro meeting"
    m.check_kickoff(KickoffHeld())


def test_before_the_people_rules_the_welcome_sequence_was_a_notice_to_the_customer_role():
    d = won_deal(acv=8_000)
    m = HandoffMachine.new(f"baton-{d.crm}-{d.deal_id}", d, Policy(), people_rules=False)
    m.start(d, READY_DOCUMENT, True, CLOSE)
    briefed(m, CLOSE + H)
    [welcome] = [n for n in effects_of(m, Notify) if n.event == "welcome_sequence"]
    assert welcome.to == ["customer"]
    err = refused(m, m.check_intro, SCHEDULED)
    assert err.type is ErrorType.INVALID_TRANSITION and err.message == "automated handoffs have no intro meeting"
    m.check_kickoff(KickoffHeld())


def test_the_intro_is_scheduled_then_held_once_each():
    m = briefed(machine(), CLOSE + H)
    err = refused(m, m.check_intro, HELD)
    assert (err.type, err.message) == (ErrorType.INVALID_TRANSITION, "the intro cannot be held before it is scheduled")

    when = CLOSE + 3 * D
    m.check_intro(IntroUpdate(action=IntroAction.SCHEDULED, scheduled_for=when))
    m.apply_intro(IntroUpdate(action=IntroAction.SCHEDULED, scheduled_for=when, by="ae@example.com"), CLOSE + 2 * H)
    facts = m.state.facts
    assert (facts.intro_scheduled_at, facts.intro_scheduled_for) == (CLOSE + 2 * H, when)
    assert m.state.deadlines[SlaName.INTRO_SCHEDULED].status is DeadlineStatus.MET
    assert entries(m, Kind.MESSAGE, message="intro_scheduled")[0].details["scheduled_for"] == when.isoformat()
    assert m.state.phase is Phase.INTRO

    # Moved to another day before it is held: the first scheduling still counts for the SLA.
    m.apply_intro(IntroUpdate(action=IntroAction.SCHEDULED, scheduled_for=when + D), CLOSE + 4 * H)
    assert (facts.intro_scheduled_at, facts.intro_scheduled_for) == (CLOSE + 2 * H, when + D)

    m.check_intro(HELD)
    m.apply_intro(HELD, CLOSE + 4 * D)
    assert facts.intro_held_at == CLOSE + 4 * D and m.state.phase is Phase.KICKOFF
    assert m.state.deadlines[SlaName.INTRO_HELD].status is DeadlineStatus.MET
    for msg in (SCHEDULED, HELD):
        err = refused(m, m.check_intro, msg)
        assert (err.type, err.message) == (ErrorType.INVALID_TRANSITION, "the intro has already been held")


def test_meetings_wait_for_the_win():
    m = machine(None, won=False)
    for check, msg in (
        (m.check_intro, SCHEDULED),
        (m.check_first_touch, FirstTouch()),
        (m.check_kickoff, KickoffHeld()),
    ):
        err = refused(m, check, msg)
        assert (err.type, err.message) == (ErrorType.INVALID_TRANSITION, "the deal is not won yet")


def test_first_touch_meets_its_sla_once_and_with_the_implementation_owner_meets_that_one_too():
    m = machine(executive_sponsor="Priya Raman", implementation_owner="Olu Ade")
    contact = m.state.deadlines[SlaName.IMPL_OWNER_CONTACT]
    # 14 days of 24 hours from Friday 20:00 UTC: Friday 20 March 20:00 UTC.
    assert contact.due == CLOSE + 14 * D and contact.on_breach.value == "cs_manager"
    m.check_first_touch(FirstTouch(channel="call"))
    m.apply_first_touch(FirstTouch(channel="call", by="csm-mm-1"), CLOSE + 3 * H)
    assert m.state.deadlines[SlaName.CS_FIRST_TOUCH].met_at == CLOSE + 3 * H and contact.open
    m.apply_first_touch(FirstTouch(channel="call", with_implementation_owner=True), CLOSE + 2 * D)
    assert m.state.facts.first_touch_at == CLOSE + 3 * H
    assert m.state.facts.implementation_owner_contacted_at == CLOSE + 2 * D
    assert (contact.status, contact.met_at) == (DeadlineStatus.MET, CLOSE + 2 * D)
    [first, _] = entries(m, Kind.MESSAGE, message="first_touch")
    assert first.details == {
        "message": "first_touch",
        "by": "csm-mm-1",
        "channel": "call",
        "with_implementation_owner": False,
    }


def test_a_sponsor_who_is_also_the_implementation_owner_needs_no_separate_contact():
    m = machine(None, executive_sponsor="Priya Raman", implementation_owner="  priya raman ")
    assert SlaName.IMPL_OWNER_CONTACT not in m.state.deadlines
    assert [c.role.value for c in m.state.document.stakeholders] == ["executive_sponsor"]
    other = machine(None, executive_sponsor="Priya Raman", implementation_owner="Olu Ade")
    assert [(c.name, c.role.value) for c in other.state.document.stakeholders] == [
        ("Priya Raman", "executive_sponsor"),
        ("Olu Ade", "implementation_owner"),
    ]


def test_the_kickoff_comes_after_the_review_and_the_intro_and_happens_once():
    m = machine()
    err = refused(m, m.check_kickoff, KickoffHeld())
    assert (err.type, err.message) == (
        ErrorType.INVALID_TRANSITION,
        "the CSM's intake review comes before the kickoff",
    )
    briefed(m, CLOSE + H)
    err = refused(m, m.check_kickoff, KickoffHeld())
    assert (err.type, err.message) == (ErrorType.INVALID_TRANSITION, "the intro is held before the kickoff")
    intro_held(m, CLOSE + 2 * H, CLOSE + 2 * D)
    m.check_kickoff(KickoffHeld())
    m.apply_kickoff(KickoffHeld(success_plan=["SSO live", "first campaign"], by="csm-mm-1"), CLOSE + 5 * D)
    s = m.state
    assert s.facts.kickoff_at == CLOSE + 5 * D and s.success_plan == ["SSO live", "first campaign"]
    assert s.deadlines[SlaName.KICKOFF].status is DeadlineStatus.MET and s.phase is Phase.ONBOARDING
    assert [effect.workflow_id for effect in effects_of(m, StartOnboarding)] == [f"{m.state.workflow_id}-onboarding"]
    err = refused(m, m.check_kickoff, KickoffHeld())
    assert (err.type, err.message) == (ErrorType.INVALID_TRANSITION, "the kickoff has already been held")
    assert len(effects_of(m, StartOnboarding)) == 1


PLAN_MISSING = (
    "implementation_plan: professional services are attached, so the document's implementation plan"
    " is filled in before the kickoff"
)


@pytest.mark.parametrize("plan", ["", "   ", "TBD", "see notes"])
def test_with_professional_services_the_kickoff_waits_for_the_implementation_plan(plan):
    m = machine(READY_DOCUMENT.model_copy(update={"implementation_plan": plan}), professional_services=True)
    assert m.state.approach is not None and m.state.approach.requires_implementation_plan
    briefed(m, CLOSE + H)
    intro_held(m, CLOSE + 2 * H, CLOSE + 2 * D)
    err = refused(m, m.check_kickoff, KickoffHeld())
    assert (err.type, err.message) == (ErrorType.INVALID_TRANSITION, PLAN_MISSING)
    plan_text = "PS configures SSO in week 1 and migrates the 2023 campaign data in week 2."
    m.check_document(DocumentUpdate(fields=DocumentPatch(implementation_plan=plan_text)))
    m.apply_document(DocumentUpdate(fields=DocumentPatch(implementation_plan=plan_text)), CLOSE + 3 * D)
    m.check_kickoff(KickoffHeld())
    m.apply_kickoff(KickoffHeld(), CLOSE + 4 * D)
    assert m.state.phase is Phase.ONBOARDING


def test_without_professional_services_no_plan_is_asked_for():
    m = machine()
    briefed(m, CLOSE + H)
    intro_held(m, CLOSE + 2 * H, CLOSE + 2 * D)
    assert m.state.document.implementation_plan == ""
    m.check_kickoff(KickoffHeld())


def test_the_plan_is_not_scored():
    with_plan = machine(READY_DOCUMENT.model_copy(update={"implementation_plan": "Two-week PS rollout."}))
    assert with_plan.state.quality is not None and FieldName.GOALS in with_plan.state.quality.fields
    assert "implementation_plan" not in with_plan.state.quality.fields
    assert with_plan.state.quality.score == machine().state.quality.score  # type: ignore[union-attr]
