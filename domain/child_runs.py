"""The two children of a handoff as pure runs: what their workflows execute and the simulator replays.

Each run holds a child's rules (when onboarding hands over to CS, which answers the 30-day check takes
and how it judges them) and never does I/O or reads a clock: the workflow passes `now` and performs
the notice and the signals these return, the simulator applies them on its virtual clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.errors import ErrorType, Refused
from domain.messages import ChildFinished, MilestoneReached, MilestoneSignal, PostCheckAnswers
from domain.notifications import Notification
from domain.onboarding import (
    OnboardingInput,
    OnboardingSummary,
    PostCheckInput,
    PostCheckResult,
    UsageReport,
    evaluate,
    milestones_complete,
    summarise,
    transition_due,
)
from domain.onboarding_policy import Milestone
from domain.state import ChildKind

HANDED_OVER_BY_MILESTONES = "milestones"
HANDED_OVER_BY_TIME = "time"


class OnboardingRun:
    """Milestones in; the handover to CS out, on the policy's trigger (milestones, time, or whichever
    comes first)."""

    def __init__(self, input: OnboardingInput) -> None:
        self.input = input
        self.reached: dict[Milestone, datetime] = {}
        self.notes: list[MilestoneReached] = []
        self.done: OnboardingSummary | None = None

    @property
    def hand_over_at(self) -> datetime | None:
        """The time trigger's instant (None: milestones alone hand over)."""
        return transition_due(self.input.policy, self.input.closed_at, self.input.calendar)

    def milestones_complete(self) -> bool:
        return milestones_complete(self.input.policy, self.reached)

    def check_milestone(self, msg: MilestoneReached) -> None:
        if self.done is not None:
            raise Refused(ErrorType.INVALID_TRANSITION, "onboarding has already handed over to CS")
        if msg.milestone in self.reached:
            raise Refused(ErrorType.INVALID_TRANSITION, f"{msg.milestone.value} was already reached")

    def apply_milestone(self, msg: MilestoneReached, now: datetime) -> MilestoneSignal:
        """Record a milestone; what the parent handoff is told of it."""
        self.reached[msg.milestone] = now
        self.notes.append(msg)
        return MilestoneSignal(milestone=msg.milestone, at=now)

    def summary(self) -> OnboardingSummary:
        return self.done or summarise(self.input.policy, self.notes, self.reached, "pending")

    def hand_over(self, by_milestones: bool) -> OnboardingSummary:
        trigger = HANDED_OVER_BY_MILESTONES if by_milestones else HANDED_OVER_BY_TIME
        self.done = summarise(self.input.policy, self.notes, self.reached, trigger)
        return self.done

    def introduction(self, workflow_id: str) -> Notification:
        """The notice that introduces CS to the customer once onboarding hands over."""
        summary = self.summary()
        return Notification(
            key=f"{workflow_id}:cs-introduction",
            workflow_id=self.input.parent_id,
            event="cs_introduction",
            to=["csm", "customer"],
            subject="Introducing your CS manager",
            text=f"Onboarding of {self.input.deal.account} is {summary.completion}% complete; CS takes over now.",
            details=summary.model_dump(mode="json"),
        )

    def finished(self, workflow_id: str) -> ChildFinished:
        return ChildFinished(
            kind=ChildKind.ONBOARDING,
            workflow_id=workflow_id,
            passed=True,
            summary=self.summary().model_dump(mode="json"),
        )


class PostCheckRun:
    """The CSM's answers in (until they are due); the check's verdict out."""

    def __init__(self, input: PostCheckInput, started_at: datetime) -> None:
        self.input = input
        self.answer_by = input.answer_by or started_at + input.policy.answer_window.as_timedelta()
        self.answers: PostCheckAnswers | None = input.answers
        self.result: PostCheckResult | None = None

    def check_answers(self, msg: PostCheckAnswers) -> None:
        if self.answers is not None or self.result is not None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the 30-day check has already been answered")

    def apply_answers(self, msg: PostCheckAnswers) -> None:
        self.answers = msg

    def conclude(self, usage: UsageReport, now: datetime) -> PostCheckResult:
        self.result = evaluate(self.input, usage, self.answers, now)
        return self.result

    def finished(self, workflow_id: str) -> ChildFinished:
        result = self.result
        if result is None:  # the workflow and the simulator conclude before they report
            raise RuntimeError("the 30-day check reports before it has concluded")
        return ChildFinished(
            kind=ChildKind.POST_CHECK,
            workflow_id=workflow_id,
            passed=result.passed,
            summary={
                "failures": result.failures,
                "usage": result.usage.model_dump(mode="json"),
                "answers": _answered(result.answers),
            },
            checks_failed=result.checks_failed,
        )


def _answered(answers: PostCheckAnswers | None) -> dict[str, Any] | None:
    """What the CSM answered, without the free text: what a backtest replays the check from."""
    if answers is None:
        return None
    return {
        "enough_context": answers.enough_context,
        "concerns": len(answers.concerns),
        "partner_confirmed": answers.partner_confirmed,
    }
