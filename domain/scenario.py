"""A `baton simulate` scenario: a deal, messages at times, and a horizon, all in the deal's own time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.deal import Deal
from domain.document import HandoffDocument
from domain.durations import Duration, parse_duration


class MessageType(StrEnum):
    DOCUMENT = "document"
    CSM = "csm"
    INTAKE_REVIEW = "intake_review"
    INTRO = "intro"
    FIRST_TOUCH = "first_touch"
    KICKOFF = "kickoff"
    AE_DEPARTURE = "ae_departure"
    EXTEND_DEADLINE = "extend_deadline"
    MILESTONE = "milestone"
    POST_CHECK = "post_check"
    STAGE = "stage"


class When(BaseModel):
    """An ISO instant, or an offset from the close such as `+2d3h` or `+3bd`."""

    text: str

    def resolve(self, close: datetime, add: Callable[[datetime, Duration], datetime]) -> datetime:
        if self.text.startswith("+"):
            return add(close, parse_duration(self.text))
        return datetime.fromisoformat(self.text)


class ScenarioMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: str
    type: MessageType
    body: dict[str, Any] = Field(default_factory=dict)

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        if value.startswith("+"):
            parse_duration(value)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("an instant needs a UTC offset, e.g. 2026-03-09T10:00:00-05:00")
        return value


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deal: Deal
    document: HandoffDocument | None = None
    won: bool = True
    policy: dict[str, Any] = Field(default_factory=dict, description="policy keys overriding the policy file")
    active_users: int | None = Field(default=None, description="what the usage source reports at the 30-day check")
    messages: list[ScenarioMessage] = Field(default_factory=list)
    horizon: str = "45d"

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, value: str) -> str:
        if parse_duration(value.lstrip("+")).is_business:
            raise ValueError("the horizon is a clock duration such as 45d")
        return value

    @model_validator(mode="after")
    def _close(self) -> Scenario:
        if self.deal.closed_at is None:
            raise ValueError("deal.closed_at is required: scenario times are measured from the close")
        return self

    @property
    def close(self) -> datetime:
        closed = self.deal.closed_at
        if closed is None:  # ruled out by the validator above, unless the deal was changed since
            raise ValueError("deal.closed_at is required: scenario times are measured from the close")
        return closed

    @property
    def end(self) -> datetime:
        return self.close + parse_duration(self.horizon.lstrip("+")).as_timedelta()


# Weekdays and dates repeat every 28 years between 1901 and 2099, so moving a scenario by whole
# cycles keeps its business days, holidays and (under today's DST rules) its local times.
CYCLE_YEARS = 28


def time_shift(scenario_start: datetime, server_now: datetime) -> timedelta:
    """The whole number of 28-year cycles that moves the scenario to the server's present or later."""
    years = 0
    while _shift_years(scenario_start, years) < server_now:
        years += CYCLE_YEARS
    return _shift_years(scenario_start, years) - scenario_start


def _shift_years(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years)


def shift_date(day: date, shift: timedelta) -> date:
    return day + timedelta(days=shift.days)
