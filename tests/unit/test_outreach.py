"""The introduction by approach, the white-glove AE's calls and transition period, and the partner
manager's updates, on the pure machine; runs from before the people rules do none of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from domain.approach_policy import IntroStyle
from domain.directory import load_directory_text
from domain.document import Contact, ContactRole, HandoffDocument, PartnerContext
from domain.effects import Introduce
from domain.introductions import compose
from domain.machine import HandoffMachine
from domain.messages import CsmAssignment, FirstTouch, IntroAction, IntroUpdate, KickoffHeld
from domain.policy import Policy
from domain.recipients import Audience, resolve
from domain.timeline import Kind
from tests.handoffs import READY_DOCUMENT
from tests.unit.machine_builders import (
    CLOSE,
    D,
    H,
    address_notices,
    briefed,
    effects_of,
    entries,
    machine,
    utc,
    won_deal,
)

pytestmark = pytest.mark.unit

S = timedelta(seconds=1)

DIRECTORY = load_directory_text((Path(__file__).parents[2] / "examples" / "directory.yaml").read_text())
WITH_ADDRESSES = READY_DOCUMENT.model_copy(
    update={
        "stakeholders": [
            c.model_copy(update={"email": f"{c.name.split()[0].lower()}@acme.example"})
            for c in READY_DOCUMENT.stakeholders
        ]
    }
)
NO_ADDRESSES = READY_DOCUMENT  # its contacts have names, titles and roles, but no e-mail


def intros(m: HandoffMachine) -> list[Introduce]:
    return effects_of(m, Introduce)


def introduce_all(m: HandoffMachine) -> HandoffMachine:
    """Resolve and compose every introduction asked so far, as the workflow does before it sends."""
    for effect in intros(m):
        if not entries(m, Kind.INTRODUCED, key=effect.introduction.key):
            day = m.now.date()
            resolution = resolve(effect.introduction.audience, m.people(), DIRECTORY, day)
            m.introduced(effect.introduction, compose(effect.introduction, resolution.recipients), resolution, m.now)
    return m


def with_csm(m: HandoffMachine, at=CLOSE + H, csm: str = "erin.walsh@example.com") -> HandoffMachine:
    m.check_csm(CsmAssignment(csm=csm))
    m.apply_csm(CsmAssignment(csm=csm, by="lena"), at)
    return m


def schedule(m: HandoffMachine, at, scheduled_for=None) -> HandoffMachine:
    msg = IntroUpdate(action=IntroAction.SCHEDULED, scheduled_for=scheduled_for)
    m.check_intro(msg)
    m.apply_intro(msg, at)
    return m


def hold(m: HandoffMachine, at) -> HandoffMachine:
    m.check_intro(IntroUpdate(action=IntroAction.HELD))
    m.apply_intro(IntroUpdate(action=IntroAction.HELD), at)
    return m


# ---- structured: the intro e-mail once won with a CSM -------------------------------------------


def test_a_structured_close_introduces_the_csm_to_the_champion_once_it_has_its_csm():
    m = machine(WITH_ADDRESSES)
    assert intros(m) == []  # the CSM is not chosen yet
    with_csm(m)
    [intro] = [e.introduction for e in intros(m)]
    assert intro.style is IntroStyle.INTRO_EMAIL and [c.name for c in intro.contacts] == ["Dana Lee"]
    assert intro.goals == WITH_ADDRESSES.goals and intro.audience == [Audience.AE, Audience.CSM]
    # A second CSM does not introduce again.
    with_csm(m, CLOSE + 2 * H, "tom.becker@example.com")
    assert len(intros(m)) == 1
    introduce_all(m)
    [entry] = entries(m, Kind.INTRODUCED)
    assert entry.details["contacts"] == ["Dana Lee"] and entry.details["customers"] == 1
    assert entry.details["style"] == "intro_email" and entry.details["sent"] is True
    # Names and counts, never a customer's address, on the timeline.
    assert "acme.example" not in str(entry.details)


def test_no_contact_with_an_address_sends_the_customer_nothing_and_warns():
    m = with_csm(machine(NO_ADDRESSES))
    assert intros(m) == []
    [warning] = entries(m, Kind.WARNING, intro="intro_email")
    assert "no champion" in warning.details["message"]


def test_a_handoff_started_before_the_close_introduces_at_the_win():
    m = machine(WITH_ADDRESSES, won=False)
    with_csm(m)
    assert intros(m) == []
    from domain.messages import StageChanged
    from domain.stages import StageKind

    signal = StageChanged(stage="closedwon", kind=StageKind.WON)
    m.stage_changed(signal.kind, signal.stage, None, None, CLOSE + D)
    assert [e.introduction.style for e in intros(m)] == [IntroStyle.INTRO_EMAIL]


# ---- automated: the welcome sequence -------------------------------------------------------------


def test_the_welcome_sequence_starts_at_the_briefing_and_follows_up_until_the_kickoff():
    m = briefed(machine(WITH_ADDRESSES, acv=8_000), CLOSE + 2 * H)
    [first] = [e.introduction for e in intros(m)]
    assert (first.style, first.step, len(first.contacts)) == (IntroStyle.WELCOME_SEQUENCE, 1, 3)
    # Follow-ups 3bd and 10bd after the first: Friday 6 March 17:00 EST is followed by Wednesday the 11th.
    due = utc(3, 11, 21)  # 17:00 EDT
    m.apply_first_touch(FirstTouch(), CLOSE + 3 * H)  # the first-touch SLA no longer wakes the machine
    assert m.next_wake() == (due, "welcome message 2")
    m.tick(due - S)
    assert [e.introduction.step for e in intros(m)] == [1]
    m.tick(due)
    assert [e.introduction.step for e in intros(m)] == [1, 2]
    # The kickoff ends the sequence: no third message, and nothing more to wake for.
    m.apply_kickoff(KickoffHeld(), due + D)
    m.tick(due + 30 * D)
    assert [e.introduction.step for e in intros(m)] == [1, 2]


def test_a_welcome_sequence_without_addresses_sends_nothing():
    m = briefed(machine(NO_ADDRESSES, acv=8_000), CLOSE + 2 * H)
    assert intros(m) == [] and entries(m, Kind.WARNING, intro="welcome_sequence")


# ---- white glove: the invitation, the AE's calls and the transition ------------------------------


def white_glove(document: HandoffDocument = WITH_ADDRESSES) -> HandoffMachine:
    return with_csm(machine(document, acv=250_000))


def test_a_white_glove_intro_scheduled_with_its_time_invites_and_a_reschedule_updates():
    m = white_glove()
    schedule(m, CLOSE + D)  # no time yet: nothing to invite to
    assert intros(m) == []
    schedule(m, CLOSE + D + H, scheduled_for=CLOSE + 3 * D)
    schedule(m, CLOSE + 2 * D, scheduled_for=CLOSE + 4 * D)
    first, moved = (e.introduction for e in intros(m))
    assert (first.style, first.sequence, first.scheduled_for) == (IntroStyle.LIVE_CALL, 0, CLOSE + 3 * D)
    assert (moved.sequence, moved.scheduled_for) == (1, CLOSE + 4 * D) and first.key != moved.key
    assert [c.name for c in first.contacts] == ["Priya Raman"]
    introduce_all(m)
    assert [e.details["sequence"] for e in entries(m, Kind.INTRODUCED)] == [0, 1]


def test_an_invitation_without_a_sponsor_address_still_goes_to_the_ae_and_csm_with_a_warning():
    m = schedule(white_glove(NO_ADDRESSES), CLOSE + D, scheduled_for=CLOSE + 3 * D)
    [intro] = [e.introduction for e in intros(m)]
    assert intro.contacts == [] and entries(m, Kind.WARNING, intro="live_call")


def test_the_white_glove_ae_joins_the_first_three_calls_and_stays_fourteen_days():
    m = briefed(white_glove(), CLOSE + 2 * H)
    address_notices(m, DIRECTORY)
    [asked] = entries(m, Kind.NOTIFIED, event="ae_joins_calls")
    assert asked.details["to"] == ["ae@example.com", "erin"]
    schedule(m, CLOSE + D, scheduled_for=CLOSE + 2 * D)
    hold(m, CLOSE + 2 * D)
    started = entries(m, Kind.AE_TRANSITION_STARTED)[0]
    assert datetime.fromisoformat(started.details["until"]) == CLOSE + 16 * D
    m.apply_first_touch(FirstTouch(), CLOSE + 3 * D)
    m.apply_kickoff(KickoffHeld(), CLOSE + 5 * D)
    calls = [(e.details["call"], e.details["number"], e.details["of"]) for e in entries(m, Kind.AE_CALL)]
    assert calls == [("intro", 1, 3), ("first_touch", 2, 3), ("kickoff", 3, 3)]
    # The timer: the machine wakes at the transition's end, and the AE hears of it then.
    assert m.next_wake() == (CLOSE + 16 * D, "AE transition period ends")
    m.tick(CLOSE + 16 * D)
    [ended] = entries(m, Kind.AE_TRANSITION_ENDED)
    assert ended.at == CLOSE + 16 * D
    assert "ae_transition_ended" in [e.event for e in m.effects if hasattr(e, "event")]
    assert m.next_wake() != (CLOSE + 16 * D, "AE transition period ends")


def test_a_policy_without_a_transition_period_starts_none():
    data = Policy().model_dump(mode="json")
    del data["approaches"]["white_glove"]["transition"]  # a snapshot from before the key had meaning
    old = Policy.model_validate(data)
    m = with_csm(machine(WITH_ADDRESSES, acv=250_000, policy=old))
    hold(schedule(m, CLOSE + D), CLOSE + 2 * D)
    assert entries(m, Kind.AE_TRANSITION_STARTED) == []


def test_a_transition_still_running_ends_with_the_lost_deal():
    m = white_glove()
    hold(schedule(m, CLOSE + D), CLOSE + 2 * D)
    from domain.stages import StageKind

    m.stage_changed(StageKind.LOST, "closedlost", None, None, CLOSE + 3 * D)
    [ended] = entries(m, Kind.AE_TRANSITION_ENDED)
    assert ended.details["reason"] == "the handoff closed" and m.next_wake() is None


# ---- partner-mediated -----------------------------------------------------------------------------


PARTNER_DOCUMENT = WITH_ADDRESSES.model_copy(
    update={
        "partner_context": PartnerContext(
            partner_contact=Contact(name="Ola Berg", role=ContactRole.OTHER, email="ola@northwind.example"),
            end_customer_contacts_shared=False,
        )
    }
)


def test_the_partner_manager_hears_of_each_step_and_gets_the_three_way_intro():
    m = machine(PARTNER_DOCUMENT, channel_partner="Northwind Partners")
    with_csm(m)
    [intro] = [e.introduction for e in intros(m)]
    assert intro.style is IntroStyle.THREE_WAY and intro.contacts == []  # contacts not shared
    assert intro.partner_contact is not None and intro.partner_contact.name == "Ola Berg"
    schedule(m, CLOSE + D, scheduled_for=CLOSE + 3 * D)
    briefed(m, CLOSE + D + H)
    hold(m, CLOSE + 3 * D)
    m.apply_kickoff(KickoffHeld(), CLOSE + 5 * D)
    address_notices(m, DIRECTORY)
    told = [e.details["event"] for e in entries(m, Kind.NOTIFIED) if e.details["event"].startswith("partner_")]
    assert told == ["partner_closed", "partner_csm_assigned", "partner_intro_scheduled", "partner_kickoff"]
    assert all(e.details["to"] == ["pam"] for e in entries(m, Kind.NOTIFIED) if e.details["event"] in told)
    introduce_all(m)
    [entry] = entries(m, Kind.INTRODUCED)
    # The AE (an address the directory does not know), the CSM and the partner manager from the directory.
    assert entry.details["people"] == ["ae@example.com", "erin", "pam"]
    assert (entry.details["contacts"], entry.details["customers"]) == ([], 0)


def test_other_approaches_never_tell_a_partner_manager():
    m = with_csm(machine(WITH_ADDRESSES))
    assert not [e for e in m.effects if getattr(e, "event", "").startswith("partner_")]


# ---- internal ------------------------------------------------------------------------------------


def test_an_expansion_sends_an_internal_note_to_the_existing_csm_and_nothing_to_the_customer():
    m = with_csm(machine(WITH_ADDRESSES, deal_type="expansion"))
    [intro] = [e.introduction for e in intros(m)]
    assert intro.style is IntroStyle.INTERNAL_NOTE and intro.contacts == []
    assert not entries(m, Kind.WARNING, intro="internal_note")


# ---- runs from before the people rules -----------------------------------------------------------


def test_a_run_from_before_the_people_rules_sends_nothing_new():
    d = won_deal(acv=250_000, channel_partner=None)
    m = HandoffMachine.new(f"baton-{d.crm}-{d.deal_id}", d, Policy(), people_rules=False)
    m.start(d, WITH_ADDRESSES, True, CLOSE)
    with_csm(m)
    briefed(m, CLOSE + 2 * H)
    hold(schedule(m, CLOSE + D, scheduled_for=CLOSE + 2 * D), CLOSE + 2 * D)
    assert intros(m) == [] and entries(m, Kind.AE_TRANSITION_STARTED) == [] and entries(m, Kind.AE_CALL) == []
    assert m.state.outreach.model_dump() == type(m.state.outreach)().model_dump()
