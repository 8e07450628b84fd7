"""The handoff's rules as a state machine: messages and time in; state changes, timeline and effects out.

Pure and deterministic, so the workflow stays a thin shell (it runs the effects as activities and
waits for the next instant) and every rule of the seeds can be tested without a server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain import deadlines
from domain.approach import select_approach
from domain.approach_kinds import Approach
from domain.crm_fields import CrmDocumentChange
from domain.deal import Deal
from domain.document import DocumentPatch, HandoffDocument
from domain.document_prefill import prefill, with_carried
from domain.effects import (
    AssignCsm,
    CreateCrmTask,
    Effect,
    EndChildren,
    ReleaseCommission,
    StartPostCheck,
)
from domain.errors import Refused
from domain.machine_messages import PeopleMessages
from domain.messages import (
    ChildFinished,
    DocumentUpdate,
    MilestoneSignal,
)
from domain.policy import Policy
from domain.roles import Role, SlaName
from domain.scoring import Tier
from domain.sla_start import SlaStart, sla_anchor
from domain.state import ChildStatus, HandoffState, Outcome, Owners, Phase
from domain.timeline import Kind

CHILD_OWNED = frozenset({SlaName.POST_CHECK, SlaName.PARTNER_CHECK})
_FROM_CLOSE = (
    SlaName.CSM_BRIEFED,
    SlaName.CS_FIRST_TOUCH,
    SlaName.INTRO_SCHEDULED,
    SlaName.INTRO_HELD,
    SlaName.KICKOFF,
    SlaName.POST_CHECK,
    SlaName.PARTNER_CHECK,
)


class HandoffMachine(PeopleMessages):
    def __init__(self, state: HandoffState, policy: Policy) -> None:
        self.state = state
        self.policy = policy
        self.effects: list[Effect] = []
        self.now: datetime = state.timeline[-1].at if state.timeline else datetime.min

    # ---- lifecycle -------------------------------------------------------------------------

    @classmethod
    def new(cls, workflow_id: str, deal: Deal, policy: Policy) -> HandoffMachine:
        state = HandoffState(workflow_id=workflow_id, deal=deal, policy_name=policy.name, phase=Phase.PRE_CLOSE)
        return cls(state, policy)

    def start(
        self,
        deal: Deal,
        document: HandoffDocument | None,
        won: bool,
        now: datetime,
        learned_at: datetime | None = None,
        crm_document: DocumentPatch | None = None,
    ) -> None:
        """Begin with the full deal (fetched from the CRM): choose the approach, prefill, and go.
        `crm_document` (fields read from the CRM) changes the document without submitting it."""
        self.now = now
        s = self.state
        s.deal = deal
        s.owners = Owners(
            ae=deal.ae, sales_manager=deal.sales_manager, vp_sales=deal.vp_sales, partner=deal.channel_partner or ""
        )
        decision = select_approach(deal, self.policy)
        s.approach = decision
        self._record(Kind.STARTED, crm=deal.crm, deal_id=deal.deal_id, account=deal.account, pre_close=not won)
        self._record(Kind.APPROACH_SELECTED, approach=decision.approach.value, reason=decision.reason)
        for warning in decision.warnings:
            self._record(Kind.WARNING, message=warning)
        s.document = with_carried(prefill(deal), document)
        if crm_document is not None:
            s.document = s.document.merged(crm_document)
        self._rescore()
        carried_document = document is not None and document != HandoffDocument()
        if won:
            self._won(submitted=carried_document, learned_at=learned_at)
        elif decision.approach in (Approach.STRUCTURED, Approach.WHITE_GLOVE):
            self._request_csm()
        self._refresh_phase()

    def stage_changed(
        self, kind: str, stage: str, deal: Deal | None, document: HandoffDocument | None, now: datetime
    ) -> None:
        """A CRM stage change (a signal: never refused; what does not apply is recorded and ignored)."""
        self.now = now
        if self.state.ended:
            self._record(Kind.MESSAGE_IGNORED, message="stage_changed", stage=stage, reason="handoff has ended")
        elif kind == "lost":
            self._lose(stage)
        elif kind == "won" and self.state.facts.won_at is None:
            if deal is not None:
                self.state.deal = deal
            if document is not None:
                self.state.document = with_carried(self.state.document, document)
                self._rescore()
            # The signal's arrival is when Baton learned of the win.
            self._won(submitted=document is not None, learned_at=now)
        self._refresh_phase()

    def crm_document_changed(self, change: CrmDocumentChange, now: datetime) -> None:
        """Document fields the AE changed in the CRM (a signal: what does not apply is recorded)."""
        self.now = now
        update = DocumentUpdate(fields=change.fields, submit=change.submit, by="crm")
        try:
            self.check_document(update)
        except Refused as refused:
            self._record(Kind.MESSAGE_IGNORED, message="crm_document_changed", reason=refused.message)
            return
        self.apply_document(update, now)

    def tick(self, now: datetime) -> None:
        """Fire whatever has come due: breaches, escalation steps, the 30-day check."""
        self.now = now
        if self.state.ended:
            return
        for fired in deadlines.fire_due(self.state.deadlines, now, skip=CHILD_OWNED):
            at = self._deadline_instant(fired)
            if fired.breached:
                self._record(Kind.SLA_BREACHED, at=at, sla=fired.sla.value)
            if fired.escalate_to:
                self._escalate(fired.sla, fired.escalate_to, at=at)
        check = self.state.deadlines.get(SlaName.POST_CHECK)
        if check and check.open and check.due <= now and "post_check" not in self.state.children:
            self.effects.append(StartPostCheck())
        self._maybe_finish()
        self._refresh_phase()

    def next_wake(self) -> tuple[datetime, str] | None:
        """The next instant the workflow must wake at, and what it guards (for the timer summary)."""
        candidates = []
        nxt = deadlines.next_instant(self.state.deadlines, skip=CHILD_OWNED)
        if nxt:
            candidates.append((nxt[0], f"SLA {nxt[1].value}"))
        check = self.state.deadlines.get(SlaName.POST_CHECK)
        if check and check.open and "post_check" not in self.state.children:
            candidates.append((check.due, "30-day post-handoff check"))
        return min(candidates, key=lambda item: item[0]) if candidates and not self.state.ended else None

    def note(self, kind: Kind, now: datetime, **details: Any) -> None:
        """Record something the workflow observed outside the rules (an outside system failing)."""
        self.now = now
        self._record(kind, **details)

    # ---- what children tell the parent (signals) ------------------------------------------

    def milestone(self, signal: MilestoneSignal, now: datetime) -> None:
        self.now = now
        self.state.milestones[signal.milestone] = signal.at
        self._record(Kind.MILESTONE, milestone=signal.milestone.value)
        self._refresh_phase()

    def child_started(self, kind: str, workflow_id: str, now: datetime) -> None:
        self.now = now
        self.state.children[kind] = ChildStatus(workflow_id=workflow_id, kind=kind, started_at=now)
        self._record(Kind.CHILD_STARTED, child=kind, workflow_id=workflow_id)

    def child_finished(self, signal: ChildFinished, now: datetime) -> None:
        self.now = now
        child = self.state.children.get(signal.kind)
        if child is None or child.finished_at is not None:
            self._record(
                Kind.MESSAGE_IGNORED, message="child_finished", child=signal.kind, reason="unknown or repeated"
            )
            return
        child.finished_at, child.passed, child.summary = now, signal.passed, signal.summary
        self._record(Kind.CHILD_FINISHED, child=signal.kind, passed=signal.passed)
        if signal.kind == "onboarding":
            self.state.facts.transitioned_at = now
        elif signal.kind == "post_check":
            self._settle_checks(bool(signal.passed), signal.summary)
        self._maybe_finish()
        self._refresh_phase()

    # ---- rules -------------------------------------------------------------------------------

    def _after_change(self) -> None:
        self._check_commission()
        self._maybe_finish()
        self._refresh_phase()

    def _won(self, submitted: bool, learned_at: datetime | None) -> None:
        s = self.state
        s.facts.won_at = self.now
        close = s.deal.closed_at or self.now
        anchor, chosen = sla_anchor(self.policy.sla_start, close, learned_at)
        rule = {"start": chosen.value, "start_rule": (self.policy.sla_start or SlaStart.CLOSE).value}
        profile = self._profile()
        for sla in _FROM_CLOSE:
            if sla in profile.slas:
                self._plan(sla, anchor=anchor, **rule)
        if s.deal.sponsor_is_not_implementation_owner:
            self._plan(SlaName.IMPL_OWNER_CONTACT, anchor=anchor, **rule)
        self._notify(
            "document_assigned",
            [s.owners.ae or "ae"],
            "Complete the handoff document",
            f"{s.deal.account} is won: complete its handoff document (score {self._score_text()}).",
        )
        if s.approach and s.approach.extra_recipients:
            self._notify(
                "handoff_started",
                list(s.approach.extra_recipients),
                "New handoff with professional services",
                f"{s.deal.account} has professional services attached: an implementation plan is required.",
            )
        if not s.owners.csm:
            self._request_csm()
        if submitted:
            self._gate(submitting=True)

    def _lose(self, stage: str) -> None:
        s = self.state
        for deadline in s.deadlines.values():
            if deadlines.cancel(deadline):
                self._record(Kind.DEADLINE_CANCELLED, sla=deadline.sla.value)
        s.outcome = Outcome.LOST
        self.effects.append(EndChildren(reason="deal lost"))
        self._notify(
            "deal_lost",
            [s.owners.csm or "csm", s.owners.ae or "ae"],
            "Deal lost",
            f"{s.deal.account} moved to {stage}: the handoff is closed.",
        )
        self._close()

    def _gate(self, submitting: bool) -> None:
        """Blocked returns the handoff to sales; gaps proceed with a follow-up SLA; ready proceeds."""
        s = self.state
        tier = s.quality.tier
        if tier is Tier.BLOCKED:
            if not s.returned_to_sales:
                s.returned_to_sales = True
                s.facts.submitted_at = None
                self._record(Kind.MESSAGE, message="returned_to_sales", score=s.quality.score)
                self._escalate(SlaName.AE_FOLLOW_UP, Role.SALES_MANAGER, note="handoff document blocked")
                self.effects.append(
                    CreateCrmTask(
                        key=self._key("task"),
                        owner=s.owners.ae,
                        subject="Handoff document returned: complete it",
                        body=", ".join(name.value for name in s.quality.missing),
                    )
                )
            return
        first = s.facts.submitted_at is None
        s.returned_to_sales = False
        if first:
            s.facts.submitted_at = self.now
            self._notify(
                "document_submitted",
                [s.owners.csm or "csm"],
                "Handoff document ready for intake review",
                f"{s.deal.account}: {tier.value} ({s.quality.score}).",
            )
        if tier is Tier.GAPS and SlaName.AE_FOLLOW_UP not in s.deadlines:
            self._plan(SlaName.AE_FOLLOW_UP, anchor=self.now)
            missing = [name.value for name in s.quality.missing]
            self._notify(
                "gaps_flagged",
                [s.owners.csm or "csm", s.owners.ae or "ae"],
                "Handoff has gaps",
                f"Missing or generic: {', '.join(missing)}.",
                {"missing": missing},
            )
        if tier is Tier.READY:
            self._meet(SlaName.AE_FOLLOW_UP)

    def _assign(self, csm: str, team: str, by: str) -> None:
        previous = self.state.owners.csm
        self.state.owners.csm, self.state.owners.cs_team = csm, team
        self._record(Kind.CSM_ASSIGNED, csm=csm, team=team, by=by, previous=previous or None)
        self._notify(
            "csm_assigned",
            [csm],
            "You own a new handoff",
            f"{self.state.deal.account} ({self._approach().value}) is yours: review its handoff document.",
        )

    def _request_csm(self) -> None:
        team = self.policy.team_for(self._approach())
        if team is None:
            self._record(Kind.WARNING, message=f"no CS team serves {self._approach().value} handoffs")
            return
        self.state.owners.cs_team = team.name
        self.effects.append(AssignCsm(team=team.name))

    def _pull_kickoff_forward(self) -> None:
        """Kickoff is due by the earlier of its own SLA and the policy's span after the intro is held."""
        kickoff = self.state.deadlines.get(SlaName.KICKOFF)
        if kickoff is None or not kickoff.open or kickoff.extensions:
            return
        after_intro = self.policy.calendar.add(self.state.facts.intro_held_at, self.policy.kickoff_after_intro)
        if after_intro < kickoff.due:
            kickoff.due = after_intro
            self._record(Kind.DEADLINE_SET, sla=SlaName.KICKOFF.value, due=after_intro.isoformat(), reason="intro held")

    def _settle_checks(self, passed: bool, summary: dict) -> None:
        for sla in CHILD_OWNED:
            deadline = self.state.deadlines.get(sla)
            if deadline is None or not deadline.open:
                continue
            failures = summary.get("failures", [])
            partner_failed = sla is SlaName.PARTNER_CHECK and any("partner" in f for f in failures)
            ok = passed if sla is SlaName.POST_CHECK else not partner_failed
            if ok:
                deadlines.meet(deadline, self.now)
                self._record(Kind.CHECK_PASSED, sla=sla.value)
            else:
                deadline.status, deadline.breached_at = deadlines.DeadlineStatus.BREACHED, self.now
                self._record(Kind.CHECK_FAILED, sla=sla.value, failures=failures)
                self._escalate(sla, deadline.on_breach or Role.CS_MANAGER, note="; ".join(failures))

    def _check_commission(self) -> None:
        s = self.state
        if s.commission.released or s.facts.won_at is None or s.ended:
            return
        document_ok = (s.quality and s.quality.tier is Tier.READY) or (s.intake and s.intake.accepted)
        rating_ok = s.intake is not None and s.intake.rating >= self.policy.commission.min_rating
        intro_ok = s.facts.intro_scheduled_at is not None if self._has_intro() else s.facts.briefed_at is not None
        if not (document_ok and rating_ok and intro_ok):
            return
        s.commission.released, s.commission.at = True, self.now
        if self.policy.commission.release:
            s.commission.note = "released in the CRM"
            self._record(Kind.COMMISSION_RELEASED, ae=s.owners.ae, rating=s.intake.rating)
            self.effects.append(ReleaseCommission(key=self._key("commission"), note="handoff complete and rated"))
        else:
            s.commission.note = "conditions met; release is switched off in the policy"
            self._record(Kind.COMMISSION_HELD, ae=s.owners.ae, reason=s.commission.note)

    def _maybe_finish(self) -> None:
        s = self.state
        if s.ended or s.facts.won_at is None:
            return
        children_done = all(
            kind in s.children and s.children[kind].finished_at for kind in ("onboarding", "post_check")
        )
        if children_done and not any(d.watching for d in s.deadlines.values()):
            s.outcome = Outcome.HANDED_OFF
            self._close()

    def _close(self) -> None:
        self.state.facts.ended_at = self.now
        self._set_phase(Phase.CLOSED)
        self._record(Kind.CLOSED, outcome=self.state.outcome.value)
