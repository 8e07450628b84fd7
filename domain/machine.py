"""The handoff's rules as a state machine: messages and time in; state changes, timeline and effects out.

Pure and deterministic, so the workflow stays a thin shell (it runs the effects as activities and
waits for the next instant) and every rule of the seeds can be tested without a server.

`HandoffMachine` is the one surface the workflow and the tests use; the rules live in its parts, each
of which calls only itself and the parts it is given (none calls back up):

    Journal       timeline entries and effects               machine_journal.py
    Handoff       state, policy, journal, shared refusals    machine_handoff.py
    Deadlines     SLAs planned, met, moved, breached         machine_deadlines.py
    Children      onboarding and the 30-day check            machine_children.py
    Meetings      welcome, intro, first touch, kickoff       machine_meetings.py
    DocumentGate  score, tier gate, intake review            machine_gate.py
    Ownership     CSM assignment, AE departure               machine_owners.py
    Commission    the AE's commission hold                   machine_commission.py
    Outreach      introductions, the AE's transition, partner machine_outreach.py
    Lifecycle     start, won, lost, tick, the end            machine_lifecycle.py

A new rule goes into the part whose concern it is; a new message is a `check_*`/`apply_*` pair there
and two lines here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from domain.crm_fields import CrmDocumentChange
from domain.deal import Deal
from domain.document import DocumentPatch, HandoffDocument
from domain.effects import Effect, Notify
from domain.errors import Refused
from domain.introductions import Introduction, OutgoingIntroduction
from domain.machine_children import Children
from domain.machine_commission import Commission
from domain.machine_deadlines import Deadlines
from domain.machine_gate import DocumentGate
from domain.machine_handoff import Handoff
from domain.machine_journal import Journal
from domain.machine_lifecycle import Lifecycle
from domain.machine_meetings import Meetings
from domain.machine_outreach import Outreach
from domain.machine_owners import Ownership
from domain.messages import (
    AeDeparture,
    ChildFinished,
    CsmAssignment,
    DeadlineExtension,
    DocumentUpdate,
    FirstTouch,
    IntakeReviewInput,
    IntroUpdate,
    KickoffHeld,
    MilestoneSignal,
    PostCheckAnswers,
)
from domain.policy import Policy
from domain.recipients import DealPeople, Resolution
from domain.stages import StageKind
from domain.state import ChildKind, HandoffState, Phase
from domain.timeline import Kind

Message = TypeVar("Message")


class HandoffMachine:
    def __init__(self, state: HandoffState, policy: Policy) -> None:
        self._journal = Journal(state, now=state.timeline[-1].at if state.timeline else datetime.min)
        self._handoff = handoff = Handoff(state, policy, self._journal)
        self._deadlines = deadlines = Deadlines(handoff)
        self._children = children = Children(handoff, deadlines)
        self._meetings = meetings = Meetings(handoff, deadlines, children)
        self._gate = gate = DocumentGate(handoff, deadlines, meetings)
        self._ownership = ownership = Ownership(handoff, deadlines)
        self._outreach = outreach = Outreach(handoff)
        self._lifecycle = Lifecycle(handoff, deadlines, gate, ownership, children, Commission(handoff), outreach)

    @classmethod
    def new(cls, workflow_id: str, deal: Deal, policy: Policy, people_rules: bool = True) -> HandoffMachine:
        """`people_rules`: notices resolved to people when sent (every new handoff; the workflow passes
        False only when replaying a run started before them)."""
        state = HandoffState(
            workflow_id=workflow_id,
            deal=deal,
            policy_name=policy.name,
            phase=Phase.PRE_CLOSE,
            people_rules=people_rules,
        )
        return cls(state, policy)

    @property
    def state(self) -> HandoffState:
        return self._handoff.state

    @property
    def policy(self) -> Policy:
        return self._handoff.policy

    @property
    def effects(self) -> list[Effect]:
        """What the rules ask of the outside world, oldest first; the workflow takes them from the front."""
        return self._journal.effects

    @property
    def now(self) -> datetime:
        """The instant of the last message or tick applied."""
        return self._journal.now

    # ---- lifecycle -------------------------------------------------------------------------

    def start(
        self,
        deal: Deal,
        document: HandoffDocument | None,
        won: bool,
        now: datetime,
        learned_at: datetime | None = None,
        crm_document: DocumentPatch | None = None,
    ) -> None:
        """Begin with the full deal (fetched from the CRM): choose the approach, prefill, and go."""
        self._journal.now = now
        self._lifecycle.start(deal, document, won, learned_at, crm_document)

    def stage_changed(
        self,
        kind: StageKind,
        stage: str,
        deal: Deal | None,
        document: HandoffDocument | None,
        now: datetime,
        crm_document: DocumentPatch | None = None,
    ) -> None:
        """A CRM stage change (a signal: never refused; what does not apply is recorded and ignored).
        `crm_document`: the document fields a win's CRM properties hold; they reach a run that was
        waiting for its win (a pre-close start) as CRM document changes, never as a submission."""
        self._journal.now = now
        waiting = self.state.facts.won_at is None
        # The parts compare kinds by identity: a plain "lost" must not slip past them as "not lost".
        self._lifecycle.stage_changed(StageKind(kind), stage, deal, document)
        if crm_document is not None and waiting and self.state.facts.won_at is not None:
            self.crm_document_changed(CrmDocumentChange(fields=crm_document), now)

    def tick(self, now: datetime) -> None:
        """Fire whatever has come due: breaches, escalation steps, the 30-day check."""
        self._journal.now = now
        self._lifecycle.tick()

    def next_wake(self) -> tuple[datetime, str] | None:
        """The next instant the workflow must wake at, and what it guards (for the timer summary)."""
        if self.state.ended:
            return None
        candidates = [
            wake
            for wake in (self._deadlines.next_wake(), self._children.next_wake(), self._outreach.next_wake())
            if wake
        ]
        return min(candidates, key=lambda wake: wake[0]) if candidates else None

    def people(self) -> DealPeople:
        """Who the handoff knows by name or id: what a notice's places are resolved from."""
        s = self.state
        team = next((t for t in self.policy.teams if t.name == s.owners.cs_team), None)
        # Built from the state's own values, so not validated again: every notice asks for it.
        return DealPeople.model_construct(
            crm=s.deal.crm,
            ae=s.owners.ae,
            sales_manager=s.owners.sales_manager,
            vp_sales=s.owners.vp_sales,
            csm=s.owners.csm,
            cs_team=s.owners.cs_team,
            cs_manager=team.manager if team else "",
            recovery_owner=s.owners.recovery_owner,
            partner=s.owners.partner or s.deal.channel_partner or "",
        )

    def notice_addressed(self, notice: Notify, resolution: Resolution, now: datetime) -> None:
        """The people a notice is going to, resolved from the directory as it is sent."""
        self._journal.now = now
        self._journal.addressed(notice, resolution)

    def introduced(
        self, intro: Introduction, outgoing: OutgoingIntroduction, resolution: Resolution, now: datetime
    ) -> None:
        """An introduction composed for the people its places resolved to, as it is sent."""
        self._journal.now = now
        self._outreach.introduced(intro, outgoing, resolution)

    def note(self, kind: Kind, now: datetime, **details: Any) -> None:
        """Record something the workflow observed outside the rules (an outside system failing)."""
        self._journal.now = now
        self._journal.record(kind, **details)

    # ---- what the system tells the handoff (signals and activity results) -----------------

    def crm_document_changed(self, change: CrmDocumentChange, now: datetime) -> None:
        """Document fields the AE changed in the CRM (a signal: what does not apply is recorded and
        ignored). They never submit by themselves: only a mapped "submitted" property does."""
        update = DocumentUpdate(fields=change.fields, submit=change.submit, by="crm")
        try:
            self.check_document(update)
        except Refused as refused:
            self._journal.now = now
            self._journal.record(Kind.MESSAGE_IGNORED, message="crm_document_changed", reason=refused.message)
            return
        self.apply_document(update, now)

    def csm_chosen(self, csm: str | None, team: str, reason: str, now: datetime) -> None:
        """The result of assignment by rule (round robin, capacity-aware), unless a lead got there first."""
        self._journal.now = now
        if self._ownership.csm_chosen(csm, team, reason):
            if self.state.owners.csm:
                self._outreach.csm_assigned()
            self._lifecycle.after_change()

    def milestone(self, signal: MilestoneSignal, now: datetime) -> None:
        self._journal.now = now
        self._children.milestone(signal)
        self._lifecycle.refresh_phase()

    def child_started(self, kind: ChildKind, workflow_id: str, now: datetime) -> None:
        self._journal.now = now
        self._children.started(ChildKind(kind), workflow_id)

    def child_finished(self, signal: ChildFinished, now: datetime) -> None:
        self._journal.now = now
        if self._children.finished(signal):
            if signal.kind is ChildKind.POST_CHECK:
                self._outreach.check_finished(signal.passed)
            self._lifecycle.finish_if_done()
            self._lifecycle.refresh_phase()

    # ---- people's messages: each `check_*` refuses without changing anything ---------------

    def check_document(self, msg: DocumentUpdate) -> None:
        self._gate.check_document(msg)

    def apply_document(self, msg: DocumentUpdate, now: datetime) -> None:
        self._apply(self._gate.apply_document, msg, now)

    def check_csm(self, msg: CsmAssignment) -> None:
        self._ownership.check_csm(msg)

    def apply_csm(self, msg: CsmAssignment, now: datetime) -> None:
        self._apply(self._ownership.apply_csm, msg, now, self._outreach.csm_assigned)

    def check_intake(self, msg: IntakeReviewInput) -> None:
        self._gate.check_intake(msg)

    def apply_intake(self, msg: IntakeReviewInput, now: datetime) -> None:
        self._apply(self._gate.apply_intake, msg, now, self._outreach.briefed if msg.accept else None)

    def check_intro(self, msg: IntroUpdate) -> None:
        self._meetings.check_intro(msg)

    def apply_intro(self, msg: IntroUpdate, now: datetime) -> None:
        self._apply(self._meetings.apply_intro, msg, now, lambda: self._outreach.intro(msg))

    def check_first_touch(self, msg: FirstTouch) -> None:
        self._meetings.check_first_touch(msg)

    def apply_first_touch(self, msg: FirstTouch, now: datetime) -> None:
        self._apply(self._meetings.apply_first_touch, msg, now, self._outreach.first_touch)

    def check_kickoff(self, msg: KickoffHeld) -> None:
        self._meetings.check_kickoff(msg)

    def apply_kickoff(self, msg: KickoffHeld, now: datetime) -> None:
        self._apply(self._meetings.apply_kickoff, msg, now, self._outreach.kickoff)

    def check_ae_departure(self, msg: AeDeparture) -> None:
        self._ownership.check_ae_departure(msg)

    def apply_ae_departure(self, msg: AeDeparture, now: datetime) -> None:
        self._apply(self._ownership.apply_ae_departure, msg, now)

    def check_post_check_answers(self, msg: PostCheckAnswers, now: datetime) -> None:
        """The CSM's answers before the 30-day check has started; `now` is when they arrive (it decides
        whether the check is open yet)."""
        self._children.check_early_answers(msg, now)

    def apply_post_check_answers(self, msg: PostCheckAnswers, now: datetime) -> None:
        self._apply(self._children.apply_early_answers, msg, now)

    def check_extension(self, msg: DeadlineExtension) -> None:
        self._deadlines.check_extension(msg)

    def apply_extension(self, msg: DeadlineExtension, now: datetime) -> None:
        self._apply(self._deadlines.apply_extension, msg, now)

    def _apply(
        self,
        apply: Callable[[Message], None],
        msg: Message,
        now: datetime,
        then: Callable[[], None] | None = None,
    ) -> None:
        """An `apply_*` runs only after its `check_*` passed (the workflow's update validator); `then`:
        what the outreach does after it."""
        self._journal.now = now
        apply(msg)
        if then is not None:
            then()
        self._lifecycle.after_change()
