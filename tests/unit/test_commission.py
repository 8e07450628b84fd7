"""The AE's commission hold: released once the document is ready (or accepted), the CSM rated the
handoff well enough, and the customer met CS; recorded as held when the policy switches release off."""

from __future__ import annotations

import pytest

from domain.effects import ReleaseCommission
from domain.messages import CsmAssignment, IntakeReviewInput, IntroAction, IntroUpdate
from domain.policy import Policy
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
