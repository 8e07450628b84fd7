"""A handoff's life: its start, the CRM's won and lost, time passing, and its end."""

from __future__ import annotations

from datetime import datetime

from domain.approach import select_approach
from domain.approach_kinds import Approach
from domain.deal import Deal
from domain.document import DocumentPatch, HandoffDocument
from domain.document_prefill import prefill, with_carried
from domain.effects import CreateCrmTask
from domain.machine_children import Children
from domain.machine_commission import Commission
from domain.machine_deadlines import Deadlines
from domain.machine_gate import DocumentGate
from domain.machine_handoff import Handoff
from domain.machine_outreach import Outreach
from domain.machine_owners import Ownership
from domain.machine_phase import derive_phase
from domain.recipients import Audience
from domain.roles import SlaName
from domain.sla_start import SlaStart, sla_anchor
from domain.stages import StageKind
from domain.state import Outcome, Owners, Phase
from domain.timeline import Kind

# SLAs measured from the close, planned at the win when the approach runs them.
FROM_CLOSE = (
    SlaName.CSM_BRIEFED,
    SlaName.CS_FIRST_TOUCH,
    SlaName.INTRO_SCHEDULED,
    SlaName.INTRO_HELD,
    SlaName.KICKOFF,
    SlaName.POST_CHECK,
    SlaName.PARTNER_CHECK,
)
# Approaches whose handoff started before the close gets its CSM then, to meet the customer early.
CSM_BEFORE_CLOSE = (Approach.STRUCTURED, Approach.WHITE_GLOVE)


