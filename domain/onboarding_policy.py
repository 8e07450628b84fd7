"""Onboarding to CS and the 30-day check: triggers, milestones and their schedule."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from domain.durations import DurationField, parse_duration
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
