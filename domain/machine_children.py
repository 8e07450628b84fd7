"""The two children of a handoff, onboarding and the 30-day check: when each starts, and what its end settles."""

from __future__ import annotations

from datetime import datetime

from domain.approach_kinds import Approach
from domain.check_failures import CheckFailureKind
from domain.effects import EndChildren, StartOnboarding, StartPostCheck
from domain.errors import ErrorType, Refused
from domain.ids import onboarding_workflow_id, post_check_workflow_id
from domain.machine_deadlines import SETTLED_BY_CHECK, Deadlines
from domain.machine_handoff import Handoff
from domain.messages import ChildFinished, MilestoneSignal, PostCheckAnswers
from domain.onboarding import OnboardingInput, PostCheckInput
from domain.onboarding_policy import ScheduleFrom
from domain.recipients import Audience
from domain.roles import SlaName
from domain.state import ChildKind, ChildStatus
from domain.timeline import Kind

# A tuple, not the enum iterated each time (it is asked after every change and tick).
_EVERY_CHILD = tuple(ChildKind)


class Children:
    def __init__(self, handoff: Handoff, deadlines: Deadlines) -> None:
        self._h = handoff
        self._deadlines = deadlines

    def start_onboarding(self) -> None:
        h = self._h
        child = OnboardingInput(
            parent_id=h.state.workflow_id,
            deal=h.state.deal,
            policy=h.policy.onboarding,
            closed_at=self._closed_at(),
            calendar=h.policy.calendar,
            tells_cs=not h.state.people_rules,
        )
        h.journal.ask(StartOnboarding(workflow_id=onboarding_workflow_id(h.state.workflow_id), input=child))

    def start_post_check_if_due(self) -> None:
        h = self._h
        if self._post_check_waiting() and h.state.deadlines[SlaName.POST_CHECK].due <= h.now:
            # Asked once: until the child has started, the check is no longer something to wake for.
            h.state.facts.post_check_requested_at = h.now
            h.journal.ask(StartPostCheck(workflow_id=post_check_workflow_id(h.state.workflow_id), input=self._check()))

    def next_wake(self) -> tuple[datetime, str] | None:
        """When the 30-day check child is to start, until it has been asked for."""
        if not self._post_check_waiting():
            return None
        return self._h.state.deadlines[SlaName.POST_CHECK].due, "30-day post-handoff check"

    def end_all(self) -> None:
        self._h.journal.ask(EndChildren())

    def all_finished(self) -> bool:
        children = self._h.state.children
        # Asked after every change and tick, and most of a handoff's life not both have started.
        if len(children) < len(_EVERY_CHILD):
            return False
        return all(kind in children and children[kind].finished_at for kind in _EVERY_CHILD)

    def started(self, kind: ChildKind, workflow_id: str) -> None:
        h = self._h
        h.state.children[kind] = ChildStatus(workflow_id=workflow_id, kind=kind, started_at=h.now)
        h.journal.record(Kind.CHILD_STARTED, child=kind.value, workflow_id=workflow_id)

    def finished(self, signal: ChildFinished) -> bool:
        """A child's last word (a signal: never refused); False when it came from an unknown or finished
        child, or after the handoff ended, which is recorded and ignored."""
        h = self._h
        child = h.state.children.get(signal.kind)
        if h.state.ended or child is None or child.finished_at is not None:
            # A child cancelled by a lost deal may still report while the parent runs its last effects.
            reason = "handoff has ended" if h.state.ended else "unknown or repeated"
            h.journal.record(Kind.MESSAGE_IGNORED, message="child_finished", child=signal.kind.value, reason=reason)
            return False
        child.finished_at, child.passed, child.summary = h.now, signal.passed, signal.summary
        h.journal.record(Kind.CHILD_FINISHED, child=signal.kind.value, passed=signal.passed)
        if signal.kind is ChildKind.ONBOARDING:
            h.state.facts.transitioned_at = h.now
            if h.state.people_rules:
                completion = signal.summary.get("completion")
                done = f" ({completion}% of the onboarding milestones reached)" if completion is not None else ""
                h.journal.notify(
                    "cs_introduction",
                    [Audience.CSM, Audience.AE],
                    f"Onboarding handed over to CS: {h.state.deal.account}",
                    f"{h.state.deal.account} moves from onboarding to its CSM now{done}.",
                )
        else:
            self._settle_checks(signal)
        return True

    def milestone(self, signal: MilestoneSignal) -> None:
        h = self._h
        if h.state.ended:
            h.journal.record(
                Kind.MESSAGE_IGNORED,
                message="milestone_reached",
                milestone=signal.milestone.value,
                reason="handoff has ended",
            )
            return
        h.state.milestones[signal.milestone] = signal.at
        h.journal.record(Kind.MILESTONE, milestone=signal.milestone.value)

    # ---- the CSM's answers before the check starts (an update to the handoff) -------------------

    def check_early_answers(self, msg: PostCheckAnswers, now: datetime) -> None:
        """Answers sent while the check is open (policy `post_check.opens_before` before its due) and
        before it started; refused otherwise, with when it opens. `now`: the validator's instant."""
        h = self._h
        h.refuse_if_ended()
        h.refuse_unless_won()
        s = h.state
        if s.facts.post_check_requested_at is not None or ChildKind.POST_CHECK in s.children:
            # Only in the moment between the API looking for the check and the check starting.
            raise Refused(
                ErrorType.INVALID_TRANSITION, "the 30-day check has started: send the answers again (they go to it now)"
            )
        if not self._post_check_waiting():
            raise Refused(ErrorType.INVALID_TRANSITION, "the 30-day check is not running: its deadline is settled")
        if h.state.post_check_answers is not None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the 30-day check has already been answered")
        opens = self.post_check_opens_at()
        if opens is None or now < opens:
            when = f"it opens {opens.isoformat()}" if opens else "it starts when it falls due"
            raise Refused(ErrorType.INVALID_TRANSITION, f"the 30-day check is not running: {when}")

    def apply_early_answers(self, msg: PostCheckAnswers) -> None:
        h = self._h
        h.state.post_check_answers = msg.model_dump(mode="json")
        h.journal.record(Kind.MESSAGE, message="post_check_answered", by=msg.by, before_due=True)

    def post_check_opens_at(self) -> datetime | None:
        """When the check takes answers: its due less `opens_before`; None where the policy has no
        such key (the check takes them once its child runs, from the due)."""
        check = self._h.state.deadlines.get(SlaName.POST_CHECK)
        opens_before = self._h.policy.post_check.opens_before
        if check is None or opens_before is None:
            return None
        return check.due - opens_before.as_timedelta()

    def _post_check_waiting(self) -> bool:
        s = self._h.state
        check = s.deadlines.get(SlaName.POST_CHECK)
        return (
            check is not None
            and check.open
            and s.facts.post_check_requested_at is None
            and ChildKind.POST_CHECK not in s.children
        )

    def _check(self) -> PostCheckInput:
        """The 30-day check as it stands at its due instant: milestones against their schedule."""
        h = self._h
        start, calendar, onboarding = self._schedule_start(), h.policy.calendar, h.policy.onboarding
        schedule = {
            milestone: calendar.add(start, span)
            for milestone, span in onboarding.schedule.items()
            if milestone in onboarding.required_milestones
        }
        due = h.state.deadlines[SlaName.POST_CHECK].due
        return PostCheckInput(
            parent_id=h.state.workflow_id,
            deal=h.state.deal,
            policy=h.policy.post_check,
            schedule=schedule,
            reached=dict(h.state.milestones),
            partner=h.state.approach is not None and h.state.approach.approach is Approach.PARTNER_MEDIATED,
            answer_by=calendar.add(due, h.policy.post_check.answer_window),
            answers=PostCheckAnswers.model_validate(h.state.post_check_answers) if h.state.post_check_answers else None,
        )

    def _schedule_start(self) -> datetime:
        """What the milestone schedule counts from: the kickoff (onboarding starts there, so no milestone
        can be reported before it), or its due while none was held; the close for snapshots without
        `onboarding.schedule_from`."""
        s = self._h.state
        if self._h.policy.onboarding.schedule_from is not ScheduleFrom.KICKOFF:
            return self._closed_at()
        if s.facts.kickoff_at is not None:
            return s.facts.kickoff_at
        kickoff = s.deadlines.get(SlaName.KICKOFF)
        return kickoff.due if kickoff is not None else self._closed_at()

    def _closed_at(self) -> datetime:
        """The close the children count from: the CRM's, else the instant the win reached Baton."""
        s = self._h.state
        close = s.deal.closed_at or s.facts.won_at
        if close is None:  # the rules start a child only after the win
            raise RuntimeError(f"{s.workflow_id}: a child was asked for before the deal was won")
        return close

    def _settle_checks(self, signal: ChildFinished) -> None:
        texts = [failure.text for failure in signal.checks_failed]
        partner_failed = any(f.kind is CheckFailureKind.PARTNER_UNCONFIRMED for f in signal.checks_failed)
        for sla in SETTLED_BY_CHECK:
            passed = bool(signal.passed) if sla is SlaName.POST_CHECK else not partner_failed
            self._deadlines.settle_check(sla, passed, texts)
