"""CRM stage changes (signals: never refused) and the phases a handoff moves through, start to end."""

from __future__ import annotations

import pytest

from domain.document import DocumentPatch
from domain.effects import AssignCsm, EndChildren, Notify
from domain.machine import HandoffMachine
from domain.messages import ChildFinished, DocumentUpdate, KickoffHeld
from domain.policy import Policy
from domain.roles import SlaName
from domain.stages import StageKind
from domain.state import ChildKind, DeadlineStatus, Outcome, Phase
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
    intro_held,
    kinds,
    machine,
    notified,
    won_deal,
)

pytestmark = pytest.mark.unit


def test_a_new_machine_is_pre_close_with_nothing_on_its_timeline():
    d = won_deal()
    m = HandoffMachine.new("baton-hubspot-4242", d, Policy())
    assert m.state.phase is Phase.PRE_CLOSE and m.state.timeline == [] and m.effects == []
    assert m.next_wake() is None and m.state.policy_name == "default"
    # The policy snapshot is the one it was given; `now` is the instant of the last event applied.
    policy = Policy(name="strict")
    started = machine(policy=policy, now=CLOSE + H)
    assert started.policy is policy and started.state.policy_name == "strict" and started.now == CLOSE + H


@pytest.mark.parametrize(
    ("acv", "approach", "asks"),
    [(150_000, "white_glove", True), (50_000, "structured", True), (8_000, "automated", False)],
)
def test_a_pre_close_start_names_a_csm_early_only_for_structured_and_white_glove(acv, approach, asks):
    m = machine(None, won=False, acv=acv)
    assert m.state.approach.approach.value == approach and m.state.phase is Phase.PRE_CLOSE
    assert entries(m, Kind.STARTED)[0].details["pre_close"] is True
    assert bool(effects_of(m, AssignCsm)) is asks
    # No SLA runs before the close.
    assert m.state.deadlines == {} and m.next_wake() is None


def test_the_win_of_a_pre_close_run_plans_from_the_deals_own_close_and_keeps_the_named_csm():
    m = machine(None, won=False, acv=150_000)
    m.csm_chosen("csm-ent-1", "enterprise", "next in the round robin", CLOSE - D)
    # Learned an hour after the close; the deadlines still count from the close itself.
    m.stage_changed(StageKind.WON, "closedwon", won_deal(acv=150_000), READY_DOCUMENT, CLOSE + H)
    s = m.state
    assert s.facts.won_at == CLOSE + H and s.deal.closed_at == CLOSE
    assert s.deadlines[SlaName.CSM_BRIEFED].due == CLOSE + 48 * H
    # The carried document counts as submitted; the CSM named before the close hears of it.
    assert s.facts.submitted_at == CLOSE + H and s.phase is Phase.INTAKE_REVIEW
    assert [n.to for n in effects_of(m, Notify) if n.event == "document_submitted"] == [["csm"]]
    assert m.people().csm == "csm-ent-1"  # whom the CSM's place resolves from when the notice is sent
    assert len(effects_of(m, AssignCsm)) == 1 and s.owners.csm == "csm-ent-1"


def test_a_win_that_carries_no_deal_counts_from_when_it_arrived():
    m = machine(None, won=False)
    m.stage_changed(StageKind.WON, "closedwon", None, None, CLOSE + 2 * H)
    s = m.state
    assert s.deal.closed_at is None and s.facts.won_at == CLOSE + 2 * H
    assert s.deadlines[SlaName.CSM_BRIEFED].due == CLOSE + 50 * H
    assert s.facts.submitted_at is None and s.phase is Phase.DOCUMENTING
    # Without a CSM named before the close, one is asked for now.
    assert len(effects_of(m, AssignCsm)) == 2


@pytest.mark.parametrize(
    ("kind", "stage"),
    [(StageKind.WON, "closedwon"), (StageKind.OTHER, "appointmentscheduled"), (StageKind.PRE_CLOSE, "contractsent")],
)
def test_a_stage_change_that_does_not_apply_changes_nothing(kind, stage):
    m = machine()
    before = m.state.model_dump()
    m.stage_changed(kind, stage, won_deal(account="Someone Else"), READY_DOCUMENT, CLOSE + H)
    assert m.state.model_dump() == before


def test_lost_cancels_what_is_open_ends_the_children_and_closes():
    m = briefed(machine(), CLOSE + H)
    m.stage_changed(StageKind.LOST, "Closed Lost", None, None, CLOSE + D)
    s = m.state
    assert (s.outcome, s.phase, s.facts.ended_at) == (Outcome.LOST, Phase.CLOSED, CLOSE + D)
    cancelled = {e.details["sla"] for e in entries(m, Kind.DEADLINE_CANCELLED)}
    # Briefed was met: it stays met; everything still open is cancelled.
    assert cancelled == {"cs_first_touch", "intro_scheduled", "intro_held", "kickoff", "post_check"}
    assert s.deadlines[SlaName.CSM_BRIEFED].status is DeadlineStatus.MET
    assert all(s.deadlines[SlaName(sla)].status is DeadlineStatus.CANCELLED for sla in cancelled)
    assert effects_of(m, EndChildren) == [EndChildren()]
    [told] = [n for n in effects_of(m, Notify) if n.event == "deal_lost"]
    assert told.to == ["csm", "ae"] and "Closed Lost" in told.text
    assert entries(m, Kind.CLOSED)[0].details == {"outcome": "lost"}
    assert m.next_wake() is None


