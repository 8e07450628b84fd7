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
from domain.deal import Deal
from domain.document import HandoffDocument
from domain.document_prefill import prefill, with_carried
from domain.effects import (
    AssignCsm,
    CreateCrmTask,
    Effect,
    EndChildren,
    Notify,
    ReleaseCommission,
    StartOnboarding,
    StartPostCheck,
)
from domain.errors import ErrorType, Refused
from domain.messages import (
    AeDeparture,
    ChildFinished,
    CsmAssignment,
    DeadlineExtension,
    DocumentUpdate,
    FirstTouch,
    IntakeReviewInput,
    IntroAction,
    IntroUpdate,
    KickoffHeld,
    MilestoneSignal,
)
from domain.policy import IntroStyle, Policy
from domain.roles import Role, SlaName
from domain.scoring import Tier, check_overrides, score_document
from domain.state import Escalated, HandoffState, IntakeReview, Outcome, Owners, Phase
from domain.timeline import Kind, TimelineEntry

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


class HandoffMachine:
    def __init__(self, state: HandoffState, policy: Policy) -> None:
        self.state = state
        self.policy = policy
        self.effects: list[Effect] = []
        self.now: datetime = state.timeline[-1].at if state.timeline else datetime.min

    # ---- lifecycle -------------------------------------------------------------------------

    @classmethod
    def new(cls, workflow_id: str, deal: Deal, policy: Policy) -> "HandoffMachine":
        state = HandoffState(workflow_id=workflow_id, deal=deal, policy_name=policy.name, phase=Phase.PRE_CLOSE)
        return cls(state, policy)

    def start(self, deal: Deal, document: HandoffDocument | None, won: bool, now: datetime) -> None:
        """Begin with the full deal (fetched from the CRM): choose the approach, prefill, and go."""
        self.now = now
        s = self.state
        s.deal = deal
        s.owners = Owners(ae=deal.ae, sales_manager=deal.sales_manager, vp_sales=deal.vp_sales, partner=deal.channel_partner or "")
        decision = select_approach(deal, self.policy)
        s.approach = decision
        self._record(Kind.STARTED, crm=deal.crm, deal_id=deal.deal_id, account=deal.account, pre_close=not won)
        self._record(Kind.APPROACH_SELECTED, approach=decision.approach.value, reason=decision.reason)
        for warning in decision.warnings:
            self._record(Kind.WARNING, message=warning)
        s.document = with_carried(prefill(deal), document)
        self._rescore()
        carried_document = document is not None and document != HandoffDocument()
        if won:
            self._won(submitted=carried_document)
        elif decision.approach in (Approach.STRUCTURED, Approach.WHITE_GLOVE):
            self._request_csm()
        self._refresh_phase()

    def stage_changed(self, kind: str, stage: str, deal: Deal | None, document: HandoffDocument | None, now: datetime) -> None:
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
            self._won(submitted=document is not None)
        self._refresh_phase()

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

    # ---- messages: check_* refuses (and changes nothing), apply_* changes state ----------

    def check_document(self, msg: DocumentUpdate) -> None:
        self._open()
        if msg.submit and self.state.facts.won_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the deal is not won yet: the document can be edited but not submitted")

    def apply_document(self, msg: DocumentUpdate, now: datetime) -> None:
        self.now = now
        self.state.document = self.state.document.merged(msg.fields)
        changed = sorted(msg.fields.model_dump(exclude_unset=True, exclude_none=True))
        self._record(Kind.MESSAGE, message="document_updated", by=msg.by, fields=changed, submit=msg.submit)
        self._rescore()
        if msg.submit or self.state.facts.submitted_at is not None or self.state.returned_to_sales:
            self._gate(submitting=msg.submit)
        self._after_change()

    def check_csm(self, msg: CsmAssignment) -> None:
        self._open()

    def apply_csm(self, msg: CsmAssignment, now: datetime) -> None:
        self.now = now
        self._assign(msg.csm, msg.team or self.state.owners.cs_team, by=msg.by or "cs_lead")
        self._after_change()

    def csm_chosen(self, csm: str | None, team: str, reason: str, now: datetime) -> None:
        """The result of assignment by rule (round robin, capacity-aware), unless a lead got there first."""
        self.now = now
        if self.state.owners.csm or self.state.ended:
            return
        if csm:
            self._assign(csm, team, by="rule")
        else:
            self._record(Kind.WARNING, message=f"no CSM available in team {team}: {reason}")
            self._escalate(SlaName.CSM_BRIEFED, Role.CS_MANAGER, note=f"assign a CSM: {reason}")
        self._after_change()

    def check_intake(self, msg: IntakeReviewInput) -> None:
        self._open()
        if not 1 <= msg.rating <= 5:
            raise Refused(ErrorType.INVALID_VALUE, f"rating must be 1 to 5 (got {msg.rating})")
        try:
            check_overrides(msg.overrides)
        except ValueError as err:
            raise Refused(ErrorType.INVALID_VALUE, str(err)) from None
        if self.state.facts.submitted_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the AE has not submitted the document yet")
        if self.state.intake is not None and self.state.intake.accepted:
            raise Refused(ErrorType.INVALID_TRANSITION, "the intake review is already done")

    def apply_intake(self, msg: IntakeReviewInput, now: datetime) -> None:
        self.now = now
        overrides = {**(self.state.intake.overrides if self.state.intake else {}), **msg.overrides}
        self.state.intake = IntakeReview(
            reviewer=msg.by or self.state.owners.csm, rating=msg.rating, overrides=overrides,
            comments=msg.comments, accepted=msg.accept, at=now,
        )
        self._record(Kind.MESSAGE, message="intake_review", by=msg.by, rating=msg.rating, accepted=msg.accept,
                     overrides={k.value: v for k, v in msg.overrides.items()})
        self._rescore()
        if msg.accept:
            self.state.facts.briefed_at = now
            self._meet(SlaName.CSM_BRIEFED)
            if self._profile().intro is IntroStyle.WELCOME_SEQUENCE:
                self._notify("welcome_sequence", ["customer"], "Welcome sequence started",
                             f"Templated welcome sequence sent to {self.state.deal.account}.")
        else:
            self._gate(submitting=False)
        self._after_change()

    def check_intro(self, msg: IntroUpdate) -> None:
        self._open()
        self._won_required()
        facts = self.state.facts
        if not self._has_intro():
            raise Refused(ErrorType.INVALID_TRANSITION, f"{self._approach().value} handoffs have no intro meeting")
        if msg.action is IntroAction.SCHEDULED and facts.intro_held_at:
            raise Refused(ErrorType.INVALID_TRANSITION, "the intro has already been held")
        if msg.action is IntroAction.HELD and facts.intro_scheduled_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the intro cannot be held before it is scheduled")
        if msg.action is IntroAction.HELD and facts.intro_held_at:
            raise Refused(ErrorType.INVALID_TRANSITION, "the intro has already been held")

    def apply_intro(self, msg: IntroUpdate, now: datetime) -> None:
        self.now = now
        facts = self.state.facts
        details: dict[str, Any] = {"message": f"intro_{msg.action.value}", "by": msg.by}
        if msg.action is IntroAction.SCHEDULED:
            facts.intro_scheduled_at = facts.intro_scheduled_at or now
            facts.intro_scheduled_for = msg.scheduled_for
            if msg.scheduled_for:
                details["scheduled_for"] = msg.scheduled_for.isoformat()
            self._record(Kind.MESSAGE, **details)
            self._meet(SlaName.INTRO_SCHEDULED)
        else:
            facts.intro_held_at = now
            self._record(Kind.MESSAGE, **details)
            self._meet(SlaName.INTRO_HELD)
            self._pull_kickoff_forward()
        self._after_change()

    def check_first_touch(self, msg: FirstTouch) -> None:
        self._open()
        self._won_required()

    def apply_first_touch(self, msg: FirstTouch, now: datetime) -> None:
        self.now = now
        self.state.facts.first_touch_at = self.state.facts.first_touch_at or now
        self._record(Kind.MESSAGE, message="first_touch", by=msg.by, channel=msg.channel,
                     with_implementation_owner=msg.with_implementation_owner)
        self._meet(SlaName.CS_FIRST_TOUCH)
        if msg.with_implementation_owner:
            self.state.facts.implementation_owner_contacted_at = now
            self._meet(SlaName.IMPL_OWNER_CONTACT)
        self._after_change()

    def check_kickoff(self, msg: KickoffHeld) -> None:
        self._open()
        self._won_required()
        facts = self.state.facts
        if facts.kickoff_at:
            raise Refused(ErrorType.INVALID_TRANSITION, "the kickoff has already been held")
        if facts.briefed_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the CSM's intake review comes before the kickoff")
        if self._has_intro() and facts.intro_held_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the intro is held before the kickoff")

    def apply_kickoff(self, msg: KickoffHeld, now: datetime) -> None:
        self.now = now
        self.state.facts.kickoff_at = now
        self.state.success_plan = list(msg.success_plan)
        self._record(Kind.MESSAGE, message="kickoff_held", by=msg.by, success_plan=msg.success_plan)
        self._meet(SlaName.KICKOFF)
        self.effects.append(StartOnboarding())
        self._after_change()

    def check_ae_departure(self, msg: AeDeparture) -> None:
        self._open()
        facts = self.state.facts
        if facts.ae_departed_at and not msg.recovery_owner:
            raise Refused(ErrorType.INVALID_TRANSITION, "the AE's departure is already recorded; name the recovery owner")
        if self.state.owners.recovery_owner and msg.recovery_owner:
            raise Refused(ErrorType.INVALID_TRANSITION, f"{self.state.owners.recovery_owner} already owns the recovery")

    def apply_ae_departure(self, msg: AeDeparture, now: datetime) -> None:
        self.now = now
        s = self.state
        if s.facts.ae_departed_at is None:
            s.facts.ae_departed_at = now
            self._record(Kind.MESSAGE, message="ae_departed", by=msg.by, ae=s.owners.ae)
            self._plan(SlaName.RECOVERY_OWNER, anchor=now)
            self._notify("ae_departed", [s.owners.sales_manager or Role.SALES_MANAGER.value],
                         "AE left: assign a recovery owner",
                         f"The AE on {s.deal.account} has left; name a recovery owner within the SLA.")
        if msg.recovery_owner:
            s.owners.recovery_owner = msg.recovery_owner
            self._record(Kind.MESSAGE, message="recovery_owner_assigned", by=msg.by, owner=msg.recovery_owner)
            self._meet(SlaName.RECOVERY_OWNER)
            self._notify("recovery_owner_assigned", [msg.recovery_owner, s.owners.csm or "csm", "customer"],
                         "Your handoff has a new owner",
                         f"{msg.recovery_owner} completes the handoff for {s.deal.account}; the customer is told.")
        self._after_change()

    def check_extension(self, msg: DeadlineExtension) -> None:
        self._open()
        deadline = self.state.deadlines.get(msg.sla)
        if deadline is None or not deadline.open:
            status = deadline.status.value if deadline else "not set"
            raise Refused(ErrorType.INVALID_TRANSITION, f"deadline {msg.sla.value} cannot move: it is {status}")
        if not msg.reason.strip():
            raise Refused(ErrorType.INVALID_VALUE, "reason: an extension needs a reason")
        if (msg.new_due is None) == (msg.extend_by is None):
            raise Refused(ErrorType.INVALID_VALUE, "give exactly one of new_due or extend_by")
        if msg.new_due is not None and (msg.new_due.tzinfo is None or msg.new_due <= deadline.due):
            raise Refused(ErrorType.INVALID_VALUE, "new_due must be later than the current due, with a UTC offset")

    def apply_extension(self, msg: DeadlineExtension, now: datetime) -> None:
        self.now = now
        deadline = self.state.deadlines[msg.sla]
        new_due = msg.new_due or self.policy.calendar.add(deadline.due, msg.extend_by)
        previous = deadline.due
        deadlines.extend(deadline, new_due, msg.reason, msg.by, now)
        self._record(Kind.DEADLINE_EXTENDED, sla=msg.sla.value, previous_due=previous.isoformat(),
                     due=new_due.isoformat(), reason=msg.reason, by=msg.by)
        self._after_change()

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
        from domain.state import ChildStatus

        self.now = now
        self.state.children[kind] = ChildStatus(workflow_id=workflow_id, kind=kind, started_at=now)
        self._record(Kind.CHILD_STARTED, child=kind, workflow_id=workflow_id)

    def child_finished(self, signal: ChildFinished, now: datetime) -> None:
        self.now = now
        child = self.state.children.get(signal.kind)
        if child is None or child.finished_at is not None:
            self._record(Kind.MESSAGE_IGNORED, message="child_finished", child=signal.kind, reason="unknown or repeated")
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

    def _won(self, submitted: bool) -> None:
        s = self.state
        s.facts.won_at = self.now
        close = s.deal.closed_at or self.now
        profile = self._profile()
        for sla in _FROM_CLOSE:
            if sla in profile.slas:
                self._plan(sla, anchor=close)
        if s.deal.sponsor_is_not_implementation_owner:
            self._plan(SlaName.IMPL_OWNER_CONTACT, anchor=close)
        self._notify("document_assigned", [s.owners.ae or "ae"], "Complete the handoff document",
                     f"{s.deal.account} is won: complete its handoff document (score {self._score_text()}).")
        if s.approach and s.approach.extra_recipients:
            self._notify("handoff_started", list(s.approach.extra_recipients), "New handoff with professional services",
                         f"{s.deal.account} has professional services attached: an implementation plan is required.")
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
        self._notify("deal_lost", [s.owners.csm or "csm", s.owners.ae or "ae"], "Deal lost",
                     f"{s.deal.account} moved to {stage}: the handoff is closed.")
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
                self.effects.append(CreateCrmTask(
                    key=self._key("task"), owner=s.owners.ae, subject="Handoff document returned: complete it",
                    body=", ".join(name.value for name in s.quality.missing),
                ))
            return
        first = s.facts.submitted_at is None
        s.returned_to_sales = False
        if first:
            s.facts.submitted_at = self.now
            self._notify("document_submitted", [s.owners.csm or "csm"], "Handoff document ready for intake review",
                         f"{s.deal.account}: {tier.value} ({s.quality.score}).")
        if tier is Tier.GAPS and SlaName.AE_FOLLOW_UP not in s.deadlines:
            self._plan(SlaName.AE_FOLLOW_UP, anchor=self.now)
            missing = [name.value for name in s.quality.missing]
            self._notify("gaps_flagged", [s.owners.csm or "csm", s.owners.ae or "ae"], "Handoff has gaps",
                         f"Missing or generic: {', '.join(missing)}.", {"missing": missing})
        if tier is Tier.READY:
            self._meet(SlaName.AE_FOLLOW_UP)

    def _assign(self, csm: str, team: str, by: str) -> None:
        previous = self.state.owners.csm
        self.state.owners.csm, self.state.owners.cs_team = csm, team
        self._record(Kind.CSM_ASSIGNED, csm=csm, team=team, by=by, previous=previous or None)
        self._notify("csm_assigned", [csm], "You own a new handoff",
                     f"{self.state.deal.account} ({self._approach().value}) is yours: review its handoff document.")

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
        children_done = all(kind in s.children and s.children[kind].finished_at for kind in ("onboarding", "post_check"))
        if children_done and not any(d.watching for d in s.deadlines.values()):
            s.outcome = Outcome.HANDED_OFF
            self._close()

    def _close(self) -> None:
        self.state.facts.ended_at = self.now
        self._set_phase(Phase.CLOSED)
        self._record(Kind.CLOSED, outcome=self.state.outcome.value)

    # ---- helpers -----------------------------------------------------------------------------

    def _after_change(self) -> None:
        self._check_commission()
        self._maybe_finish()
        self._refresh_phase()

    def _rescore(self) -> None:
        s = self.state
        report = score_document(
            s.document, self.policy, sales_cycle=s.deal.sales_cycle, approach=self._approach(),
            overrides=s.intake.overrides if s.intake else None,
        )
        if s.quality is None or (report.score, report.tier) != (s.quality.score, s.quality.tier):
            self._record(Kind.DOCUMENT_SCORED, score=report.score, tier=report.tier.value)
        s.quality = report

    def _plan(self, sla: SlaName, anchor: datetime) -> None:
        spec = self.policy.sla(sla, self._approach())
        deadline = deadlines.plan(sla, spec, anchor, self.now, self.policy.calendar)
        self.state.deadlines[sla] = deadline
        self._record(Kind.DEADLINE_SET, sla=sla.value, due=deadline.due.isoformat())

    def _meet(self, sla: SlaName) -> None:
        deadline = self.state.deadlines.get(sla)
        if deadline is not None and deadlines.meet(deadline, self.now):
            self._record(Kind.DEADLINE_MET, sla=sla.value, due=deadline.due.isoformat())

    def _escalate(self, sla: SlaName, role: Role, at: datetime | None = None, note: str = "") -> None:
        person = self._person(role)
        self.state.escalations.append(Escalated(sla=sla, to=role, at=at or self.now, person=person))
        self._record(Kind.ESCALATED, at=at, sla=sla.value, to=role.value, note=note or None)
        self._notify("escalated", [person or role.value], f"Escalation: {sla.value}",
                     f"{self.state.deal.account}: {sla.value} needs you ({note or 'SLA missed'}).", {"sla": sla.value, "to": role.value})

    def _person(self, role: Role) -> str:
        owners = self.state.owners
        if role is Role.SALES_MANAGER:
            return owners.sales_manager
        if role is Role.VP_SALES:
            return owners.vp_sales
        if role is Role.CS_MANAGER:
            team = next((t for t in self.policy.teams if t.name == owners.cs_team), None)
            return team.manager if team else ""
        return ""

    def _notify(self, event: str, to: list[str], subject: str, text: str, details: dict | None = None) -> None:
        entry = self._record(Kind.NOTIFIED, event=event, to=to)
        self.effects.append(Notify(key=f"{self.state.workflow_id}:{entry.seq}", event=event, to=to,
                                   subject=subject, text=text, details=details or {}))

    def _record(self, kind: Kind, at: datetime | None = None, **details: Any) -> TimelineEntry:
        timeline = self.state.timeline
        seq = timeline[-1].seq + 1 if timeline else 1
        entry = TimelineEntry(seq=seq, at=at or self.now, kind=kind, details={k: v for k, v in details.items() if v is not None})
        timeline.append(entry)
        return entry

    def _refresh_phase(self) -> None:
        phase = self._derive_phase()
        if phase is not self.state.phase:
            self._set_phase(phase)

    def _set_phase(self, phase: Phase) -> None:
        previous = self.state.phase
        self.state.phase = phase
        self._record(Kind.PHASE_CHANGED, phase=phase.value, previous=previous.value)

    def _derive_phase(self) -> Phase:
        s, facts = self.state, self.state.facts
        if facts.ended_at:
            return Phase.CLOSED
        if facts.won_at is None:
            return Phase.PRE_CLOSE
        if facts.transitioned_at:
            return Phase.TRANSITIONED
        if facts.kickoff_at:
            return Phase.ONBOARDING
        if s.returned_to_sales or facts.submitted_at is None:
            return Phase.DOCUMENTING
        if facts.briefed_at is None:
            return Phase.INTAKE_REVIEW
        if self._has_intro() and facts.intro_held_at is None:
            return Phase.INTRO
        return Phase.KICKOFF

    def _deadline_instant(self, fired: deadlines.Fired) -> datetime:
        deadline = self.state.deadlines[fired.sla]
        if fired.breached:
            return deadline.due
        return max((step.at for step in deadline.escalations if step.to is fired.escalate_to), default=self.now)

    def _profile(self):
        return self.policy.approaches[self._approach()]

    def _approach(self) -> Approach:
        return self.state.approach.approach if self.state.approach else Approach.STRUCTURED

    def _has_intro(self) -> bool:
        return SlaName.INTRO_SCHEDULED in self._profile().slas

    def _score_text(self) -> str:
        q = self.state.quality
        return f"{q.score} {q.tier.value}" if q else "not scored"

    def _key(self, what: str) -> str:
        return f"{self.state.workflow_id}:{what}:{len(self.state.timeline)}"

    def _open(self) -> None:
        if self.state.ended:
            raise Refused(ErrorType.CLOSED, f"the handoff has ended ({self.state.outcome.value})")

    def _won_required(self) -> None:
        if self.state.facts.won_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the deal is not won yet")
