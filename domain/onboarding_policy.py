"""Onboarding to CS and the 30-day check: triggers, milestones and their schedule."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from domain.durations import Duration, DurationField, parse_duration
from domain.policy_section import Section as _Section


class OnboardingTrigger(StrEnum):
    MILESTONE = "milestone"
    TIME = "time"
    HYBRID = "hybrid"


class Milestone(StrEnum):
    SETUP_COMPLETE = "setup_complete"
    TRAINING_DONE = "training_done"
    ACTIVATION_ACHIEVED = "activation_achieved"
    FIRST_VALUE = "first_value"


def _default_schedule() -> dict[Milestone, Any]:
    spans = {"setup_complete": "7d", "training_done": "14d", "activation_achieved": "21d", "first_value": "30d"}
    return {Milestone(name): parse_duration(span) for name, span in spans.items()}


class ScheduleFrom(StrEnum):
    """What the milestone schedule counts from."""

    # The kickoff, where onboarding starts and milestones can first be reported (its due, when the
    # 30-day check comes before a kickoff was held).
    KICKOFF = "kickoff"
    # The close: the rule of snapshots written before the key existed.
    CLOSE = "close"


class OnboardingPolicy(_Section):
    trigger: OnboardingTrigger = OnboardingTrigger.HYBRID
    after: DurationField = parse_duration("30d")
    required_milestones: list[Milestone] = Field(default_factory=lambda: list(Milestone))
    schedule: dict[Milestone, DurationField] = Field(
        default_factory=_default_schedule, description="when each milestone is due, counted from `schedule_from`"
    )
    # None only in snapshots written before the key existed: those count from the close. parse_policy
    # gives every new policy KICKOFF.
    schedule_from: ScheduleFrom | None = None


class PostCheckPolicy(_Section):
    min_active_users: int = Field(default=1, ge=0)
    answer_window: DurationField = parse_duration("7d")
    # How long before its due the check takes the CSM's answers (kept by the handoff until the check
    # starts at its due and judges them). None only in snapshots written before the key existed: those
    # take answers from the due on. parse_policy gives every new policy NEW_POLICIES_OPEN_BEFORE.
    opens_before: DurationField | None = None

    @field_validator("opens_before")
    @classmethod
    def _clock_only(cls, value: Duration | None) -> Duration | None:
        if value is not None and value.is_business:
            raise ValueError("a clock duration (such as 7d or 36h): the check opens that long before its due")
        return value


# A week before the due, as long as the answer window after it: the CSM answers in the last week of the
# month, when the context is as fresh as it gets, and an answer sent on day 29 counts.
NEW_POLICIES_OPEN_BEFORE = "7d"