def test_signals_after_the_end_are_recorded_and_ignored():
    m = machine()
    m.stage_changed(StageKind.LOST, "closedlost", None, None, CLOSE + D)
    address_notices(m)  # the deal_lost notice goes out as the handoff closes
    before = m.state.model_copy(deep=True)
    for kind, stage in ((StageKind.LOST, "closedlost"), (StageKind.WON, "closedwon")):
        m.stage_changed(kind, stage, won_deal(), READY_DOCUMENT, CLOSE + 2 * D)
    ignored = entries(m, Kind.MESSAGE_IGNORED)
    assert [(e.details["stage"], e.details["reason"]) for e in ignored] == [
        ("closedlost", "handoff has ended"),
        ("closedwon", "handoff has ended"),
    ]
    # Time passing after the end fires nothing.
    m.tick(CLOSE + 60 * D)
    after = m.state
    assert after.timeline[: len(before.timeline)] == before.timeline and len(after.timeline) == len(before.timeline) + 2
    assert (after.outcome, after.phase, after.deadlines) == (before.outcome, before.phase, before.deadlines)
    assert len(effects_of(m, EndChildren)) == 1


def test_a_handoff_moves_through_every_phase_in_order():
    m = machine(None)
    m.csm_chosen("csm-mm-1", "mid-market", "next in the round robin", CLOSE)
    m.apply_document(DocumentUpdate(fields=DocumentPatch(**READY_DOCUMENT.model_dump()), submit=True), CLOSE + H)
    briefed(m, CLOSE + 2 * H)
    intro_held(m, CLOSE + 3 * H, CLOSE + 2 * D)
    m.apply_kickoff(KickoffHeld(success_plan=["SSO live"]), CLOSE + 4 * D)
    m.child_started(ChildKind.ONBOARDING, "baton-hubspot-4242-onboarding", CLOSE + 4 * D)
    m.child_finished(
        ChildFinished(kind=ChildKind.ONBOARDING, workflow_id="baton-hubspot-4242-onboarding", passed=True),
        CLOSE + 20 * D,
    )
    m.tick(CLOSE + 30 * D)
    m.child_started(ChildKind.POST_CHECK, "baton-hubspot-4242-post-check", CLOSE + 30 * D)
    m.child_finished(
        ChildFinished(kind=ChildKind.POST_CHECK, workflow_id="baton-hubspot-4242-post-check", passed=True),
        CLOSE + 31 * D,
    )
    changes = [(e.details["previous"], e.details["phase"]) for e in entries(m, Kind.PHASE_CHANGED)]
    assert changes == [
        ("pre_close", "documenting"),
        ("documenting", "intake_review"),
        ("intake_review", "intro"),
        ("intro", "kickoff"),
        ("kickoff", "onboarding"),
        ("onboarding", "transitioned"),
        ("transitioned", "closed"),
    ]
    # The last rule entry closes the run (notices resolved as it closed may follow it).
    notices = (Kind.NOTIFIED, Kind.ESCALATED, Kind.RECIPIENT_UNRESOLVED)
    assert m.state.outcome is Outcome.HANDED_OFF and [k for k in kinds(m) if k not in notices][-1] is Kind.CLOSED
    assert "deal_lost" not in notified(m)


def test_the_start_records_the_approach_its_warnings_and_who_else_hears_of_it():
    m = machine(None, acv=30_000, currency="JPY", professional_services=True, replaces_competitor="OldCRM")
    s = m.state
    # No rate for JPY: banded as given (30,000 is structured), with a warning on the timeline.
    assert s.approach.approach.value == "structured"
    assert entries(m, Kind.WARNING)[0].details["message"].startswith("no exchange rate for JPY")
    [ps] = [n for n in effects_of(m, Notify) if n.event == "handoff_started"]
    assert ps.to == ["professional_services"]
    assert s.document.competitive_context.replaced_product == "OldCRM"
    partner = machine(None, channel_partner="Northwind Partners").state
    assert partner.document.partner_context is not None and partner.owners.partner == "Northwind Partners"


def test_note_records_what_the_workflow_saw_outside_the_rules():
    m = machine()
    m.note(Kind.CRM_WRITE_FAILED, CLOSE + H, what="fetch deal", error="HTTP 404")
    last = m.state.timeline[-1]
    assert (last.kind, last.at, last.details) == (
        Kind.CRM_WRITE_FAILED,
        CLOSE + H,
        {"what": "fetch deal", "error": "HTTP 404"},
    )


def test_a_win_carries_crm_document_fields_to_a_waiting_run_only():
    from domain.document import DocumentPatch

    crm = DocumentPatch(goals=READY_DOCUMENT.goals)
    m = machine(None, won=False, acv=150_000)
    m.stage_changed(StageKind.WON, "closedwon", won_deal(acv=150_000), None, CLOSE + H, crm_document=crm)
    assert m.state.document.goals == READY_DOCUMENT.goals and m.state.facts.submitted_at is None
    # A run already won (the start signal of a new run) ignores them: its input carried them.
    m = machine(None)
    m.stage_changed(StageKind.WON, "closedwon", won_deal(), None, CLOSE + H, crm_document=crm)
    assert m.state.document.goals == ""
