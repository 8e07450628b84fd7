"""People's messages: each `check_*` refuses without changing anything, each `apply_*` changes state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain import deadlines
from domain.effects import StartOnboarding
from domain.errors import ErrorType, Refused
from domain.machine_base import MachineBase
from domain.messages import (
    AeDeparture,
    CsmAssignment,
    DeadlineExtension,
    DocumentUpdate,
    FirstTouch,
    IntakeReviewInput,
    IntroAction,
    IntroUpdate,
    KickoffHeld,
)
from domain.policy import IntroStyle
from domain.roles import Role, SlaName
from domain.scoring import check_overrides
from domain.state import IntakeReview
from domain.timeline import Kind


class PeopleMessages(MachineBase):
    def check_document(self, msg: DocumentUpdate) -> None:
        self._open()
        if msg.submit and self.state.facts.won_at is None:
            raise Refused(
                ErrorType.INVALID_TRANSITION, "the deal is not won yet: the document can be edited but not submitted"
            )

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
            reviewer=msg.by or self.state.owners.csm,
            rating=msg.rating,
            overrides=overrides,
            comments=msg.comments,
            accepted=msg.accept,
            at=now,
        )
        self._record(
            Kind.MESSAGE,
            message="intake_review",
            by=msg.by,
            rating=msg.rating,
            accepted=msg.accept,
            overrides={k.value: v for k, v in msg.overrides.items()},
        )
        self._rescore()
        if msg.accept:
            self.state.facts.briefed_at = now
            self._meet(SlaName.CSM_BRIEFED)
            if self._profile().intro is IntroStyle.WELCOME_SEQUENCE:
                self._notify(
                    "welcome_sequence",
                    ["customer"],
                    "Welcome sequence started",
                    f"Templated welcome sequence sent to {self.state.deal.account}.",
                )
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
        self._record(
            Kind.MESSAGE,
            message="first_touch",
            by=msg.by,
            channel=msg.channel,
            with_implementation_owner=msg.with_implementation_owner,
        )
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
            raise Refused(
                ErrorType.INVALID_TRANSITION, "the AE's departure is already recorded; name the recovery owner"
            )
        if self.state.owners.recovery_owner and msg.recovery_owner:
            raise Refused(ErrorType.INVALID_TRANSITION, f"{self.state.owners.recovery_owner} already owns the recovery")

    def apply_ae_departure(self, msg: AeDeparture, now: datetime) -> None:
        self.now = now
        s = self.state
        if s.facts.ae_departed_at is None:
            s.facts.ae_departed_at = now
            self._record(Kind.MESSAGE, message="ae_departed", by=msg.by, ae=s.owners.ae)
            self._plan(SlaName.RECOVERY_OWNER, anchor=now)
            self._notify(
                "ae_departed",
                [s.owners.sales_manager or Role.SALES_MANAGER.value],
                "AE left: assign a recovery owner",
                f"The AE on {s.deal.account} has left; name a recovery owner within the SLA.",
            )
        if msg.recovery_owner:
            s.owners.recovery_owner = msg.recovery_owner
            self._record(Kind.MESSAGE, message="recovery_owner_assigned", by=msg.by, owner=msg.recovery_owner)
            self._meet(SlaName.RECOVERY_OWNER)
            self._notify(
                "recovery_owner_assigned",
                [msg.recovery_owner, s.owners.csm or "csm", "customer"],
                "Your handoff has a new owner",
                f"{msg.recovery_owner} completes the handoff for {s.deal.account}; the customer is told.",
            )
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
        self._record(
            Kind.DEADLINE_EXTENDED,
            sla=msg.sla.value,
            previous_due=previous.isoformat(),
            due=new_due.isoformat(),
            reason=msg.reason,
            by=msg.by,
        )
        self._after_change()
