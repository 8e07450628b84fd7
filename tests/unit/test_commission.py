"""The AE's commission hold: released once the document is ready (or accepted), the CSM rated the
handoff well enough, and the customer met CS; recorded as held when the policy switches release off."""

from __future__ import annotations

import pytest

from domain.document import DocumentPatch, FieldName
from domain.effects import ReleaseCommission
from domain.messages import CsmAssignment, DocumentUpdate, IntakeReviewInput, IntroAction, IntroUpdate
from domain.policy import CommissionDocument, Policy, parse_policy
from domain.stages import StageKind
from domain.timeline import Kind
from tests.handoffs import GAPS_DOCUMENT
from tests.unit.machine_builders import CLOSE, D, H, briefed, effects_of, entries, machine

pytestmark = pytest.mark.unit

SCHEDULED = IntroUpdate(action=IntroAction.SCHEDULED)


def test_released_once_ready_rated_and_the_intro_scheduled():
    m = machine()
    m.apply_intro(SCHEDULED, CLOSE + H)
    assert not m.state.commission.released  # no rating yet
    briefed(m, CLOSE + 2 * H, rating=3)
    c = m.state.commission
    assert (c.released, c.at, c.note) == (True, CLOSE + 2 * H, "released in the CRM")
    [release] = effects_of(m, ReleaseCommission)
    assert release.note == "handoff complete and rated" and release.key.startswith("baton-hubspot-4242:commission:")
    assert entries(m, Kind.COMMISSION_RELEASED)[0].details == {"ae": "ae@example.com", "rating": 3}
    # Later messages never release it twice.
    m.apply_intro(IntroUpdate(action=IntroAction.HELD), CLOSE + D)
    assert len(effects_of(m, ReleaseCommission)) == 1


def test_switched_off_in_the_policy_the_conditions_are_recorded_as_held():
    m = briefed(machine(policy=Policy.model_validate({"commission": {"release": False}})), CLOSE + H, rating=5)
    m.apply_intro(SCHEDULED, CLOSE + 2 * H)
    c = m.state.commission
    assert c.released and c.note == "conditions met; release is switched off in the policy"
    assert effects_of(m, ReleaseCommission) == []
    assert entries(m, Kind.COMMISSION_HELD)[0].details["reason"] == c.note
    assert not entries(m, Kind.COMMISSION_RELEASED)


@pytest.mark.parametrize("rating", [1, 2])
def test_a_rating_under_the_policy_minimum_holds_it(rating):
    m = briefed(machine(), CLOSE + H, rating=rating)
    m.apply_intro(SCHEDULED, CLOSE + 2 * H)
    assert not m.state.commission.released
    assert not entries(m, Kind.COMMISSION_RELEASED) and not entries(m, Kind.COMMISSION_HELD)


def test_the_minimum_rating_comes_from_the_policy():
    m = briefed(machine(policy=Policy.model_validate({"commission": {"min_rating": 5}})), CLOSE + H, rating=4)
    m.apply_intro(SCHEDULED, CLOSE + 2 * H)
    assert not m.state.commission.released


def test_a_gaps_document_needs_the_csms_acceptance():
    rejected = machine(GAPS_DOCUMENT)
    rejected.apply_intro(SCHEDULED, CLOSE + H)
    rejected.apply_intake(IntakeReviewInput(rating=5, accept=False), CLOSE + 2 * H)
    assert not rejected.state.commission.released
    accepted = machine(GAPS_DOCUMENT)
    accepted.apply_intro(SCHEDULED, CLOSE + H)
    briefed(accepted, CLOSE + 2 * H, rating=4)
    assert accepted.state.commission.released


def test_without_an_intro_the_briefing_is_what_the_customer_needed():
    m = briefed(machine(acv=8_000), CLOSE + H, rating=4)
    assert m.state.approach.approach.value == "automated" and m.state.commission.released


def test_never_before_the_win_nor_after_the_end():
    early = machine(None, won=False)
    early.apply_csm(CsmAssignment(csm="csm-mm-1"), CLOSE - D)
    assert not early.state.commission.released
    ended = machine()
    ended.apply_intro(SCHEDULED, CLOSE + H)
    ended.stage_changed(StageKind.LOST, "closedlost", None, None, CLOSE + 2 * H)
    # check_intake refuses this; the rule holds even for an apply that skipped its check.
    ended.apply_intake(IntakeReviewInput(rating=5), CLOSE + 3 * H)
    assert not ended.state.commission.released and effects_of(ended, ReleaseCommission) == []


# ---- the seeds' rule (policy `commission.document: complete`, every new policy's) ----------------

NEW = parse_policy(None)


def test_new_policies_require_a_complete_document_and_snapshots_keep_ready_or_accepted():
    assert NEW.commission.document is CommissionDocument.COMPLETE
    assert Policy().commission.document is None


def test_an_accepted_gaps_document_with_an_empty_field_is_not_complete():
    # GAPS_DOCUMENT has no risks and no communication preferences: accepted and rated 5, still held.
    m = machine(GAPS_DOCUMENT, policy=NEW)
    m.apply_intro(SCHEDULED, CLOSE + H)
    briefed(m, CLOSE + 2 * H, rating=5)
    assert m.state.intake is not None and m.state.intake.accepted
    assert not m.state.commission.released and effects_of(m, ReleaseCommission) == []
    # The AE fills both fields: complete (one still generic is fine), rated and scheduled: released.
    fill = DocumentPatch(
        risks="IT capacity is thin until April; SSO waits on them.", communication_preferences="Slack."
    )
    m.check_document(DocumentUpdate(fields=fill))
    m.apply_document(DocumentUpdate(fields=fill), CLOSE + D)
    assert m.state.commission.released and m.state.commission.at == CLOSE + D


def test_the_csms_override_counts_toward_completeness():
    m = machine(GAPS_DOCUMENT, policy=NEW)
    m.apply_intro(SCHEDULED, CLOSE + H)
    overrides = {FieldName.RISKS: 0.5, FieldName.COMMUNICATION_PREFERENCES: 0.5}
    m.apply_intake(IntakeReviewInput(rating=3, overrides=overrides), CLOSE + 2 * H)
    assert m.state.commission.released


def test_an_override_to_empty_holds_a_ready_document():
    m = machine(policy=NEW)
    m.apply_intro(SCHEDULED, CLOSE + H)
    m.apply_intake(IntakeReviewInput(rating=5, overrides={FieldName.RISKS: 0.0}), CLOSE + 2 * H)
    assert not m.state.commission.released


def test_under_the_old_rule_the_accepted_gaps_document_is_released():
    m = machine(GAPS_DOCUMENT, policy=Policy())
    m.apply_intro(SCHEDULED, CLOSE + H)
    briefed(m, CLOSE + 2 * H, rating=5)
    assert m.state.commission.released


@pytest.mark.parametrize("rating", [1, 2])
def test_a_complete_document_still_needs_a_satisfactory_rating(rating):
    m = machine(policy=NEW)
    m.apply_intro(SCHEDULED, CLOSE + H)
    briefed(m, CLOSE + 2 * H, rating=rating)
    assert not m.state.commission.released


def test_a_complete_rated_document_waits_for_the_intro_or_without_one_the_briefing():
    m = briefed(machine(policy=NEW), CLOSE + H, rating=4)
    assert not m.state.commission.released
    m.apply_intro(SCHEDULED, CLOSE + 2 * H)
    assert m.state.commission.released
    automated = briefed(machine(policy=NEW, acv=8_000), CLOSE + H, rating=4)
    assert automated.state.commission.released