class Lifecycle:
    def __init__(
        self,
        handoff: Handoff,
        deadlines: Deadlines,
        gate: DocumentGate,
        ownership: Ownership,
        children: Children,
        commission: Commission,
        outreach: Outreach,
    ) -> None:
        self._h = handoff
        self._outreach = outreach
        self._deadlines = deadlines
        self._gate = gate
        self._ownership = ownership
        self._children = children
        self._commission = commission

    def start(
        self,
        deal: Deal,
        document: HandoffDocument | None,
        won: bool,
        learned_at: datetime | None = None,
        crm_document: DocumentPatch | None = None,
    ) -> None:
        """Begin with the full deal (fetched from the CRM): choose the approach, prefill, and go.
        `crm_document` (fields read from the CRM) changes the document without submitting it;
        `learned_at` is when Baton first heard of the win (the SLA-start rule may count from it)."""
        h = self._h
        s = h.state
        s.deal = deal
        s.owners = Owners(
            ae=deal.ae, sales_manager=deal.sales_manager, vp_sales=deal.vp_sales, partner=deal.channel_partner or ""
        )
        decision = select_approach(deal, h.policy)
        s.approach = decision
        h.journal.record(Kind.STARTED, crm=deal.crm, deal_id=deal.deal_id, account=deal.account, pre_close=not won)
        h.journal.record(Kind.APPROACH_SELECTED, approach=decision.approach.value, reason=decision.reason)
        for warning in decision.warnings:
            h.journal.record(Kind.WARNING, message=warning)
        s.document = with_carried(prefill(deal), document)
        if crm_document is not None:
            s.document = s.document.merged(crm_document)
        self._gate.rescore()
        carried_document = document is not None and document != HandoffDocument()
        if won:
            self._won(submitted=carried_document, learned_at=learned_at)
        elif decision.approach in CSM_BEFORE_CLOSE:
            self._ownership.request_csm()
        self.refresh_phase()

    def stage_changed(self, kind: StageKind, stage: str, deal: Deal | None, document: HandoffDocument | None) -> None:
        """A CRM stage change (a signal: never refused; what does not apply is recorded and ignored)."""
        h = self._h
        if h.state.ended:
            h.journal.record(Kind.MESSAGE_IGNORED, message="stage_changed", stage=stage, reason="handoff has ended")
        elif kind is StageKind.LOST:
            self._lose(stage)
        elif kind is StageKind.WON and h.state.facts.won_at is None:
            if deal is not None:
                h.state.deal = deal
            if document is not None:
                h.state.document = with_carried(h.state.document, document)
                self._gate.rescore()
            # The signal's arrival is when Baton learned of the win.
            self._won(submitted=document is not None, learned_at=h.now)
        self.refresh_phase()

    def tick(self) -> None:
        """Fire whatever has come due: breaches, escalation steps, the 30-day check."""
        if self._h.state.ended:
            return
        self._outreach.tick()
        self._deadlines.fire_due()
        self._children.start_post_check_if_due()
        self.finish_if_done()
        self.refresh_phase()

    def after_change(self) -> None:
        """What any person's message may have brought about."""
        self._commission.release_if_earned()
        self.finish_if_done()
        self.refresh_phase()

    def finish_if_done(self) -> None:
        """Handed off once both children have finished and no deadline is left to watch."""
        s = self._h.state
        if s.ended or s.facts.won_at is None:
            return
        if self._children.all_finished() and not self._deadlines.any_watching():
            s.outcome = Outcome.HANDED_OFF
            self._close()

    def refresh_phase(self) -> None:
        phase = derive_phase(self._h.state, self._h.has_intro)
        if phase is not self._h.state.phase:
            self._set_phase(phase)

    def _won(self, submitted: bool, learned_at: datetime | None) -> None:
        h = self._h
        s = h.state
        s.facts.won_at = h.now
        close = s.deal.closed_at or h.now
        anchor, chosen = sla_anchor(h.policy.sla_start, close, learned_at)
        rule = {"start": chosen.value, "start_rule": (h.policy.sla_start or SlaStart.CLOSE).value}
        for sla in FROM_CLOSE:
            if sla in h.profile.slas:
                self._deadlines.plan(sla, anchor=anchor, **rule)
        if s.deal.sponsor_is_not_implementation_owner:
            self._deadlines.plan(SlaName.IMPL_OWNER_CONTACT, anchor=anchor, **rule)
        h.journal.notify(
            "document_assigned",
            [Audience.AE],
            "Complete the handoff document",
            f"{s.deal.account} is won: complete its handoff document (score {self._score_text()}).",
            h.due_of(SlaName.INTRO_SCHEDULED),
        )
        if s.approach and s.approach.extra_recipients:
            h.journal.notify(
                "handoff_started",
                list(s.approach.extra_recipients),
                "New handoff with professional services",
                f"{s.deal.account} has professional services attached: an implementation plan is required.",
            )
        if s.people_rules:
            self._ask_for_the_intro()
        self._outreach.won()
        if not s.owners.csm:
            self._ownership.request_csm()
        if submitted:
            self._gate.gate()

    def _ask_for_the_intro(self) -> None:
        """At the win: the CS lead hears of the new handoff, and the AE gets a CRM task to schedule the
        warm introduction, due when the intro SLA is."""
        h = self._h
        s = h.state
        h.journal.notify(
            "handoff_won",
            [Audience.CS_LEAD],
            f"New handoff: {s.deal.account or s.deal.deal_id}",
            f"{s.deal.account} is won ({h.approach.value}): a CSM is assigned by rule unless you name one.",
            h.due_of(SlaName.CSM_BRIEFED),
        )
        intro = s.deadlines.get(SlaName.INTRO_SCHEDULED)
        if intro is None:
            return
        h.journal.ask(
            CreateCrmTask(
                key=h.journal.key("intro-task"),
                owner=s.owners.ae,
                subject="Schedule the warm introduction to customer success",
                body=f"Introduce {s.deal.account} to its CSM by the intro SLA.",
                due=intro.due,
            )
        )

    def _lose(self, stage: str) -> None:
        h = self._h
        s = h.state
        self._deadlines.cancel_all()
        s.outcome = Outcome.LOST
        self._children.end_all()
        h.journal.notify(
            "deal_lost",
            [Audience.CSM, Audience.AE],
            "Deal lost",
            f"{s.deal.account} moved to {stage}: the handoff is closed.",
        )
        self._close()

    def _close(self) -> None:
        h = self._h
        h.state.facts.ended_at = h.now
        h.state.owners.awaiting_csm = False  # nothing is awaited once the handoff has ended
        self._outreach.closing()
        self._set_phase(Phase.CLOSED)
        h.journal.record(Kind.CLOSED, outcome=h.state.outcome.value)

    def _set_phase(self, phase: Phase) -> None:
        previous = self._h.state.phase
        self._h.state.phase = phase
        self._h.journal.record(Kind.PHASE_CHANGED, phase=phase.value, previous=previous.value)

    def _score_text(self) -> str:
        q = self._h.state.quality
        return f"{q.score} {q.tier.value}" if q else "not scored"
