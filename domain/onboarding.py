"""Onboarding to CS: when the handover triggers, and the summary CS receives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from domain.calendar import BusinessCalendar
from domain.check_failures import CheckFailure, CheckFailureKind
from domain.deal import Deal
from domain.messages import MilestoneReached, PostCheckAnswers, Sentiment
from domain.onboarding_policy import Milestone, OnboardingPolicy, OnboardingTrigger, PostCheckPolicy


class OnboardingInput(BaseModel):
    parent_id: str
    deal: Deal
    policy: OnboardingPolicy
    closed_at: datetime
    # The parent's business calendar, so a time trigger in business days (`after: 20bd`) resolves. A
    # child started before it was passed counts clock time from the close, as it always did.
    calendar: BusinessCalendar | None = None
    # Whether the child tells CS of the handover itself (to the role names it knew). A parent under the
    # people rules tells the CSM it resolved instead, when the child reports; older children still do.
    tells_cs: bool = True


class OnboardingSummary(BaseModel):
    trigger: str
    completion: float = Field(description="% of required milestones reached")
    activation_achieved: bool
    reached: dict[Milestone, datetime]
    open_items: list[Milestone]
    sentiment: Sentiment | None
    risks: list[str]
    expansion_signals: list[str]


def transition_due(
    policy: OnboardingPolicy, closed_at: datetime, calendar: BusinessCalendar | None = None
) -> datetime | None:
    """The time trigger's instant, or None when only milestones trigger the handover."""
    if policy.trigger is OnboardingTrigger.MILESTONE:
        return None
    if calendar is not None:
        return calendar.add(closed_at, policy.after)
    return closed_at + policy.after.as_timedelta()


def milestones_complete(policy: OnboardingPolicy, reached: dict[Milestone, datetime]) -> bool:
    if policy.trigger is OnboardingTrigger.TIME:
        return False
    return all(milestone in reached for milestone in policy.required_milestones)


def summarise(
    policy: OnboardingPolicy, notes: list[MilestoneReached], reached: dict[Milestone, datetime], trigger: str
) -> OnboardingSummary:
    required = policy.required_milestones or list(Milestone)
    done = [m for m in required if m in reached]
    sentiments = [note.sentiment for note in notes if note.sentiment]
    return OnboardingSummary(
        trigger=trigger,
        completion=round(len(done) / len(required) * 100, 1),
        activation_achieved=Milestone.ACTIVATION_ACHIEVED in reached,
        reached=dict(reached),
        open_items=[m for m in required if m not in reached],
        sentiment=sentiments[-1] if sentiments else None,
        risks=[risk for note in notes for risk in note.risks],
        expansion_signals=[signal for note in notes for signal in note.expansion_signals],
    )


class UsageReport(BaseModel):
    measured: bool
    active_users: int = 0
    source: str = ""


class PostCheckInput(BaseModel):
    parent_id: str
    deal: Deal
    policy: PostCheckPolicy
    schedule: dict[Milestone, datetime] = Field(description="when each required milestone was due")
    reached: dict[Milestone, datetime]
    partner: bool = False
    # When the CSM's answers are due: the check's own due instant plus the answer window, so it does
    # not drift with how long the check took to start. None (a check started before it was passed):
    # the window counts from the child's start.
    answer_by: datetime | None = None
    # The CSM's answers sent while the check was open and before it started (policy
    # `post_check.opens_before`): the check judges them at its start, its due.
    answers: PostCheckAnswers | None = None


class PostCheckResult(BaseModel):
    passed: bool
    # The failures for people, as text; results of every version carry them in this form.
    failures: list[str]
    checks_failed: list[CheckFailure] = Field(default_factory=list, description="the same failures, by kind")
    usage: UsageReport
    answers: PostCheckAnswers | None

    @model_validator(mode="before")
    @classmethod
    def _result_of_an_older_check(cls, data: Any) -> Any:
        # A parent decodes its child's result even when it never awaits it, so a result written before
        # failures carried their kind must still decode, with the kinds they were settled by.
        if isinstance(data, dict) and "checks_failed" not in data and isinstance(data.get("failures"), list):
            data = {**data, "checks_failed": [CheckFailure.from_legacy_text(str(t)) for t in data["failures"]]}
        return data


def evaluate(
    check: PostCheckInput, usage: UsageReport, answers: PostCheckAnswers | None, now: datetime
) -> PostCheckResult:
    """Day 30: milestones on schedule, product in use, no concerns, and the CSM has the context."""
    failures: list[CheckFailure] = []

    def fail(kind: CheckFailureKind, text: str) -> None:
        failures.append(CheckFailure(kind=kind, text=text))

    for milestone, due in sorted(check.schedule.items(), key=lambda item: item[1]):
        reached = check.reached.get(milestone)
        # Reached at its due instant is late, as a deadline is breached at its due instant.
        if due <= now and (reached is None or reached >= due):
            fail(
                CheckFailureKind.MILESTONE_LATE, f"milestone {milestone.value} not reached by {due.date().isoformat()}"
            )
    if usage.measured and usage.active_users < check.policy.min_active_users:
        fail(
            CheckFailureKind.LOW_USAGE,
            f"usage: {usage.active_users} active users (at least {check.policy.min_active_users} expected)",
        )
    if answers is None:
        fail(CheckFailureKind.UNANSWERED, "the CSM did not answer the 30-day check")
    else:
        if not answers.enough_context:
            fail(CheckFailureKind.CSM_LACKS_CONTEXT, "the CSM lacks the context to manage the account")
        for concern in answers.concerns:
            fail(CheckFailureKind.CONCERN_RAISED, f"concern raised: {concern}")
        if check.partner and answers.partner_confirmed is not True:
            fail(
                CheckFailureKind.PARTNER_UNCONFIRMED,
                "partner: the CSM cannot say what the customer wants and who confirms it",
            )
    return PostCheckResult(
        passed=not failures,
        failures=[failure.text for failure in failures],
        checks_failed=failures,
        usage=usage,
        answers=answers,
    )
